//! OCI artifacts: pulling them from a registry as Flux's source-controller
//! does, and serving a run's `oci://` mirrors from a registry of gameday's.
//!
//! - [`Oci`]: the client the emulated source-controller (and bootstrap
//!   from an OCI artifact) uses — list a repository's tags, resolve a tag
//!   or digest to its manifest, pull a layer — through
//!   [`oci_client`](https://docs.rs/oci-client) (the ORAS project's
//!   client). Every manifest and blob is checked against its digest when
//!   it is pulled.
//! - [`artifact`]: a whole artifact pulled and extracted for gameday's own
//!   use, when a scenario's source is an OCI artifact (`spec.source.oci`).
//! - Mirrors ([`crate::gitops::mirror`]): an `oci://` URL a mirror covers
//!   resolves to a folder with one subfolder per tag ([`pack`] says what
//!   a tag folder becomes). gameday pushes those folders, with the same
//!   client, into a [`registry::Registry`] it serves on 127.0.0.1, and
//!   pulls from it there: mirrored and real registries take the same
//!   code path. A folder is pushed again when its files change, and tags
//!   whose folder went are removed.
//! - Without a mirror the real registry is contacted (HTTPS, anonymous;
//!   plain HTTP for `insecure` sources); a failure names the URL.

pub mod artifact;
pub mod pack;
pub mod registry;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use self::registry::{Registry, digest_of};
use crate::gitops::mirror::Mirrors;

/// The media type of the manifests gameday pushes.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// An `oci://` URL split into registry host and repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `ghcr.io`, `localhost:5000`.
    pub host: String,
    /// `stefanprodan/manifests/podinfo`.
    pub repository: String,
}

impl Url {
    /// Parses `oci://<host>/<repository>`.
    ///
    /// # Errors
    /// A message when the scheme is not `oci://`, a part is missing, or
    /// the URL carries a tag or digest (`:tag`, `@sha256:…`), which Flux
    /// refuses ("URL must not contain a tag").
    pub fn parse(url: &str) -> Result<Url, String> {
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| format!("URL '{url}' must start with oci://"))?;
        let rest = rest.trim_end_matches('/');
        let (host, repository) = rest
            .split_once('/')
            .filter(|(h, r)| !h.is_empty() && !r.is_empty())
            .ok_or_else(|| format!("URL '{url}' must name a host and a repository"))?;
        if let Some((_, tag)) = repository.rsplit_once(':') {
            return Err(format!("URL must not contain a tag; remove ':{tag}'"));
        }
        if repository.contains('@') {
            return Err("URL must not contain a digest; use spec.ref.digest".to_owned());
        }
        Ok(Url {
            host: host.to_owned(),
            repository: repository.to_owned(),
        })
    }

    /// `oci://<host>/<repository>`.
    pub fn to_url(&self) -> String {
        format!("oci://{}/{}", self.host, self.repository)
    }
}

/// What to pull: a tag or a manifest digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// A tag.
    Tag(String),
    /// `sha256:<hex>`.
    Digest(String),
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Tag(t) => write!(f, "{t}"),
            Ref::Digest(d) => write!(f, "{d}"),
        }
    }
}

/// A layer of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Its media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Its size in bytes.
    pub size: i64,
}

/// A resolved manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest's digest (`sha256:<hex>`).
    pub digest: String,
    /// The config's media type.
    pub config_media_type: String,
    /// Its layers, in order.
    pub layers: Vec<Layer>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Why an OCI operation failed. The message names the URL; a mirror's
/// problem names the folder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL does not parse.
    #[error("{0}")]
    Url(String),
    /// A mirror folder could not be pushed into gameday's registry.
    #[error("mirror of {url}: {message}")]
    Mirror {
        /// The URL mirrored.
        url: String,
        /// What went wrong, naming the folder.
        message: String,
    },
    /// The registry refused or could not be reached.
    #[error("{url}: {message}")]
    Registry {
        /// The URL (with the tag or digest asked for).
        url: String,
        /// The client's error chain.
        message: String,
    },
    /// Content did not hash to its digest.
    #[error("{url}: content of {what} hashes to {actual}, not {expected}")]
    Digest {
        /// The URL.
        url: String,
        /// `manifest` or `layer`.
        what: &'static str,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        actual: String,
    },
    /// The operation took longer than allowed.
    #[error("{url}: timed out after {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        timeout: Duration,
    },
}

/// Fingerprint of a tag folder: its files' relative paths, sizes and
/// modification times.
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// What was pushed from one tag folder.
#[derive(Debug, Clone)]
struct Pushed {
    fingerprint: Fingerprint,
    digest: String,
}

/// The OCI client of a run (see the module docs).
pub struct Oci {
    mirrors: Mirrors,
    secure: Client,
    insecure: Client,
    registry: tokio::sync::OnceCell<(Registry, Client)>,
    /// Local repository → tag → what was pushed.
    pushed: tokio::sync::Mutex<HashMap<String, HashMap<String, Pushed>>>,
}

impl std::fmt::Debug for Oci {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oci")
            .field("mirrors", &self.mirrors)
            .field("registry", &self.registry.get().map(|(r, _)| r.host()))
            .finish_non_exhaustive()
    }
}

fn client(protocol: ClientProtocol) -> Client {
    // reqwest's rustls uses the process's crypto provider: ring, as the
    // rest of gameday.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new(ClientConfig {
        protocol,
        user_agent: "gameday (Flux source-controller emulation)",
        connect_timeout: Some(Duration::from_secs(10)),
        ..ClientConfig::default()
    })
}

/// The error chain of a client error, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    crate::error_chain::one_line(e)
}

impl Oci {
    /// A client reading `mirrors` for the URLs they cover.
    pub fn new(mirrors: Mirrors) -> Oci {
        Oci {
            mirrors,
            secure: client(ClientProtocol::Https),
            insecure: client(ClientProtocol::Http),
            registry: tokio::sync::OnceCell::new(),
            pushed: tokio::sync::Mutex::default(),
        }
    }

    /// The mirrors this client reads.
    pub fn mirrors(&self) -> &Mirrors {
        &self.mirrors
    }

    /// gameday's registry, started on first use.
    async fn local(&self) -> Result<&(Registry, Client), Error> {
        self.registry
            .get_or_try_init(|| async {
                let r = Registry::start().await.map_err(|e| Error::Mirror {
                    url: "oci://".to_owned(),
                    message: format!("could not start gameday's OCI registry on 127.0.0.1: {e}"),
                })?;
                let c = client(ClientProtocol::HttpsExcept(vec![r.host()]));
                Ok((r, c))
            })
            .await
    }

    /// gameday's registry, when it runs (tests).
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.get().map(|(r, _)| r)
    }

    /// Where `url` is pulled from: the client and the reference base
    /// (registry, repository). A mirrored URL is synced into gameday's
    /// registry first.
    async fn target(&self, url: &str, insecure: bool) -> Result<(&Client, Url), Error> {
        let parsed = Url::parse(url).map_err(Error::Url)?;
        let Some(folder) = self.mirrors.resolve(url) else {
            let c = if insecure {
                &self.insecure
            } else {
                &self.secure
            };
            return Ok((c, parsed));
        };
        let (registry, c) = self.local().await?;
        let repository = local_name(&parsed);
        self.sync(registry, c, url, &folder, &repository).await?;
        Ok((
            c,
            Url {
                host: registry.host(),
                repository,
            },
        ))
    }

    /// Pushes the tag folders of `folder` that changed since their last
    /// push into `repository` of gameday's registry, and untags those
    /// whose folder is gone.
    async fn sync(
        &self,
        registry: &Registry,
        c: &Client,
        url: &str,
        folder: &Path,
        repository: &str,
    ) -> Result<(), Error> {
        let mirror = |message: String| Error::Mirror {
            url: url.to_owned(),
            message,
        };
        let mut pushed = self.pushed.lock().await;
        let known = pushed.entry(repository.to_owned()).or_default();
        let entries = std::fs::read_dir(folder).map_err(|e| {
            mirror(format!(
                "{}: {e} (an OCI mirror is a folder with one subfolder per tag)",
                folder.display()
            ))
        })?;
        let mut seen = Vec::new();
        for e in entries {
            let e = e.map_err(|e| mirror(format!("{}: {e}", folder.display())))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.path().is_dir() {
                continue;
            }
            // Helm maps `+` of a version to `_` in tags.
            let tag = name.replace('+', "_");
            if !valid_tag(&tag) {
                return Err(mirror(format!(
                    "{}: '{name}' is not a valid OCI tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')",
                    e.path().display()
                )));
            }
            let dir = e.path();
            let fingerprint =
                fingerprint(&dir).map_err(|e| mirror(format!("{}: {e}", dir.display())))?;
            seen.push(tag.clone());
            if known.get(&tag).is_some_and(|p| {
                p.fingerprint == fingerprint
                    && registry.tag_digest(repository, &tag).as_deref() == Some(p.digest.as_str())
            }) {
                continue;
            }
            let built = pack::build(&dir, url, &name).map_err(mirror)?;
            let reference =
                Reference::with_tag(registry.host(), repository.to_owned(), tag.clone());
            let digest = push(c, &reference, built)
                .await
                .map_err(|e| mirror(format!("pushing {}: {e}", dir.display())))?;
            known.insert(
                tag,
                Pushed {
                    fingerprint,
                    digest,
                },
            );
        }
        for tag in registry.tags(repository) {
            if !seen.contains(&tag) {
                registry.untag(repository, &tag);
                known.remove(&tag);
            }
        }
        Ok(())
    }

    /// The tags of the repository at `url`, within `timeout`.
    ///
    /// # Errors
    /// [`Error`] naming the URL.
    pub async fn tags(
        &self,
        url: &str,
        insecure: bool,
        timeout: Duration,
    ) -> Result<Vec<String>, Error> {
        within(url, timeout, async {
            let (c, target) = self.target(url, insecure).await?;
            let reference = Reference::with_tag(target.host, target.repository, "latest".into());
            let mut tags = Vec::new();
            let mut last: Option<String> = None;
            // Registries page their answers (`n`, `last`).
            loop {
                let page = c
                    .list_tags(
                        &reference,
                        &RegistryAuth::Anonymous,
                        Some(1000),
                        last.as_deref(),
                    )
                    .await
                    .map_err(|e| Error::Registry {
                        url: url.to_owned(),
                        message: chain(&e),
                    })?;
                let n = page.tags.len();
                last = page.tags.last().cloned();
                tags.extend(page.tags);
                if n < 1000 {
                    break;
                }
            }
            Ok(tags)
        })
        .await
    }

    /// The manifest `reference` names in the repository at `url`, checked
    /// against its digest.
    ///
    /// # Errors
    /// [`Error`] naming the URL and reference; an image index (a
    /// multi-platform image) is not an artifact.
    pub async fn manifest(
        &self,
        url: &str,
        reference: &Ref,
        insecure: bool,
        timeout: Duration,
    ) -> Result<Manifest, Error> {
        let at = match reference {
            Ref::Tag(t) => format!("{url}:{t}"),
            Ref::Digest(d) => format!("{url}@{d}"),
        };
        within(&at, timeout, async {
            let (c, target) = self.target(url, insecure).await?;
            let r = match reference {
                Ref::Tag(t) => Reference::with_tag(target.host, target.repository, t.clone()),
                Ref::Digest(d) => Reference::with_digest(target.host, target.repository, d.clone()),
            };
            let accepted = [
                MANIFEST_MEDIA_TYPE,
                "application/vnd.docker.distribution.manifest.v2+json",
                INDEX_MEDIA_TYPE,
                DOCKER_LIST_MEDIA_TYPE,
            ];
            let (raw, digest) = c
                .pull_manifest_raw(&r, &RegistryAuth::Anonymous, &accepted)
                .await
                .map_err(|e| Error::Registry {
                    url: at.clone(),
                    message: chain(&e),
                })?;
            let actual = digest_of(&raw);
            let expected = match reference {
                Ref::Digest(d) => d.clone(),
                Ref::Tag(_) if digest.starts_with("sha256:") => digest,
                Ref::Tag(_) => actual.clone(),
            };
            if actual != expected {
                return Err(Error::Digest {
                    url: at.clone(),
                    what: "manifest",
                    expected,
                    actual,
                });
            }
            let doc: serde_json::Value =
                serde_json::from_slice(&raw).map_err(|e| Error::Registry {
                    url: at.clone(),
                    message: format!("the manifest is not JSON: {e}"),
                })?;
            let media_type = doc["mediaType"].as_str().unwrap_or(MANIFEST_MEDIA_TYPE);
            if media_type == INDEX_MEDIA_TYPE || media_type == DOCKER_LIST_MEDIA_TYPE {
                return Err(Error::Registry {
                    url: at.clone(),
                    message: format!(
                        "{media_type} is an image index (a multi-platform image), not an artifact"
                    ),
                });
            }
            let m: OciImageManifest = serde_json::from_value(doc).map_err(|e| Error::Registry {
                url: at.clone(),
                message: format!("the manifest does not parse: {e}"),
            })?;
            Ok(Manifest {
                digest: actual,
                config_media_type: m.config.media_type,
                layers: m
                    .layers
                    .into_iter()
                    .map(|l| Layer {
                        media_type: l.media_type,
                        digest: l.digest,
                        size: l.size,
                    })
                    .collect(),
                annotations: m.annotations.unwrap_or_default(),
            })
        })
        .await
    }

    /// The content of `layer` of the repository at `url`, checked against
    /// its digest.
    ///
    /// # Errors
    /// [`Error`] naming the URL and digest.
    pub async fn layer(
        &self,
        url: &str,
        layer: &Layer,
        insecure: bool,
        timeout: Duration,
    ) -> Result<Vec<u8>, Error> {
        let at = format!("{url}@{}", layer.digest);
        within(&at, timeout, async {
            let (c, target) = self.target(url, insecure).await?;
            let r = Reference::with_digest(target.host, target.repository, layer.digest.clone());
            let desc = OciDescriptor {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                ..OciDescriptor::default()
            };
            let mut out = Vec::with_capacity(
                usize::try_from(layer.size)
                    .unwrap_or(0)
                    .min(registry::MAX_BLOB),
            );
            c.pull_blob(&r, &desc, &mut out)
                .await
                .map_err(|e| Error::Registry {
                    url: at.clone(),
                    message: chain(&e),
                })?;
            // The client checks the digest too; this says so in our words.
            let actual = digest_of(&out);
            if actual != layer.digest {
                return Err(Error::Digest {
                    url: at.clone(),
                    what: "layer",
                    expected: layer.digest.clone(),
                    actual,
                });
            }
            Ok(out)
        })
        .await
    }
}

async fn within<T>(
    url: &str,
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| Error::Timeout {
            url: url.to_owned(),
            timeout,
        })?
}

/// Pushes an artifact as `reference`; returns its manifest digest.
async fn push(c: &Client, reference: &Reference, built: pack::Built) -> Result<String, String> {
    let layers = [ImageLayer::new(
        built.layer,
        built.layer_media_type.to_owned(),
        None,
    )];
    let config = Config::new(built.config, built.config_media_type.to_owned(), None);
    let mut manifest = OciImageManifest::build(&layers, &config, Some(built.annotations));
    manifest.media_type = Some(MANIFEST_MEDIA_TYPE.to_owned());
    let body = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let digest = digest_of(&body);
    c.push(
        reference,
        &layers,
        config,
        &RegistryAuth::Anonymous,
        Some(manifest),
    )
    .await
    .map_err(|e| chain(&e))?;
    Ok(digest)
}

/// The repository name a mirrored URL has in gameday's registry: host and
/// repository, lowercase, the port's `:` as `-`.
fn local_name(url: &Url) -> String {
    format!("{}/{}", url.host.replace(':', "-"), url.repository).to_ascii_lowercase()
}

/// A tag of the distribution spec: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !tag.starts_with(['.', '-'])
}

fn fingerprint(dir: &Path) -> std::io::Result<Fingerprint> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let meta = e.metadata()?;
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                out.push((rel, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The highest of `tags` matching the semver `range` (Flux's constraint
/// rules, [`crate::gitops::fetch::semver`]), among those `filter` (a
/// regular expression, OCIRepository's `semverFilter`) matches. Tags that
/// are not versions are skipped; `helm` reads `_` in tags as `+` (Helm
/// charts' build metadata). Returns the tag as the registry names it.
///
/// # Errors
/// A message when the range or the filter does not parse.
pub fn highest_tag(
    tags: &[String],
    range: &str,
    filter: Option<&str>,
    helm: bool,
) -> Result<Option<String>, String> {
    use crate::gitops::fetch::semver::{Constraint, Version};
    let constraint = Constraint::parse(if range.trim().is_empty() { "*" } else { range })?;
    let filter = filter
        .map(|f| regex::Regex::new(f).map_err(|e| format!("semver regex parse error: {e}")))
        .transpose()?;
    Ok(tags
        .iter()
        .filter(|t| filter.as_ref().is_none_or(|f| f.is_match(t)))
        .filter_map(|t| {
            let v = if helm { t.replace('_', "+") } else { t.clone() };
            Version::parse(&v).map(|v| (v, t))
        })
        .filter(|(v, _)| constraint.matches(v))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.clone()))
}

/// A shared client.
pub type SharedOci = Arc<Oci>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_as_flux_reads_them() {
        let u = Url::parse("oci://ghcr.io/acme/manifests/apps").unwrap();
        assert_eq!(u.host, "ghcr.io");
        assert_eq!(u.repository, "acme/manifests/apps");
        assert_eq!(u.to_url(), "oci://ghcr.io/acme/manifests/apps");
        let e = Url::parse("oci://ghcr.io/acme/app:1.0").unwrap_err();
        assert_eq!(e, "URL must not contain a tag; remove ':1.0'");
        assert!(
            Url::parse("https://ghcr.io/a")
                .unwrap_err()
                .contains("oci://")
        );
        assert!(
            Url::parse("oci://ghcr.io")
                .unwrap_err()
                .contains("repository")
        );
        let local = Url::parse("oci://localhost:5000/Apps").unwrap();
        assert_eq!(local_name(&local), "localhost-5000/apps");
        assert!(valid_tag("6.0.3_build.1"));
        assert!(!valid_tag("6.0.3+build"));
        assert!(!valid_tag(".hidden"));
    }

    #[test]
    fn semver_picks_the_highest_matching_tag() {
        let tags: Vec<String> = [
            "1.0.0",
            "1.2.0",
            "1.10.0",
            "2.0.0",
            "1.11.0-rc.1",
            "latest",
            "1.3.0_build.1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            highest_tag(&tags, "1.x", None, false).unwrap().as_deref(),
            Some("1.10.0")
        );
        assert_eq!(
            highest_tag(&tags, ">=1.0.0-0", None, false)
                .unwrap()
                .as_deref(),
            Some("2.0.0")
        );
        assert_eq!(
            highest_tag(&tags, "1.x", Some("^1\\.[0-3]\\."), false)
                .unwrap()
                .as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            highest_tag(&tags, "~1.3", None, true).unwrap().as_deref(),
            Some("1.3.0_build.1")
        );
        assert_eq!(highest_tag(&tags, "3.x", None, false).unwrap(), None);
        assert!(
            highest_tag(&tags, "1.x", Some("("), false)
                .unwrap_err()
                .contains("regex")
        );
    }
}
