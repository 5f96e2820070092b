//! Pruning: deleting the objects of an older inventory that a newer apply
//! no longer has, as Flux's garbage collection does.
//!
//! An object is left in place when it carries the label or annotation
//! `kustomize.toolkit.fluxcd.io/prune: disabled`, or when the applier sets
//! owner labels and the live object lacks them (it was taken over by
//! someone else). Deletion runs in reverse apply order: namespaced objects,
//! then cluster-scoped ones, then Namespaces and CRDs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject};

use super::discovery::{Mapping, ResourceCache};
use super::error::{Failure, ObjectError};
use super::inventory::Inventory;
use super::object::{ObjectId, Versioned};
use super::order::{Stage, sort_key, stage_of};
use super::outcome::{PruneReport, Skip};

/// The label or annotation that exempts an object from pruning.
pub const PRUNE_KEY: &str = "kustomize.toolkit.fluxcd.io/prune";
/// Its value that does.
pub const PRUNE_DISABLED: &str = "disabled";

fn prune_disabled(meta: &kube::api::ObjectMeta) -> bool {
    let is_disabled = |m: &Option<BTreeMap<String, String>>| {
        m.as_ref()
            .and_then(|m| m.get(PRUNE_KEY))
            .is_some_and(|v| v == PRUNE_DISABLED)
    };
    is_disabled(&meta.labels) || is_disabled(&meta.annotations)
}

fn owned(meta: &kube::api::ObjectMeta, owner: &BTreeMap<String, String>) -> bool {
    owner.iter().all(|(k, v)| {
        meta.labels
            .as_ref()
            .and_then(|l| l.get(k))
            .is_some_and(|have| have == v)
    })
}

enum Verdict {
    Deleted(ObjectId),
    Skipped(ObjectId, Skip),
    Failed(ObjectError),
}

async fn prune_one(
    client: &Client,
    v: Versioned,
    mapping: Mapping,
    owner: &BTreeMap<String, String>,
) -> Verdict {
    let api: Api<DynamicObject> = match &v.id.namespace {
        Some(ns) if mapping.namespaced => {
            Api::namespaced_with(client.clone(), ns, &mapping.resource)
        }
        _ => Api::all_with(client.clone(), &mapping.resource),
    };
    let fail = |e: &kube::Error| {
        Verdict::Failed(ObjectError {
            id: v.id.clone(),
            origin: None,
            failure: Failure::from_kube(e),
        })
    };
    let live = match api.get_metadata_opt(&v.id.name).await {
        Ok(Some(m)) => m,
        Ok(None) => return Verdict::Skipped(v.id.clone(), Skip::Gone),
        Err(e) => return fail(&e),
    };
    if prune_disabled(&live.metadata) {
        return Verdict::Skipped(v.id.clone(), Skip::PruneDisabled);
    }
    if !owned(&live.metadata, owner) {
        return Verdict::Skipped(v.id.clone(), Skip::NotOwned);
    }
    match api.delete(&v.id.name, &DeleteParams::background()).await {
        Ok(_) => Verdict::Deleted(v.id.clone()),
        Err(kube::Error::Api(s)) if s.code == 404 => Verdict::Skipped(v.id.clone(), Skip::Gone),
        Err(e) => fail(&e),
    }
}

/// Deletes the objects of `stale` (see the module docs).
pub async fn prune(
    client: &Client,
    cache: &ResourceCache,
    stale: &Inventory,
    owner: &BTreeMap<String, String>,
    concurrency: usize,
) -> PruneReport {
    let started = Instant::now();
    let mut report = PruneReport::default();
    let mut objects = Vec::new();
    for entry in &stale.entries {
        match entry.object() {
            Ok(v) => objects.push(v),
            Err(problem) => report.failed.push(ObjectError {
                id: ObjectId::cluster("", "<unknown>", &entry.id),
                origin: None,
                failure: Failure::InvalidManifest(problem),
            }),
        }
    }
    let wanted: BTreeSet<(String, String)> = objects
        .iter()
        .map(|v| (v.api_version(), v.id.kind.clone()))
        .collect();
    let mappings = cache.resolve_all(client, &wanted).await;
    let mut by_stage: BTreeMap<Stage, Vec<(Versioned, Mapping)>> = BTreeMap::new();
    for v in objects {
        match mappings.get(&(v.api_version(), v.id.kind.clone())) {
            Some(Ok(m)) => {
                by_stage
                    .entry(stage_of(&v.id, m.namespaced))
                    .or_default()
                    .push((v, m.clone()));
            }
            // The kind is no longer served: its objects went with its CRD.
            Some(Err(Failure::UnknownKind { .. })) | None => {
                report.skipped.push((v.id, Skip::Gone));
            }
            Some(Err(f)) => report.failed.push(ObjectError {
                id: v.id,
                origin: None,
                failure: f.clone(),
            }),
        }
    }
    for (_, mut items) in by_stage.into_iter().rev() {
        items.sort_by(|a, b| sort_key(&b.0.id).cmp(&sort_key(&a.0.id)));
        let verdicts: Vec<Verdict> = futures::stream::iter(
            items
                .into_iter()
                .map(|(v, m)| prune_one(client, v, m, owner)),
        )
        .buffered(concurrency.max(1))
        .collect()
        .await;
        for v in verdicts {
            match v {
                Verdict::Deleted(id) => report.deleted.push(id),
                Verdict::Skipped(id, why) => report.skipped.push((id, why)),
                Verdict::Failed(e) => report.failed.push(e),
            }
        }
    }
    report.took = started.elapsed();
    report
}
