//! Offline mirrors of remote sources, and fetching a URL through them.
//!
//! A scenario's `spec.mirrors` (and `gameday sim serve --mirror URL=PATH`)
//! map a URL prefix to a local folder: whatever the emulated
//! source-controller fetches at that URL or under it is read from the
//! folder instead (`https://charts.example.com/podinfo-6.0.0.tgz` with a
//! mirror of `https://charts.example.com` → `<path>/podinfo-6.0.0.tgz`).
//! The objects in the cluster keep their real URLs. Without a mirror, the
//! URL is fetched for real over HTTP(S) (the system's trusted roots); a
//! failure is an error naming the URL, which the source reports as Flux
//! does — never a silent pass.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};

/// The most a fetched document may weigh (Flux's Helm index limit is
/// 50 MiB; charts are smaller).
pub const MAX_BYTES: usize = 50 << 20;

/// One URL prefix served from a local folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mirror {
    /// The prefix (`https://charts.example.com`), without a trailing `/`.
    pub url: String,
    /// The folder standing in for it.
    pub path: PathBuf,
}

impl Mirror {
    /// A mirror of `url` at `path`.
    ///
    /// # Errors
    /// A message when the URL is not `http(s)://` or `oci://`, or the
    /// folder does not exist.
    pub fn new(url: &str, path: impl Into<PathBuf>) -> Result<Mirror, String> {
        let path = path.into();
        let scheme_ok = ["http://", "https://", "oci://"]
            .iter()
            .any(|s| url.starts_with(s) && url.len() > s.len());
        if !scheme_ok {
            return Err(format!(
                "mirror URL '{url}' must start with http://, https:// or oci:// and name a host"
            ));
        }
        if !path.is_dir() {
            return Err(format!(
                "mirror folder '{}' for {url} does not exist or is not a folder",
                path.display()
            ));
        }
        Ok(Mirror {
            url: url.trim_end_matches('/').to_owned(),
            path,
        })
    }

    /// Parses `URL=PATH` (the `--mirror` flag).
    ///
    /// # Errors
    /// A message saying what is wrong and the expected form.
    pub fn parse_flag(text: &str) -> Result<Mirror, String> {
        // The URL has `://`; the first `=` after it separates the path.
        let (url, path) = text
            .split_once('=')
            .filter(|(u, p)| !u.is_empty() && !p.is_empty())
            .ok_or_else(|| {
                format!(
                    "'{text}' is not URL=PATH (e.g. https://charts.example.com=./mirror/charts)"
                )
            })?;
        Mirror::new(url, path)
    }
}

/// The mirrors of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Mirrors(Vec<Mirror>);

impl Mirrors {
    /// These mirrors.
    pub fn new(mirrors: Vec<Mirror>) -> Mirrors {
        Mirrors(mirrors)
    }

    /// No mirror at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mirrors, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &Mirror> {
        self.0.iter()
    }

    /// The local file standing in for `url`: the longest mirror prefix
    /// that `url` equals or continues with `/` (or `?`), and the rest of
    /// the URL as a path under its folder. None when no mirror covers it,
    /// or when the rest would leave the folder (`..`).
    pub fn resolve(&self, url: &str) -> Option<PathBuf> {
        let url = url.split(['?', '#']).next().unwrap_or(url);
        let m = self
            .0
            .iter()
            .filter(|m| {
                url == m.url
                    || url
                        .strip_prefix(m.url.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|m| m.url.len())?;
        let rest = url[m.url.len()..].trim_start_matches('/');
        let mut out = m.path.clone();
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            if part == ".." || part == "." || part.contains('\\') {
                return None;
            }
            out.push(part);
        }
        Some(out)
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The mirror's file is missing or unreadable.
    #[error("{url} (mirrored by {}): {source}", path.display())]
    Mirror {
        /// The URL asked for.
        url: String,
        /// The file that stands in for it.
        path: PathBuf,
        /// What reading it said.
        #[source]
        source: std::io::Error,
    },
    /// The server answered, but not 200.
    #[error("failed to fetch {url} : {status}")]
    Status {
        /// The URL.
        url: String,
        /// Its answer (`404 Not Found`).
        status: String,
    },
    /// The request could not be made or answered (no network, DNS, TLS).
    #[error("failed to fetch {url} : {message}")]
    Transport {
        /// The URL.
        url: String,
        /// The client's error chain.
        message: String,
    },
}

/// Fetches `url`: from its mirror when one covers it, else over HTTP(S)
/// within `timeout`, at most [`MAX_BYTES`].
///
/// # Errors
/// [`FetchError`] naming the URL (and the mirror's file).
pub async fn fetch(mirrors: &Mirrors, url: &str, timeout: Duration) -> Result<Vec<u8>, FetchError> {
    if let Some(path) = mirrors.resolve(url) {
        return read_mirrored(url, &path);
    }
    fetch_http(url, timeout).await
}

fn read_mirrored(url: &str, path: &Path) -> Result<Vec<u8>, FetchError> {
    let err = |source| FetchError::Mirror {
        url: url.to_owned(),
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_file() {
        return Err(err(std::io::Error::other("not a regular file")));
    }
    if meta.len() > MAX_BYTES as u64 {
        return Err(err(std::io::Error::other(format!(
            "larger than {MAX_BYTES} bytes"
        ))));
    }
    std::fs::read(path).map_err(err)
}

async fn fetch_http(url: &str, timeout: Duration) -> Result<Vec<u8>, FetchError> {
    let transport = |message: String| FetchError::Transport {
        url: url.to_owned(),
        message,
    };
    let uri: http::Uri = url.parse().map_err(|e| transport(format!("{e}")))?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| transport(format!("no trusted roots: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<bytes::Bytes>>(https);
    let req = http::Request::get(uri)
        .header(
            http::header::USER_AGENT,
            "gameday (Flux source-controller emulation)",
        )
        .body(Empty::new())
        .map_err(|e| transport(e.to_string()))?;
    let work = async {
        let res = client
            .request(req)
            .await
            .map_err(|e| transport(crate::error_chain::one_line(&e)))?;
        if res.status() != http::StatusCode::OK {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: res.status().to_string(),
            });
        }
        let body = Limited::new(res.into_body(), MAX_BYTES)
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| transport(format!("timed out after {}s", timeout.as_secs())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirrors(dir: &Path) -> Mirrors {
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        Mirrors::new(vec![
            Mirror::new("https://charts.example.com/", dir).unwrap(),
            Mirror::new("https://charts.example.com/a/b", dir.join("a/b")).unwrap(),
        ])
    }

    #[test]
    fn urls_resolve_under_the_longest_mirror_and_never_leave_it() {
        let t = tempfile::tempdir().unwrap();
        let m = mirrors(t.path());
        assert_eq!(
            m.resolve("https://charts.example.com/index.yaml").unwrap(),
            t.path().join("index.yaml")
        );
        assert_eq!(
            m.resolve("https://charts.example.com/a/b/x-1.0.0.tgz?token=1")
                .unwrap(),
            t.path().join("a/b/x-1.0.0.tgz")
        );
        assert_eq!(
            m.resolve("https://charts.example.com").unwrap(),
            t.path().to_owned()
        );
        assert_eq!(
            m.resolve("https://charts.example.community/index.yaml"),
            None
        );
        assert_eq!(m.resolve("http://charts.example.com/index.yaml"), None);
        assert_eq!(m.resolve("https://charts.example.com/../etc/passwd"), None);
    }

    #[test]
    fn bad_mirrors_are_refused_naming_what_is_wrong() {
        let t = tempfile::tempdir().unwrap();
        let e = Mirror::parse_flag("https://x.example.com").unwrap_err();
        assert!(e.contains("is not URL=PATH"), "{e}");
        let e = Mirror::new("ftp://x", t.path()).unwrap_err();
        assert!(e.contains("must start with http://"), "{e}");
        let e = Mirror::new("https://x.example.com", t.path().join("nope")).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let ok = Mirror::parse_flag(&format!("https://x.example.com/={}", t.path().display()));
        assert_eq!(ok.unwrap().url, "https://x.example.com");
    }

    #[tokio::test]
    async fn a_mirrored_file_is_read_and_a_missing_one_names_url_and_file() {
        let t = tempfile::tempdir().unwrap();
        let m = mirrors(t.path());
        std::fs::write(t.path().join("index.yaml"), "apiVersion: v1\n").unwrap();
        let got = fetch(
            &m,
            "https://charts.example.com/index.yaml",
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(got, b"apiVersion: v1\n");
        let e = fetch(
            &m,
            "https://charts.example.com/gone.tgz",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("https://charts.example.com/gone.tgz (mirrored by "),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_url_fails_naming_it() {
        // Port 9 on the loopback: nothing listens (connection refused).
        let e = fetch(
            &Mirrors::default(),
            "http://127.0.0.1:9/index.yaml",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("failed to fetch http://127.0.0.1:9/index.yaml : "),
            "{e}"
        );
    }
}
