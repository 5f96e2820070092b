//! Stage delays: each [`DelayTerm`] as a duration for one object, drawn
//! with the engine's seeded jitter (identity = the object's key, so the same
//! seed gives the same delays whatever the order of evaluation).

use std::time::Duration;

use serde_json::Value;

use super::engine::Engine;
use super::pods::{self, Taint};
use crate::clock::duration_between;
use crate::sim::workloads::images::ImageClass;
use crate::sim::workloads::nodes::TAINT_UNREACHABLE;
use crate::sim::workloads::stages::{DelayTerm, Stage};

/// The kubelet's pod-worker back-off after a sync error and its jitter
/// factor (`backOffPeriod` and `workerBackOffPeriodJitterFactor`).
const RESYNC: Duration = Duration::from_secs(10);
const RESYNC_JITTER: f64 = 0.5;

/// The stage's delay for `obj`, or None when it never happens (a pod that
/// tolerates the unreachable taint forever is never evicted).
pub(crate) fn total(
    e: &mut Engine,
    stage: &Stage,
    obj: &Value,
    key: &str,
    attempt: u64,
) -> Option<Duration> {
    let mut sum = Duration::ZERO;
    for term in &stage.delay {
        sum = sum.saturating_add(term_delay(e, *term, stage, obj, key, attempt)?);
    }
    Some(sum)
}

fn term_delay(
    e: &mut Engine,
    term: DelayTerm,
    stage: &Stage,
    obj: &Value,
    key: &str,
    attempt: u64,
) -> Option<Duration> {
    let label = format!("{}/{term:?}", stage.name);
    let p = &e.profile;
    let j = e.jitter.clone();
    let sample = |l| j.sample(l, key, &label, attempt);
    Some(match term {
        DelayTerm::NodeReady => sample(p.node_ready),
        DelayTerm::PodSandbox => sample(p.pod_sandbox),
        DelayTerm::ImagePullFailure => sample(p.image_pull_failure),
        DelayTerm::ContainerStart => sample(p.container_start),
        DelayTerm::JobRun => sample(p.job_run),
        DelayTerm::CrashAfter => sample(p.crash_after),
        DelayTerm::PodResync => {
            RESYNC + RESYNC.mul_f64(RESYNC_JITTER * j.unit(&[key, &label], attempt))
        }
        DelayTerm::ImagePull => image_pull(e, obj, key, &label, attempt),
        DelayTerm::ReadinessProbe => readiness(e, obj, key, &label, attempt),
        DelayTerm::ImagePullBackOff => {
            let f = e.pull_failures.get(key).copied();
            match f {
                None => Duration::ZERO,
                Some(f) => {
                    let due = crate::sim::workloads::images::add(
                        f.last,
                        p.image_pull_backoff.delay(f.count),
                    );
                    duration_between(e.now(), due)
                }
            }
        }
        DelayTerm::CrashBackOff => {
            let restarts = obj
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
                .max()
                .unwrap_or(1);
            p.crash_backoff
                .delay(u32::try_from(restarts).unwrap_or(u32::MAX))
        }
        DelayTerm::NodeMonitorGrace => {
            let since_report = p
                .node_status_interval
                .mul_f64(j.unit(&[key, &label, "report"], attempt));
            let next_look = p
                .node_monitor_period
                .mul_f64(j.unit(&[key, &label, "look"], attempt));
            let d = p.node_monitor_grace.saturating_sub(since_report) + next_look;
            Duration::from_millis(d.as_millis().min(u128::from(u64::MAX)) as u64)
        }
        DelayTerm::UnreachableToleration => return toleration(e, obj),
    })
}

/// The longest of the pod's image pulls on its node.
fn image_pull(e: &mut Engine, pod: &Value, key: &str, label: &str, attempt: u64) -> Duration {
    let node = pods::str_at(pod, "/spec/nodeName").to_owned();
    let now = e.now();
    let mut longest = Duration::ZERO;
    for (_, image) in pods::containers(pod) {
        let d = match e.registry.classify(&image) {
            ImageClass::Missing => {
                e.jitter
                    .sample(e.profile.image_pull_failure, key, label, attempt)
            }
            ImageClass::Available | ImageClass::Failing => {
                let pull = e.jitter.sample(
                    e.profile.image_pull,
                    &format!("{node}/{image}"),
                    "image-pull",
                    0,
                );
                duration_between(now, e.images.pull(&node, &image, now, pull))
            }
        };
        longest = longest.max(d);
    }
    longest
}

/// `initialDelaySeconds`, the wait for a probe tick, and the status update.
fn readiness(e: &Engine, pod: &Value, key: &str, label: &str, attempt: u64) -> Duration {
    let probes: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("readinessProbe"))
        .collect();
    if probes.is_empty() {
        return Duration::ZERO;
    }
    let secs = |p: &Value, f: &str, default: i64| {
        u64::try_from(pods::int_at(p, f).unwrap_or(default).max(0)).unwrap_or(0)
    };
    let initial = probes
        .iter()
        .map(|p| secs(p, "/initialDelaySeconds", 0))
        .max()
        .unwrap_or(0);
    let period = probes
        .iter()
        .map(|p| secs(p, "/periodSeconds", 10).max(1))
        .max()
        .unwrap_or(10);
    let tick = if e.profile.probe_ticks {
        Duration::from_secs(period).mul_f64(e.jitter.unit(&[key, label, "tick"], attempt))
    } else {
        Duration::ZERO
    };
    let d = Duration::from_secs(initial)
        .saturating_add(tick)
        .saturating_add(e.jitter.sample(e.profile.readiness, key, label, attempt));
    Duration::from_millis(d.as_millis().min(u128::from(u64::MAX)) as u64)
}

/// Until the pod's toleration of its node's unreachable taint runs out.
fn toleration(e: &Engine, pod: &Value) -> Option<Duration> {
    let node = e.nodes.get(pods::str_at(pod, "/spec/nodeName"))?;
    let taint = Taint::of(&node.obj)
        .into_iter()
        .find(|t| t.key == TAINT_UNREACHABLE && t.effect == "NoExecute")?;
    let secs = match pods::toleration(pod, &taint) {
        None => 0,
        Some(None) => return None,
        Some(Some(s)) => u64::try_from(s.max(0)).unwrap_or(0),
    };
    let since = taint.time_added.unwrap_or_else(|| e.now());
    let due = crate::sim::workloads::images::add(since, Duration::from_secs(secs));
    Some(duration_between(e.now(), due))
}
