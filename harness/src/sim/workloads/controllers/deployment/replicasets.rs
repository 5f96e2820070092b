//! The Deployment's ReplicaSets: finding them, creating the one of a new
//! template, setting sizes and revisions, pruning old ones.

use crate::sim::recorder::{About, EventType};
use std::sync::Arc;

use serde_json::{Value, json};

use super::super::agenda::Ctl;
use super::super::engine::Engine;
use super::super::pods;
use super::super::replicaset::{self, KCM};
use super::{HASH_LABEL, REVISION, gvr, revision, rollout, template_hash};
use crate::sim::storage::store::{DeleteOptions, WriteOptions};

/// The ReplicaSets the Deployment controls, oldest first.
pub(super) fn owned_replicasets(e: &Engine, uid: &str) -> Vec<Arc<Value>> {
    let mut out: Vec<Arc<Value>> = e
        .store
        .dependents(uid)
        .into_iter()
        .filter(|r| r.gvr.group == "apps" && r.gvr.resource == "replicasets")
        .filter_map(|r| e.store.get(&r).ok())
        .filter(|rs| pods::controlled_by(rs, uid) && !pods::deleting(rs))
        .collect();
    out.sort_by(|a, b| {
        let k = |r: &Value| {
            (
                pods::str_at(r, "/metadata/creationTimestamp").to_owned(),
                pods::name(r).to_owned(),
            )
        };
        k(a).cmp(&k(b))
    });
    out
}

pub(super) fn create_rs(
    e: &mut Engine,
    d: &Value,
    template: &Value,
    replicas: i64,
    rev: i64,
) -> Option<Arc<Value>> {
    let ns = pods::namespace(d).to_owned();
    let collisions = pods::int_at(d, "/status/collisionCount");
    let hash = template_hash(template, collisions);
    let mut tpl = template.clone();
    pods::ensure_object(&mut tpl);
    if !tpl.get("metadata").is_some_and(Value::is_object) {
        tpl["metadata"] = json!({});
    }
    if !tpl["metadata"].get("labels").is_some_and(Value::is_object) {
        tpl["metadata"]["labels"] = json!({});
    }
    tpl["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = d
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or_else(|| json!({}));
    pods::ensure_object(&mut selector);
    if !selector.get("matchLabels").is_some_and(Value::is_object) {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let (surge, _) = rollout::fenceposts(d, pods::int_at(d, "/spec/replicas").unwrap_or(1));
    let desired = pods::int_at(d, "/spec/replicas").unwrap_or(1);
    let mut rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", pods::name(d)), "namespace": ns,
            "labels": tpl["metadata"]["labels"].clone(),
            "annotations": {
                REVISION: rev.to_string(),
                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + surge).to_string(),
            },
            "ownerReferences": [pods::owner_ref(d, "apps/v1", "Deployment")],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": tpl},
    });
    if let Some(m) = d.pointer("/spec/minReadySeconds") {
        rs["spec"]["minReadySeconds"] = m.clone();
    }
    match e.store.create(
        &replicaset::gvr(),
        Some(&ns),
        rs,
        &WriteOptions::manager(KCM),
    ) {
        Ok(rs) => {
            if replicas > 0 {
                scaling_event(e, d, pods::name(&rs), 0, replicas);
            }
            Some(rs)
        }
        Err(err) => {
            // A name taken by another template: count the collision, as
            // upstream does, and try another hash next time.
            tracing::debug!(deployment = pods::name(d), error = %err, "sim: could not create ReplicaSet");
            if err.is_conflict() || err.to_string().contains("already exists") {
                let key = pods::key_of(d);
                let _ = e.store.mutate(
                    &pods::ref_of(gvr(), &key),
                    true,
                    &WriteOptions::manager(KCM),
                    |o| {
                        let c = pods::int_at(o, "/status/collisionCount").unwrap_or(0) + 1;
                        if !o.get("status").is_some_and(Value::is_object) {
                            o["status"] = json!({});
                        }
                        o["status"]["collisionCount"] = json!(c);
                        Ok(())
                    },
                );
                e.enqueue(Ctl::Deployment, &key);
            }
            None
        }
    }
}

pub(super) fn annotate_revision(e: &mut Engine, rs: &Value, rev: i64) {
    let r = pods::ref_of(replicaset::gvr(), &pods::key_of(rs));
    let _ = e.store.mutate(&r, false, &WriteOptions::manager(KCM), |o| {
        if !o["metadata"]
            .get("annotations")
            .is_some_and(Value::is_object)
        {
            o["metadata"]["annotations"] = json!({});
        }
        o["metadata"]["annotations"][REVISION] = json!(rev.to_string());
        Ok(())
    });
}

pub(super) fn set_deployment_revision(e: &mut Engine, key: &str, d: &Value, rev: i64) {
    if rev <= 0 || revision(d) == rev {
        return;
    }
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        false,
        &WriteOptions::manager(KCM),
        |o| {
            if !o["metadata"]
                .get("annotations")
                .is_some_and(Value::is_object)
            {
                o["metadata"]["annotations"] = json!({});
            }
            o["metadata"]["annotations"][REVISION] = json!(rev.to_string());
            Ok(())
        },
    );
}

/// Sets a ReplicaSet's size (and the Deployment's size annotations).
pub(super) fn resize(e: &mut Engine, d: &Value, rs_key: &str, size: i64) {
    let desired = pods::int_at(d, "/spec/replicas").unwrap_or(1);
    let (surge, _) = rollout::fenceposts(d, desired);
    let r = pods::ref_of(replicaset::gvr(), rs_key);
    let mut was = None;
    let _ = e.store.mutate(&r, false, &WriteOptions::manager(KCM), |o| {
        pods::ensure_object(&mut o["spec"]);
        was = Some(pods::int_at(o, "/spec/replicas").unwrap_or(1));
        o["spec"]["replicas"] = json!(size);
        if !o["metadata"]
            .get("annotations")
            .is_some_and(Value::is_object)
        {
            o["metadata"]["annotations"] = json!({});
        }
        o["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
            json!(desired.to_string());
        o["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] =
            json!((desired + surge).to_string());
        Ok(())
    });
    if let Some(was) = was.filter(|w| *w != size) {
        scaling_event(e, d, rs_key.rsplit('/').next().unwrap_or(rs_key), was, size);
    }
}

/// The deployment controller's `ScalingReplicaSet` Event.
pub(super) fn scaling_event(e: &Engine, d: &Value, rs: &str, from: i64, to: i64) {
    let dir = if to > from { "up" } else { "down" };
    e.events.deployment.record(
        About::object(d),
        EventType::Normal,
        "ScalingReplicaSet",
        &format!("Scaled {dir} replica set {rs} from {from} to {to}"),
    );
}

/// Deletes old, empty ReplicaSets beyond `revisionHistoryLimit` once the
/// rollout is complete.
pub(super) fn cleanup_history(e: &mut Engine, d: &Value, new: Option<&Value>, all: &[Arc<Value>]) {
    let limit = pods::int_at(d, "/spec/revisionHistoryLimit")
        .unwrap_or(10)
        .max(0);
    let new_name = new.map(pods::name);
    let mut old: Vec<&Arc<Value>> = all
        .iter()
        .filter(|r| Some(pods::name(r)) != new_name)
        .collect();
    let excess = i64::try_from(old.len()).unwrap_or(0) - limit;
    if excess <= 0 {
        return;
    }
    old.sort_by_key(|r| revision(r));
    for rs in old.into_iter().take(usize::try_from(excess).unwrap_or(0)) {
        let empty = pods::int_at(rs, "/spec/replicas").unwrap_or(1) == 0
            && pods::int_at(rs, "/status/replicas").unwrap_or(0) == 0;
        if empty {
            let r = pods::ref_of(replicaset::gvr(), &pods::key_of(rs));
            let _ = e.store.delete(&r, &DeleteOptions::default());
        }
    }
}
