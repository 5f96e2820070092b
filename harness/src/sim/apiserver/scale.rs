//! The `scale` subresource (`autoscaling/v1` Scale).

use http::Method;
use serde_json::{Value, json};

use super::query::Query;
use super::response::{self, Resp};
use super::server::{ApiState, manager};
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::patch::Patch;
use crate::sim::storage::resource::ObjectRef;
use crate::sim::storage::status::{ApiError, ApiResult};
use crate::sim::storage::store::WriteOptions;

fn selector_string(obj: &Value, rt: &ResourceType) -> Option<String> {
    let paths = rt.scale.as_ref()?;
    if !rt.custom {
        let labels = obj.pointer("/spec/selector/matchLabels")?.as_object()?;
        return Some(
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    obj.pointer(paths.label_selector.as_deref()?)?
        .as_str()
        .map(str::to_owned)
}

fn to_scale(obj: &Value, rt: &ResourceType) -> Value {
    let paths = rt.scale.as_ref();
    let get = |p: Option<&String>| {
        p.and_then(|p| obj.pointer(p))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let mut status = json!({"replicas": get(paths.map(|p| &p.status_replicas))});
    if let Some(sel) = selector_string(obj, rt) {
        status["selector"] = json!(sel);
    }
    let meta = &obj["metadata"];
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                     "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": get(paths.map(|p| &p.spec_replicas))}, "status": status})
}

/// GET/PUT/PATCH on `.../scale`.
///
/// # Errors
/// 404 missing object; 409 stale resourceVersion; 400/415 bad body.
pub fn serve(
    state: &ApiState,
    rt: &ResourceType,
    r: &ObjectRef,
    method: &Method,
    content_type: &str,
    body: &[u8],
    q: &Query,
) -> ApiResult<Resp> {
    let store = &state.store;
    let current = store.get(r)?;
    let scale = to_scale(&current, rt);
    if method == Method::GET {
        return Ok(response::json(200, &scale));
    }
    let wanted = if method == Method::PUT {
        serde_json::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding Scale: {e}")))?
    } else {
        Patch::parse(content_type, body)?.apply_to(&scale, true)?
    };
    if let Some(rv) = wanted
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        && Some(rv)
            != current
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::conflict(&rt.group_resource(), &r.name));
    }
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let spec_path = rt
        .scale
        .as_ref()
        .map(|p| p.spec_replicas.clone())
        .unwrap_or_default();
    let opts = WriteOptions {
        manager: manager(q, &http::HeaderMap::new()),
        dry_run: q.dry_run(),
    };
    let updated = store.mutate(r, false, &opts, |o| {
        let mut cur = &mut *o;
        let parts: Vec<&str> = spec_path.split('/').filter(|s| !s.is_empty()).collect();
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                cur[*p] = json!(replicas);
            } else {
                if !cur.get(*p).is_some_and(Value::is_object) {
                    cur[*p] = json!({});
                }
                cur = &mut cur[*p];
            }
        }
        Ok(())
    })?;
    Ok(response::json(200, &to_scale(&updated, rt)))
}
