//! The `direct` bootstrap method: gameday applies the source path itself —
//! fetch the followed reference, render the path, apply it with the apply
//! engine (field manager `gameday`), prune what left the source — and keeps
//! doing so for the rest of the drill, every `interval` on the cluster's
//! clock and whenever [`DirectReconciler::trigger`] asks (like `flux
//! reconcile`), so deleted objects come back the GitOps way.
//!
//! Flux Kustomizations of the same repository are followed rather than
//! applied ([`plan`]), so a repository laid out for Flux works unchanged.
//!
//! Its state is published through a `tokio::sync::watch` channel
//! ([`DirectStatus`]): the last attempted and applied revisions, the
//! cluster-clock time of the last success — "the desired state was applied
//! after time T" — the last error and the inventory. [`DirectReconciler::stop`]
//! is the `controller-loss` fault; a new [`DirectReconciler::start`] with the
//! old inventory restarts it.

pub mod plan;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use self::worker::{Worker, run};
use super::{Error, Result, SyncSource, secrets};
use crate::clock::{Busy, Clock};
use crate::gitops::apply::{Applier, ApplyOptions, Inventory};
use crate::gitops::fetch::Follow;
use crate::gitops::render::RenderOptions;
use crate::gitops::repo::GitSettings;
use crate::scenario::model::{DirectSettings, SecretSource};

/// The label the direct reconciler puts on what it applies; prune deletes
/// only objects that still carry it.
pub const OWNER_LABEL: &str = "gameday.dev/reconciler";

/// How the reconciler runs.
#[derive(Debug, Clone)]
pub struct DirectConfig {
    /// Time between reconciliations (cluster clock).
    pub interval: Duration,
    /// Delete objects that left the source.
    pub prune: bool,
    /// Requests in flight per apply.
    pub concurrency: usize,
    /// How `kubectl kustomize` runs.
    pub render: RenderOptions,
    /// How `git` runs.
    pub git: GitSettings,
    /// Timeout of one git operation (wall).
    pub fetch_timeout: Duration,
    /// Where fetched revisions are kept (a temporary directory when None).
    pub cache_dir: Option<PathBuf>,
    /// Namespace of namespaced objects that set none (`bootstrap.direct.namespace`).
    pub default_namespace: String,
}

impl DirectConfig {
    /// The configuration of a scenario's `bootstrap.direct`.
    pub fn from_settings(s: &DirectSettings) -> DirectConfig {
        DirectConfig {
            interval: s.interval,
            prune: s.prune,
            concurrency: usize::try_from(s.concurrency).unwrap_or(16).max(1),
            render: RenderOptions::default(),
            git: GitSettings::default(),
            fetch_timeout: Duration::from_secs(120),
            cache_dir: None,
            default_namespace: s.namespace.clone(),
        }
    }
}

/// What one reconciliation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Objects created.
    pub created: usize,
    /// Objects changed.
    pub configured: usize,
    /// Objects already as in the source.
    pub unchanged: usize,
    /// Objects deleted by prune.
    pub pruned: usize,
}

/// The reconciler's published state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirectStatus {
    /// False once stopped.
    pub running: bool,
    /// Reconciliations attempted (the number of the last one).
    pub runs: u64,
    /// The number of the last successful reconciliation (0: none yet).
    pub last_success_run: u64,
    /// Revision of the last attempt (`main@sha1:…`).
    pub last_attempted_revision: Option<String>,
    /// Revision last applied successfully.
    pub last_applied_revision: Option<String>,
    /// Cluster-clock time the last attempt started.
    pub last_attempt_at: Option<Timestamp>,
    /// Cluster-clock time the last successful apply (and prune) finished.
    pub last_success_at: Option<Timestamp>,
    /// Why the last attempt failed (None after a success).
    pub last_error: Option<String>,
    /// The last attempt's failures one line each (each object that could
    /// not be applied, with the API's reason); empty after a success.
    pub last_failures: Vec<String>,
    /// Cluster-clock time the last successful reconciliation started.
    pub last_success_started_at: Option<Timestamp>,
    /// What the reconciler owns (prune deletes what leaves it).
    pub inventory: Inventory,
    /// What the last successful run changed.
    pub last_changes: Changes,
}

/// A running direct reconciler (see the module docs).
#[derive(Debug)]
pub struct DirectReconciler {
    clock: Clock,
    trigger: mpsc::UnboundedSender<Busy>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    status: watch::Receiver<DirectStatus>,
}

impl DirectReconciler {
    /// Starts reconciling `source` through `applier` (whose options are
    /// replaced by the reconciler's: field manager `gameday`, its owner
    /// label, `config.concurrency`), owning `inventory` from a previous run.
    /// The first reconciliation starts at once.
    ///
    /// # Errors
    /// [`Error::Cache`] when the cache directory cannot be created.
    /// Failed reconciliations are not errors here: they show in
    /// [`DirectStatus::last_error`].
    pub fn start(
        applier: &Applier,
        source: SyncSource,
        config: DirectConfig,
        inventory: Inventory,
    ) -> Result<DirectReconciler> {
        if source.artifact.is_some() {
            return Err(Error::DirectFromOci { url: source.url });
        }
        let (cache, temp) = match &config.cache_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(Error::Cache)?;
                (d.clone(), None)
            }
            None => {
                let t = crate::scratch::Scratch::new("direct").map_err(Error::Cache)?;
                (t.path().to_owned(), Some(t))
            }
        };
        let applier = applier.with_options(ApplyOptions {
            concurrency: config.concurrency,
            labels: [(OWNER_LABEL.to_owned(), "direct".to_owned())].into(),
            default_namespace: Some(config.default_namespace.clone()),
            ..ApplyOptions::default()
        });
        let clock = applier.clock().clone();
        let (status_tx, status_rx) = watch::channel(DirectStatus {
            running: true,
            inventory,
            ..DirectStatus::default()
        });
        let worker = Worker {
            follow: Follow::Ref(source.reference.clone()),
            applier,
            source,
            config,
            cache,
            _temp: temp,
            status: status_tx,
        };
        let (trigger, triggers) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(worker, triggers, stopped));
        Ok(DirectReconciler {
            clock,
            trigger,
            stop: Some(stop),
            task: Some(task),
            status: status_rx,
        })
    }

    /// Asks for a reconciliation now (as `flux reconcile` does); returns
    /// the number the reconciliation that handles it will have at least
    /// (see [`DirectReconciler::wait_applied_since`]).
    pub fn trigger(&self) -> u64 {
        let next = self.status.borrow().runs + 1;
        let _ = self.trigger.send(self.clock.busy());
        next
    }

    /// The status channel (clone it to observe from elsewhere).
    pub fn status(&self) -> watch::Receiver<DirectStatus> {
        self.status.clone()
    }

    /// The current status.
    pub fn current(&self) -> DirectStatus {
        self.status.borrow().clone()
    }

    /// Waits until a reconciliation numbered above `run` succeeded (take
    /// `current().runs` before a fault: the next success is a recovery), at
    /// most `timeout` on the cluster's clock. Call without holding a `Busy`
    /// guard.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the last error seen.
    pub async fn wait_applied_since(&self, run: u64, timeout: Duration) -> Result<DirectStatus> {
        let mut rx = self.status.clone();
        let done = self
            .clock
            .timeout(timeout, rx.wait_for(|s| s.last_success_run > run))
            .await;
        match done {
            Ok(Ok(s)) => Ok(s.clone()),
            _ => {
                let s = self.current();
                Err(Error::Timeout {
                    what: format!(
                        "the direct reconciler to apply the source (a reconciliation after #{run})"
                    ),
                    after: timeout,
                    last: s
                        .last_error
                        .unwrap_or_else(|| "no reconciliation finished".to_owned()),
                })
            }
        }
    }

    /// Waits until a reconciliation that started at `since` or later
    /// applied `revision` in full (when given), at most `timeout` on the
    /// cluster's clock: the first full apply of a bootstrap, or the apply
    /// that restores what a disaster broke. Call without holding a `Busy`
    /// guard.
    ///
    /// # Errors
    /// [`Error::NotApplied`] with every object the last attempt could not
    /// apply and the API's reason.
    pub async fn wait_applied(
        &self,
        revision: Option<&str>,
        since: Timestamp,
        timeout: Duration,
    ) -> Result<DirectStatus> {
        let mut rx = self.status.clone();
        let done = self
            .clock
            .timeout(
                timeout,
                rx.wait_for(|s| {
                    s.last_success_started_at.is_some_and(|t| t >= since)
                        && revision.is_none_or(|r| {
                            s.last_applied_revision
                                .as_deref()
                                .is_some_and(|a| same_commit(a, r))
                        })
                }),
            )
            .await;
        match done {
            Ok(Ok(s)) => Ok(s.clone()),
            _ => {
                let s = self.current();
                let last = s.last_error.clone().unwrap_or_else(|| match revision {
                    Some(r) => format!(
                        "no reconciliation applied {r} yet (last applied: {})",
                        s.last_applied_revision.as_deref().unwrap_or("nothing")
                    ),
                    None => "no reconciliation finished".to_owned(),
                });
                Err(Error::NotApplied {
                    after: timeout,
                    attempts: s.runs,
                    failures: if s.last_failures.is_empty() {
                        vec![last.clone()]
                    } else {
                        s.last_failures.clone()
                    },
                    last,
                })
            }
        }
    }

    /// Stops reconciling (the `controller-loss` fault) and returns the
    /// final status; its inventory restarts a new reconciler.
    pub async fn stop(mut self) -> DirectStatus {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let mut s = self.current();
        s.running = false;
        s
    }
}

impl Drop for DirectReconciler {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// True when two revisions (`main@sha1:…`, `v1.2@sha1:…`, `sha1:…`) name
/// the same commit, whatever reference they were reached through.
fn same_commit(a: &str, b: &str) -> bool {
    let commit = |r: &str| r.rsplit_once('@').map_or(r, |(_, c)| c).to_owned();
    a == b || commit(a) == commit(b)
}

/// Bootstraps with the direct method: restores `secrets`, starts the
/// reconciler and waits for its first reconciliation (at most `timeout` on
/// the cluster's clock). Call without holding a `Busy` guard.
///
/// # Errors
/// [`Error::SecretFile`]/[`Error::Apply`] for the secrets; [`Error::Direct`]
/// with the reason when the first reconciliation fails (the reconciler is
/// stopped); [`Error::Timeout`].
pub async fn bootstrap(
    applier: &Applier,
    source: SyncSource,
    config: DirectConfig,
    secrets_to_restore: &[SecretSource],
    timeout: Duration,
) -> Result<DirectReconciler> {
    secrets::restore(applier, secrets_to_restore).await?;
    let reconciler = DirectReconciler::start(applier, source, config, Inventory::default())?;
    let mut rx = reconciler.status();
    let first = reconciler
        .clock
        .timeout(
            timeout,
            rx.wait_for(|s| s.runs > 0 && (s.last_success_at.is_some() || s.last_error.is_some())),
        )
        .await;
    let status = match first {
        Ok(Ok(s)) => s.clone(),
        _ => {
            let last = reconciler
                .current()
                .last_error
                .unwrap_or_else(|| "no reconciliation finished".to_owned());
            reconciler.stop().await;
            return Err(Error::Timeout {
                what: "the first direct reconciliation".to_owned(),
                after: timeout,
                last,
            });
        }
    };
    if let Some(message) = status.last_error {
        reconciler.stop().await;
        return Err(Error::Direct { message });
    }
    Ok(reconciler)
}
