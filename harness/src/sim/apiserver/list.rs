//! LIST: selectors, resourceVersion semantics, and `limit`/`continue`
//! pagination over snapshots (every page reports the snapshot revision).

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::Response;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};

use super::handlers::metadata_only;
use super::limits::LIST_CHUNK;
use super::negotiate::Output;
use super::query::Query;
use super::response::{self, Resp};
use super::server::ApiState;
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::resource::Gvr;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::status::{ApiError, ApiResult};

/// How long a pagination snapshot lives.
const SNAPSHOT_TTL: Duration = Duration::from_secs(300);

struct Snapshot {
    items: Arc<Vec<Arc<Value>>>,
    rev: u64,
    taken: Instant,
}

/// The TTL cache of list snapshots behind continue tokens.
#[derive(Default)]
pub struct Snapshots {
    next: AtomicU64,
    map: Mutex<HashMap<u64, Snapshot>>,
}

impl std::fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshots")
    }
}

impl Snapshots {
    fn put(&self, items: Arc<Vec<Arc<Value>>>, rev: u64) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.taken.elapsed() < SNAPSHOT_TTL);
        map.insert(
            id,
            Snapshot {
                items,
                rev,
                taken: Instant::now(),
            },
        );
        id
    }

    fn get(&self, id: u64) -> Option<(Arc<Vec<Arc<Value>>>, u64)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id)
            .filter(|s| s.taken.elapsed() < SNAPSHOT_TTL)
            .map(|s| (s.items.clone(), s.rev))
    }
}

fn token(rev: u64, snap: u64, start: usize) -> String {
    URL_SAFE_NO_PAD.encode(json!({"rv": rev, "snap": snap, "start": start}).to_string())
}

fn parse_token(t: &str) -> ApiResult<(u64, u64, usize)> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {t}"));
    let raw = URL_SAFE_NO_PAD
        .decode(t.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let num = |k: &str| v.get(k).and_then(Value::as_u64).ok_or_else(bad);
    Ok((
        num("rv")?,
        num("snap")?,
        usize::try_from(num("start")?).map_err(|_| bad())?,
    ))
}

/// Checks `resourceVersion`/`resourceVersionMatch` of a list.
fn check_rv(q: &Query, current: u64) -> ApiResult<()> {
    let rv = q.get("resourceVersion");
    match (q.get("resourceVersionMatch"), rv) {
        (Some(_), None) => Err(ApiError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        )),
        (Some("Exact"), Some("0")) => Err(ApiError::bad_request(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
        )),
        (Some("Exact"), Some(n)) => match n.parse::<u64>() {
            Ok(n) if n == current => Ok(()),
            Ok(n) => Err(ApiError::expired(format!(
                "too old resource version: {n} ({current})"
            ))),
            Err(_) => Err(ApiError::bad_request(format!(
                "invalid resource version: {n}"
            ))),
        },
        (Some("NotOlderThan") | None, Some(n)) => n
            .parse::<u64>()
            .map(|_| ())
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {n}"))),
        (Some(other), _) => Err(ApiError::bad_request(format!(
            "unsupported resourceVersionMatch: {other}"
        ))),
        (None, None) => Ok(()),
    }
}

/// Serves a LIST.
///
/// # Errors
/// 400 bad selector/token/resourceVersion; 410 expired continue token.
pub fn serve(
    state: &ApiState,
    rt: &ResourceType,
    gvr: &Gvr,
    ns: Option<&str>,
    q: &Query,
    out: Output,
) -> ApiResult<Resp> {
    let store = &state.store;
    let limit = q
        .int("limit")?
        .filter(|l| *l > 0)
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let (items, rev, start) = if let Some(t) = q.get("continue") {
        let (_, snap, start) = parse_token(t)?;
        let (items, rev) = state.snapshots.get(snap).ok_or_else(|| {
            ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
        })?;
        (items, rev, start)
    } else {
        let selector = Selector::parse(
            &rt.group_resource(),
            q.get("labelSelector"),
            q.get("fieldSelector"),
        )?;
        check_rv(q, store.revision())?;
        let l = store.list(gvr, ns, &selector)?;
        (Arc::new(l.items), l.revision, 0)
    };
    let start = start.min(items.len());
    let end = limit.map_or(items.len(), |l| start.saturating_add(l).min(items.len()));
    let cont = (end < items.len()).then(|| {
        let snap = if q.get("continue").is_some() {
            parse_token(q.get("continue").unwrap_or_default())
                .map(|t| t.1)
                .unwrap_or(0)
        } else {
            state.snapshots.put(items.clone(), rev)
        };
        token(rev, snap, end)
    });
    let remaining = (end < items.len()).then(|| items.len() - end);
    Ok(render(
        rt,
        gvr,
        items[start..end].to_vec(),
        rev,
        cont.as_deref(),
        remaining,
        out,
        store.clock().now(),
    ))
}

/// Renders a list (plain, Table or PartialObjectMetadataList).
///
/// Plain and metadata lists are encoded while they are sent, a chunk of
/// about [`LIST_CHUNK`] bytes each time the connection can take one (see
/// [`super::limits`]), so a thousand readers of a large list share one copy
/// of its objects instead of holding a thousand encodings.
#[allow(clippy::too_many_arguments)]
pub fn render(
    rt: &ResourceType,
    gvr: &Gvr,
    items: Vec<Arc<Value>>,
    rev: u64,
    cont: Option<&str>,
    remaining: Option<usize>,
    out: Output,
    now: jiff::Timestamp,
) -> Resp {
    if let Output::Table { full } = out {
        let t = crate::sim::apiserver::table::table(rt, &gvr.version, &items, rev, cont, full, now);
        return response::json_bytes(
            200,
            serde_json::to_vec(&t).unwrap_or_default(),
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        );
    }
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    if let Some(n) = remaining {
        meta["remainingItemCount"] = json!(n);
    }
    let (kind, api_version) = match out {
        Output::Metadata => (
            "PartialObjectMetadataList".to_owned(),
            "meta.k8s.io/v1".to_owned(),
        ),
        _ => (rt.list_kind.clone(), gvr.api_version()),
    };
    let mut head = Vec::with_capacity(LIST_CHUNK);
    let _ = write!(
        head,
        "{{\"kind\":{},\"apiVersion\":{},\"metadata\":{},\"items\":[",
        json!(kind),
        json!(api_version),
        meta
    );
    let encoding = Encoding {
        head,
        items,
        next: 0,
        metadata: out == Output::Metadata,
        done: false,
    };
    let ct = if out == Output::Metadata {
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
    } else {
        "application/json"
    };
    let stream = futures::stream::unfold(encoding, |mut e| async move {
        let chunk = e.chunk()?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), e))
    });
    let mut r = Response::new(StreamBody::new(stream).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// A list being encoded.
struct Encoding {
    head: Vec<u8>,
    items: Vec<Arc<Value>>,
    next: usize,
    metadata: bool,
    done: bool,
}

impl Encoding {
    /// The next chunk: about [`LIST_CHUNK`] bytes (more when one object is
    /// larger); None once the list is complete.
    fn chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut buf = std::mem::take(&mut self.head);
        buf.reserve(LIST_CHUNK);
        while self.next < self.items.len() && buf.len() < LIST_CHUNK {
            if self.next > 0 {
                buf.push(b',');
            }
            let item = &self.items[self.next];
            let _ = if self.metadata {
                serde_json::to_writer(&mut buf, &metadata_only(item))
            } else {
                serde_json::to_writer(&mut buf, &**item)
            };
            self.next += 1;
        }
        if self.next == self.items.len() {
            buf.extend_from_slice(b"]}");
            self.done = true;
        }
        Some(Bytes::from(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_rejected() {
        let t = token(5, 9, 500);
        assert_eq!(parse_token(&t).unwrap(), (5, 9, 500));
        assert_eq!(parse_token("garbage!").unwrap_err().code, 400);
    }

    #[test]
    fn rv_match_rules() {
        assert_eq!(
            check_rv(&Query::parse(Some("resourceVersionMatch=Exact")), 3)
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            check_rv(
                &Query::parse(Some("resourceVersionMatch=Exact&resourceVersion=0")),
                3
            )
            .unwrap_err()
            .code,
            400
        );
        assert!(
            check_rv(
                &Query::parse(Some("resourceVersionMatch=Exact&resourceVersion=3")),
                3
            )
            .is_ok()
        );
        assert!(check_rv(&Query::parse(Some("resourceVersion=0")), 3).is_ok());
        assert_eq!(
            check_rv(&Query::parse(Some("resourceVersion=x")), 3)
                .unwrap_err()
                .code,
            400
        );
    }
}
