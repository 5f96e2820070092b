//! Stage bookkeeping of the engine: which lifecycle stage applies to an
//! object now, its timer, applying it when due, and forgetting objects that
//! are gone.

use serde_json::Value;

use super::agenda::{StageKindOrd, Task};
use super::engine::{Engine, NodeInfo};
use super::{delays, kubelet, node_lifecycle, pods};
use crate::sim::storage::store::Gvr;
use crate::sim::workloads::images::ImageClass;
use crate::sim::workloads::stages::{Facts, StageKind};

impl Engine {
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
    pub(crate) fn run_stage(&mut self, kind: StageKind, key: &str) {
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
    pub(crate) fn forget(&mut self, kind: StageKind, key: &str) {
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
}

/// The facts about one object (see [`crate::sim::workloads::stages`]).
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
