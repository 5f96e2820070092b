//! The reconciler's task: one reconciliation (fetch, plan, apply, prune)
//! and the loop that runs it on the interval and on triggers.

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot, watch};

use super::plan;
use super::{Changes, DirectConfig, DirectStatus};
use crate::clock::Busy;
use crate::gitops::apply::{Applier, Inventory};
use crate::gitops::bootstrap::SyncSource;
use crate::gitops::fetch::{self, Follow};

/// What the task owns.
pub(super) struct Worker {
    pub(super) applier: Applier,
    pub(super) source: SyncSource,
    pub(super) follow: Follow,
    pub(super) config: DirectConfig,
    pub(super) cache: PathBuf,
    pub(super) _temp: Option<crate::scratch::Scratch>,
    pub(super) status: watch::Sender<DirectStatus>,
}

impl Worker {
    async fn fetch(&self) -> std::result::Result<(String, PathBuf), String> {
        let bare = self.cache.join("source.git");
        let rev = fetch::checkout(
            &self.config.git,
            &bare,
            &self.source.url,
            &self.follow,
            self.config.fetch_timeout,
        )
        .await
        .map_err(|e| format!("fetching {}: {e}", crate::process::redact(&self.source.url)))?;
        let tree = self.cache.join("trees").join(&rev.sha);
        if !tree.is_dir() {
            let tarball = self.cache.join("trees").join(format!("{}.tar.gz", rev.sha));
            fetch::store(
                &self.config.git,
                &bare,
                &rev.sha,
                &tarball,
                &tree,
                self.config.fetch_timeout,
            )
            .await
            .map_err(|e| format!("storing {rev}: {e}"))?;
            // Keep only the current revision.
            if let Ok(entries) = std::fs::read_dir(self.cache.join("trees")) {
                for e in entries.flatten() {
                    let keep = e.file_name().to_string_lossy().starts_with(&rev.sha);
                    if !keep {
                        let p = e.path();
                        let _ = if p.is_dir() {
                            std::fs::remove_dir_all(&p)
                        } else {
                            std::fs::remove_file(&p)
                        };
                    }
                }
            }
        }
        Ok((rev.to_string(), tree))
    }

    /// One reconciliation; updates the published status.
    async fn run_once(&self) {
        let clock = self.applier.clock().clone();
        let started = clock.now();
        self.status.send_modify(|s| {
            s.runs += 1;
            s.last_attempt_at = Some(started);
        });
        let result = self.reconcile().await;
        let now = clock.now();
        self.status.send_modify(|s| match result {
            Ok((revision, inventory, changes)) => {
                s.last_attempted_revision = Some(revision.clone());
                s.last_applied_revision = Some(revision);
                s.last_success_at = Some(now);
                s.last_success_started_at = Some(started);
                s.last_success_run = s.runs;
                s.last_error = None;
                s.last_failures.clear();
                s.inventory = inventory;
                s.last_changes = changes;
            }
            Err(Failed {
                revision,
                message,
                inventory,
                objects,
            }) => {
                if revision.is_some() {
                    s.last_attempted_revision = revision;
                }
                if let Some(inv) = inventory {
                    s.inventory = inv;
                }
                tracing::debug!(error = %message, "direct reconciliation failed");
                s.last_failures = if objects.is_empty() {
                    vec![message.clone()]
                } else {
                    objects
                };
                s.last_error = Some(message);
            }
        });
    }

    async fn reconcile(&self) -> std::result::Result<(String, Inventory, Changes), Failed> {
        let (revision, tree) = self.fetch().await.map_err(|e| Failed::new(None, e))?;
        let fail = |m: String| Failed::new(Some(revision.clone()), m);
        let units = plan::plan(&tree, &self.source.path, &self.config.render)
            .await
            .map_err(|e| fail(format!("rendering at {revision}: {e}")))?;
        let mut changes = Changes::default();
        let mut applied = Vec::new();
        let mut failures = Vec::new();
        let mut objects = Vec::new();
        for unit in units {
            let report = self.applier.apply(unit.manifests).await;
            changes.created += report.count("created");
            changes.configured += report.count("configured");
            changes.unchanged += report.count("unchanged");
            applied.extend(report.applied().cloned());
            objects.extend(
                report
                    .failures()
                    .into_iter()
                    .map(|f| format!("{}: {f}", unit.label)),
            );
            if let Err(e) = report.check() {
                failures.push(format!("{}: {e}", unit.label));
                // Later units may depend on this one: stop here, as Flux's
                // dependsOn would.
                break;
            }
        }
        if !failures.is_empty() {
            let mut failed = fail(format!("applying at {revision}: {}", failures.join("\n")));
            failed.objects = objects;
            return Err(failed);
        }
        let report_inventory = Inventory::from_objects(applied.iter());
        let mut inventory = report_inventory;
        if self.config.prune {
            let previous = self.status.borrow().inventory.clone();
            let pruned = self.applier.prune(&previous.stale(&inventory)).await;
            changes.pruned = pruned.deleted.len();
            if !pruned.failed.is_empty() {
                let left = Inventory {
                    entries: previous
                        .stale(&inventory)
                        .entries
                        .into_iter()
                        .filter(|e| pruned.failed.iter().any(|f| f.id.inventory_id() == e.id))
                        .collect(),
                };
                inventory.merge(&left);
                let msg = pruned
                    .check()
                    .map(|_| String::new())
                    .unwrap_or_else(|e| e.to_string());
                let mut failed = Failed::new(Some(revision), format!("pruning: {msg}"));
                failed.inventory = Some(inventory);
                return Err(failed);
            }
        }
        Ok((revision, inventory, changes))
    }
}

/// Why a reconciliation failed.
struct Failed {
    /// The revision it fetched, when it got that far.
    revision: Option<String>,
    /// The whole error.
    message: String,
    /// What the reconciler owns now (after a partial prune).
    inventory: Option<Inventory>,
    /// Each object that could not be applied, one line each.
    objects: Vec<String>,
}

impl Failed {
    fn new(revision: Option<String>, message: String) -> Failed {
        Failed {
            revision,
            message,
            inventory: None,
            objects: Vec::new(),
        }
    }
}

pub(super) async fn run(
    worker: Worker,
    mut triggers: mpsc::UnboundedReceiver<Busy>,
    mut stop: oneshot::Receiver<()>,
) {
    let clock = worker.applier.clock().clone();
    // The guard held while working: taken before the previous one is let go.
    let mut busy = clock.busy();
    loop {
        worker.run_once().await;
        let next = clock.sleep(worker.config.interval);
        drop(busy);
        tokio::select! {
            _ = &mut stop => break,
            t = triggers.recv() => match t {
                Some(b) => busy = b,
                None => break,
            },
            b = next => busy = b,
        }
        // Several triggers at once make one reconciliation.
        while triggers.try_recv().is_ok() {}
    }
    worker.status.send_modify(|s| s.running = false);
}
