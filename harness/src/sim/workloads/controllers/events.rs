//! How the engine reacts to store events: which controllers to wake, which
//! stages to re-evaluate, and the initial sync of objects that existed
//! before the controllers started.

use std::sync::Arc;

use serde_json::Value;

use super::agenda::{Ctl, Task};
use super::engine::{Engine, NodeInfo, TICK};
use super::{pods, service};
use crate::sim::storage::store::{DeleteOptions, Event, EventType, GroupResource, Gvr};
use crate::sim::workloads::stages::StageKind;

/// The resources the engine reacts to.
fn gr(group: &str, resource: &str) -> GroupResource {
    GroupResource::new(group, resource)
}

impl Engine {
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
                self.enqueue(Ctl::Endpoints, &key);
            }
            ("apps", "deployments") => {
                self.enqueue(Ctl::Deployment, &key);
                self.enqueue_autoscalers(obj, "Deployment");
            }
            ("autoscaling", "horizontalpodautoscalers") if !gone => {
                self.enqueue(Ctl::HorizontalPodAutoscaler, &key);
            }
            ("apps", "replicasets") => {
                self.enqueue(Ctl::ReplicaSet, &key);
                self.enqueue_owner(obj);
            }
            ("apps", "statefulsets") => {
                self.enqueue(Ctl::StatefulSet, &key);
                self.enqueue_autoscalers(obj, "StatefulSet");
            }
            ("apps", "daemonsets") => self.enqueue(Ctl::DaemonSet, &key),
            ("batch", "jobs") => {
                self.enqueue(Ctl::Job, &key);
                self.enqueue_owner(obj);
            }
            ("batch", "cronjobs") if !gone => self.enqueue(Ctl::CronJob, &key),
            _ => {}
        }
    }

    /// Enqueues the HPAs that scale `obj` (a `kind`).
    fn enqueue_autoscalers(&mut self, obj: &Value, kind: &str) {
        for k in super::hpa::targeting(self, pods::namespace(obj), kind, pods::name(obj)) {
            self.enqueue(Ctl::HorizontalPodAutoscaler, &k);
        }
    }

    /// Enqueues the workload controlling `obj`.
    pub(crate) fn enqueue_owner(&mut self, obj: &Value) {
        let Some((kind, name, _)) = pods::controller_of(obj) else {
            return;
        };
        let ctl = match kind {
            "Deployment" => Ctl::Deployment,
            "ReplicaSet" => Ctl::ReplicaSet,
            "StatefulSet" => Ctl::StatefulSet,
            "DaemonSet" => Ctl::DaemonSet,
            "Job" => Ctl::Job,
            "CronJob" => Ctl::CronJob,
            _ => return,
        };
        let key = format!("{}/{name}", pods::namespace(obj));
        self.enqueue(ctl, &key);
    }

    pub(crate) fn on_pod(&mut self, key: &str, obj: &Value, gone: bool) {
        self.enqueue_owner(obj);
        for svc in super::endpoints::selecting(self, obj) {
            self.enqueue(Ctl::Endpoints, &svc);
        }
        if gone {
            super::kubelet_events::killing(self, obj);
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
    pub(crate) fn schedule_soon(&mut self) {
        if !self.unscheduled.is_empty() {
            self.enqueue(Ctl::Scheduler, "");
        }
    }

    pub(crate) fn on_node(&mut self, key: &str, obj: &Arc<Value>, gone: bool) {
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
    pub(crate) fn initial_sync(&mut self) {
        let types = [
            ("", "nodes"),
            ("", "services"),
            ("", "pods"),
            ("apps", "deployments"),
            ("apps", "replicasets"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
            ("batch", "cronjobs"),
            ("autoscaling", "horizontalpodautoscalers"),
        ];
        for (group, resource) in types {
            let version = if group == "autoscaling" { "v2" } else { "v1" };
            let gvr = Gvr::new(group, version, resource);
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
}
