//! What a drill breaks and recovers: the cluster (gone between a
//! `cluster-loss` and its rebuild), the Git source it follows, and the
//! GitOps tooling running on it — with the actions that build it, which
//! preparation and a `rebuild` recovery share (provision, bootstrap), and
//! the waits that observe it.
//!
//! The harness holds the clock ([`crate::clock::Clock::busy`]) while it
//! *acts* and releases it while it *waits* (every wait is a watch through
//! the [`Observer`]), so on the simulator simulated time only passes where
//! the cluster makes it pass.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use super::context::Context;
use super::error::{Error, Result};
use super::probe::checks::{self, Baseline, Context as CheckContext, Entry};
use super::probe::observer::{self, Condition, Observed, Observer, WaitOptions};
use crate::cluster::Cluster;
use crate::gitops::apply::{Applier, ApplyOptions};
use crate::gitops::bootstrap::{Plan, Source, Tooling};
use crate::scenario::model::{BootstrapMethod, Provider};

/// The system under test (see the module docs).
#[derive(Debug)]
pub(super) struct Target {
    /// The cluster; None once destroyed, until rebuilt.
    pub(super) cluster: Option<Cluster>,
    /// Rebuilds so far (cluster names get `-<n>`).
    pub(super) generation: u32,
    /// The Git source the tooling follows.
    pub(super) source: Source,
    /// The GitOps tooling, once bootstrapped.
    pub(super) tooling: Option<Tooling>,
}

impl Target {
    /// A target with no cluster yet, following `source`.
    pub(super) fn new(source: Source) -> Target {
        Target {
            cluster: None,
            generation: 0,
            source,
            tooling: None,
        }
    }

    /// The cluster.
    ///
    /// # Errors
    /// [`Error::ClusterGone`] between its loss and its rebuild.
    pub(super) fn cluster(&self) -> Result<&Cluster> {
        self.cluster.as_ref().ok_or(Error::ClusterGone)
    }

    /// Creates the cluster — or, when the drill still holds a Terraform
    /// cluster whose infrastructure was destroyed (`infra-loss`), applies
    /// its module again — and serves the source where it can fetch it.
    /// Returns once the provider has returned (for Terraform: `terraform
    /// apply` finished); the API may not answer yet.
    ///
    /// # Errors
    /// When the provider fails, or the source cannot be served where the
    /// cluster reaches it.
    pub(super) async fn create_cluster(&mut self, cx: &Context) -> Result<()> {
        match self.cluster.as_mut() {
            Some(cluster) => {
                cluster.reapply(cx.dir()).await?;
                let module = cluster
                    .terraform()
                    .map(|t| t.module().display().to_string())
                    .unwrap_or_default();
                let what = format!(
                    "terraform apply of {module} again: cluster {} created",
                    cluster.name()
                );
                cx.timeline().operation(&what);
            }
            None => {
                let cluster = Cluster::create(cx.scenario(), &cx.provider, self.generation).await?;
                cx.timeline()
                    .operation(&format!("cluster {} created", cluster.name()));
                self.cluster = Some(cluster);
            }
        }
        // Served where this cluster's nodes reach it (kind: the `kind`
        // network's gateway), before the tooling is pointed at it.
        // A cluster that cannot reach this machine fetches a `url` source
        // from its remote; a `fixture` source has none, and the error asks
        // for `spec.source.url`.
        let cluster = self.cluster.as_ref().ok_or(Error::ClusterGone)?;
        match cluster.git_serve_options().await {
            Ok(options) => self.source.serve_at(options).await?,
            Err(unreachable) => {
                if !self.source.fetch_from_remote() {
                    return Err(unreachable.into());
                }
            }
        }
        Ok(())
    }

    /// Waits until the cluster's API answers and every node is Ready
    /// (ends the running phase at that moment).
    ///
    /// # Errors
    /// [`Error::NodesNotReady`] when the nodes are not Ready in time; the
    /// provider's error when the API never answers.
    pub(super) async fn cluster_ready(
        &self,
        cx: &Context,
        not_before: Timestamp,
        timeout: Duration,
    ) -> Result<Timestamp> {
        self.cluster()?.wait_api(timeout).await?;
        let mut nodes = checks::NodesReady;
        let seen = self
            .wait(cx, &mut nodes, "every node Ready", timeout, not_before)
            .await
            .map_err(Error::NodesNotReady)?;
        cx.timeline().end_at(seen.at, seen.lag);
        Ok(seen.at)
    }

    /// Creates a cluster and waits until it is ready (one `provision`
    /// phase).
    ///
    /// # Errors
    /// See [`Target::create_cluster`] and [`Target::cluster_ready`].
    pub(super) async fn provision(
        &mut self,
        cx: &Context,
        not_before: Timestamp,
        timeout: Duration,
    ) -> Result<Timestamp> {
        self.create_cluster(cx).await?;
        self.cluster_ready(cx, not_before, timeout).await
    }

    /// Bootstraps the scenario's GitOps tooling on the cluster through
    /// [`Tooling::bootstrap`]; returns the moment it was ready. A cluster
    /// gameday did not create keeps its own Flux: it is adopted, and Flux
    /// is installed there only where this drill removed it
    /// (`controller-loss`, then `rebuild`).
    ///
    /// # Errors
    /// [`Error::Bootstrap`] when the bootstrap fails;
    /// [`Error::NoFluxToAdopt`].
    pub(super) async fn bootstrap(&mut self, cx: &Context) -> Result<Timestamp> {
        let s = cx.scenario();
        let cluster = self.cluster.as_ref().ok_or(Error::ClusterGone)?;
        let clock = cx.clock();
        if let BootstrapMethod::Flux(_) = &s.bootstrap.method
            && s.cluster.provider == Provider::Existing
        {
            let adopted = Tooling::adopt(cluster.client(), clock.clone(), cluster.name())
                .await
                .map_err(Error::Tooling)?;
            if let Some(tooling) = adopted {
                cx.timeline()
                    .operation("existing Flux bootstrap adopted (flux-system/flux-system)");
                self.tooling = Some(tooling);
                return Ok(clock.now());
            }
            if self.tooling.is_none() {
                return Err(Error::NoFluxToAdopt {
                    cluster: cluster.name().to_owned(),
                });
            }
        }
        let applier = Applier::new(cluster.client(), clock.clone(), ApplyOptions::default());
        let plan = Plan {
            method: &s.bootstrap.method,
            secrets: &s.bootstrap.secrets,
            flux_install: match &s.bootstrap.method {
                BootstrapMethod::Flux(settings) => cluster.flux_install(settings),
                BootstrapMethod::Direct(_) => None,
            },
            kubeconfig: cluster.kubeconfig(),
            source: self.source.sync_source(),
            revision: self.source.revision(),
            timeout: s.steady_state.timeout,
        };
        let started = Tooling::bootstrap(&applier, &plan, self.tooling.take())
            .await
            .map_err(Error::Bootstrap)?;
        cx.timeline().operation(&started.done);
        self.tooling = Some(started.tooling);
        Ok(started.ready_at)
    }

    /// Stops the tooling running in this process.
    pub(super) async fn shutdown_tooling(&mut self) {
        if let Some(tooling) = self.tooling.take() {
            tooling.shutdown().await;
        }
    }

    /// True when Flux is the GitOps tooling.
    pub(super) fn is_flux(&self) -> bool {
        self.tooling.as_ref().is_some_and(Tooling::is_flux)
    }

    /// The objects the direct applier applies (empty with Flux: its
    /// Kustomizations' inventories say).
    pub(super) fn desired(&self) -> BTreeSet<Entry> {
        let Some(tooling) = &self.tooling else {
            return BTreeSet::new();
        };
        tooling
            .inventory()
            .entries
            .iter()
            .filter_map(|e| Entry::from_inventory_id(&e.id))
            .collect()
    }

    /// The inputs of the steady-state conditions now: the cluster must run
    /// the source's head, hold what `baseline` had, and `lost_nodes` serve
    /// nothing.
    pub(super) fn check_context(
        &self,
        cx: &Context,
        baseline: Option<&Baseline>,
        lost_nodes: &BTreeSet<String>,
    ) -> CheckContext {
        CheckContext {
            checks: cx.scenario().steady_state.checks.clone(),
            revision: Some(self.source.revision().to_owned()),
            sync_kind: crate::gitops::bootstrap::flux::sync::source_kind(
                &self.source.sync_source(),
            ),
            source_namespaces: self.source.namespaces().clone(),
            desired: self.desired(),
            baseline: baseline.cloned(),
            lost_nodes: lost_nodes.clone(),
        }
    }

    /// Waits for `condition` on the cluster, reporting progress on the
    /// timeline.
    ///
    /// # Errors
    /// [`observer::Error::TimedOut`] (at once when there is no cluster).
    pub(super) async fn wait(
        &self,
        cx: &Context,
        condition: &mut dyn Condition,
        what: &str,
        timeout: Duration,
        not_before: Timestamp,
    ) -> std::result::Result<Observed, observer::Error> {
        let Some(cluster) = &self.cluster else {
            return Err(observer::Error::TimedOut {
                what: what.to_owned(),
                after: Duration::ZERO,
                last: "no cluster".into(),
                events: Vec::new(),
            });
        };
        let observer = Observer::new(cluster.client(), cluster.time_source());
        let timeline = cx.timeline().clone();
        let progress = move |why: &str| timeline.progress(why);
        let result = observer
            .wait(
                condition,
                WaitOptions {
                    what: what.to_owned(),
                    timeout,
                    not_before,
                    progress: Some(&progress),
                },
            )
            .await;
        match result {
            Err(observer::Error::TimedOut {
                what,
                after,
                last,
                events: _,
            }) => {
                let events = crate::drill::events::fetch_and_quote(&cluster.client(), &last).await;
                Err(observer::Error::TimedOut {
                    what,
                    after,
                    last,
                    events,
                })
            }
            other => other,
        }
    }
}
