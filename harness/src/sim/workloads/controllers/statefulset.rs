//! The StatefulSet controller: pods `<name>-0` … `<name>-(n-1)` with stable
//! hostnames. With the default `OrderedReady` policy each pod is created
//! only once every lower ordinal is Running and Ready, and scale-down
//! removes the highest ordinal first, one at a time; `Parallel` creates and
//! deletes at once. A template change rolls pods from the highest ordinal
//! down (above `partition`), one at a time, each replacement Ready before
//! the next; `OnDelete` leaves that to the user. A PersistentVolumeClaim
//! `<claim>-<pod>` is created (and reported `Bound`) per
//! `volumeClaimTemplates` entry and kept when pods go. Revisions are named
//! `<name>-<template hash>` (no ControllerRevision objects are written).

use crate::sim::recorder::{About, EventType};
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::agenda::Ctl;
use super::deployment::template_hash;
use super::engine::Engine;
use super::pods;
use super::replicaset::{self, BURST, KCM, owned_pods, strip_zeros};
use crate::sim::storage::store::{DeleteOptions, Gvr, WriteOptions};

/// Label with the pod's revision.
pub(crate) const REVISION_LABEL: &str = "controller-revision-hash";

fn gvr() -> Gvr {
    Gvr::new("apps", "v1", "statefulsets")
}

fn ordinal(sts: &str, pod: &str) -> Option<i64> {
    pod.strip_prefix(sts)?.strip_prefix('-')?.parse().ok()
}

fn running_and_ready(p: &Value) -> bool {
    pods::str_at(p, "/status/phase") == "Running" && pods::is_ready(p)
}

/// Reconciles one StatefulSet.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(sts) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&sts) || !sts.pointer("/spec/template").is_some_and(Value::is_object) {
        return;
    }
    let name = pods::name(&sts).to_owned();
    let replicas = pods::int_at(&sts, "/spec/replicas").unwrap_or(1).max(0);
    let parallel = pods::str_at(&sts, "/spec/podManagementPolicy") == "Parallel";
    let on_delete = pods::str_at(&sts, "/spec/updateStrategy/type") == "OnDelete";
    let partition = pods::int_at(&sts, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    let template = sts
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let update_rev = format!("{name}-{}", template_hash(&template, None));
    let current_rev = match pods::str_at(&sts, "/status/currentRevision") {
        "" => update_rev.clone(),
        r => r.to_owned(),
    };
    let mut by_ordinal: BTreeMap<i64, Arc<Value>> = owned_pods(e, pods::uid(&sts))
        .into_iter()
        .filter_map(|p| ordinal(&name, pods::name(&p)).map(|o| (o, p)))
        .collect();
    // Failed or succeeded pods are replaced.
    for (o, p) in by_ordinal.clone() {
        if pods::is_terminal(&p) {
            delete_pod(e, &sts, &p);
            by_ordinal.remove(&o);
        }
    }
    // OrderedReady: stop at the first pod missing or not yet Running and
    // Ready. Parallel: create every missing pod (a burst at a time).
    let mut created = 0;
    for o in 0..replicas {
        match by_ordinal.get(&o) {
            None => {
                if created == BURST {
                    e.enqueue(Ctl::StatefulSet, key);
                    break;
                }
                let rev = if o >= partition {
                    &update_rev
                } else {
                    &current_rev
                };
                if let Some(p) = create_pod(e, &sts, &template, o, rev) {
                    by_ordinal.insert(o, p);
                }
                created += 1;
                if !parallel {
                    break;
                }
            }
            Some(p) if !parallel && (!running_and_ready(p) || pods::deleting(p)) => break,
            Some(_) => {}
        }
    }
    let all_ready = (0..replicas).all(|o| by_ordinal.get(&o).is_some_and(|p| running_and_ready(p)));
    // Scale down: highest ordinal first.
    let excess: Vec<i64> = by_ordinal
        .keys()
        .copied()
        .filter(|o| *o >= replicas)
        .rev()
        .collect();
    if !excess.is_empty() && (parallel || all_ready) {
        let take = if parallel { excess.len() } else { 1 };
        for o in excess.into_iter().take(take) {
            if let Some(p) = by_ordinal.remove(&o) {
                delete_pod(e, &sts, &p);
            }
        }
    } else if excess.is_empty() && all_ready && !on_delete {
        // Rolling update: the highest outdated ordinal at or above the partition.
        let outdated = (partition.max(0)..replicas).rev().find(|o| {
            by_ordinal.get(o).is_some_and(|p| {
                pods::str_at(p, &format!("/metadata/labels/{REVISION_LABEL}")) != update_rev
            })
        });
        if let Some(o) = outdated
            && let Some(p) = by_ordinal.remove(&o)
        {
            delete_pod(e, &sts, &p);
        }
    }
    write_status(
        e,
        key,
        &sts,
        &by_ordinal,
        &current_rev,
        &update_rev,
        replicas,
    );
}

fn delete_pod(e: &mut Engine, sts: &Value, p: &Value) {
    let r = pods::ref_of(pods::gvr(), &pods::key_of(p));
    let (reason, result) = match e.store.delete(&r, &DeleteOptions::default()) {
        Ok(_) => ("SuccessfulDelete", "successful".to_owned()),
        Err(err) => ("FailedDelete", format!("failed error: {}", err.message)),
    };
    e.events.statefulset.record(
        About::object(sts),
        if reason == "FailedDelete" {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason,
        &format!(
            "delete Pod {} in StatefulSet {} {result}",
            pods::name(p),
            pods::name(sts)
        ),
    );
}

fn create_pod(
    e: &mut Engine,
    sts: &Value,
    template: &Value,
    o: i64,
    rev: &str,
) -> Option<Arc<Value>> {
    let name = pods::name(sts);
    let ns = pods::namespace(sts);
    let pod_name = format!("{name}-{o}");
    let index = o.to_string();
    let mut pod = pods::from_template(
        template,
        ns,
        &pod_name,
        pods::owner_ref(sts, "apps/v1", "StatefulSet"),
        &[
            (REVISION_LABEL, rev),
            ("statefulset.kubernetes.io/pod-name", &pod_name),
            ("apps.kubernetes.io/pod-index", &index),
        ],
        replicaset::toleration_secs(e),
    );
    pod["spec"]["hostname"] = json!(pod_name);
    if let Some(svc) = sts
        .pointer("/spec/serviceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        pod["spec"]["subdomain"] = json!(svc);
    }
    for claim in sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let claim_name = pods::name(claim);
        let pvc_name = format!("{claim_name}-{pod_name}");
        ensure_pvc(e, ns, &pvc_name, claim, sts);
        let volumes = pod["spec"]
            .as_object_mut()
            .map(|m| m.entry("volumes").or_insert_with(|| json!([])));
        if let Some(Value::Array(v)) = volumes
            && !v.iter().any(|x| pods::str_at(x, "/name") == claim_name)
        {
            v.push(json!({"name": claim_name, "persistentVolumeClaim": {"claimName": pvc_name}}));
        }
    }
    match e
        .store
        .create(&pods::gvr(), Some(ns), pod, &WriteOptions::manager(KCM))
    {
        Ok(p) => {
            e.events.statefulset.record(
                About::object(sts),
                EventType::Normal,
                "SuccessfulCreate",
                &format!("create Pod {pod_name} in StatefulSet {name} successful"),
            );
            Some(p)
        }
        Err(err) => {
            tracing::debug!(statefulset = name, error = %err, "sim: could not create pod");
            e.events.statefulset.record(
                About::object(sts),
                EventType::Warning,
                "FailedCreate",
                &format!(
                    "create Pod {pod_name} in StatefulSet {name} failed error: {}",
                    err.message
                ),
            );
            None
        }
    }
}

fn ensure_pvc(e: &mut Engine, ns: &str, name: &str, claim: &Value, sts: &Value) {
    let gvr = Gvr::core("persistentvolumeclaims");
    if e.store
        .get(&pods::ref_of(gvr.clone(), &format!("{ns}/{name}")))
        .is_ok()
    {
        return;
    }
    let mut labels = claim
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    pods::ensure_object(&mut labels);
    if let Some(sel) = sts
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
    {
        for (k, v) in sel {
            labels[k] = v.clone();
        }
    }
    let spec = claim.get("spec").cloned().unwrap_or_else(|| json!({}));
    let body = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec});
    if e.store
        .create(&gvr, Some(ns), body, &WriteOptions::manager(KCM))
        .is_ok()
    {
        let capacity = claim
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or_else(|| json!("1Gi"));
        let modes = claim
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or_else(|| json!(["ReadWriteOnce"]));
        let _ = e.store.mutate(
            &pods::ref_of(gvr, &format!("{ns}/{name}")),
            true,
            &WriteOptions::manager(KCM),
            |o| {
                o["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": capacity}});
                Ok(())
            },
        );
    }
}

fn write_status(
    e: &mut Engine,
    key: &str,
    sts: &Value,
    pods_now: &BTreeMap<i64, Arc<Value>>,
    current_rev: &str,
    update_rev: &str,
    replicas: i64,
) {
    let now = e.now();
    let min_ready = pods::int_at(sts, "/spec/minReadySeconds").unwrap_or(0);
    let active: Vec<&Arc<Value>> = pods_now.values().filter(|p| pods::is_active(p)).collect();
    let rev_of =
        |p: &Value| pods::str_at(p, &format!("/metadata/labels/{REVISION_LABEL}")).to_owned();
    let ready = active.iter().filter(|p| pods::is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| pods::is_available(p, min_ready, now))
        .count();
    let updated = active.iter().filter(|p| rev_of(p) == update_rev).count();
    let mut current = active.iter().filter(|p| rev_of(p) == current_rev).count();
    let mut current_rev = current_rev.to_owned();
    let done = i64::try_from(updated).unwrap_or(0) == replicas
        && i64::try_from(ready).unwrap_or(0) == replicas
        && i64::try_from(active.len()).unwrap_or(0) == replicas;
    if done {
        update_rev.clone_into(&mut current_rev);
        current = updated;
    }
    if let Some(next) = active
        .iter()
        .filter_map(|p| pods::available_at(p, min_ready))
        .filter(|t| *t > now)
        .min()
    {
        e.requeue_at(Ctl::StatefulSet, key, next);
    }
    let status = strip_zeros(
        json!({
            "observedGeneration": pods::int_at(sts, "/metadata/generation").unwrap_or(1),
            "replicas": active.len(), "readyReplicas": ready, "availableReplicas": available,
            "currentReplicas": current, "updatedReplicas": updated,
            "currentRevision": current_rev, "updateRevision": update_rev, "collisionCount": 0,
        }),
        &["readyReplicas", "currentReplicas", "updatedReplicas"],
    );
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            o["status"] = status;
            Ok(())
        },
    );
}
