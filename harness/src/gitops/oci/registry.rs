//! A small OCI distribution registry, served on 127.0.0.1: the part of
//! the distribution API ([spec]) that pushing and pulling artifacts needs.
//! gameday pushes its mirror folders into it and pulls from it with the
//! same client it pulls real registries with.
//!
//! | Request | Answer |
//! |---|---|
//! | `GET /v2/` | 200 (no authentication) |
//! | `GET`/`HEAD /v2/<name>/tags/list` | `{"name", "tags"}`, sorted; `n`/`last` paginate |
//! | `GET`/`HEAD /v2/<name>/manifests/<tag or digest>` | the manifest as pushed, its media type, `Docker-Content-Digest` |
//! | `GET`/`HEAD /v2/<name>/blobs/<digest>` | the blob |
//! | `POST /v2/<name>/blobs/uploads/` | 202, an upload `Location` (`?digest=` with a body: a monolithic upload, 201) |
//! | `PATCH <location>` | appends a chunk (202, `Range`) |
//! | `PUT <location>?digest=` | ends the upload (with a last chunk): 201, or 400 `DIGEST_INVALID` when the content does not hash to the digest |
//! | `PUT /v2/<name>/manifests/<tag or digest>` | stores the manifest (its blobs must exist, a digest reference must match): 201 |
//! | `DELETE /v2/<name>/manifests/<tag>` | untags: 202 |
//!
//! Content is addressed by `sha256:` digests, checked when it is pushed;
//! errors are the spec's JSON (`{"errors": [{"code", "message"}]}`).
//! Everything is kept in memory, for the registry's lifetime (a run).
//!
//! [spec]: https://github.com/opencontainers/distribution-spec/blob/main/spec.md

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The most one upload may weigh.
pub const MAX_BLOB: usize = 512 << 20;

/// `sha256:<hex>` of `data`.
pub fn digest_of(data: &[u8]) -> String {
    let hex: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// One stored manifest.
#[derive(Debug, Clone)]
struct Manifest {
    media_type: String,
    body: Bytes,
}

/// One repository: its tags and manifests.
#[derive(Debug, Default)]
struct Repository {
    tags: BTreeMap<String, String>,
    manifests: HashMap<String, Manifest>,
}

#[derive(Debug, Default)]
struct Content {
    repositories: BTreeMap<String, Repository>,
    blobs: HashMap<String, Bytes>,
    uploads: HashMap<String, Vec<u8>>,
    next_upload: u64,
}

type Shared = Arc<Mutex<Content>>;

/// A running registry; stops when dropped.
#[derive(Debug)]
pub struct Registry {
    addr: SocketAddr,
    content: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

impl Registry {
    /// Starts a registry on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start() -> std::io::Result<Registry> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let content: Shared = Arc::default();
        let app = router(content.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "OCI registry stopped with an error");
            }
        });
        tracing::debug!(%addr, "OCI registry listening");
        Ok(Registry {
            addr,
            content,
            stop: Some(stop),
            task,
        })
    }

    /// `127.0.0.1:<port>`, the registry's host as references name it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The tags of `repository` (sorted).
    pub fn tags(&self, repository: &str) -> Vec<String> {
        let c = self.content.lock().unwrap_or_else(PoisonError::into_inner);
        c.repositories
            .get(repository)
            .map(|r| r.tags.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The manifest digest `tag` of `repository` points at.
    pub fn tag_digest(&self, repository: &str, tag: &str) -> Option<String> {
        let c = self.content.lock().unwrap_or_else(PoisonError::into_inner);
        c.repositories.get(repository)?.tags.get(tag).cloned()
    }

    /// Removes `tag` from `repository` (the manifest stays addressable by
    /// digest, as in a registry without garbage collection).
    pub fn untag(&self, repository: &str, tag: &str) {
        let mut c = self.content.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = c.repositories.get_mut(repository) {
            r.tags.remove(tag);
        }
    }

    /// Replaces the stored content of blob `digest` (tests: a registry
    /// that serves corrupted content).
    #[doc(hidden)]
    pub fn corrupt_blob(&self, digest: &str, data: Vec<u8>) {
        let mut c = self.content.lock().unwrap_or_else(PoisonError::into_inner);
        c.blobs.insert(digest.to_owned(), Bytes::from(data));
    }
}

fn router(content: Shared) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BLOB))
        .with_state(content)
}

/// A distribution API error.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]});
    (status, axum::Json(body)).into_response()
}

/// The request's route, read from the end of the path: names have `/`
/// and may hold `manifests` or `blobs` themselves.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Base,
    Tags(String),
    Manifest(String, String),
    Blob(String, String),
    Uploads(String),
    Upload(String, String),
}

fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/v2")?;
    if rest.is_empty() || rest == "/" {
        return Some(Route::Base);
    }
    let segs: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
    let n = segs.len();
    let name = |k: usize| segs[..n - k].join("/");
    let last = |k: usize| segs.get(n.wrapping_sub(k)).copied();
    match (last(3), last(2), last(1)) {
        (_, Some("tags"), Some("list")) if n > 2 => Some(Route::Tags(name(2))),
        (Some("blobs"), Some("uploads"), Some("")) if n > 3 => Some(Route::Uploads(name(3))),
        (_, Some("blobs"), Some("uploads")) if n > 2 => Some(Route::Uploads(name(2))),
        (Some("blobs"), Some("uploads"), Some(id)) if n > 3 => {
            Some(Route::Upload(name(3), id.to_owned()))
        }
        (_, Some("manifests"), Some(r)) if n > 2 && !r.is_empty() => {
            Some(Route::Manifest(name(2), r.to_owned()))
        }
        (_, Some("blobs"), Some(d)) if n > 2 && !d.is_empty() => {
            Some(Route::Blob(name(2), d.to_owned()))
        }
        _ => None,
    }
}

/// A repository name of the distribution spec.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && part.as_bytes()[0].is_ascii_alphanumeric()
                && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
        })
}

fn is_digest(reference: &str) -> bool {
    reference
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn handle(
    State(content): State<Shared>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(r) = route(uri.path()) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint");
    };
    let name = match &r {
        Route::Base => None,
        Route::Tags(n)
        | Route::Manifest(n, _)
        | Route::Blob(n, _)
        | Route::Uploads(n)
        | Route::Upload(n, _) => Some(n.as_str()),
    };
    if name.is_some_and(|n| !valid_name(n)) {
        return error(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            "invalid repository name",
        );
    }
    let mut c = content.lock().unwrap_or_else(PoisonError::into_inner);
    let head = method == Method::HEAD;
    match (&r, method.clone()) {
        (Route::Base, _) => StatusCode::OK.into_response(),
        (Route::Tags(name), Method::GET | Method::HEAD) => tags(&c, name, &query),
        (Route::Manifest(name, reference), Method::GET | Method::HEAD) => {
            get_manifest(&c, name, reference, head)
        }
        (Route::Manifest(name, reference), Method::PUT) => {
            put_manifest(&mut c, name, reference, &headers, body)
        }
        (Route::Manifest(name, reference), Method::DELETE) => {
            let removed = c
                .repositories
                .get_mut(name)
                .and_then(|repo| repo.tags.remove(reference));
            match removed {
                Some(_) => StatusCode::ACCEPTED.into_response(),
                None => error(
                    StatusCode::NOT_FOUND,
                    "MANIFEST_UNKNOWN",
                    "manifest unknown",
                ),
            }
        }
        (Route::Blob(_, digest), Method::GET | Method::HEAD) => match c.blobs.get(digest) {
            Some(b) => blob_response(b, digest, head),
            None => error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", "blob unknown"),
        },
        (Route::Uploads(name), Method::POST) => {
            if let Some(digest) = query.get("digest") {
                return finish_upload(&mut c, name, digest, body.to_vec());
            }
            c.next_upload += 1;
            let id = format!("u{}", c.next_upload);
            c.uploads.insert(id.clone(), Vec::new());
            upload_status(StatusCode::ACCEPTED, name, &id, 0)
        }
        (Route::Upload(name, id), Method::PATCH) => {
            let Some(buf) = c.uploads.get_mut(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "upload unknown",
                );
            };
            if buf.len() + body.len() > MAX_BLOB {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SIZE_INVALID",
                    "blob too large",
                );
            }
            buf.extend_from_slice(&body);
            let len = buf.len();
            upload_status(StatusCode::ACCEPTED, name, id, len)
        }
        (Route::Upload(name, id), Method::PUT) => {
            let Some(mut buf) = c.uploads.remove(id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "upload unknown",
                );
            };
            buf.extend_from_slice(&body);
            let Some(digest) = query.get("digest") else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    "the digest query parameter is required",
                );
            };
            finish_upload(&mut c, name, digest, buf)
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "the operation is unsupported",
        ),
    }
}

fn tags(c: &Content, name: &str, query: &HashMap<String, String>) -> Response {
    let Some(repo) = c.repositories.get(name) else {
        return error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
    let last = query.get("last").map(String::as_str);
    let n = query
        .get("n")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let tags: Vec<&String> = repo
        .tags
        .keys()
        .filter(|t| last.is_none_or(|l| t.as_str() > l))
        .take(n)
        .collect();
    axum::Json(serde_json::json!({"name": name, "tags": tags})).into_response()
}

fn get_manifest(c: &Content, name: &str, reference: &str, head: bool) -> Response {
    let unknown = || {
        error(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown",
        )
    };
    let Some(repo) = c.repositories.get(name) else {
        return unknown();
    };
    let digest = if is_digest(reference) {
        reference.to_owned()
    } else {
        match repo.tags.get(reference) {
            Some(d) => d.clone(),
            None => return unknown(),
        }
    };
    let Some(m) = repo.manifests.get(&digest) else {
        return unknown();
    };
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&m.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&digest) {
        h.insert("docker-content-digest", v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(m.body.len()));
    if head {
        return (StatusCode::OK, h).into_response();
    }
    (StatusCode::OK, h, m.body.clone()).into_response()
}

fn put_manifest(
    c: &mut Content,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let digest = digest_of(&body);
    if is_digest(reference) && reference != digest {
        return error(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            &format!("the manifest hashes to {digest}, not {reference}"),
        );
    }
    let doc: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            let msg = format!("the manifest is not JSON: {e}");
            return error(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", &msg);
        }
    };
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| doc["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| super::MANIFEST_MEDIA_TYPE.to_owned());
    let referenced = std::iter::once(&doc["config"])
        .chain(doc["layers"].as_array().into_iter().flatten())
        .filter_map(|d| d["digest"].as_str());
    for d in referenced {
        if !c.blobs.contains_key(d) {
            let msg = format!("blob {d} is not in the registry");
            return error(StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN", &msg);
        }
    }
    let repo = c.repositories.entry(name.to_owned()).or_default();
    repo.manifests
        .insert(digest.clone(), Manifest { media_type, body });
    if !is_digest(reference) {
        repo.tags.insert(reference.to_owned(), digest.clone());
    }
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v2/{name}/manifests/{digest}")) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&digest) {
        h.insert("docker-content-digest", v);
    }
    (StatusCode::CREATED, h).into_response()
}

fn finish_upload(c: &mut Content, name: &str, digest: &str, data: Vec<u8>) -> Response {
    let actual = digest_of(&data);
    if actual != digest {
        let msg = format!("the content hashes to {actual}, not {digest}");
        return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", &msg);
    }
    c.blobs.insert(actual.clone(), Bytes::from(data));
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v2/{name}/blobs/{actual}")) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&actual) {
        h.insert("docker-content-digest", v);
    }
    (StatusCode::CREATED, h).into_response()
}

fn upload_status(status: StatusCode, name: &str, id: &str, len: usize) -> Response {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v2/{name}/blobs/uploads/{id}")) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("0-{}", len.saturating_sub(1))) {
        h.insert(header::RANGE, v);
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert("docker-upload-uuid", v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    (status, h).into_response()
}

fn blob_response(b: &Bytes, digest: &str, head: bool) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(digest) {
        h.insert("docker-content-digest", v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(b.len()));
    if head {
        return (StatusCode::OK, h).into_response();
    }
    (StatusCode::OK, h, b.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn send(
        app: &axum::Router,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body.to_vec()))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    #[tokio::test]
    async fn content_is_addressed_by_its_digest_and_checked_when_pushed() {
        let app = router(Arc::default());
        let blob = b"layer bytes";
        let good = digest_of(blob);
        let wrong = format!("sha256:{}", "0".repeat(64));
        // A monolithic upload whose content is not what its digest says.
        let (st, _, body) = send(
            &app,
            "POST",
            &format!("/v2/a/b/blobs/uploads/?digest={wrong}"),
            blob,
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("DIGEST_INVALID"));
        assert_eq!(
            send(&app, "HEAD", &format!("/v2/a/b/blobs/{wrong}"), b"")
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        // A chunked one: POST, PATCH, PUT with the digest.
        let (st, h, _) = send(&app, "POST", "/v2/a/b/blobs/uploads/", b"").await;
        assert_eq!(st, StatusCode::ACCEPTED);
        let location = h[header::LOCATION].to_str().unwrap().to_owned();
        let (st, h, _) = send(&app, "PATCH", &location, &blob[..5]).await;
        assert_eq!(
            (st, h[header::RANGE].to_str().unwrap()),
            (StatusCode::ACCEPTED, "0-4")
        );
        let (st, h, _) = send(
            &app,
            "PUT",
            &format!("{location}?digest={good}"),
            &blob[5..],
        )
        .await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(h["docker-content-digest"].to_str().unwrap(), good);
        let (st, _, got) = send(&app, "GET", &format!("/v2/a/b/blobs/{good}"), b"").await;
        assert_eq!((st, got.as_slice()), (StatusCode::OK, &blob[..]));
        // A manifest naming a blob the registry lacks is refused.
        let config = format!("sha256:{}", "1".repeat(64));
        let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
            "mediaType": super::super::MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.cncf.flux.config.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip", "digest": good, "size": blob.len()}]}))
        .unwrap();
        let (st, _, body) = send(&app, "PUT", "/v2/a/b/manifests/1.0.0", &manifest).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(String::from_utf8_lossy(&body).contains("MANIFEST_BLOB_UNKNOWN"));
        assert_eq!(
            send(
                &app,
                "POST",
                &format!("/v2/a/b/blobs/uploads/?digest={}", digest_of(b"{}")),
                b"{}"
            )
            .await
            .0,
            StatusCode::CREATED
        );
        let manifest = String::from_utf8(manifest)
            .unwrap()
            .replace(&config, &digest_of(b"{}"));
        // Pushed by a digest it does not have: refused; by tag: stored.
        let (st, _, _) = send(
            &app,
            "PUT",
            &format!("/v2/a/b/manifests/{wrong}"),
            manifest.as_bytes(),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, h, _) = send(&app, "PUT", "/v2/a/b/manifests/1.0.0", manifest.as_bytes()).await;
        assert_eq!(st, StatusCode::CREATED);
        let digest = h["docker-content-digest"].to_str().unwrap().to_owned();
        assert_eq!(digest, digest_of(manifest.as_bytes()));
        let (st, h, got) = send(&app, "GET", "/v2/a/b/manifests/1.0.0", b"").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h["docker-content-digest"].to_str().unwrap(), digest);
        assert_eq!(
            h[header::CONTENT_TYPE].to_str().unwrap(),
            super::super::MANIFEST_MEDIA_TYPE
        );
        assert_eq!(got, manifest.as_bytes());
        let (_, _, tags) = send(&app, "GET", "/v2/a/b/tags/list", b"").await;
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&tags).unwrap(),
            serde_json::json!({"name": "a/b", "tags": ["1.0.0"]})
        );
        assert_eq!(
            send(&app, "GET", "/v2/a/b/manifests/2.0.0", b"").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&app, "GET", "/v2/Bad/manifests/1", b"").await.0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn routes_read_names_with_slashes_from_the_end() {
        let st = |s: &str| s.to_owned();
        assert_eq!(route("/v2/"), Some(Route::Base));
        assert_eq!(route("/v2/a/b/tags/list"), Some(Route::Tags(st("a/b"))));
        assert_eq!(
            route("/v2/a/manifests/blobs/manifests/1.0"),
            Some(Route::Manifest(st("a/manifests/blobs"), st("1.0")))
        );
        assert_eq!(
            route("/v2/x/manifests/y/blobs/sha256:ab"),
            Some(Route::Blob(st("x/manifests/y"), st("sha256:ab")))
        );
        assert_eq!(route("/v2/x/blobs/uploads/"), Some(Route::Uploads(st("x"))));
        assert_eq!(route("/v2/x/blobs/uploads"), Some(Route::Uploads(st("x"))));
        assert_eq!(
            route("/v2/x/blobs/uploads/u1"),
            Some(Route::Upload(st("x"), st("u1")))
        );
        assert_eq!(route("/v2/manifests/1"), None);
        assert_eq!(route("/v3/x"), None);
        assert!(valid_name("ghcr.io/acme/app-1"));
        assert!(!valid_name("Acme/app"));
        assert!(!valid_name("a//b"));
        assert!(!valid_name("-a"));
    }
}
