//! Building responses: JSON bodies, Status errors, streams.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, VARY};
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use crate::sim::storage::status::ApiError;

/// The response type of the server.
pub type Resp = Response<UnsyncBoxBody<Bytes, Infallible>>;

/// A body from bytes.
pub fn full(bytes: impl Into<Bytes>) -> UnsyncBoxBody<Bytes, Infallible> {
    Full::new(bytes.into()).boxed_unsync()
}

/// A response with a JSON body already serialised.
pub fn json_bytes(code: u16, bytes: Vec<u8>, content_type: &'static str) -> Resp {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A JSON response.
pub fn json(code: u16, v: &Value) -> Resp {
    json_bytes(
        code,
        serde_json::to_vec(v).unwrap_or_default(),
        "application/json",
    )
}

/// A discovery/openapi response: cacheable-by-nobody, varies by Accept.
pub fn discovery(v: &Value, content_type: &'static str) -> Resp {
    let mut r = json_bytes(200, serde_json::to_vec(v).unwrap_or_default(), content_type);
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    r
}

/// The Status response of an error.
pub fn error(e: &ApiError) -> Resp {
    let mut r = json(e.code, &e.to_status());
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(RETRY_AFTER, v);
    }
    r
}

/// A plain-text response.
pub fn text(code: u16, s: &'static str) -> Resp {
    let mut r = Response::new(full(s));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
