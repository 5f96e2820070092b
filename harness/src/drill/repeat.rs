//! One repeat of a drill, top to bottom: provision (with Terraform: infra,
//! then cluster-ready) → bootstrap → steady state → setup → snapshot →
//! disaster → recovery phases → snapshot diff.
//! Teardown is the runner's, through the cleanup registry, so it happens on
//! every way out.
//!
//! The harness holds the clock ([`crate::clock::Clock::busy`]) while it
//! *acts* (creating, applying, committing, snapshotting) and releases it while
//! it *waits* (every wait is a watch through the [`Observer`]), so on the
//! simulator simulated time only passes where the cluster makes it pass.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::error::{Error, Result};
use super::gitops::{Source, Tooling};
use super::probe::checks::{self, Baseline, Context as CheckContext};
use super::probe::observer::{Condition, Observed, Observer, WaitOptions};
use super::snapshot;
use super::timeline::Timeline;
use super::{fault, recovery};
use crate::clock::{Clock, duration_between};
use crate::cluster::cleanup::Cleanup;
use crate::cluster::{self, Cluster};
use crate::report::tree::{PhaseGroup, StateDiff, Status};
use crate::scenario::model::{Check, Phase, Provider, Scenario, SetupStep};

/// Everything a repeat starts from.
#[derive(Debug, Clone)]
pub struct RepeatSetup {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// 1-based index.
    pub index: u32,
    /// Seed of this repeat.
    pub seed: u64,
    /// Run id.
    pub run_id: String,
    /// Folder for this repeat's files.
    pub dir: PathBuf,
    /// The repeat's clock.
    pub clock: Clock,
    /// Its timeline (the runner keeps a clone).
    pub timeline: Timeline,
    /// Its cleanup registry (the runner runs it).
    pub cleanup: Cleanup,
    /// The user confirmed destructive faults on clusters gameday does not
    /// own (`--yes`, or the prompt).
    pub confirmed: bool,
}

/// How a repeat ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Passed (objectives judged by the runner), failed, error or aborted.
    pub status: Status,
    /// What stopped it, when something did.
    pub error: Option<String>,
    /// Disaster → steady state restored, ms on the cluster's clock.
    pub recovery_ms: Option<u64>,
    /// The snapshot diff, when recovery got that far.
    pub diff: Option<StateDiff>,
}

impl Outcome {
    /// A repeat that stopped with `error`.
    pub fn errored(status: Status, error: String) -> Outcome {
        Outcome {
            status,
            error: Some(error),
            recovery_ms: None,
            diff: None,
        }
    }
}

/// The state a repeat carries from phase to phase.
pub(super) struct Drill {
    pub(super) setup: RepeatSetup,
    pub(super) cx: cluster::Context,
    /// Rebuilds so far (cluster names get `-<n>`).
    pub(super) generation: u32,
    pub(super) cluster: Option<Cluster>,
    pub(super) source: Source,
    pub(super) tooling: Option<Tooling>,
    /// What the cluster had when healthy.
    pub(super) baseline: Option<Baseline>,
    /// The revision the cluster must run (changes with bad-commit and revert).
    pub(super) revision: String,
    /// The bad commit's revision, for git-revert.
    pub(super) bad_commit: Option<String>,
    /// Nodes the disaster stopped.
    pub(super) lost_nodes: BTreeSet<String>,
    /// Terraform objects whose infrastructure the disaster changed.
    pub(super) drifted: Vec<super::probe::infra::Drifted>,
}

impl Drill {
    pub(super) fn scenario(&self) -> &Scenario {
        &self.setup.scenario
    }

    pub(super) fn timeline(&self) -> &Timeline {
        &self.setup.timeline
    }

    pub(super) fn clock(&self) -> &Clock {
        &self.setup.clock
    }

    pub(super) fn cluster(&self) -> Result<&Cluster> {
        self.cluster
            .as_ref()
            .ok_or(Error::Bootstrap("the cluster is gone".into()))
    }

    pub(super) fn observer(&self) -> Result<Observer> {
        let c = self.cluster()?;
        Ok(Observer::new(c.client(), c.time_source()))
    }

    /// The inputs of the steady-state conditions now.
    pub(super) fn check_context(&self) -> CheckContext {
        CheckContext {
            checks: self.scenario().steady_state.checks.clone(),
            revision: Some(self.revision.clone()),
            source_namespaces: self.source.namespaces().clone(),
            desired: self
                .tooling
                .as_ref()
                .map(Tooling::desired)
                .unwrap_or_default(),
            baseline: self.baseline.clone(),
            lost_nodes: self.lost_nodes.clone(),
        }
    }

    /// Waits for `condition`, reporting progress on the timeline.
    pub(super) async fn wait(
        &self,
        condition: &mut dyn Condition,
        what: &str,
        timeout: Duration,
        not_before: Timestamp,
    ) -> std::result::Result<Observed, super::probe::observer::Error> {
        let observer = self
            .observer()
            .map_err(|_| super::probe::observer::Error::TimedOut {
                what: what.to_owned(),
                after: Duration::ZERO,
                last: "no cluster".into(),
            })?;
        let timeline = self.timeline().clone();
        let progress = move |why: &str| timeline.progress(why);
        observer
            .wait(
                condition,
                WaitOptions {
                    what: what.to_owned(),
                    timeout,
                    not_before,
                    progress: Some(&progress),
                },
            )
            .await
    }

    /// Creates the cluster — or, when the drill still holds a Terraform
    /// cluster whose infrastructure was destroyed (`infra-loss`), applies
    /// its module again — and serves the source where it can fetch it.
    /// Returns once the provider has returned (for Terraform: `terraform
    /// apply` finished); the API may not answer yet.
    pub(super) async fn create_cluster(&mut self) -> Result<()> {
        match self.cluster.as_mut() {
            Some(cluster) => {
                cluster.reapply(&self.cx.dir).await?;
                let module = cluster
                    .terraform()
                    .map(|t| t.module().display().to_string())
                    .unwrap_or_default();
                let what = format!(
                    "terraform apply of {module} again: cluster {} created",
                    cluster.name()
                );
                self.timeline().operation(&what);
            }
            None => {
                let cluster = Cluster::create(self.scenario(), &self.cx, self.generation).await?;
                self.timeline()
                    .operation(&format!("cluster {} created", cluster.name()));
                self.cluster = Some(cluster);
            }
        }
        // Served where this cluster's nodes reach it (kind: the `kind`
        // network's gateway), before the tooling is pointed at it.
        let cluster = self
            .cluster
            .as_ref()
            .ok_or(Error::Bootstrap("the cluster is gone".into()))?;
        self.source.serve_for(cluster).await?;
        Ok(())
    }

    /// Waits until the new cluster's API answers and every node is Ready
    /// (ends the running phase at that moment).
    pub(super) async fn cluster_ready(
        &mut self,
        not_before: Timestamp,
        timeout: Duration,
    ) -> Result<Timestamp> {
        self.cluster()?.wait_api(timeout).await?;
        let mut nodes = checks::NodesReady;
        let seen = self
            .wait(&mut nodes, "every node Ready", timeout, not_before)
            .await
            .map_err(Error::NotSteady)?;
        self.timeline().end_at(seen.at, seen.lag);
        Ok(seen.at)
    }

    /// Creates a cluster and waits until it is ready (one `provision`
    /// phase).
    pub(super) async fn provision(
        &mut self,
        not_before: Timestamp,
        timeout: Duration,
    ) -> Result<Timestamp> {
        self.create_cluster().await?;
        self.cluster_ready(not_before, timeout).await
    }
}

/// Runs one repeat.
pub async fn run(setup: RepeatSetup) -> Outcome {
    match run_inner(setup).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::errored(e.status(), e.chain()),
    }
}

async fn run_inner(setup: RepeatSetup) -> Result<Outcome> {
    let s = setup.scenario.clone();
    let t = setup.timeline.clone();
    let clock = setup.clock.clone();
    std::fs::create_dir_all(&setup.dir).map_err(|source| {
        Error::Cluster(crate::cluster::Error::Io {
            path: setup.dir.clone(),
            source,
        })
    })?;
    setup.cleanup.register_dir(setup.dir.clone());
    let cx = cluster::Context {
        run_id: setup.run_id.clone(),
        dir: setup.dir.clone(),
        clock: clock.clone(),
        seed: setup.seed,
        cleanup: setup.cleanup.clone(),
        confirmed: setup.confirmed,
        tools: crate::process::Tools::default(),
    };

    // The Git source: a fresh repository from the fixture, or a clone.
    let acting = clock.busy();
    let source = Source::prepare(&s, &setup.dir, &setup.cleanup).await?;
    let revision = source.head().await?;
    drop(acting);
    let mut d = Drill {
        setup,
        cx,
        generation: 0,
        cluster: None,
        source,
        tooling: None,
        baseline: None,
        revision,
        bad_commit: None,
        lost_nodes: BTreeSet::new(),
        drifted: Vec::new(),
    };

    // Preparation. A Terraform-made cluster shows its two halves, as its
    // rebuild does: the apply, then the cluster getting ready.
    if s.cluster.provider == Provider::Terraform {
        t.begin(Phase::Infra.name(), PhaseGroup::Preparation, None);
        d.create_cluster().await?;
        t.end();
        t.begin(Phase::ClusterReady.name(), PhaseGroup::Preparation, None);
        d.cluster_ready(clock.now(), s.steady_state.timeout).await?;
    } else {
        t.begin(Phase::Provision.name(), PhaseGroup::Preparation, None);
        d.provision(clock.now(), s.steady_state.timeout).await?;
    }

    t.begin("bootstrap", PhaseGroup::Preparation, None);
    let (tooling, ready_at) = super::gitops::bootstrap(&mut d).await?;
    d.tooling = Some(tooling);
    t.end_at(ready_at, None);

    t.begin("steady-state", PhaseGroup::Preparation, None);
    let mut healthy = checks::Healthy(d.check_context());
    let seen = d
        .wait(
            &mut healthy,
            "the steady state",
            s.steady_state.timeout,
            clock.now(),
        )
        .await
        .map_err(Error::NotSteady)?;
    d.baseline = Some(Baseline::capture(&seen.world, &d.check_context().desired));
    t.end_at(seen.at, seen.lag);

    if !s.setup.is_empty() {
        t.begin("setup", PhaseGroup::Preparation, None);
        for step in &s.setup {
            setup_step(&d, step).await?;
        }
        t.end();
    }

    t.begin("snapshot", PhaseGroup::Preparation, None);
    let acting = clock.busy();
    let namespaces = watched_namespaces(&d);
    let before = snapshot::collect(&d.cluster()?.client(), &namespaces).await?;
    t.operation(&format!(
        "{} objects in {} namespaces",
        before.len(),
        namespaces.len()
    ));
    drop(acting);
    t.end();

    // The disaster.
    let t0 = clock.now();
    t.begin("disaster", PhaseGroup::Disaster, None);
    fault::inject_all(&mut d).await?;
    t.end();

    // Recovery, timed from the disaster.
    let recovered_at = recovery::recover(&mut d, t0).await?;
    let recovery_ms =
        u64::try_from(duration_between(t0, recovered_at).as_millis()).unwrap_or(u64::MAX);

    // Is Git really the backup?
    t.begin("verify", PhaseGroup::Verification, None);
    let acting = clock.busy();
    let after = snapshot::collect(&d.cluster()?.client(), &namespaces).await?;
    let diff = snapshot::diff(&before, &after, &s.expect.lost);
    t.operation(&format!(
        "{} lost, {} changed, {} extra of {} objects",
        diff.lost.len(),
        diff.changed.len(),
        diff.extra.len(),
        diff.compared
    ));
    drop(acting);
    t.end();

    if let Some(tooling) = d.tooling.take() {
        tooling.shutdown().await;
    }
    Ok(Outcome {
        status: Status::Passed,
        error: None,
        recovery_ms: Some(recovery_ms),
        diff: Some(diff),
    })
}

/// The namespaces snapshots cover: those the desired state lives in, those
/// the setup steps and checks touch, and the GitOps tooling's own.
fn watched_namespaces(d: &Drill) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = d.source.namespaces().clone();
    if let Some(b) = &d.baseline {
        for e in &b.desired {
            if !e.namespace.is_empty() {
                out.insert(e.namespace.clone());
            } else if e.kind.group.is_empty() && e.kind.kind == "Namespace" {
                out.insert(e.name.clone());
            }
        }
    }
    for c in &d.scenario().steady_state.checks {
        match c {
            Check::Workloads(Some(ns)) => out.extend(ns.iter().cloned()),
            Check::Object { object, .. } => out.extend(object.namespace.clone()),
            _ => {}
        }
    }
    for step in &d.scenario().setup {
        if let SetupStep::Delete(o) = step {
            out.extend(o.namespace.clone());
        }
    }
    out.extend(d.source.setup_namespaces(d.scenario()));
    if d.tooling.as_ref().is_some_and(Tooling::is_flux) {
        out.insert(crate::scenario::capabilities::FLUX_NAMESPACE.to_owned());
    }
    out
}

async fn setup_step(d: &Drill, step: &SetupStep) -> Result<()> {
    let t = d.timeline();
    match step {
        SetupStep::Apply(path) => {
            let _acting = d.clock().busy();
            let n = super::gitops::apply_by_hand(d.cluster()?, path).await?;
            t.operation(&format!(
                "applied {n} object(s) from {} by hand",
                path.display()
            ));
        }
        SetupStep::Delete(o) => {
            let _acting = d.clock().busy();
            super::gitops::delete_by_hand(d.cluster()?, o).await?;
            t.operation(&format!("deleted {o} by hand"));
        }
        SetupStep::Sleep(dur) => {
            drop(d.clock().sleep(*dur).await);
            t.operation(&format!(
                "slept {}",
                crate::scenario::duration::format_duration(*dur)
            ));
        }
    }
    Ok(())
}
