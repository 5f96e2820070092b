//! The Job controller: runs up to `parallelism` (default 1) pods at a time
//! until `completions` (default 1; unset with a parallelism means "until
//! one succeeds") pods succeeded, then sets `SuccessCriteriaMet` and
//! `Complete` (`CompletionsReached`) and `completionTime`. Failed pods
//! (containers of failing images exit 1; with `restartPolicy: OnFailure`
//! each restart counts) are replaced after the pod-failure back-off (10 s
//! doubling, capped at 6 min) until more than `backoffLimit` (default 6)
//! failures: then `FailureTarget` and `Failed` (`BackoffLimitExceeded`) and
//! the active pods are deleted. A pod stuck in `ImagePullBackOff` never
//! fails, exactly as upstream: its Job waits. `suspend` stops new pods.
//! CronJobs are inert: they are stored and served, but create no Jobs.

use crate::sim::recorder::{About, EventType};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::agenda::Ctl;
use super::engine::Engine;
use super::pods;
use super::replicaset::{self, KCM, owned_pods};
use crate::sim::storage::store::{DeleteOptions, Gvr, WriteOptions};
use crate::sim::workloads::profile::Backoff;

/// The Job controller's pod-failure back-off.
const POD_FAILURE_BACKOFF: Backoff = Backoff {
    initial: Duration::from_secs(10),
    max: Duration::from_secs(360),
};

fn gvr() -> Gvr {
    Gvr::new("batch", "v1", "jobs")
}

fn finished(job: &Value) -> bool {
    ["Complete", "Failed"]
        .iter()
        .any(|t| pods::condition(job, t).is_some_and(|c| pods::str_at(c, "/status") == "True"))
}

fn job_condition(type_: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": type_, "status": "True", "reason": reason, "message": message,
           "lastProbeTime": now, "lastTransitionTime": now})
}

/// Reconciles one Job.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(job) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&job)
        || finished(&job)
        || !job.pointer("/spec/template").is_some_and(Value::is_object)
    {
        return;
    }
    let ns = pods::namespace(&job).to_owned();
    let parallelism = pods::int_at(&job, "/spec/parallelism").unwrap_or(1).max(0);
    let completions = pods::int_at(&job, "/spec/completions");
    let backoff_limit = pods::int_at(&job, "/spec/backoffLimit").unwrap_or(6).max(0);
    let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let on_failure = pods::str_at(&job, "/spec/template/spec/restartPolicy") == "OnFailure";
    let all = owned_pods(e, pods::uid(&job));
    let phase = |p: &Value| pods::str_at(p, "/status/phase").to_owned();
    let active: Vec<&Arc<Value>> = all.iter().filter(|p| pods::is_active(p)).collect();
    let succeeded = all.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
    let failed_pods = all.iter().filter(|p| phase(p) == "Failed").count() as i64;
    let restarts: i64 = if on_failure {
        active
            .iter()
            .flat_map(|p| {
                p.pointer("/status/containerStatuses")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
            .sum()
    } else {
        0
    };
    let succeeded = succeeded.max(pods::int_at(&job, "/status/succeeded").unwrap_or(0));
    let failed = (failed_pods + restarts).max(pods::int_at(&job, "/status/failed").unwrap_or(0));
    let now = e.store.now_rfc3339();
    let mut status = job.get("status").cloned().unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    if status.get("startTime").is_none() && !suspended {
        status["startTime"] = json!(now);
    }
    let complete = match completions {
        Some(c) => succeeded >= c,
        None => succeeded >= 1 && active.is_empty(),
    };
    let mut conds: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut active_count = active.len() as i64;
    if failed > backoff_limit {
        for p in &active {
            let _ = e.store.delete(
                &pods::ref_of(pods::gvr(), &pods::key_of(p)),
                &DeleteOptions::default(),
            );
        }
        active_count = 0;
        let msg = "Job has reached the specified backoff limit";
        conds.push(job_condition(
            "FailureTarget",
            "BackoffLimitExceeded",
            msg,
            &now,
        ));
        conds.push(job_condition("Failed", "BackoffLimitExceeded", msg, &now));
        e.events.job.record(
            About::object(&job),
            EventType::Warning,
            "BackoffLimitExceeded",
            msg,
        );
    } else if complete {
        let msg = "Reached expected number of succeeded pods";
        conds.push(job_condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            msg,
            &now,
        ));
        conds.push(job_condition("Complete", "CompletionsReached", msg, &now));
        e.events.job.record(
            About::object(&job),
            EventType::Normal,
            "Completed",
            "Job completed",
        );
        status["completionTime"] = json!(now);
    } else if !suspended {
        let remaining = completions.map_or(parallelism, |c| (c - succeeded).max(0));
        let want = parallelism.min(remaining);
        let missing = want - active_count;
        if missing > 0 {
            // Failed pods are replaced after the back-off since the last failure.
            let last_failure = all
                .iter()
                .filter(|p| phase(p) == "Failed")
                .filter_map(|p| {
                    p.pointer("/status/containerStatuses/0/state/terminated/finishedAt")
                })
                .filter_map(Value::as_str)
                .filter_map(|s| s.parse::<jiff::Timestamp>().ok())
                .max();
            let wait_until = last_failure.map(|t| {
                let n = u32::try_from(failed_pods).unwrap_or(u32::MAX);
                crate::sim::workloads::images::add(t, POD_FAILURE_BACKOFF.delay(n))
            });
            match wait_until {
                Some(t) if t > e.now() => e.requeue_at(Ctl::Job, key, t),
                _ => {
                    if missing > replicaset::BURST as i64 {
                        e.enqueue(Ctl::Job, key);
                    }
                    for _ in 0..missing.min(replicaset::BURST as i64) {
                        if create_pod(e, &job, &ns).is_some() {
                            active_count += 1;
                        }
                    }
                }
            }
        }
    }
    let ready = active.iter().filter(|p| pods::is_ready(p)).count();
    status["active"] = json!(active_count);
    status["succeeded"] = json!(succeeded);
    status["failed"] = json!(failed);
    status["ready"] = json!(ready);
    status["terminating"] = json!(0);
    status["uncountedTerminatedPods"] = json!({});
    if !conds.is_empty() {
        status["conditions"] = json!(conds);
    }
    let status = replicaset::strip_zeros(status, &["active", "succeeded", "failed"]);
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            o["status"] = status;
            Ok(())
        },
    );
}

fn create_pod(e: &mut Engine, job: &Value, ns: &str) -> Option<Arc<Value>> {
    let name = pods::name(job);
    let uid = pods::uid(job).to_owned();
    let pod_name = e.pod_name(&format!("job/{}", pods::key_of(job)), ns, name);
    let template = job
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let pod = pods::from_template(
        &template,
        ns,
        &pod_name,
        pods::owner_ref(job, "batch/v1", "Job"),
        &[
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", name),
            ("controller-uid", &uid),
            ("job-name", name),
        ],
        replicaset::toleration_secs(e),
    );
    let created = e
        .store
        .create(&pods::gvr(), Some(ns), pod, &WriteOptions::manager(KCM));
    let (t, reason, message) = match &created {
        Ok(_) => (
            EventType::Normal,
            "SuccessfulCreate",
            format!("Created pod: {pod_name}"),
        ),
        Err(err) => (
            EventType::Warning,
            "FailedCreate",
            format!("Error creating: {}", err.message),
        ),
    };
    e.events.job.record(About::object(job), t, reason, &message);
    created
        .map_err(|err| tracing::debug!(job = name, error = %err, "sim: could not create pod"))
        .ok()
}
