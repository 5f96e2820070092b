//! Server-side apply of one stage: request bodies, bounded concurrency and
//! the created / configured / unchanged verdict.
//!
//! `created` is the API server's own answer: an apply that creates the
//! object answers `201 Created`. Between `configured` and `unchanged`, the
//! verdict compares the object's `resourceVersion` before and after the
//! apply (an API server does not write an apply that changes nothing, so an
//! unchanged object keeps its version). The "before" comes from one list
//! per resource and namespace when a stage applies many objects there, and
//! from a GET per object otherwise. With ownership labels (a Flux
//! Kustomization's), the list selects them: it carries this applier's
//! objects only, not every object of the kind in the namespace (so a
//! reconcile costs what it applies, not what the cluster holds). An object
//! missing from it either does not exist (201) or is not labelled as ours
//! yet, which the apply changes (`configured`).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::discovery::Mapping;
use super::error::{Failure, ObjectError};
use super::object::Versioned;
use super::order::Stage;
use super::outcome::{Action, ObjectOutcome};

/// Above this many objects of one resource in one namespace, a stage lists
/// them once instead of reading each before applying it.
const LIST_THRESHOLD: usize = 4;

/// Metadata fields the API server owns; a manifest exported from a cluster
/// may carry them, and an apply must not (a `resourceVersion` would turn
/// the apply into a conditional write).
const SERVER_FIELDS: [&str; 6] = [
    "resourceVersion",
    "uid",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// An object ready to be sent: identity (namespace resolved), mapping and
/// the request body.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Position in the caller's list (outcomes are reported in apply order,
    /// ties broken by it).
    pub index: usize,
    /// The object, with the namespace it is applied in.
    pub object: Versioned,
    /// Where it was defined.
    pub origin: Option<String>,
    /// Where it lives in the API.
    pub mapping: Mapping,
    /// The apply body.
    pub body: Value,
}

/// Builds the apply body of `object`: server-owned fields dropped, the
/// namespace set (or removed for cluster-scoped kinds), `labels` added.
pub fn body(object: &Value, namespace: Option<&str>, labels: &BTreeMap<String, String>) -> Value {
    let mut body = object.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in SERVER_FIELDS {
            meta.remove(f);
        }
        match namespace {
            Some(ns) => {
                meta.insert("namespace".into(), Value::String(ns.to_owned()));
            }
            None => {
                meta.remove("namespace");
            }
        }
        if !labels.is_empty() {
            let entry = meta
                .entry("labels")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(serde_json::Map::new());
            }
            if let Some(map) = entry.as_object_mut() {
                for (k, v) in labels {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
    }
    body
}

fn api(client: &Client, mapping: &Mapping, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &mapping.resource),
        None => Api::all_with(client.clone(), &mapping.resource),
    }
}

/// name → resourceVersion of the objects of a resource in a namespace
/// (those `selector` selects, when given).
async fn list_versions(
    api: &Api<DynamicObject>,
    selector: Option<&str>,
) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut lp = ListParams::default().limit(500);
    if let Some(selector) = selector {
        lp = lp.labels(selector);
    }
    loop {
        let page = api.list_metadata(&lp).await.ok()?;
        for item in &page.items {
            if let (Some(name), Some(rv)) = (&item.metadata.name, &item.metadata.resource_version) {
                out.insert(name.clone(), rv.clone());
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => return Some(out),
        }
    }
}

/// What is known of an object before its apply.
enum Before {
    /// Read in bulk: its version, or None when absent.
    Listed(Option<String>),
    /// Read it when applying.
    Unknown,
}

/// What the API server answered to an apply.
struct Applied {
    /// `201 Created`: the apply created the object.
    created: bool,
    /// The object's `resourceVersion` after the apply.
    version: Option<String>,
}

/// The part of the answer read: only the version (the rest of the object
/// is not parsed).
#[derive(serde::Deserialize)]
struct Head {
    #[serde(default)]
    metadata: HeadMeta,
}

#[derive(serde::Deserialize, Default)]
struct HeadMeta {
    #[serde(rename = "resourceVersion")]
    resource_version: Option<String>,
}

/// A server-side apply PATCH whose status code is kept (kube's
/// `Api::patch` answers the object only, and 200 and 201 alike).
async fn server_side_apply(
    client: &Client,
    api: &Api<DynamicObject>,
    name: &str,
    params: &PatchParams,
    body: &Value,
) -> kube::Result<Applied> {
    use http_body_util::BodyExt as _;
    let request = kube::core::Request::new(api.resource_url())
        .patch(name, params, &Patch::Apply(body))
        .map_err(kube::Error::BuildRequest)?;
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let failure = serde_json::from_slice::<kube::core::Status>(&bytes).unwrap_or_else(|_| {
            kube::core::Status::failure(&text, status.canonical_reason().unwrap_or_default())
                .with_code(status.as_u16())
        });
        return Err(kube::Error::Api(failure.boxed()));
    }
    let head: Head = serde_json::from_slice(&bytes).map_err(kube::Error::SerdeError)?;
    Ok(Applied {
        created: status == http::StatusCode::CREATED,
        version: head.metadata.resource_version,
    })
}

async fn apply_one(
    client: &Client,
    params: &PatchParams,
    p: Prepared,
    before: Before,
    stage: Stage,
) -> (usize, ObjectOutcome) {
    let started = Instant::now();
    let api = api(client, &p.mapping, p.object.id.namespace.as_deref());
    let name = p.object.id.name.clone();
    let before = match before {
        Before::Listed(rv) => Ok(rv),
        Before::Unknown => api
            .get_metadata_opt(&name)
            .await
            .map(|o| o.and_then(|m| m.metadata.resource_version)),
    };
    let result = match before {
        Err(e) => Err(e),
        Ok(before) => server_side_apply(client, &api, &name, params, &p.body)
            .await
            .map(|after| match (after.created, before, after.version) {
                (true, _, _) => Action::Created,
                (false, Some(b), Some(a)) if a == b => Action::Unchanged,
                _ => Action::Configured,
            }),
    };
    let action = result.unwrap_or_else(|e| {
        Action::Failed(ObjectError {
            id: p.object.id.clone(),
            origin: p.origin.clone(),
            failure: Failure::from_kube(&e),
        })
    });
    (
        p.index,
        ObjectOutcome {
            object: p.object,
            origin: p.origin,
            stage: Some(stage),
            action,
            took: started.elapsed(),
        },
    )
}

/// Applies `items` with at most `concurrency` requests in flight; outcomes
/// come back in the order of `items`.
pub async fn apply_stage(
    client: &Client,
    params: &PatchParams,
    stage: Stage,
    items: Vec<Prepared>,
    concurrency: usize,
    labels: &BTreeMap<String, String>,
) -> Vec<ObjectOutcome> {
    let concurrency = concurrency.max(1);
    let selector: Option<String> = (!labels.is_empty()).then(|| {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    let selector = selector.as_deref();
    // Which (resource, namespace) groups are worth one list.
    let mut groups: BTreeMap<(String, Option<String>), (Mapping, usize)> = BTreeMap::new();
    for p in &items {
        let key = (
            p.mapping.resource.api_version.clone() + "/" + &p.mapping.resource.plural,
            p.object.id.namespace.clone(),
        );
        groups
            .entry(key)
            .or_insert_with(|| (p.mapping.clone(), 0))
            .1 += 1;
    }
    let listed: HashMap<(String, Option<String>), HashMap<String, String>> =
        futures::stream::iter(groups.into_iter().filter(|(_, (_, n))| *n > LIST_THRESHOLD))
            .map(|(key, (mapping, _))| async move {
                let versions =
                    list_versions(&api(client, &mapping, key.1.as_deref()), selector).await;
                (key, versions)
            })
            .buffer_unordered(concurrency)
            .filter_map(|(k, v)| async move { v.map(|v| (k, v)) })
            .collect()
            .await;
    let order: Vec<usize> = items.iter().map(|p| p.index).collect();
    let mut done: HashMap<usize, ObjectOutcome> =
        futures::stream::iter(items.into_iter().map(|p| {
            let key = (
                p.mapping.resource.api_version.clone() + "/" + &p.mapping.resource.plural,
                p.object.id.namespace.clone(),
            );
            let before = match listed.get(&key) {
                Some(versions) => Before::Listed(versions.get(&p.object.id.name).cloned()),
                None => Before::Unknown,
            };
            apply_one(client, params, p, before, stage)
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    order.iter().filter_map(|i| done.remove(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_drop_server_fields_and_set_namespace_and_labels() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "old", "resourceVersion": "12", "uid": "u", "labels": {"a": "1"}},
            "data": {"k": "v"}});
        let labels = BTreeMap::from([("owner".to_owned(), "me".to_owned())]);
        let b = body(&obj, Some("new"), &labels);
        assert_eq!(
            b["metadata"],
            json!({"name": "c", "namespace": "new", "labels": {"a": "1", "owner": "me"}})
        );
        assert_eq!(b["data"], obj["data"]);
        let cluster = body(&obj, None, &BTreeMap::new());
        assert!(cluster["metadata"].get("namespace").is_none());
    }
}
