//! The preparation of a repeat, before anything breaks: the Git source,
//! then provision (with Terraform: infra, then cluster-ready) → bootstrap
//! → steady state → setup → snapshot. It returns what the rest of the
//! pipeline starts from: the [`Target`] to break, the [`Baseline`] of its
//! steady state, and the snapshot recovery is checked against.

use std::collections::BTreeSet;

use super::context::Context;
use super::coverage;
use super::error::{Error, Result};
use super::probe::checks::{self, Baseline};
use super::snapshot::{self, Snapshot};
use super::target::Target;
use crate::cluster::Cluster;
use crate::gitops::bootstrap::Source;
use crate::gitops::by_hand;
use crate::report::tree::PhaseGroup;
use crate::scenario::model::{Check, Phase, Provider, SetupStep};

/// A healthy cluster, ready for the disaster.
#[derive(Debug)]
pub(super) struct Prepared {
    /// What the disaster breaks.
    pub(super) target: Target,
    /// What the cluster had in its steady state.
    pub(super) baseline: Baseline,
    /// The objects before the disaster.
    pub(super) before: Snapshot,
    /// The namespaces the snapshots cover.
    pub(super) namespaces: BTreeSet<String>,
    /// The cluster-scoped objects of the source the snapshots cover.
    pub(super) cluster_objects: BTreeSet<snapshot::ObjectKey>,
}

/// Prepares the repeat (see the module docs).
///
/// # Errors
/// [`Error::NotSteady`] when the cluster does not reach its steady state;
/// others when the source, the provider, the bootstrap or a setup step
/// fails.
pub(super) async fn prepare(cx: &Context) -> Result<Prepared> {
    let s = cx.scenario();
    let t = cx.timeline();
    let clock = cx.clock();
    // The source: a fresh repository from the fixture, a clone, or the
    // artifact pulled (through the mirrors, which only the simulator's
    // Flux reads: on other providers the real registry is the truth).
    let acting = clock.busy();
    let mirrors = if s.cluster.provider == Provider::Sim {
        s.mirrors.clone()
    } else {
        crate::gitops::mirror::Mirrors::default()
    };
    let source = Source::prepare(&s.name, &s.source, cx.dir(), &mirrors).await?;
    drop(acting);
    if s.cluster.provider == Provider::Sim {
        // A retained simulated cluster keeps fetching from it.
        let alive = source.server().keep_alive();
        cx.provider.cleanup.register_in_process(
            format!("Git server {}", source.url()),
            None,
            None,
            Box::new(move || {
                Box::pin(async move {
                    drop(alive);
                    Ok(())
                })
            }),
        );
    }
    let mut target = Target::new(source);

    // A Terraform-made cluster shows its two halves, as its rebuild does:
    // the apply, then the cluster getting ready.
    if s.cluster.provider == Provider::Terraform {
        t.begin(Phase::Infra.name(), PhaseGroup::Preparation, None);
        target.create_cluster(cx).await?;
        t.end();
        t.begin(Phase::ClusterReady.name(), PhaseGroup::Preparation, None);
        target
            .cluster_ready(cx, clock.now(), s.steady_state.timeout)
            .await?;
    } else {
        t.begin(Phase::Provision.name(), PhaseGroup::Preparation, None);
        target
            .provision(cx, clock.now(), s.steady_state.timeout)
            .await?;
    }

    t.begin("bootstrap", PhaseGroup::Preparation, None);
    let ready_at = target.bootstrap(cx).await.map_err(|e| match e {
        // The direct applier could not apply the source: a finding about
        // the repository, not a failure of the cluster.
        Error::Bootstrap(b) if b.is_source_finding() => Error::NeverApplied(b),
        other => other,
    })?;
    t.end_at(ready_at, None);

    t.begin("steady-state", PhaseGroup::Preparation, None);
    let mut healthy = checks::Healthy(target.check_context(cx, None, &BTreeSet::new()));
    let seen = target
        .wait(
            cx,
            &mut healthy,
            "the steady state",
            s.steady_state.timeout,
            clock.now(),
        )
        .await
        .map_err(Error::NotSteady)?;
    let baseline = Baseline::capture(&seen.world, &target.desired());
    t.end_at(seen.at, seen.lag);

    if !s.setup.is_empty() {
        t.begin("setup", PhaseGroup::Preparation, None);
        for step in &s.setup {
            setup_step(cx, target.cluster()?, step).await?;
        }
        t.end();
    }

    t.begin("snapshot", PhaseGroup::Preparation, None);
    // The reactions still running at this instant finish before the
    // snapshot (see verify.rs).
    drop(clock.settle().await);
    let acting = clock.busy();
    let namespaces = watched_namespaces(cx, &target, &baseline);
    let cluster_objects = coverage::cluster_scoped(&baseline.desired);
    let before =
        snapshot::collect_with(&target.cluster()?.client(), &namespaces, &cluster_objects).await?;
    t.operation(&format!(
        "{} objects in {} namespaces",
        before.len(),
        namespaces.len()
    ));
    let source = &target.source;
    let path = source.sync_source().flux_path();
    let rendered =
        coverage::rendered(source.repo().path(), source.path(), target.is_flux()).await?;
    let (covered, judged) = coverage::judge(
        rendered,
        &baseline.desired,
        &before,
        &format!("source path `{path}`"),
    );
    if s.cluster.provider == Provider::Sim && s.cluster.sim.skip_verify {
        let skipped =
            super::preflight::skipped_verifications(source.repo().path(), source.path()).await;
        if !skipped.is_empty() {
            t.operation(&format!(
                "signature verification skipped (spec.cluster.sim.skipVerify), not checked by the simulator: {}",
                skipped.join(", ")
            ));
        }
    }
    drop(acting);
    t.set_coverage(covered);
    t.operation(&covered.describe());
    judged?;
    t.end();
    Ok(Prepared {
        target,
        baseline,
        before,
        namespaces,
        cluster_objects,
    })
}

/// The namespaces snapshots cover: those the desired state lives in, those
/// the setup steps and checks touch, and the GitOps tooling's own.
fn watched_namespaces(cx: &Context, target: &Target, baseline: &Baseline) -> BTreeSet<String> {
    let s = cx.scenario();
    let mut out: BTreeSet<String> = target.source.namespaces().clone();
    for e in &baseline.desired {
        if !e.namespace.is_empty() {
            out.insert(e.namespace.clone());
        } else if e.kind.group.is_empty() && e.kind.kind == "Namespace" {
            out.insert(e.name.clone());
        }
    }
    for c in &s.steady_state.checks {
        match c {
            Check::Workloads(Some(ns)) => out.extend(ns.iter().cloned()),
            Check::Object { object, .. } => out.extend(object.namespace.clone()),
            _ => {}
        }
    }
    for step in &s.setup {
        if let SetupStep::Delete(o) = step {
            out.extend(o.namespace.clone());
        }
    }
    out.extend(setup_namespaces(cx));
    if target.is_flux() {
        out.insert(crate::scenario::capabilities::FLUX_NAMESPACE.to_owned());
    }
    out
}

/// Namespaces of the objects the setup steps apply by hand.
fn setup_namespaces(cx: &Context) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for step in &cx.scenario().setup {
        if let SetupStep::Apply(p) = step {
            for doc in by_hand::manifests::read_manifests(p).unwrap_or_default() {
                if let Some(ns) = doc.pointer("/metadata/namespace").and_then(|v| v.as_str()) {
                    out.insert(ns.to_owned());
                }
            }
        }
    }
    out
}

/// One `setup` step: a change made by hand, the drift Git does not know.
async fn setup_step(cx: &Context, cluster: &Cluster, step: &SetupStep) -> Result<()> {
    let t = cx.timeline();
    match step {
        SetupStep::Apply(path) => {
            let _acting = cx.clock().busy();
            let n = by_hand::apply(cluster.client(), cluster.clock().clone(), path).await?;
            t.operation(&format!(
                "applied {n} object(s) from {} by hand",
                path.display()
            ));
        }
        SetupStep::Delete(o) => {
            let _acting = cx.clock().busy();
            by_hand::delete(cluster.client(), o).await?;
            t.operation(&format!("deleted {o} by hand"));
        }
        SetupStep::Sleep(dur) => {
            drop(cx.clock().sleep(*dur).await);
            t.operation(&format!(
                "slept {}",
                crate::scenario::duration::format_duration(*dur)
            ));
        }
    }
    Ok(())
}
