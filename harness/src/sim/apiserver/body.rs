//! Reading and decoding request bodies.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use crate::sim::storage::status::{ApiError, ApiResult, Reason};

/// The largest accepted request body (the API server's limit).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

fn too_large() -> ApiError {
    ApiError::new(
        Reason::RequestEntityTooLarge,
        "the request body is too large: limit is 3145728 bytes",
    )
}

/// Reads the whole body, refusing more than [`MAX_BODY`].
///
/// # Errors
/// 413 when too large; 400 when the connection fails mid-body.
pub async fn read(headers: &HeaderMap, body: Incoming) -> ApiResult<Bytes> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "failed to read the request body: {e}"
        ))),
    }
}

/// Refuses a body nesting deeper than [`crate::nesting::MAX_DEPTH`] before a
/// parser sees it: parsing 100,000 `[` takes the YAML parser seconds on the
/// thread that serves other clients, for the same 400 in the end.
///
/// # Errors
/// 400 naming the position, prefixed with `what`.
pub fn shallow(bytes: &[u8], what: &str) -> ApiResult<()> {
    crate::nesting::check(bytes, crate::nesting::MAX_DEPTH)
        .map_err(|e| ApiError::bad_request(format!("{what}: the body {e}")))
}

/// The request's media type (without parameters), lower-case.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Decodes an object body of a POST/PUT (JSON, or YAML).
///
/// # Errors
/// 415 for other media types; 400 for a malformed or non-object body.
pub fn object(headers: &HeaderMap, bytes: &[u8]) -> ApiResult<Value> {
    let ct = content_type(headers);
    let v: Value = match ct.as_str() {
        "" | "application/json" | "*/*" => serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        crate::sim::apiserver::protobuf::MEDIA_TYPE => {
            crate::sim::apiserver::protobuf::decode(bytes)?
        }
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            shallow(bytes, "couldn't get version/kind; yaml parse error")?;
            serde_yaml::from_slice(bytes).map_err(|e| {
                ApiError::bad_request(format!("couldn't get version/kind; yaml parse error: {e}"))
            })?
        }
        other => {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {other})"
                ),
            ));
        }
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(v)
}
