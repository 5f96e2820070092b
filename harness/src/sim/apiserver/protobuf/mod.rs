//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`).
//!
//! client-go's typed clients send them: kubectl's `create` subcommands
//! (`create job`, `service`, `role`, `quota`, `token`, …), `autoscale`,
//! `drain`'s evictions, Helm's release Secrets. The simulator stores JSON,
//! so it unwraps the envelope (`k8s\0` + `runtime.Unknown`), finds the
//! message of the envelope's `apiVersion` and `kind` in Kubernetes' own
//! `generated.proto` definitions ([`definitions`], compiled by `build.rs`),
//! decodes it with prost-reflect and writes it as the API server's JSON
//! ([`json`]). Every built-in kind of the simulator's Kubernetes version is
//! covered; a kind with no protobuf definition (custom resources) answers
//! 415 and names JSON. Responses are JSON (client-go accepts both).

mod definitions;
mod json;

use prost_reflect::DynamicMessage;
use serde_json::{Value, json};

use crate::sim::storage::status::{ApiError, ApiResult, Reason};

/// The protobuf media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every Kubernetes protobuf body starts with.
const MAGIC: &[u8] = b"k8s\0";

fn bad(msg: &str) -> ApiError {
    ApiError::bad_request(format!("failed to decode protobuf body: {msg}"))
}

/// Decodes a protobuf request body into the JSON object, with its
/// `apiVersion` and `kind` from the envelope.
///
/// # Errors
/// 400 for a malformed envelope or message; 415 for a kind Kubernetes
/// defines no protobuf message for.
pub fn decode(body: &[u8]) -> ApiResult<Value> {
    envelope(body, 0)
}

fn envelope(body: &[u8], depth: usize) -> ApiResult<Value> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("missing the k8s protobuf envelope"))?;
    let unknown = DynamicMessage::decode(definitions::unknown(), rest)
        .map_err(|e| bad(&format!("envelope: {e}")))?;
    let type_meta = match unknown.get_field_by_name("typeMeta").as_deref() {
        Some(prost_reflect::Value::Message(m)) => m.clone(),
        _ => return Err(bad("the envelope has no typeMeta")),
    };
    let text = |m: &DynamicMessage, name: &str| {
        m.get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let (api_version, kind) = (text(&type_meta, "apiVersion"), text(&type_meta, "kind"));
    let encoding = text(&unknown, "contentEncoding");
    if !encoding.is_empty() {
        return Err(bad(&format!(
            "contentEncoding {encoding:?} is not supported"
        )));
    }
    let raw = match unknown.get_field_by_name("raw").as_deref() {
        Some(prost_reflect::Value::Bytes(b)) => b.clone(),
        _ => bytes::Bytes::new(),
    };
    let desc = definitions::kind(&api_version, &kind).ok_or_else(|| {
        ApiError::new(
            Reason::UnsupportedMediaType,
            format!(
                "no protobuf definition for {api_version} {kind}: Kubernetes defines protobuf messages only for built-in kinds; send application/json"
            ),
        )
    })?;
    let msg = DynamicMessage::decode(desc, raw)
        .map_err(|e| bad(&format!("{api_version} {kind}: {e}")))?;
    let mut obj = json::object_at(&msg, depth)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests;
