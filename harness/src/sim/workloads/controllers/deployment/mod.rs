//! The Deployment controller: a ReplicaSet per pod template, named
//! `<deployment>-<pod-template-hash>`, carrying the
//! `deployment.kubernetes.io/revision` annotation (also set on the
//! Deployment); rolling updates bounded by `maxSurge`/`maxUnavailable`
//! (default 25 % each) that scale old ReplicaSets down only as the new one's
//! pods become available (see [`rollout`]), or Recreate; old ReplicaSets
//! beyond `revisionHistoryLimit` (default 10) deleted once complete; status
//! and conditions as [`status`] describes. `spec.paused` stops scaling.

mod replicasets;
pub(crate) mod rollout;
mod status;

use std::sync::Arc;

use serde_json::{Value, json};

use self::replicasets::{
    annotate_revision, cleanup_history, create_rs, owned_replicasets, resize,
    set_deployment_revision,
};
use self::rollout::RsSize;
use super::agenda::Ctl;
use super::engine::Engine;
use super::pods;
use super::replicaset::{self, KCM};
use crate::sim::storage::store::{Gvr, WriteOptions};
use crate::sim::workloads::jitter::fnv32a;

/// Annotation with the rollout revision.
pub(crate) const REVISION: &str = "deployment.kubernetes.io/revision";
/// Label every ReplicaSet and pod of a Deployment carries.
pub(crate) const HASH_LABEL: &str = "pod-template-hash";

/// The Deployment resource.
pub(crate) fn gvr() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}

/// JSON with object keys sorted, for hashing.
pub(crate) fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// The pod-template hash as Kubernetes renders it: FNV-32a of the template
/// (and the collision count), printed in decimal and mapped through the
/// generated-name alphabet.
pub(crate) fn template_hash(template: &Value, collisions: Option<i64>) -> String {
    let mut text = canonical(template);
    if let Some(c) = collisions {
        text.push_str(&c.to_string());
    }
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    fnv32a(text.as_bytes())
        .to_string()
        .bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// A template as compared between a Deployment and its ReplicaSets: without
/// the hash label, and without `labels`/`metadata` left empty.
fn without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(l) = m.get_mut("labels").and_then(Value::as_object_mut) {
            l.remove(HASH_LABEL);
        }
        if m.get("labels")
            .is_some_and(|l| l.as_object().is_some_and(|l| l.is_empty()))
        {
            m.remove("labels");
        }
    }
    if let Some(o) = t.as_object_mut()
        && o.get("metadata")
            .is_some_and(|m| m.as_object().is_some_and(|m| m.is_empty()))
    {
        o.remove("metadata");
    }
    t
}

fn revision(rs: &Value) -> i64 {
    rs.pointer(&format!(
        "/metadata/annotations/{}",
        REVISION.replace('/', "~1")
    ))
    .and_then(Value::as_str)
    .and_then(|s| s.parse().ok())
    .unwrap_or(0)
}

/// Reconciles one Deployment.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(d) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&d) {
        return;
    }
    // The API server would have refused these; nothing sensible to do.
    if !d.pointer("/spec/template").is_some_and(Value::is_object)
        || !d.pointer("/spec/selector").is_some_and(Value::is_object)
    {
        return;
    }
    let desired = pods::int_at(&d, "/spec/replicas").unwrap_or(1).max(0);
    let template = d
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut all = owned_replicasets(e, pods::uid(&d));
    let new_idx = all.iter().position(|rs| {
        rs.pointer("/spec/template").map(without_hash) == Some(without_hash(&template))
    });
    let max_old_rev = all
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, rs)| revision(rs))
        .max()
        .unwrap_or(0);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let mut progress: Option<(&str, String)> = None;
    let new_rs: Option<Arc<Value>> = match new_idx {
        Some(i) => {
            let rs = all[i].clone();
            if revision(&rs) <= max_old_rev {
                annotate_revision(e, &rs, max_old_rev + 1);
            }
            if d.pointer("/status/conditions").is_none() {
                progress = Some((
                    status::FOUND_NEW_RS,
                    format!("Found new replica set \"{}\"", pods::name(&rs)),
                ));
            }
            Some(rs)
        }
        None if paused => None,
        None => {
            let all_spec: i64 = all.iter().map(|r| RsSize::of(r).spec).sum();
            let size = rollout::new_rs_replicas(&d, desired, 0, all_spec);
            match create_rs(e, &d, &template, size, max_old_rev + 1) {
                Some(rs) => {
                    progress = Some((
                        status::NEW_RS_CREATED,
                        format!("Created new replica set \"{}\"", pods::name(&rs)),
                    ));
                    all.push(rs.clone());
                    Some(rs)
                }
                None => None,
            }
        }
    };
    let new_rev = new_rs
        .as_ref()
        .map_or(max_old_rev, |r| revision(r).max(max_old_rev + 1));
    set_deployment_revision(e, key, &d, new_rev);
    if !paused {
        scale(e, &d, desired, new_rs.as_deref(), &mut all);
    }
    cleanup_history(e, &d, new_rs.as_deref(), &all);
    // Status from the ReplicaSets as they are now.
    let fresh: Vec<Arc<Value>> = all
        .iter()
        .filter_map(|r| {
            e.store
                .get(&pods::ref_of(replicaset::gvr(), &pods::key_of(r)))
                .ok()
        })
        .collect();
    let refs: Vec<&Value> = fresh.iter().map(|r| &**r).collect();
    let new_fresh = new_rs
        .as_ref()
        .and_then(|n| fresh.iter().find(|r| pods::name(r) == pods::name(n)))
        .map(|r| &**r);
    let counts = status::Counts::of(&refs, new_fresh);
    let now_text = e.store.now_rfc3339();
    let mut d_now = (*d).clone();
    if let Some((reason, message)) = progress
        && status::deadline(&d).is_some()
    {
        let mut conds: Vec<Value> = d_now
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        status::set(
            &mut conds,
            status::condition("Progressing", "True", reason, &message, &now_text),
        );
        if !d_now.get("status").is_some_and(Value::is_object) {
            d_now["status"] = json!({});
        }
        d_now["status"]["conditions"] = json!(conds);
    }
    let (st, requeue) = status::compute(
        &d_now,
        counts,
        new_rs.as_ref().map(|r| pods::name(r)),
        e.now(),
        &now_text,
    );
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            o["status"] = st;
            Ok(())
        },
    );
    if let Some(at) = requeue {
        e.requeue_at(Ctl::Deployment, key, at);
    }
}

/// One step of the rollout: grow the new ReplicaSet, else shrink old ones.
fn scale(e: &mut Engine, d: &Value, desired: i64, new: Option<&Value>, all: &mut [Arc<Value>]) {
    let new_key = new.map(pods::key_of);
    let old: Vec<RsSize> = all
        .iter()
        .filter(|r| Some(pods::key_of(r)) != new_key)
        .map(|r| RsSize::of(r))
        .collect();
    let new_size = new.map(RsSize::of);
    if rollout::is_recreate(d) {
        let active_old: Vec<&RsSize> = old.iter().filter(|s| s.spec > 0).collect();
        if !active_old.is_empty() {
            for s in active_old {
                resize(e, d, &s.key, 0);
            }
            return;
        }
        let old_pods_running = all
            .iter()
            .filter(|r| Some(pods::key_of(r)) != new_key)
            .any(|r| pods::int_at(r, "/status/replicas").unwrap_or(0) > 0);
        if !old_pods_running
            && let Some(n) = &new_size
            && n.spec != desired
        {
            resize(e, d, &n.key, desired);
        }
        return;
    }
    if let Some(n) = &new_size {
        let all_spec: i64 = old.iter().map(|s| s.spec).sum::<i64>() + n.spec;
        let target = if n.spec > desired {
            desired
        } else {
            rollout::new_rs_replicas(d, desired, n.spec, all_spec)
        };
        if target != n.spec {
            resize(e, d, &n.key, target);
            if target > n.spec {
                return;
            }
        }
    }
    for (key, size) in rollout::scale_down_old(d, desired, new_size.as_ref(), &old) {
        resize(e, d, &key, size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_is_stable_and_key_order_free() {
        let a = json!({"metadata": {"labels": {"app": "web", "tier": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        let b = json!({"spec": {"containers": [{"image": "nginx", "name": "c"}]}, "metadata": {"labels": {"tier": "x", "app": "web"}}});
        assert_eq!(template_hash(&a, None), template_hash(&b, None));
        assert_ne!(template_hash(&a, None), template_hash(&a, Some(1)));
        let h = template_hash(&a, None);
        assert!(
            h.len() >= 8
                && h.bytes()
                    .all(|c| b"bcdfghjklmnpqrstvwxz2456789".contains(&c)),
            "{h}"
        );
    }

    #[test]
    fn the_hash_label_is_ignored_when_comparing_templates() {
        let t = json!({"metadata": {"labels": {"app": "web", HASH_LABEL: "abc"}}});
        assert_eq!(
            without_hash(&t),
            json!({"metadata": {"labels": {"app": "web"}}})
        );
        let only = json!({"metadata": {"labels": {HASH_LABEL: "abc"}}, "spec": {}});
        assert_eq!(without_hash(&only), json!({"spec": {}}));
        assert_eq!(
            without_hash(&json!({"metadata": {"labels": {}}, "spec": {}})),
            json!({"spec": {}})
        );
    }
}
