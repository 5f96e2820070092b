//! Resource verbs: get, list/watch, create, replace, patch, delete,
//! deletecollection, and the status / finalize / scale subresources.

use std::sync::Arc;

use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::request::Parts;
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::negotiate::{self, Output};
use super::query::Query;
use super::response::{self, Resp};
use super::route::ResourcePath;
use super::server::{ApiState, manager};
use super::strict::{self, FieldValidation};
use super::{body, debug, list, scale, watch};
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::patch::Patch;
use crate::sim::storage::resource::{Gvr, ObjectRef};
use crate::sim::storage::status::{ApiError, ApiResult, Reason, success_status};
use crate::sim::storage::store::{DeleteOptions, Deleted, PatchOptions, Propagation, WriteOptions};

fn not_allowed() -> ApiError {
    ApiError::new(
        Reason::MethodNotAllowed,
        "the server does not allow this method on the requested resource",
    )
}

/// One object in the representation the client asked for.
pub fn render_object(
    rt: &ResourceType,
    gvr: &Gvr,
    obj: &Arc<Value>,
    out: Output,
    rev: u64,
    now: jiff::Timestamp,
) -> Vec<u8> {
    match out {
        Output::Metadata => serde_json::to_vec(&metadata_only(obj)).unwrap_or_default(),
        Output::Table { full } => serde_json::to_vec(&crate::sim::apiserver::table::table(
            rt,
            &gvr.version,
            std::slice::from_ref(obj),
            rev,
            None,
            full,
            now,
        ))
        .unwrap_or_default(),
        Output::Json | Output::Aggregated => serde_json::to_vec(&**obj).unwrap_or_default(),
    }
}

/// `PartialObjectMetadata` of an object, serialized from a borrow (lists of
/// thousands of objects are rendered without copying their metadata).
pub fn metadata_only(obj: &Value) -> PartialMetadata<'_> {
    PartialMetadata {
        kind: "PartialObjectMetadata",
        api_version: "meta.k8s.io/v1",
        metadata: obj.get("metadata").unwrap_or(&EMPTY_OBJECT),
    }
}

static EMPTY_OBJECT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::Object(serde_json::Map::new()));

/// See [`metadata_only`].
#[derive(Debug, serde::Serialize)]
pub struct PartialMetadata<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: &'a Value,
}

fn content_type_of(out: Output) -> &'static str {
    match out {
        Output::Table { .. } => "application/json;as=Table;v=v1;g=meta.k8s.io",
        Output::Metadata => "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
        _ => "application/json",
    }
}

fn object_response(
    state: &ApiState,
    rt: &ResourceType,
    gvr: &Gvr,
    code: u16,
    obj: &Arc<Value>,
    out: Output,
) -> Resp {
    let now = state.store.clock().now();
    response::json_bytes(
        code,
        render_object(rt, gvr, obj, out, state.store.revision(), now),
        content_type_of(out),
    )
}

fn delete_options(bytes: &[u8], headers: &http::HeaderMap, q: &Query) -> ApiResult<DeleteOptions> {
    let mut opts = DeleteOptions::default();
    let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else if body::content_type(headers) == crate::sim::apiserver::protobuf::MEDIA_TYPE {
        // Helm's storage driver deletes its release Secrets with a
        // protobuf DeleteOptions body.
        crate::sim::apiserver::protobuf::decode(bytes)?
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or(q.get("propagationPolicy"));
    if let Some(p) = policy {
        opts.propagation = Some(Propagation::parse(p).ok_or_else(|| {
            ApiError::new(Reason::Invalid, format!("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\""))
        })?);
    } else if body.get("orphanDependents") == Some(&json!(true)) || q.flag("orphanDependents") {
        opts.propagation = Some(Propagation::Orphan);
    }
    opts.uid = body
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    opts.resource_version = body
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    opts.dry_run = q.dry_run()
        || body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    Ok(opts)
}

/// Adds one `Warning: 299 - "…"` header per message, as kube-apiserver
/// reports `fieldValidation=Warn` findings.
fn warn(mut resp: Resp, warnings: &[String]) -> Resp {
    for w in warnings {
        let text = format!("299 - {}", serde_json::Value::String(w.clone()));
        if let Ok(v) = http::HeaderValue::from_str(&text) {
            resp.headers_mut().append(http::header::WARNING, v);
        }
    }
    resp
}

/// Serves the endpoints of [`debug`]: reviews, logs, and the Status of
/// the process endpoints.
async fn debugging(
    state: &Arc<ApiState>,
    parts: Parts,
    req_body: Incoming,
    rp: &ResourcePath,
    q: &Query,
    endpoint: debug::Endpoint,
) -> ApiResult<Resp> {
    match endpoint {
        debug::Endpoint::AccessReview | debug::Endpoint::RulesReview => {
            if parts.method != Method::POST {
                return Err(not_allowed());
            }
            let bytes = body::read(&parts.headers, req_body).await?;
            // kubectl sends reviews as protobuf; the spec is echoed back.
            let obj = body::object(&parts.headers, &bytes)?;
            Ok(response::json(201, &debug::review(endpoint, &obj)?))
        }
        debug::Endpoint::Log => {
            if parts.method != Method::GET {
                return Err(not_allowed());
            }
            let (Some(ns), Some(pod)) = (rp.namespace.as_deref(), rp.name.as_deref()) else {
                return Err(ApiError::unknown_resource());
            };
            let text = debug::logs(
                &state.store,
                ns,
                pod,
                q.get("container"),
                q.flag("previous"),
            )?;
            let mut r = response::json_bytes(200, text.into_bytes(), "text/plain");
            r.headers_mut().insert(
                CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Ok(r)
        }
        debug::Endpoint::Process => Err(debug::no_processes(rp)),
    }
}

/// Serves a resource endpoint.
///
/// # Errors
/// Any API error of the verb; rendered as a Status by the caller.
pub async fn resource(
    state: &Arc<ApiState>,
    parts: Parts,
    req_body: Incoming,
    rp: &ResourcePath,
    q: &Query,
) -> ApiResult<Resp> {
    let store = &state.store;
    if let Some(endpoint) = debug::endpoint(rp) {
        return debugging(state, parts, req_body, rp, q, endpoint).await;
    }
    let gvr = Gvr::new(&rp.group, &rp.version, &rp.plural);
    let rt = store
        .registry()
        .resolve(&gvr)
        .ok_or_else(ApiError::unknown_resource)?;
    if rp.namespace.is_some() && !rt.namespaced {
        return Err(ApiError::unknown_resource());
    }
    if rp.name.is_some() && rt.namespaced && rp.namespace.is_none() {
        return Err(ApiError::unknown_resource());
    }
    let accept = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let out = negotiate::choose(accept, q.get("includeObject"), false)?;
    let ns = rp.namespace.as_deref();
    let method = parts.method.clone();
    let Some(name) = rp.name.clone() else {
        return match method {
            Method::GET if q.flag("watch") => watch::serve(state, &rt, &gvr, ns, q, out),
            Method::GET => list::serve(state, &rt, &gvr, ns, q, out),
            Method::POST if rt.namespaced && ns.is_none() => Err(ApiError::unknown_resource()),
            Method::POST => {
                let validation = FieldValidation::from_query(q)?;
                let bytes = body::read(&parts.headers, req_body).await?;
                let obj = body::object(&parts.headers, &bytes)?;
                let ct = body::content_type(&parts.headers);
                let warnings = validation.judge(
                    strict::problems(&rt, &rp.version, &ct, &bytes, &obj),
                    &rt.kind,
                    &rp.version,
                )?;
                let opts = WriteOptions {
                    manager: manager(q, &parts.headers),
                    dry_run: q.dry_run(),
                };
                let created = store.create(&gvr, ns, obj, &opts)?;
                Ok(warn(
                    object_response(state, &rt, &gvr, 201, &created, out),
                    &warnings,
                ))
            }
            Method::DELETE => {
                let bytes = body::read(&parts.headers, req_body).await?;
                let opts = delete_options(&bytes, &parts.headers, q)?;
                let selector = crate::sim::storage::selectors::Selector::parse(
                    &rt.group_resource(),
                    q.get("labelSelector"),
                    q.get("fieldSelector"),
                )?;
                let gone = store.delete_collection(&gvr, ns, &selector, &opts)?;
                Ok(list::render(
                    &rt,
                    &gvr,
                    gone,
                    store.revision(),
                    None,
                    None,
                    Output::Json,
                    store.clock().now(),
                ))
            }
            _ => Err(not_allowed()),
        };
    };
    let r = ObjectRef {
        gvr: gvr.clone(),
        namespace: rp.namespace.clone(),
        name,
    };
    match (rp.sub.as_deref(), method) {
        (None, Method::GET) => Ok(object_response(state, &rt, &gvr, 200, &store.get(&r)?, out)),
        (Some("status"), Method::GET) if rt.status => {
            Ok(object_response(state, &rt, &gvr, 200, &store.get(&r)?, out))
        }
        (None | Some("status"), Method::PUT) => {
            let status = rp.sub.is_some();
            if status && !rt.status {
                return Err(ApiError::unknown_resource());
            }
            let validation = FieldValidation::from_query(q)?;
            let bytes = body::read(&parts.headers, req_body).await?;
            let obj = body::object(&parts.headers, &bytes)?;
            let ct = body::content_type(&parts.headers);
            let warnings = validation.judge(
                strict::problems(&rt, &rp.version, &ct, &bytes, &obj),
                &rt.kind,
                &rp.version,
            )?;
            let opts = WriteOptions {
                manager: manager(q, &parts.headers),
                dry_run: q.dry_run(),
            };
            let stored = if status {
                store.update_status(&r, obj, &opts)?
            } else {
                store.update(&r, obj, &opts)?
            };
            Ok(warn(
                object_response(state, &rt, &gvr, 200, &stored, out),
                &warnings,
            ))
        }
        (None | Some("status"), Method::PATCH) => {
            let status = rp.sub.is_some();
            if status && !rt.status {
                return Err(ApiError::unknown_resource());
            }
            let ct = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let validation = FieldValidation::from_query(q)?;
            let bytes = body::read(&parts.headers, req_body).await?;
            let patch = Patch::parse(&ct, &bytes)?;
            let warnings = match &patch {
                Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => {
                    let mime = ct.split(';').next().unwrap_or("").trim();
                    validation.judge(
                        strict::problems(&rt, &rp.version, mime, &bytes, v),
                        &rt.kind,
                        &rp.version,
                    )?
                }
                Patch::Json(_) => Vec::new(),
            };
            let manager = match (&patch, q.get("fieldManager")) {
                (Patch::Apply(_), m) => m.unwrap_or("").to_owned(),
                _ => manager(q, &parts.headers),
            };
            let opts = PatchOptions {
                manager,
                force: q.flag("force"),
                status,
                dry_run: q.dry_run(),
            };
            let patched = store.patch(&r, &patch, &opts)?;
            Ok(warn(
                object_response(
                    state,
                    &rt,
                    &gvr,
                    if patched.created { 201 } else { 200 },
                    &patched.object,
                    out,
                ),
                &warnings,
            ))
        }
        (None, Method::DELETE) => {
            let bytes = body::read(&parts.headers, req_body).await?;
            let opts = delete_options(&bytes, &parts.headers, q)?;
            match store.delete(&r, &opts)? {
                Deleted::Pending(obj) => Ok(object_response(state, &rt, &gvr, 200, &obj, out)),
                Deleted::Removed(obj) => {
                    let uid = obj.pointer("/metadata/uid").and_then(Value::as_str);
                    Ok(response::json(
                        200,
                        &success_status(&rt.group_resource(), &r.name, uid),
                    ))
                }
            }
        }
        (Some("finalize"), Method::PUT) if rt.group.is_empty() && rt.plural == "namespaces" => {
            let bytes = body::read(&parts.headers, req_body).await?;
            let obj = body::object(&parts.headers, &bytes)?;
            let fins: Vec<String> = obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let stored = store.finalize_namespace(&r.name, &fins)?;
            Ok(object_response(state, &rt, &gvr, 200, &stored, out))
        }
        (Some("scale"), m) if rt.scale.is_some() => {
            let bytes = if m == Method::GET {
                bytes::Bytes::new()
            } else {
                body::read(&parts.headers, req_body).await?
            };
            let ct = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            scale::serve(state, &rt, &r, &m, &ct, &bytes, q)
        }
        (Some(_), Method::GET | Method::PUT | Method::PATCH) => Err(ApiError::unknown_resource()),
        (Some(_), _) => Err(ApiError::unknown_resource()),
        _ => Err(not_allowed()),
    }
}
