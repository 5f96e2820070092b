//! Serving local repositories read-only over Git smart HTTP.
//!
//! A [`GitServer`] is a small in-process HTTP server that runs
//! `git http-backend` as a CGI program for each request, so that real Flux
//! (on kind, whose `GitRepository.spec.url` must match `^(http|https|ssh)://`)
//! and the simulator's emulated source controller fetch a local repository
//! from an `http://<host>:<port>/<name>.git` URL, exactly as they would a
//! remote one. Only fetching is served: `git-receive-pack` (push) is
//! refused with 403.
//!
//! It binds `127.0.0.1` on a random port by default. For a kind cluster,
//! bind an address the nodes reach (e.g. the Docker bridge gateway) and set
//! [`ServeOptions::advertise_host`] to the host name or address the nodes
//! use. The server stops when the handle is dropped.
//!
//! Responses are buffered in memory (fine for drill repositories; a
//! multi-gigabyte repository would want streaming).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};

use crate::gitops::repo::GitSettings;
use crate::process::ProcessError;

/// Largest request body accepted (upload-pack negotiations are small).
const MAX_REQUEST: usize = 64 * 1024 * 1024;

/// The result type of serving.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a repository could not be served.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address could not be bound.
    #[error("could not listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The directory is not a git repository.
    #[error("{} is not a git repository", .path.display())]
    NotARepository {
        /// The directory given.
        path: PathBuf,
        /// What git said.
        #[source]
        source: ProcessError,
    },
    /// The name cannot be used in a URL.
    #[error("`{name}` cannot name a served repository: use letters, digits, `.`, `_` and `-`")]
    BadName {
        /// The name given.
        name: String,
    },
    /// The name is already served.
    #[error("a repository named `{name}` is already served")]
    NameTaken {
        /// The name given.
        name: String,
    },
}

/// Options of a [`GitServer`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (default `127.0.0.1:0`: loopback, random port).
    pub bind: SocketAddr,
    /// Host written in URLs instead of the bound address (e.g. the address
    /// kind nodes use to reach this machine).
    pub advertise_host: Option<String>,
    /// How `git http-backend` runs (program, isolation).
    pub git: GitSettings,
    /// Timeout of one `git http-backend` run.
    pub timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            advertise_host: None,
            git: GitSettings::default(),
            timeout: Duration::from_secs(120),
        }
    }
}

#[derive(Debug)]
struct Shared {
    /// Name (without `.git`) → the repository's git directory.
    repos: RwLock<BTreeMap<String, PathBuf>>,
    git: GitSettings,
    timeout: Duration,
}

/// A running server; stops when dropped, unless a [`KeepAlive`] still
/// holds it. See the module docs.
#[derive(Debug)]
pub struct GitServer {
    addr: SocketAddr,
    base: String,
    first: Option<String>,
    shared: Arc<Shared>,
    running: Arc<Running>,
}

/// The server's task; stopped when the last holder lets go.
#[derive(Debug)]
struct Running {
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn stop(&self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
        self.task.abort();
    }
}

/// Keeps a [`GitServer`] serving after its handle is dropped (a cluster
/// retained with `--retain` still fetches from it); it stops when this is
/// dropped too.
#[derive(Debug, Clone)]
pub struct KeepAlive(#[allow(dead_code, reason = "held for its Drop, never read")] Arc<Running>);

impl GitServer {
    /// Starts a server with no repository yet (add them with [`GitServer::add`]).
    ///
    /// # Errors
    /// [`Error::Bind`].
    pub async fn start(opts: ServeOptions) -> Result<GitServer> {
        let listener = tokio::net::TcpListener::bind(opts.bind)
            .await
            .map_err(|source| Error::Bind {
                addr: opts.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: opts.bind,
            source,
        })?;
        let host = match &opts.advertise_host {
            Some(h) => h.clone(),
            None if addr.ip().is_unspecified() => "127.0.0.1".to_owned(),
            None => match addr.ip() {
                IpAddr::V6(ip) => format!("[{ip}]"),
                IpAddr::V4(ip) => ip.to_string(),
            },
        };
        let shared = Arc::new(Shared {
            repos: RwLock::new(BTreeMap::new()),
            git: opts.git,
            timeout: opts.timeout,
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "git HTTP server stopped with an error");
            }
        });
        tracing::debug!(%addr, "git HTTP server listening");
        Ok(GitServer {
            addr,
            base: format!("http://{host}:{}", addr.port()),
            first: None,
            shared,
            running: Arc::new(Running {
                stop: std::sync::Mutex::new(Some(stop)),
                task,
            }),
        })
    }

    /// Starts a server for the repository (working copy or bare) in `dir`,
    /// served as `<name>.git`.
    ///
    /// # Errors
    /// [`Error::Bind`], [`Error::NotARepository`], [`Error::BadName`].
    pub async fn serve(dir: &Path, name: &str, opts: ServeOptions) -> Result<GitServer> {
        let mut server = GitServer::start(opts).await?;
        server.add(name, dir).await?;
        Ok(server)
    }

    /// Serves the repository in `dir` (working copy or bare) as
    /// `<name>.git` too, and returns its URL.
    ///
    /// # Errors
    /// [`Error::NotARepository`], [`Error::BadName`], [`Error::NameTaken`].
    pub async fn add(&mut self, name: &str, dir: &Path) -> Result<String> {
        let name = name.strip_suffix(".git").unwrap_or(name);
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(Error::BadName {
                name: name.to_owned(),
            });
        }
        let out = self
            .shared
            .git
            .cmd(Some(dir))
            .args(["rev-parse", "--absolute-git-dir"])
            .output()
            .await
            .map_err(|source| Error::NotARepository {
                path: dir.to_owned(),
                source,
            })?;
        let git_dir = PathBuf::from(out.stdout.trim());
        {
            let mut repos = self.shared.repos.write().unwrap_or_else(|p| p.into_inner());
            if repos.contains_key(name) {
                return Err(Error::NameTaken {
                    name: name.to_owned(),
                });
            }
            repos.insert(name.to_owned(), git_dir);
        }
        if self.first.is_none() {
            self.first = Some(name.to_owned());
        }
        Ok(self.url_of(name))
    }

    fn url_of(&self, name: &str) -> String {
        format!("{}/{name}.git", self.base)
    }

    /// The URL of the first repository served (`http://127.0.0.1:<port>/<name>.git`),
    /// or the server's base URL when none is served yet.
    pub fn url(&self) -> String {
        match &self.first {
            Some(name) => self.url_of(name),
            None => self.base.clone(),
        }
    }

    /// The URL of the repository served as `name`, if any.
    pub fn url_for(&self, name: &str) -> Option<String> {
        let name = name.strip_suffix(".git").unwrap_or(name);
        let repos = self.shared.repos.read().unwrap_or_else(|p| p.into_inner());
        repos.contains_key(name).then(|| self.url_of(name))
    }

    /// The git directory behind a URL this server serves, so an emulated
    /// source controller can read the repository directly.
    pub fn git_dir_for_url(&self, url: &str) -> Option<PathBuf> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix('/')?;
        let name = rest.trim_end_matches('/');
        let name = name.strip_suffix(".git").unwrap_or(name);
        let repos = self.shared.repos.read().unwrap_or_else(|p| p.into_inner());
        repos.get(name).cloned()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that keeps the server serving after this one is dropped.
    pub fn keep_alive(&self) -> KeepAlive {
        KeepAlive(self.running.clone())
    }

    /// Stops the server and waits until it has stopped accepting (unless a
    /// [`KeepAlive`] holds it: then it keeps serving).
    pub async fn shutdown(self) {
        if let Ok(mut running) = Arc::try_unwrap(self.running) {
            running.stop();
            let _ = (&mut running.task).await;
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut resp = Response::new(Body::from(format!("{text}\n")));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let resp = serve_one(&shared, req).await;
    tracing::debug!(%method, %path, %query, status = resp.status().as_u16(), "git HTTP request");
    resp
}

async fn serve_one(shared: &Shared, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::POST) {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and POST are served",
        );
    }
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or_default();
    let Some((name, rest)) = path.trim_start_matches('/').split_once('/') else {
        return plain(StatusCode::NOT_FOUND, "no repository in the URL");
    };
    let name = name.strip_suffix(".git").unwrap_or(name);
    let git_dir = {
        let repos = shared.repos.read().unwrap_or_else(|p| p.into_inner());
        repos.get(name).cloned()
    };
    let Some(git_dir) = git_dir else {
        return plain(
            StatusCode::NOT_FOUND,
            &format!("repository {name} is not served here"),
        );
    };
    if rest == "git-receive-pack" || query.split('&').any(|kv| kv == "service=git-receive-pack") {
        return plain(
            StatusCode::FORBIDDEN,
            "this repository is served read-only by gameday: pushing is not allowed",
        );
    }
    if rest.split('/').any(|seg| seg == "..") {
        return plain(StatusCode::BAD_REQUEST, "bad path");
    }
    let body = match axum::body::to_bytes(body, MAX_REQUEST).await {
        Ok(b) => b,
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    run_backend(
        shared,
        &parts.method,
        &parts.headers,
        &git_dir,
        rest,
        query,
        body.to_vec(),
    )
    .await
}

async fn run_backend(
    shared: &Shared,
    method: &Method,
    headers: &HeaderMap,
    git_dir: &Path,
    rest: &str,
    query: &str,
    body: Vec<u8>,
) -> Response<Body> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut cmd = shared
        .git
        .cmd(None)
        .args([
            "-c",
            "http.receivepack=false",
            "-c",
            "http.uploadpack=true",
            "http-backend",
        ])
        .env("GIT_PROJECT_ROOT", git_dir)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{rest}"))
        .env("REQUEST_METHOD", method.as_str())
        .env("QUERY_STRING", query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REMOTE_ADDR", "127.0.0.1")
        .timeout(shared.timeout);
    for (http, cgi) in [
        ("content-type", "CONTENT_TYPE"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(v) = header(http) {
            cmd = cmd.env(cgi, v);
        }
    }
    match cmd.stdin(body).output_raw().await {
        Ok(out) => cgi_response(&out.stdout),
        Err(e) => {
            tracing::warn!(error = %e, "git http-backend failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "git http-backend failed")
        }
    }
}

/// Turns a CGI program's output (headers, blank line, body) into a response.
fn cgi_response(output: &[u8]) -> Response<Body> {
    let (head_end, body_start) = match find(output, b"\r\n\r\n") {
        Some(i) => (i, i + 4),
        None => match find(output, b"\n\n") {
            Some(i) => (i, i + 2),
            None => return plain(StatusCode::BAD_GATEWAY, "git http-backend sent no headers"),
        },
    };
    let head = String::from_utf8_lossy(&output[..head_end]);
    let mut resp = Response::new(Body::from(output[body_start..].to_vec()));
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            let code = v
                .split_whitespace()
                .next()
                .and_then(|c| c.parse::<u16>().ok());
            if let Some(status) = code.and_then(|c| StatusCode::from_u16(c).ok()) {
                *resp.status_mut() = status;
            }
        } else if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(k),
            HeaderValue::try_from(v),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
    resp
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cgi_output() {
        let resp =
            cgi_response(b"Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno\x00bin");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.headers()["content-type"], "text/plain");
        let resp =
            cgi_response(b"Content-Type: application/x-git-upload-pack-advertisement\n\n001e");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(cgi_response(b"garbage").status(), StatusCode::BAD_GATEWAY);
    }
}
