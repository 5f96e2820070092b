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
use super::{Command, ControllerConfig, delays, ips::Ips, kubelet, node_lifecycle};
use super::{daemonset, deployment, job, replicaset, scheduler, service, statefulset};
use crate::clock::{Busy, Clock, Sleep};
use crate::sim::jitter::Jitter;
use crate::sim::nodes::TAINT_UNREACHABLE;
use crate::sim::profile::Profile;
use crate::sim::registry_images::{ImageClass, ImageRegistry, NodeImages, add};
use crate::sim::stages::{Facts, StageKind, Stages};
use crate::sim::store::{
    DeleteOptions, Event, EventFilter, EventType, GroupResource, Gvr, Store, Subscription,
};

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
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({} tasks)", self.agenda.len())
    }
}

/// The resources the engine reacts to.
fn gr(group: &str, resource: &str) -> GroupResource {
    GroupResource::new(group, resource)
}

impl Engine {
    pub(crate) fn new(store: Store, config: ControllerConfig) -> Engine {
        let clock = store.clock().clone();
        Engine {
            registry: ImageRegistry::new(&config.profile),
            jitter: Jitter::new(config.seed),
            stages: Arc::new(config.stages),
            profile: config.profile,
            clock,
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

    fn applied(&self, identity: &str) -> u64 {
        self.attempts
            .get(identity)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }

    /// The simulator's facts about an object.
    pub(crate) fn facts(&self, kind: StageKind, obj: &Value) -> ObjFacts {
        match kind {
            StageKind::Node => ObjFacts {
                kubelet: self
                    .nodes
                    .get(pods::name(obj))
                    .is_none_or(|n| n.kubelet_running),
                images: Vec::new(),
                unreachable: false,
            },
            StageKind::Pod => {
                let node = self.nodes.get(pods::str_at(obj, "/spec/nodeName"));
                ObjFacts {
                    kubelet: node.is_some_and(|n| n.kubelet_running && !n.unreachable()),
                    images: pods::containers(obj)
                        .iter()
                        .map(|(_, image)| self.registry.classify(image))
                        .collect(),
                    unreachable: node.is_some_and(NodeInfo::unreachable),
                }
            }
        }
    }

    /// Picks the stage that applies to an object now and schedules it
    /// (keeping an identical pending stage, so its timer is not reset).
    pub(crate) fn evaluate(&mut self, kind: StageKind, key: &str, obj: &Value) {
        let facts = self.facts(kind, obj);
        let stages = self.stages.clone();
        let applied = self.applied(key);
        let chosen = stages.select(kind, obj, &facts, &self.jitter, key, applied);
        let slot = (StageKindOrd::from(kind), key.to_owned());
        let task = Task::Stage(slot.0, key.to_owned());
        let Some(stage) = chosen else {
            self.pending.remove(&slot);
            self.agenda.cancel(&task);
            return;
        };
        if self.pending.get(&slot) == Some(&stage.name) && self.agenda.due(&task).is_some() {
            return;
        }
        let attempt = self.attempt(key, &stage.name);
        match delays::total(self, stage, obj, key, attempt) {
            Some(d) => {
                self.pending.insert(slot, stage.name.clone());
                let at = self.after(d);
                self.agenda.set(task, at);
            }
            None => {
                self.pending.remove(&slot);
                self.agenda.cancel(&task);
            }
        }
    }

    /// Applies the pending stage of an object if it still matches.
    fn run_stage(&mut self, kind: StageKind, key: &str) {
        let slot = (StageKindOrd::from(kind), key.to_owned());
        let Some(name) = self.pending.remove(&slot) else {
            return;
        };
        let gvr = match kind {
            StageKind::Pod => pods::gvr(),
            StageKind::Node => Gvr::core("nodes"),
        };
        let Ok(obj) = self.store.get(&pods::ref_of(gvr, key)) else {
            return;
        };
        let stages = self.stages.clone();
        let Some(stage) = stages.get(&name) else {
            return;
        };
        let facts = self.facts(kind, &obj);
        if !stage.matches(&obj, &facts) {
            self.evaluate(kind, key, &obj);
            return;
        }
        *self
            .attempts
            .entry(key.to_owned())
            .or_default()
            .entry(name.clone())
            .or_default() += 1;
        let after = match kind {
            StageKind::Pod => kubelet::apply(self, stage.next, key, &obj),
            StageKind::Node => node_lifecycle::apply(self, stage.next, key, &obj),
        };
        match after {
            Some(now) => self.evaluate(kind, key, &now),
            None => self.forget(kind, key),
        }
    }

    /// Drops the memory of an object that is gone.
    fn forget(&mut self, kind: StageKind, key: &str) {
        let slot = (StageKindOrd::from(kind), key.to_owned());
        self.pending.remove(&slot);
        self.agenda.cancel(&Task::Stage(slot.0, key.to_owned()));
        self.attempts.remove(key);
        if kind == StageKind::Pod {
            self.incarnation.remove(key);
            self.pull_failures.remove(key);
            self.pod_ips.release(key);
            if let Some(node) = self.pod_node.remove(key)
                && let Some(set) = self.node_pods.get_mut(&node)
            {
                set.remove(key);
            }
        }
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

    /// Reacts to one store event.
    pub(crate) fn on_event(&mut self, ev: &Event) {
        let obj = &ev.object;
        let key = pods::key_of(obj);
        let gone = ev.kind == EventType::Deleted;
        match (ev.resource.group.as_str(), ev.resource.resource.as_str()) {
            ("", "pods") => self.on_pod(&key, obj, gone),
            ("", "nodes") => self.on_node(&key, obj, gone),
            ("", "services") => {
                // The API server allocates in the create request: no tick.
                self.service_ips.observe(&key, obj, gone);
                if !gone {
                    service::reconcile(self, &key);
                }
            }
            ("apps", "deployments") => self.enqueue(Ctl::Deployment, &key),
            ("apps", "replicasets") => {
                self.enqueue(Ctl::ReplicaSet, &key);
                self.enqueue_owner(obj);
            }
            ("apps", "statefulsets") => self.enqueue(Ctl::StatefulSet, &key),
            ("apps", "daemonsets") => self.enqueue(Ctl::DaemonSet, &key),
            ("batch", "jobs") => self.enqueue(Ctl::Job, &key),
            _ => {}
        }
    }

    /// Enqueues the workload controlling `obj`.
    fn enqueue_owner(&mut self, obj: &Value) {
        let Some((kind, name, _)) = pods::controller_of(obj) else {
            return;
        };
        let ctl = match kind {
            "Deployment" => Ctl::Deployment,
            "ReplicaSet" => Ctl::ReplicaSet,
            "StatefulSet" => Ctl::StatefulSet,
            "DaemonSet" => Ctl::DaemonSet,
            "Job" => Ctl::Job,
            _ => return,
        };
        let key = format!("{}/{name}", pods::namespace(obj));
        self.enqueue(ctl, &key);
    }

    fn on_pod(&mut self, key: &str, obj: &Value, gone: bool) {
        self.enqueue_owner(obj);
        if gone {
            self.forget(StageKind::Pod, key);
            self.unscheduled.remove(key);
            self.schedule_soon();
            return;
        }
        let uid = pods::uid(obj);
        if self.incarnation.get(key).is_some_and(|u| u != uid) {
            self.forget(StageKind::Pod, key);
        }
        self.incarnation.insert(key.to_owned(), uid.to_owned());
        let node = pods::str_at(obj, "/spec/nodeName");
        self.unscheduled.remove(key);
        if node.is_empty() {
            if !pods::deleting(obj) && !pods::is_terminal(obj) {
                self.unscheduled.insert(key.to_owned());
                let d = self
                    .jitter
                    .sample(self.profile.schedule, key, "schedule", 0)
                    .max(TICK);
                let at = self.after(d);
                self.agenda
                    .at_most(Task::Reconcile(Ctl::Scheduler, String::new()), at);
            }
        } else if self.pod_node.get(key).map(String::as_str) != Some(node) {
            self.pod_node.insert(key.to_owned(), node.to_owned());
            self.node_pods
                .entry(node.to_owned())
                .or_default()
                .insert(key.to_owned());
        }
        self.evaluate(StageKind::Pod, key, obj);
    }

    /// Runs the scheduler one tick from now if pods wait for it.
    fn schedule_soon(&mut self) {
        if !self.unscheduled.is_empty() {
            self.enqueue(Ctl::Scheduler, "");
        }
    }

    fn on_node(&mut self, key: &str, obj: &Arc<Value>, gone: bool) {
        self.schedule_soon();
        let ds: Vec<String> = self
            .store
            .list(
                &Gvr::new("apps", "v1", "daemonsets"),
                None,
                &Default::default(),
            )
            .map(|l| l.items.iter().map(|d| pods::key_of(d)).collect())
            .unwrap_or_default();
        for k in ds {
            self.enqueue(Ctl::DaemonSet, &k);
        }
        if gone {
            self.nodes.remove(key);
            self.images.forget_node(key);
            self.pod_ips.forget_node(key);
            self.forget(StageKind::Node, key);
            // The pod garbage collector deletes pods bound to a node that
            // no longer exists; their controllers replace them.
            let orphans: Vec<String> = self
                .node_pods
                .remove(key)
                .map(|s| s.into_iter().collect())
                .unwrap_or_default();
            for p in orphans {
                let _ = self
                    .store
                    .delete(&pods::ref_of(pods::gvr(), &p), &DeleteOptions::default());
            }
        } else {
            match self.nodes.get_mut(key) {
                Some(info) => info.obj = obj.clone(),
                None => {
                    self.nodes.insert(
                        key.to_owned(),
                        NodeInfo {
                            kubelet_running: true,
                            obj: obj.clone(),
                        },
                    );
                }
            }
            self.evaluate(StageKind::Node, key, obj);
        }
        self.reevaluate_pods_on(key);
    }

    /// Re-evaluates the stages of the pods bound to `node` (their facts
    /// depend on it).
    pub(crate) fn reevaluate_pods_on(&mut self, node: &str) {
        let keys: Vec<String> = self
            .node_pods
            .get(node)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for k in keys {
            if let Ok(p) = self.store.get(&pods::ref_of(pods::gvr(), &k)) {
                self.evaluate(StageKind::Pod, &k, &p);
            }
        }
    }

    /// Processes every existing object as if it had just been added.
    fn initial_sync(&mut self) {
        let types = [
            ("", "nodes"),
            ("", "services"),
            ("", "pods"),
            ("apps", "deployments"),
            ("apps", "replicasets"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
        ];
        for (group, resource) in types {
            let gvr = Gvr::new(group, "v1", resource);
            let Ok(list) = self.store.list(&gvr, None, &Default::default()) else {
                continue;
            };
            for obj in list.items {
                let ev = Event {
                    kind: EventType::Added,
                    resource: gr(group, resource),
                    object: obj,
                    old: None,
                    revision: list.revision,
                };
                self.on_event(&ev);
            }
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

/// The facts about one object (see [`crate::sim::stages`]).
#[derive(Debug)]
pub(crate) struct ObjFacts {
    kubelet: bool,
    images: Vec<ImageClass>,
    unreachable: bool,
}

impl Facts for ObjFacts {
    fn fact(&self, name: &str) -> Vec<String> {
        match name {
            "kubelet" => vec![if self.kubelet { "running" } else { "stopped" }.to_owned()],
            "images" => self.images.iter().map(|c| format!("{c:?}")).collect(),
            "nodeUnreachable" if self.unreachable => vec!["true".to_owned()],
            _ => Vec::new(),
        }
    }
}
