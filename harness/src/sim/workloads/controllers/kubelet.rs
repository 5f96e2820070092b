//! Pod transitions of the simulated kubelets (and of the node lifecycle
//! and taint-eviction controllers for pods on lost nodes): the `next` of
//! the pod stages, written as the kubelet writes pod status.

use std::sync::Arc;

use serde_json::{Value, json};

use super::engine::{Engine, PullFailures};
use super::pods;
use crate::sim::storage::store::{DeleteOptions, WriteOptions};
use crate::sim::workloads::images::{self, ImageClass};
use crate::sim::workloads::jitter::fnv32a;
use crate::sim::workloads::stages::Next;

/// The field manager of kubelet status writes.
const KUBELET: &str = "kubelet";

/// Applies a pod transition; returns the pod afterwards (None when gone).
pub(crate) fn apply(e: &mut Engine, next: Next, key: &str, pod: &Value) -> Option<Arc<Value>> {
    let now = e.store.now_rfc3339();
    let r = pods::ref_of(pods::gvr(), key);
    if next == Next::Evict {
        let _ = e.store.delete(&r, &DeleteOptions::default());
        return None;
    }
    let mut status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    match next {
        Next::Initialize => initialize(e, key, pod, &mut status, &now),
        Next::Start => start(e, key, pod, &mut status, &now),
        Next::PullBackOff => pull_backoff(pod, &mut status),
        Next::RetryPull => retry_pull(e, key, pod, &mut status, &now),
        Next::Ready => ready(pod, &mut status, &now),
        Next::Complete => complete(&mut status, &now),
        Next::Crash => crash(e, pod, &mut status, &now),
        Next::Restart => restart(pod, &mut status, &now),
        Next::MarkNotReady => {
            set_condition(&mut status, "Ready", "False", "", "", &now);
        }
        Next::Evict | Next::NodeReady | Next::NodeUnreachable => {}
    }
    let after = e
        .store
        .mutate(&r, true, &WriteOptions::manager(KUBELET), |o| {
            o["status"] = status;
            Ok(())
        })
        .ok()?;
    super::kubelet_events::record(e, next, pod, &after);
    Some(after)
}

/// Sets a pod condition; `lastTransitionTime` changes only when the status
/// flips. Pod conditions carry no reason or message when they are empty.
pub(crate) fn set_condition(
    status: &mut Value,
    type_: &str,
    value: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    let list = status
        .as_object_mut()
        .map(|m| m.entry("conditions").or_insert_with(|| json!([])));
    let Some(list) = list else { return };
    if !list.is_array() {
        *list = json!([]);
    }
    let Some(list) = list.as_array_mut() else {
        return;
    };
    let mut cond =
        json!({"type": type_, "status": value, "lastProbeTime": null, "lastTransitionTime": now});
    if !reason.is_empty() {
        cond["reason"] = json!(reason);
    }
    if !message.is_empty() {
        cond["message"] = json!(message);
    }
    match list.iter_mut().find(|c| pods::str_at(c, "/type") == type_) {
        Some(old) => {
            if pods::str_at(old, "/status") == value
                && let Some(t) = old.get("lastTransitionTime")
            {
                cond["lastTransitionTime"] = t.clone();
            }
            *old = cond;
        }
        None => list.push(cond),
    }
}

fn statuses(status: &mut Value) -> impl Iterator<Item = &mut Value> {
    status
        .get_mut("containerStatuses")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        // Anything a client wrote that is not an object is left alone.
        .filter(|c| c.is_object())
}

fn waiting_reason(cs: &Value) -> &str {
    pods::str_at(cs, "/state/waiting/reason")
}

fn has_probe(pod: &Value, container: &str) -> bool {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| pods::str_at(c, "/name") == container && c.get("readinessProbe").is_some())
}

/// A fake but stable content digest for an image.
fn image_id(image: &str) -> String {
    let n = images::normalize(image);
    let base = n.split('@').next().unwrap_or(&n);
    let base = base
        .rsplit_once(':')
        .map_or(base, |(b, t)| if t.contains('/') { base } else { b });
    format!("{base}@sha256:{:08x}{:056x}", fnv32a(n.as_bytes()), 0)
}

fn container_id(key: &str, container: &str, restarts: u64) -> String {
    let h = fnv32a(format!("{key}/{container}/{restarts}").as_bytes());
    format!(
        "containerd://{h:08x}{:056x}",
        u64::from(h).wrapping_mul(0x9e37_79b9)
    )
}

/// Recomputes `ContainersReady`/`Ready` from the container statuses.
fn sync_ready(status: &mut Value, now: &str) {
    let unready: Vec<String> = statuses(status)
        .filter(|c| c.get("ready").and_then(Value::as_bool) != Some(true))
        .map(|c| pods::str_at(c, "/name").to_owned())
        .collect();
    if unready.is_empty() {
        set_condition(status, "ContainersReady", "True", "", "", now);
        set_condition(status, "Ready", "True", "", "", now);
    } else {
        let msg = format!("containers with unready status: [{}]", unready.join(" "));
        set_condition(
            status,
            "ContainersReady",
            "False",
            "ContainersNotReady",
            &msg,
            now,
        );
        set_condition(status, "Ready", "False", "ContainersNotReady", &msg, now);
    }
}

fn initialize(e: &mut Engine, key: &str, pod: &Value, status: &mut Value, now: &str) {
    let node = pods::str_at(pod, "/spec/nodeName");
    let node_obj = e.nodes.get(node).map(|n| n.obj.clone());
    let host_ip = node_obj
        .as_deref()
        .and_then(|n| n.pointer("/status/addresses"))
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| pods::str_at(x, "/type") == "InternalIP"))
        .map(|x| pods::str_at(x, "/address").to_owned())
        .unwrap_or_default();
    let pod_ip = if pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true) {
        host_ip.clone()
    } else {
        let cidr = node_obj
            .as_deref()
            .map(|n| pods::str_at(n, "/spec/podCIDR").to_owned())
            .unwrap_or_default();
        e.pod_ips.assign(key, node, &cidr)
    };
    status["phase"] = json!("Pending");
    status["hostIP"] = json!(host_ip);
    status["hostIPs"] = json!([{"ip": host_ip}]);
    status["podIP"] = json!(pod_ip);
    status["podIPs"] = json!([{"ip": pod_ip}]);
    status["startTime"] = json!(now);
    status["qosClass"] = json!(qos_class(pod));
    status["containerStatuses"] = json!(
        pods::containers(pod)
            .iter()
            .map(|(name, image)| json!({
                "name": name, "image": image, "imageID": "", "ready": false, "restartCount": 0,
                "started": false, "state": {"waiting": {"reason": "ContainerCreating"}},
            }))
            .collect::<Vec<_>>()
    );
    set_condition(status, "PodReadyToStartContainers", "True", "", "", now);
    set_condition(status, "Initialized", "True", "", "", now);
    sync_ready(status, now);
    set_condition(status, "PodScheduled", "True", "", "", now);
}

fn qos_class(pod: &Value) -> &'static str {
    let any = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.pointer("/resources/requests")
                .or_else(|| c.pointer("/resources/limits"))
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        });
    if any { "Burstable" } else { "BestEffort" }
}

fn record_pull_failure(e: &mut Engine, key: &str) {
    let last = e.now();
    let f = e
        .pull_failures
        .entry(key.to_owned())
        .or_insert(PullFailures { count: 0, last });
    f.count += 1;
    f.last = last;
}

fn run_container(cs: &mut Value, key: &str, image: &str, probed: bool, now: &str) {
    let name = pods::str_at(cs, "/name").to_owned();
    let restarts = cs.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
    cs["state"] = json!({"running": {"startedAt": now}});
    cs["ready"] = json!(!probed);
    cs["started"] = json!(true);
    cs["imageID"] = json!(image_id(image));
    cs["containerID"] = json!(container_id(key, &name, restarts));
}

fn start(e: &mut Engine, key: &str, pod: &Value, status: &mut Value, now: &str) {
    let mut failed = false;
    let mut running = false;
    let images = pods::containers(pod);
    for cs in statuses(status) {
        if waiting_reason(cs) != "ContainerCreating" {
            continue;
        }
        let name = pods::str_at(cs, "/name").to_owned();
        let image = images
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        cs["image"] = json!(image);
        match e.registry.classify(&image) {
            ImageClass::Missing => {
                cs["state"] = json!({"waiting": {"reason": "ErrImagePull",
                    "message": images::pull_error_message(&image)}});
                failed = true;
            }
            ImageClass::Available | ImageClass::Failing => {
                run_container(cs, key, &image, has_probe(pod, &name), now);
                running = true;
            }
        }
    }
    if failed {
        record_pull_failure(e, key);
    }
    if running || statuses(status).any(|c| c.pointer("/state/running").is_some()) {
        status["phase"] = json!("Running");
    }
    sync_ready(status, now);
}

fn pull_backoff(pod: &Value, status: &mut Value) {
    let images = pods::containers(pod);
    for cs in statuses(status) {
        if waiting_reason(cs) == "ErrImagePull" {
            let name = pods::str_at(cs, "/name");
            let image = images
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, i)| i.clone())
                .unwrap_or_default();
            cs["state"] = json!({"waiting": {"reason": "ImagePullBackOff",
                "message": images::backoff_message(&image)}});
        }
    }
}

fn retry_pull(e: &mut Engine, key: &str, pod: &Value, status: &mut Value, _now: &str) {
    let images = pods::containers(pod);
    let mut failed = false;
    for cs in statuses(status) {
        if waiting_reason(cs) != "ImagePullBackOff" {
            continue;
        }
        let name = pods::str_at(cs, "/name");
        let image = images
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        cs["image"] = json!(image);
        if e.registry.classify(&image) == ImageClass::Missing {
            cs["state"] = json!({"waiting": {"reason": "ErrImagePull",
                "message": images::pull_error_message(&image)}});
            failed = true;
        } else {
            cs["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
        }
    }
    if failed {
        record_pull_failure(e, key);
    }
}

fn ready(pod: &Value, status: &mut Value, now: &str) {
    let _ = pod;
    for cs in statuses(status) {
        if cs.pointer("/state/running").is_some() {
            cs["ready"] = json!(true);
        }
    }
    sync_ready(status, now);
}

fn terminate(cs: &mut Value, exit: i64, reason: &str, now: &str) -> Value {
    let started = cs
        .pointer("/state/running/startedAt")
        .cloned()
        .unwrap_or_else(|| json!(now));
    let container_id = cs.get("containerID").cloned().unwrap_or(Value::Null);
    json!({"terminated": {"exitCode": exit, "reason": reason, "startedAt": started,
        "finishedAt": now, "containerID": container_id}})
}

fn complete(status: &mut Value, now: &str) {
    for cs in statuses(status) {
        let t = terminate(cs, 0, "Completed", now);
        cs["state"] = t;
        cs["ready"] = json!(false);
        cs["started"] = json!(false);
    }
    status["phase"] = json!("Succeeded");
    set_condition(status, "ContainersReady", "False", "PodCompleted", "", now);
    set_condition(status, "Ready", "False", "PodCompleted", "", now);
}

fn crash(e: &Engine, pod: &Value, status: &mut Value, now: &str) {
    let never = pods::str_at(pod, "/spec/restartPolicy") == "Never";
    let images = pods::containers(pod);
    let pod_name = format!(
        "{}_{}({})",
        pods::name(pod),
        pods::namespace(pod),
        pods::uid(pod)
    );
    for cs in statuses(status) {
        let name = pods::str_at(cs, "/name").to_owned();
        let failing = images
            .iter()
            .any(|(n, i)| *n == name && e.registry.classify(i) == ImageClass::Failing);
        if !failing || cs.pointer("/state/running").is_none() {
            continue;
        }
        let t = terminate(cs, 1, "Error", now);
        cs["ready"] = json!(false);
        cs["started"] = json!(false);
        if never {
            cs["state"] = t;
        } else {
            let restarts = cs.get("restartCount").and_then(Value::as_u64).unwrap_or(0) + 1;
            let backoff = e
                .profile
                .crash_backoff
                .delay(u32::try_from(restarts).unwrap_or(u32::MAX));
            cs["lastState"] = t;
            cs["restartCount"] = json!(restarts);
            cs["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
                "back-off {} restarting failed container={name} pod={pod_name}",
                humantime::format_duration(backoff)
            )}});
        }
    }
    if never && !statuses(status).any(|c| c.pointer("/state/running").is_some()) {
        status["phase"] = json!("Failed");
    }
    sync_ready(status, now);
}

fn restart(pod: &Value, status: &mut Value, now: &str) {
    let key = pods::key_of(pod);
    let images = pods::containers(pod);
    for cs in statuses(status) {
        if waiting_reason(cs) != "CrashLoopBackOff" {
            continue;
        }
        let name = pods::str_at(cs, "/name").to_owned();
        let image = images
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        run_container(cs, &key, &image, has_probe(pod, &name), now);
    }
    sync_ready(status, now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_transition_time_and_omit_empty_reasons() {
        let mut s = json!({});
        set_condition(&mut s, "Ready", "False", "ContainersNotReady", "m", "t1");
        set_condition(&mut s, "Ready", "False", "ContainersNotReady", "m2", "t2");
        assert_eq!(s["conditions"][0]["lastTransitionTime"], "t1");
        set_condition(&mut s, "Ready", "True", "", "", "t3");
        assert_eq!(s["conditions"][0]["lastTransitionTime"], "t3");
        assert!(s["conditions"][0].get("reason").is_none());
    }

    #[test]
    fn image_ids_look_like_containerd_digests() {
        let id = image_id("nginx:1.27");
        assert!(id.starts_with("docker.io/library/nginx@sha256:"), "{id}");
        assert_eq!(id.len(), "docker.io/library/nginx@sha256:".len() + 64);
        assert!(image_id("localhost:5000/app").starts_with("localhost:5000/app@sha256:"));
    }
}
