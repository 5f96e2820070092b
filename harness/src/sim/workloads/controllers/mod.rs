//! The simulated cluster's behaviour: kube-controller-manager, the
//! scheduler and the kubelets, driven by a latency [`Profile`] and seeded
//! jitter on the cluster's clock.
//!
//! [`Controllers::start`] runs them on a [`Store`]; they stop with
//! [`Controllers::stop`] or when the handle is dropped. What they do:
//!
//! - Deployment → ReplicaSet → Pods, StatefulSet, DaemonSet, Job (one
//!   module each; CronJobs are inert), Service cluster IPs ([`service`]);
//! - the scheduler binds pods to nodes (`scheduler.rs`);
//! - pods and nodes move through the lifecycle [`crate::sim::workloads::stages`]
//!   describe (sandbox, image pull via [`crate::sim::workloads::images`],
//!   start, readiness, completion, crash loops, eviction), the kubelet's and
//!   node lifecycle controller's writes (`kubelet.rs`, `node_lifecycle.rs`);
//! - the node fault hooks ([`ControllerHandle::lose_node`],
//!   [`ControllerHandle::restore_node`], [`ControllerHandle::lose_workers`])
//!   stop and restart a node's kubelet.
//!
//! Everything runs in one task that reacts to store events and to its own
//! timers (`engine.rs`): decisions happen in a fixed order, one simulated
//! millisecond ([`TICK`]) after the writes that prompted them, so a seed
//! gives the same history and the same simulated durations in every run.
//!
//! A subscriber of the store must drain its subscription: every queued
//! event holds a `Busy` guard, and the virtual clock waits for them.

mod agenda;
mod cronjob;
mod daemonset;
mod delays;
pub(crate) mod deployment;
mod endpoints;
mod engine;
mod events;
mod hpa;
mod ips;
mod job;
mod kubelet;
mod kubelet_events;
mod node_lifecycle;
pub(crate) mod pods;
mod recorders;
mod replicaset;
mod scheduler;
pub mod service;
mod stage_runner;
mod statefulset;

use std::collections::BTreeMap;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use self::engine::TICK;
pub use self::service::ensure_kubernetes_service;
use super::profile::Profile;
use super::stages::Stages;
use crate::clock::Busy;
use crate::sim::storage::store::Store;

/// What the controllers run with.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Latencies and timeouts.
    pub profile: Profile,
    /// Seed of every jittered latency and generated name.
    pub seed: u64,
    /// The lifecycle stages (default: [`Stages::defaults`]).
    pub stages: Stages,
    /// The cluster's name, left out of jitter identities (see
    /// [`crate::sim::workloads::jitter::Jitter::for_cluster`]).
    pub cluster: String,
    /// What the image registry holds (shared with the drill's other
    /// clusters).
    pub images: crate::sim::workloads::images::Contents,
}

impl ControllerConfig {
    /// The default stages with `profile` and `seed`.
    pub fn new(profile: Profile, seed: u64) -> ControllerConfig {
        ControllerConfig {
            profile,
            seed,
            stages: Stages::defaults(),
            cluster: String::new(),
            images: crate::sim::workloads::images::Contents::default(),
        }
    }
}

/// Why a node fault hook could not act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeFaultError {
    /// No node of that name.
    #[error("no node named {0:?} in the simulated cluster; list them with `kubectl get nodes`")]
    NoSuchNode(String),
    /// The node is already lost.
    #[error("node {0:?} is already lost; restore it first")]
    AlreadyLost(String),
    /// The node is not lost.
    #[error("node {0:?} is not lost, so there is nothing to restore")]
    NotLost(String),
    /// Fewer workers than asked for are up.
    #[error("cannot lose {wanted} worker node(s): only {available} are up")]
    NotEnoughWorkers {
        /// Workers asked for.
        wanted: usize,
        /// Workers up.
        available: usize,
    },
    /// The controllers have stopped (the cluster is gone).
    #[error("the simulated cluster's controllers are not running")]
    Stopped,
}

pub(crate) enum Command {
    Stop,
    LoseNode {
        name: String,
        busy: Busy,
        reply: oneshot::Sender<Result<(), NodeFaultError>>,
    },
    RestoreNode {
        name: String,
        busy: Busy,
        reply: oneshot::Sender<Result<(), NodeFaultError>>,
    },
    NodeStates {
        reply: oneshot::Sender<BTreeMap<String, bool>>,
    },
}

/// The running controllers of one simulated cluster (see the module docs).
/// Dropping it stops them.
#[derive(Debug)]
pub struct Controllers {
    handle: ControllerHandle,
    task: Option<JoinHandle<()>>,
}

/// A cloneable handle on running controllers: the node fault hooks.
#[derive(Debug, Clone)]
pub struct ControllerHandle {
    tx: mpsc::UnboundedSender<Command>,
    store: Store,
}

impl Controllers {
    /// Starts the controllers on the current tokio runtime. Objects already
    /// in the store are picked up as if just created.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(store: Store, config: ControllerConfig) -> Controllers {
        let (tx, rx) = mpsc::unbounded_channel();
        let sub = engine::subscribe(&store);
        let engine = engine::Engine::new(store.clone(), config);
        let task = tokio::spawn(engine.run(sub, rx));
        Controllers {
            handle: ControllerHandle { tx, store },
            task: Some(task),
        }
    }

    /// The handle for fault hooks.
    pub fn handle(&self) -> ControllerHandle {
        self.handle.clone()
    }

    /// Stops the controllers and waits for their task to end.
    pub async fn stop(mut self) {
        let _ = self.handle.tx.send(Command::Stop);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// True while the controllers run.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl std::ops::Deref for Controllers {
    type Target = ControllerHandle;

    fn deref(&self) -> &ControllerHandle {
        &self.handle
    }
}

impl ControllerHandle {
    /// Loses node `name`: its kubelet stops. After the node-monitor grace
    /// period the node turns `Unknown` and is tainted unreachable; its pods
    /// are evicted when their toleration (300 s by default) runs out and
    /// their controllers recreate them elsewhere (see the timing in
    /// `sim/controllers/node_lifecycle.rs`).
    ///
    /// # Errors
    /// No such node, already lost, or the controllers stopped.
    pub async fn lose_node(&self, name: &str) -> Result<(), NodeFaultError> {
        let (reply, rx) = oneshot::channel();
        let busy = self.store.busy();
        self.tx
            .send(Command::LoseNode {
                name: name.to_owned(),
                busy,
                reply,
            })
            .map_err(|_| NodeFaultError::Stopped)?;
        rx.await.map_err(|_| NodeFaultError::Stopped)?
    }

    /// Restores a lost node: its kubelet starts again, the node turns
    /// `Ready` after the profile's `node_ready` latency, the unreachable
    /// taints go, and its remaining pods become Ready again.
    ///
    /// # Errors
    /// No such node, not lost, or the controllers stopped.
    pub async fn restore_node(&self, name: &str) -> Result<(), NodeFaultError> {
        let (reply, rx) = oneshot::channel();
        let busy = self.store.busy();
        self.tx
            .send(Command::RestoreNode {
                name: name.to_owned(),
                busy,
                reply,
            })
            .map_err(|_| NodeFaultError::Stopped)?;
        rx.await.map_err(|_| NodeFaultError::Stopped)?
    }

    /// Every node and whether its kubelet runs.
    ///
    /// # Errors
    /// The controllers stopped.
    pub async fn node_states(&self) -> Result<BTreeMap<String, bool>, NodeFaultError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::NodeStates { reply })
            .map_err(|_| NodeFaultError::Stopped)?;
        rx.await.map_err(|_| NodeFaultError::Stopped)
    }

    /// Loses `count` worker nodes, chosen deterministically: the running
    /// workers (nodes without the control-plane role) from the highest
    /// number down (`…-worker3`, `…-worker2`, `…-worker`), so a drill
    /// always loses the same nodes. Returns their names.
    ///
    /// # Errors
    /// Fewer running workers than `count`, or the controllers stopped.
    pub async fn lose_workers(&self, count: usize) -> Result<Vec<String>, NodeFaultError> {
        let states = self.node_states().await?;
        let mut workers: Vec<String> = states
            .into_iter()
            .filter(|(name, up)| *up && !self.is_control_plane(name))
            .map(|(name, _)| name)
            .collect();
        workers.sort_by_key(|w| std::cmp::Reverse(worker_order(w)));
        if workers.len() < count {
            return Err(NodeFaultError::NotEnoughWorkers {
                wanted: count,
                available: workers.len(),
            });
        }
        let chosen: Vec<String> = workers.into_iter().take(count).collect();
        for n in &chosen {
            self.lose_node(n).await?;
        }
        Ok(chosen)
    }

    fn is_control_plane(&self, node: &str) -> bool {
        self.store
            .get(&crate::sim::storage::store::ObjectRef::cluster(
                super::nodes::gvr(),
                node,
            ))
            .is_ok_and(|n| {
                n.pointer("/metadata/labels")
                    .and_then(|l| l.get(super::nodes::CONTROL_PLANE_LABEL))
                    .is_some()
            })
    }
}

/// Sort key of node names: `x-worker` < `x-worker2` < `x-worker10`.
fn worker_order(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (base, num) = name.split_at(name.len() - digits);
    (base.to_owned(), num.parse().unwrap_or(1))
}

impl Drop for Controllers {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_sort_numerically() {
        let mut v = vec!["c-worker10", "c-worker", "c-worker2"];
        v.sort_by_key(|n| worker_order(n));
        assert_eq!(v, vec!["c-worker", "c-worker2", "c-worker10"]);
    }
}
