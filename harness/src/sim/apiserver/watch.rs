//! WATCH: newline-delimited compact JSON events, resumption from the
//! history, synthetic ADDED events, in-stream 410 ERROR, bookmarks,
//! `sendInitialEvents`, selector transitions and `timeoutSeconds`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};

use super::handlers::metadata_only;
use super::negotiate::Output;
use super::query::Query;
use super::response::Resp;
use super::server::ApiState;
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::resource::Gvr;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::status::{ApiError, ApiResult, Reason};
use crate::sim::storage::store::{Event, EventFilter, EventType, Notice, Store, Subscription};

/// Watches without `timeoutSeconds` end after this long.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watch {
    store: Store,
    sub: Option<Subscription>,
    selector: Selector,
    rt: Arc<ResourceType>,
    api_version: String,
    out: Output,
    bookmarks: bool,
    interval: Duration,
    deadline: tokio::time::Instant,
    initial_left: Option<usize>,
    initial_rev: u64,
    error: Option<Value>,
    done: bool,
}

fn line(kind: &str, obj: &impl serde::Serialize) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    let _ = serde_json::to_writer(&mut buf, obj);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

impl Watch {
    fn bookmark(&self, rev: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rev.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (kind, api_version) = match self.out {
            Output::Metadata => (
                "PartialObjectMetadata".to_owned(),
                "meta.k8s.io/v1".to_owned(),
            ),
            _ => (self.rt.kind.clone(), self.api_version.clone()),
        };
        line(
            "BOOKMARK",
            &json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
        )
    }

    fn render(&self, ev: &Event) -> Option<Bytes> {
        let now = self.selector.matches(&ev.object);
        let before = ev.old.as_ref().is_some_and(|o| self.selector.matches(o));
        let kind = match ev.kind {
            EventType::Added if now => "ADDED",
            EventType::Deleted if now => "DELETED",
            EventType::Modified if now && before => "MODIFIED",
            EventType::Modified if now => "ADDED",
            EventType::Modified if before => "DELETED",
            _ => return None,
        };
        let viewed;
        let obj: &Arc<Value> =
            if crate::sim::storage::event_versions::is_alias(&self.rt.group_resource()) {
                viewed = Arc::new(crate::sim::storage::event_versions::to_v1(&ev.object));
                &viewed
            } else {
                &ev.object
            };
        if self.out == Output::Metadata {
            return Some(line(kind, &metadata_only(obj)));
        }
        if let Output::Table { full } = self.out {
            // `kubectl get -w`: one Table with one row per event.
            let version = self.api_version.rsplit('/').next().unwrap_or("v1");
            let now = self.store.clock().now();
            let t = crate::sim::apiserver::table::table(
                &self.rt,
                version,
                std::slice::from_ref(obj),
                ev.revision,
                None,
                full,
                now,
            );
            return Some(line(kind, &t));
        }
        if self.rt.custom
            && obj.get("apiVersion").and_then(Value::as_str) != Some(self.api_version.as_str())
        {
            let mut o = (**obj).clone();
            o["apiVersion"] = json!(self.api_version);
            return Some(line(kind, &o));
        }
        Some(line(kind, &**obj))
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if self.done {
                return None;
            }
            if let Some(err) = self.error.take() {
                self.done = true;
                return Some(line("ERROR", &err));
            }
            if self.initial_left == Some(0) {
                self.initial_left = None;
                return Some(self.bookmark(self.initial_rev, true));
            }
            let sub = self.sub.as_mut()?;
            tokio::select! {
                notice = sub.recv_notice() => match notice {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(Notice::Event(ev, busy)) => {
                        if let Some(left) = self.initial_left.as_mut() {
                            *left = left.saturating_sub(1);
                        }
                        let out = self.render(&ev);
                        drop(busy);
                        if out.is_some() {
                            return out;
                        }
                    }
                    Some(Notice::Expired { requested, oldest }) => {
                        self.error = Some(expired(requested, oldest));
                    }
                },
                () = tokio::time::sleep(self.interval), if self.bookmarks && self.initial_left.is_none() => {
                    // Read the revision before checking the queue: every event up
                    // to it is queued by then, so an empty queue means all sent.
                    let rev = self.store.revision();
                    if sub.is_empty() {
                        return Some(self.bookmark(rev, false));
                    }
                }
                () = tokio::time::sleep_until(self.deadline) => {
                    self.done = true;
                    let rev = self.store.revision();
                    if self.bookmarks && sub.is_empty() {
                        return Some(self.bookmark(rev, false));
                    }
                    return None;
                }
            }
        }
    }
}

fn expired(requested: u64, oldest: u64) -> Value {
    ApiError::expired(format!("too old resource version: {requested} ({oldest})")).to_status()
}

/// Serves a WATCH.
///
/// # Errors
/// 400 bad selector or resourceVersion; 422 invalid `sendInitialEvents` use.
pub fn serve(
    state: &ApiState,
    rt: &Arc<ResourceType>,
    gvr: &Gvr,
    ns: Option<&str>,
    q: &Query,
    out: Output,
) -> ApiResult<Resp> {
    let store = state.store.clone();
    let selector = Selector::parse(
        &rt.group_resource(),
        q.get("labelSelector"),
        q.get("fieldSelector"),
    )?;
    let rv = q.get("resourceVersion");
    let send_initial = q.get("sendInitialEvents").map(|v| v == "true" || v == "1");
    let bookmarks = q.flag("allowWatchBookmarks");
    if send_initial == Some(true)
        && (!bookmarks
            || q.get("resourceVersionMatch") != Some("NotOlderThan")
            || !matches!(rv, None | Some("0")))
    {
        return Err(ApiError::new(
            Reason::Invalid,
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan with resourceVersion unset or \"0\"",
        ));
    }
    let from = match rv {
        None | Some("0") if send_initial == Some(false) => Some(store.revision()),
        None | Some("0") => None,
        Some(n) => Some(
            n.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {n}")))?,
        ),
    };
    let timeout = q
        .int("timeoutSeconds")?
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(t.unsigned_abs()));
    let filter = EventFilter {
        resource: Some(crate::sim::storage::event_versions::storage_of(
            &rt.group_resource(),
        )),
        namespace: ns.map(str::to_owned),
        deletions_only: false,
    };
    let mut w = Watch {
        store: store.clone(),
        sub: None,
        selector,
        rt: rt.clone(),
        api_version: gvr.api_version(),
        out,
        bookmarks,
        interval: state.config.bookmark_interval,
        deadline: tokio::time::Instant::now() + timeout,
        initial_left: None,
        initial_rev: 0,
        error: None,
        done: false,
    };
    match store.watch(filter, from) {
        Ok(start) => {
            w.sub = Some(start.sub);
            if send_initial == Some(true) {
                w.initial_left = Some(start.initial);
                w.initial_rev = start.revision;
            }
        }
        Err(e) => w.error = Some(e.to_status()),
    }
    let stream = futures::stream::unfold(w, |mut w| async move {
        let bytes = w.next().await?;
        Some((Ok::<_, Infallible>(Frame::data(bytes)), w))
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed_unsync());
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}
