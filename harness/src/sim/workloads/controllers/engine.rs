//! The controller manager's event loop: one task that reacts to store
//! events, runs the agenda's due tasks in a fixed order, and sleeps on the
//! cluster's clock until the next one.
//!
//! One task rather than one per controller: every decision is taken in a
//! deterministic order, so the same seed gives the same cluster history.
//! Guards: the loop keeps the `Busy` guard of every event and fired timer
//! until it has reacted *and* registered its next timer, so the virtual
//! clock never skips over work in flight.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::mpsc;

use super::agenda::{Agenda, Ctl, StageKindOrd, Task};
use super::pods::{self, Taint};
use super::{Command, ControllerConfig, ips::Ips, node_lifecycle};
use super::{daemonset, deployment, job, replicaset, scheduler, service, statefulset};
use crate::clock::{Busy, Clock, Sleep};
use crate::sim::Profile;
use crate::sim::storage::store::{EventFilter, Store, Subscription};
use crate::sim::workloads::images::{ImageRegistry, NodeImages, add};
use crate::sim::workloads::jitter::Jitter;
use crate::sim::workloads::nodes::TAINT_UNREACHABLE;
use crate::sim::workloads::stages::Stages;

/// How long after a write the controllers it concerns react: one simulated
/// millisecond, so that every write of one instant is seen before anyone
/// acts on it (decisions then do not depend on task scheduling).
pub const TICK: Duration = Duration::from_millis(1);

/// What the engine knows about a node.
#[derive(Debug)]
pub(crate) struct NodeInfo {
    /// False while the node is lost (fault hook).
    pub(crate) kubelet_running: bool,
    /// The node as last written.
    pub(crate) obj: Arc<Value>,
}

impl NodeInfo {
    /// The node carries the unreachable NoExecute taint.
    pub(crate) fn unreachable(&self) -> bool {
        Taint::of(&self.obj)
            .iter()
            .any(|t| t.key == TAINT_UNREACHABLE && t.effect == "NoExecute")
    }
}

/// What the kubelet remembers about failed pulls of a pod.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PullFailures {
    pub(crate) count: u32,
    pub(crate) last: Timestamp,
}

/// The state of the simulated control plane and kubelets.
pub(crate) struct Engine {
    pub(crate) store: Store,
    pub(crate) clock: Clock,
    pub(crate) profile: Profile,
    pub(crate) jitter: Jitter,
    pub(crate) stages: Arc<Stages>,
    pub(crate) registry: ImageRegistry,
    pub(crate) images: NodeImages,
    pub(crate) agenda: Agenda,
    pub(crate) nodes: BTreeMap<String, NodeInfo>,
    /// Pod key → node name, and the reverse.
    pub(crate) pod_node: HashMap<String, String>,
    pub(crate) node_pods: HashMap<String, BTreeSet<String>>,
    /// Object → the name of its pending stage.
    pub(crate) pending: HashMap<(StageKindOrd, String), String>,
    /// Identity → stage → how often it was applied (the jitter attempt).
    pub(crate) attempts: HashMap<String, HashMap<String, u64>>,
    /// Pod key → uid: memory is per incarnation of a name.
    pub(crate) incarnation: HashMap<String, String>,
    pub(crate) pull_failures: HashMap<String, PullFailures>,
    /// Owner → counter of generated pod names.
    pub(crate) names: HashMap<String, u64>,
    pub(crate) pod_ips: Ips,
    /// Pods waiting for the scheduler.
    pub(crate) unscheduled: BTreeSet<String>,
    pub(crate) service_ips: service::ServiceIps,
    /// The Event recorders of the components.
    pub(crate) events: super::recorders::Recorders,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({} tasks)", self.agenda.len())
    }
}

impl Engine {
    pub(crate) fn new(store: Store, config: ControllerConfig) -> Engine {
        let clock = store.clock().clone();
        Engine {
            registry: ImageRegistry::with_contents(&config.profile, config.images),
            jitter: Jitter::for_cluster(config.seed, &config.cluster),
            stages: Arc::new(config.stages),
            profile: config.profile,
            clock,
            events: super::recorders::Recorders::new(&store),
            store,
            images: NodeImages::default(),
            agenda: Agenda::default(),
            nodes: BTreeMap::new(),
            pod_node: HashMap::new(),
            node_pods: HashMap::new(),
            pending: HashMap::new(),
            attempts: HashMap::new(),
            incarnation: HashMap::new(),
            pull_failures: HashMap::new(),
            names: HashMap::new(),
            pod_ips: Ips::default(),
            unscheduled: BTreeSet::new(),
            service_ips: service::ServiceIps::default(),
        }
    }

    /// The current simulated time.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `now + d`.
    pub(crate) fn after(&self, d: Duration) -> Timestamp {
        add(self.now(), d)
    }

    /// Reconcile `key` of `ctl` one tick from now (or earlier if due).
    pub(crate) fn enqueue(&mut self, ctl: Ctl, key: &str) {
        let at = self.after(TICK);
        self.agenda
            .at_most(Task::Reconcile(ctl, key.to_owned()), at);
    }

    /// Reconcile `key` of `ctl` at `at` (or earlier if due).
    pub(crate) fn requeue_at(&mut self, ctl: Ctl, key: &str, at: Timestamp) {
        self.agenda
            .at_most(Task::Reconcile(ctl, key.to_owned()), at);
    }

    /// A deterministic name `<prefix>-<5 chars>` for the next pod of `owner`
    /// (free in `namespace`).
    pub(crate) fn pod_name(&mut self, owner: &str, namespace: &str, prefix: &str) -> String {
        loop {
            let n = self.names.entry(owner.to_owned()).or_default();
            let attempt = *n;
            *n += 1;
            let name = format!(
                "{prefix}-{}",
                self.jitter.suffix(&["pod-name", owner], attempt, 5)
            );
            let r = pods::ref_of(pods::gvr(), &format!("{namespace}/{name}"));
            if self.store.get(&r).is_err() {
                return name;
            }
        }
    }

    /// How often stage `stage` was applied to `identity`.
    pub(crate) fn attempt(&self, identity: &str, stage: &str) -> u64 {
        self.attempts
            .get(identity)
            .and_then(|m| m.get(stage))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn applied(&self, identity: &str) -> u64 {
        self.attempts
            .get(identity)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    fn run_task(&mut self, task: Task) {
        match task {
            Task::Stage(kind, key) => self.run_stage(kind.into(), &key),
            Task::Reconcile(ctl, key) => match ctl {
                Ctl::Deployment => deployment::reconcile(self, &key),
                Ctl::ReplicaSet => replicaset::reconcile(self, &key),
                Ctl::StatefulSet => statefulset::reconcile(self, &key),
                Ctl::DaemonSet => daemonset::reconcile(self, &key),
                Ctl::Job => job::reconcile(self, &key),
                Ctl::Endpoints => super::endpoints::reconcile(self, &key),
                Ctl::CronJob => super::cronjob::reconcile(self, &key),
                Ctl::HorizontalPodAutoscaler => super::hpa::reconcile(self, &key),
                Ctl::Scheduler => scheduler::run(self),
            },
        }
    }

    /// Runs every task due now, in agenda order.
    fn run_due(&mut self) {
        loop {
            let now = self.now();
            let Some((_, task)) = self.agenda.pop_due(now) else {
                return;
            };
            self.run_task(task);
        }
    }

    /// The event loop; returns when stopped or when the store is gone.
    pub(crate) async fn run(
        mut self,
        mut sub: Subscription,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        self.initial_sync();
        let mut held: Vec<Busy> = Vec::new();
        let mut timer: Option<(Timestamp, Pin<Box<Sleep>>)> = None;
        loop {
            self.run_due();
            let next = self.agenda.next();
            if timer.as_ref().map(|t| t.0) != next {
                timer = next.map(|at| (at, Box::pin(self.clock.sleep_until(at))));
            }
            // The next timer is registered: time may move once our
            // reactions' own events are processed.
            held.clear();
            tokio::select! {
                d = sub.recv() => {
                    let Some(d) = d else { return };
                    held.push(d.busy);
                    self.on_event(&d.event);
                    while let Some(d) = sub.try_recv() {
                        held.push(d.busy);
                        self.on_event(&d.event);
                    }
                }
                c = commands.recv() => {
                    match c {
                        None | Some(Command::Stop) => return,
                        Some(other) => self.on_command(other, &mut held),
                    }
                }
                b = async {
                    match timer.as_mut() {
                        Some((_, s)) => s.as_mut().await,
                        None => std::future::pending().await,
                    }
                } => {
                    held.push(b);
                    timer = None;
                }
            }
        }
    }

    fn on_command(&mut self, c: Command, held: &mut Vec<Busy>) {
        match c {
            Command::Stop => {}
            Command::LoseNode { name, busy, reply } => {
                held.push(busy);
                let _ = reply.send(node_lifecycle::lose(self, &name));
            }
            Command::RestoreNode { name, busy, reply } => {
                held.push(busy);
                let _ = reply.send(node_lifecycle::restore(self, &name));
            }
            Command::NodeStates { reply } => {
                let states = self
                    .nodes
                    .iter()
                    .map(|(n, i)| (n.clone(), i.kubelet_running))
                    .collect();
                let _ = reply.send(states);
            }
        }
    }
}

/// Subscribes to every write (before the initial sync lists objects, so
/// nothing falls between the two).
pub(crate) fn subscribe(store: &Store) -> Subscription {
    store.subscribe(EventFilter::all())
}
