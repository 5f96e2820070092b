//! The Events the simulated kubelet records for a pod transition, with the
//! reasons and messages of the real kubelet (`pkg/kubelet/events`):
//! Pulling, Pulled, Failed (ErrImagePull, ImagePullBackOff), BackOff,
//! Created, Started and Killing, each on its container
//! (`spec.containers{name}`), from `kubelet` on the pod's node.

use jiff::Timestamp;
use serde_json::Value;

use super::engine::Engine;
use super::pods;
use crate::sim::recorder::{About, EventType, container_path, go_duration};
use crate::sim::workloads::images;
use crate::sim::workloads::stages::Next;

fn state_of<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| pods::str_at(c, "/name") == name)
}

fn waiting(cs: Option<&Value>) -> &str {
    cs.map_or("", |c| pods::str_at(c, "/state/waiting/reason"))
}

fn running(cs: Option<&Value>) -> bool {
    cs.is_some_and(|c| c.pointer("/state/running").is_some())
}

struct Ctx<'a> {
    e: &'a Engine,
    pod: &'a Value,
    node: &'a str,
}

impl Ctx<'_> {
    fn emit(&self, container: &str, t: EventType, reason: &str, message: &str) {
        let path = container_path(container);
        self.e.events.kubelet.record_on(
            self.node,
            About::container(self.pod, &path),
            t,
            reason,
            message,
        );
    }

    fn pulled(&self, name: &str, image: &str) {
        let started = pods::str_at(self.pod, "/status/startTime")
            .parse::<Timestamp>()
            .ok();
        let since = self.e.images.present_since(self.node, image);
        match (since, started) {
            (Some(at), Some(start)) if at > start => {
                let took = crate::clock::duration_between(start, self.e.now());
                let d = go_duration(took);
                self.emit(
                    name,
                    EventType::Normal,
                    "Pulled",
                    &format!(
                        "Successfully pulled image \"{image}\" in {d} ({d} including waiting)"
                    ),
                );
            }
            _ => self.emit(
                name,
                EventType::Normal,
                "Pulled",
                &format!("Container image \"{image}\" already present on machine"),
            ),
        }
    }

    fn started(&self, name: &str, image: &str) {
        self.pulled(name, image);
        self.emit(
            name,
            EventType::Normal,
            "Created",
            &format!("Created container: {name}"),
        );
        self.emit(
            name,
            EventType::Normal,
            "Started",
            &format!("Started container {name}"),
        );
    }

    fn pull_failed(&self, name: &str, image: &str) {
        self.emit(
            name,
            EventType::Warning,
            "Failed",
            &format!(
                "Failed to pull image \"{image}\": {}",
                images::pull_error_message(image)
            ),
        );
        self.emit(name, EventType::Warning, "Failed", "Error: ErrImagePull");
    }

    fn pulling(&self, name: &str, image: &str) {
        if !self.e.images.has(self.node, image, self.e.now()) {
            self.emit(
                name,
                EventType::Normal,
                "Pulling",
                &format!("Pulling image \"{image}\""),
            );
        }
    }
}

/// Records the Events of transition `next` from `before` to `after`.
pub(crate) fn record(e: &Engine, next: Next, before: &Value, after: &Value) {
    let node = pods::str_at(after, "/spec/nodeName");
    let cx = Ctx {
        e,
        pod: after,
        node,
    };
    for (name, image) in pods::containers(after) {
        let (old, new) = (state_of(before, &name), state_of(after, &name));
        match next {
            Next::Initialize => cx.pulling(&name, &image),
            Next::Start | Next::Restart if running(new) && !running(old) => {
                cx.started(&name, &image);
            }
            Next::Start | Next::RetryPull if waiting(new) == "ErrImagePull" => {
                if next == Next::RetryPull {
                    cx.pulling(&name, &image);
                }
                cx.pull_failed(&name, &image);
            }
            Next::RetryPull if waiting(new) == "ContainerCreating" => cx.pulling(&name, &image),
            Next::PullBackOff if waiting(new) == "ImagePullBackOff" => {
                cx.emit(
                    &name,
                    EventType::Normal,
                    "BackOff",
                    &images::backoff_message(&image),
                );
                cx.emit(
                    &name,
                    EventType::Warning,
                    "Failed",
                    "Error: ImagePullBackOff",
                );
            }
            Next::Crash if waiting(new) == "CrashLoopBackOff" => {
                let pod = format!(
                    "{}_{}({})",
                    pods::name(after),
                    pods::namespace(after),
                    pods::uid(after)
                );
                cx.emit(
                    &name,
                    EventType::Warning,
                    "BackOff",
                    &format!("Back-off restarting failed container {name} in pod {pod}"),
                );
            }
            _ => {}
        }
    }
}

/// `Killing` for the running containers of a pod that was deleted while
/// its kubelet runs.
pub(crate) fn killing(e: &Engine, pod: &Value) {
    let node = pods::str_at(pod, "/spec/nodeName");
    if node.is_empty() || !e.nodes.get(node).is_some_and(|n| n.kubelet_running) {
        return;
    }
    let cx = Ctx { e, pod, node };
    for (name, _) in pods::containers(pod) {
        if running(state_of(pod, &name)) {
            cx.emit(
                &name,
                EventType::Normal,
                "Killing",
                &format!("Stopping container {name}"),
            );
        }
    }
}
