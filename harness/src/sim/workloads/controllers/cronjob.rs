//! The CronJob controller on the simulated clock: at each time of
//! `spec.schedule` (standard 5-field cron or `@daily`…, in `spec.timeZone`
//! or UTC, parsed with the `croner` crate) it creates a Job
//! `<cronjob>-<minutes since the epoch>` from `spec.jobTemplate`, as
//! kube-controller-manager's `cronjob_controllerv2` does:
//!
//! - only the most recent missed time runs (more than 100 missed:
//!   `TooManyMissedTimes`), and not when it is older than
//!   `startingDeadlineSeconds`;
//! - `concurrencyPolicy`: `Allow` runs Jobs side by side, `Forbid` skips a
//!   time while one is active (`JobAlreadyActive`), `Replace` deletes the
//!   active ones first;
//! - `suspend` creates nothing; finished Jobs beyond
//!   `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted,
//!   oldest first;
//! - `status.active`, `lastScheduleTime`, `lastSuccessfulTime`, and the
//!   Events `SuccessfulCreate`, `SawCompletedJob`, `SuccessfulDelete`.

use std::sync::Arc;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::agenda::Ctl;
use super::engine::Engine;
use super::pods;
use crate::sim::recorder::{About, EventType};
use crate::sim::storage::store::{DeleteOptions, Gvr, WriteOptions};

const KCM: &str = "kube-controller-manager";
/// The most missed times the controller looks back over.
const MAX_MISSED: usize = 100;
/// The annotation with a Job's scheduled time.
const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

pub(crate) fn gvr() -> Gvr {
    Gvr::new("batch", "v1", "cronjobs")
}

fn jobs() -> Gvr {
    Gvr::new("batch", "v1", "jobs")
}

/// A schedule as Kubernetes reads it: five fields (no seconds, no year),
/// day of month and day of week OR-ed, the `@` descriptors.
fn parse(schedule: &str) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(schedule)
        .map_err(|e| e.to_string())
}

fn finished(job: &Value) -> Option<&'static str> {
    ["Complete", "Failed"]
        .into_iter()
        .find(|t| pods::condition(job, t).is_some_and(|c| pods::str_at(c, "/status") == "True"))
}

fn time_at(v: &Value, ptr: &str) -> Option<Timestamp> {
    pods::str_at(v, ptr).parse().ok()
}

fn reference(job: &Value) -> Value {
    json!({"kind": "Job", "namespace": pods::namespace(job), "name": pods::name(job),
        "uid": pods::uid(job), "apiVersion": "batch/v1",
        "resourceVersion": pods::str_at(job, "/metadata/resourceVersion")})
}

/// The most recent schedule time in `(after, now]`, and how many there were.
fn most_recent(
    cron: &Cron,
    tz: &TimeZone,
    after: Timestamp,
    now: Timestamp,
) -> (Option<Timestamp>, usize) {
    let mut last = None;
    let mut count = 0;
    let mut at = after.to_zoned(tz.clone());
    while let Ok(next) = cron.find_next_occurrence(&at, false) {
        if next.timestamp() > now {
            break;
        }
        count += 1;
        last = Some(next.timestamp());
        if count > MAX_MISSED {
            // Jump to the last occurrence before now rather than walk on.
            let before = cron.find_previous_occurrence(&now.to_zoned(tz.clone()), true);
            return (before.ok().map(|z| z.timestamp()), count);
        }
        at = next;
    }
    (last, count)
}

/// Reconciles one CronJob.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(cj) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&cj) {
        return;
    }
    let ns = pods::namespace(&cj).to_owned();
    let owned: Vec<Arc<Value>> = e
        .store
        .list(&jobs(), Some(&ns), &Default::default())
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|j| pods::controller_of(j).is_some_and(|(_, _, uid)| uid == pods::uid(&cj)))
        .collect();
    saw_completed(e, &cj, &owned);
    let mut active: Vec<Arc<Value>> = owned
        .iter()
        .filter(|j| finished(j).is_none())
        .cloned()
        .collect();
    clean_history(e, &cj, &owned);
    let mut last_schedule = time_at(&cj, "/status/lastScheduleTime");
    let suspended = cj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    if !suspended && let Some(t) = schedule(e, key, &cj, &mut active) {
        last_schedule = Some(t);
    }
    write_status(e, key, &owned, &active, last_schedule);
}

/// Runs the schedule: creates the Job of the most recent missed time (if
/// any and allowed) and requeues at the next time. Returns the time run.
fn schedule(
    e: &mut Engine,
    key: &str,
    cj: &Value,
    active: &mut Vec<Arc<Value>>,
) -> Option<Timestamp> {
    let spec = pods::str_at(cj, "/spec/schedule");
    let tz = match pods::str_at(cj, "/spec/timeZone") {
        "" => TimeZone::UTC,
        name => match TimeZone::get(name) {
            Ok(tz) => tz,
            Err(_) => {
                let msg = format!("invalid timeZone: {name:?}: unknown time zone {name}");
                e.events.cronjob.record(
                    About::object(cj),
                    EventType::Warning,
                    "UnknownTimeZone",
                    &msg,
                );
                return None;
            }
        },
    };
    let cron = match parse(spec) {
        Ok(c) => c,
        Err(err) => {
            let msg = format!("unparseable schedule: {spec:?} : {err}");
            e.events.cronjob.record(
                About::object(cj),
                EventType::Warning,
                "UnparseableSchedule",
                &msg,
            );
            return None;
        }
    };
    let now = e.now();
    let since = time_at(cj, "/status/lastScheduleTime")
        .or_else(|| time_at(cj, "/metadata/creationTimestamp"))
        .unwrap_or(now);
    let deadline = pods::int_at(cj, "/spec/startingDeadlineSeconds");
    let since = match deadline {
        Some(d) => since.max(now - jiff::SignedDuration::from_secs(d)),
        None => since,
    };
    let (due, missed) = most_recent(&cron, &tz, since, now);
    if let Ok(next) = cron.find_next_occurrence(&now.to_zoned(tz.clone()), false) {
        e.requeue_at(Ctl::CronJob, key, next.timestamp());
    }
    let due = due?;
    if missed > MAX_MISSED {
        let msg = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
        e.events.cronjob.record(
            About::object(cj),
            EventType::Warning,
            "TooManyMissedTimes",
            msg,
        );
    }
    match pods::str_at(cj, "/spec/concurrencyPolicy") {
        "Forbid" if !active.is_empty() => {
            e.events.cronjob.record(
                About::object(cj),
                EventType::Normal,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            );
            return None;
        }
        "Replace" => {
            for j in active.drain(..) {
                delete_job(e, cj, &j);
            }
        }
        _ => {}
    }
    let job = create_job(e, cj, due)?;
    active.push(job);
    Some(due)
}

fn create_job(e: &mut Engine, cj: &Value, at: Timestamp) -> Option<Arc<Value>> {
    let ns = pods::namespace(cj);
    let name = format!("{}-{}", pods::name(cj), at.as_second().div_euclid(60));
    let template = cj
        .pointer("/spec/jobTemplate")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut meta = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    pods::ensure_object(&mut meta);
    meta["name"] = json!(name);
    meta["namespace"] = json!(ns);
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta["annotations"] = json!({});
    }
    meta["annotations"][SCHEDULED] = json!(at.to_string());
    meta["ownerReferences"] = json!([pods::owner_ref(cj, "batch/v1", "CronJob")]);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({}))});
    match e
        .store
        .create(&jobs(), Some(ns), job, &WriteOptions::manager(KCM))
    {
        Ok(j) => {
            e.events.cronjob.record(
                About::object(cj),
                EventType::Normal,
                "SuccessfulCreate",
                &format!("Created job {name}"),
            );
            Some(j)
        }
        // Created already (the same scheduled time).
        Err(err) if err.reason == crate::sim::Reason::AlreadyExists => None,
        Err(err) => {
            e.events.cronjob.record(
                About::object(cj),
                EventType::Warning,
                "FailedCreate",
                &format!("Error creating job: {}", err.message),
            );
            None
        }
    }
}

fn delete_job(e: &Engine, cj: &Value, job: &Value) {
    let r = pods::ref_of(jobs(), &pods::key_of(job));
    let opts = DeleteOptions {
        propagation: Some(crate::sim::storage::store::Propagation::Background),
        ..DeleteOptions::default()
    };
    if e.store.delete(&r, &opts).is_ok() {
        e.events.cronjob.record(
            About::object(cj),
            EventType::Normal,
            "SuccessfulDelete",
            &format!("Deleted job {}", pods::name(job)),
        );
    }
}

/// `SawCompletedJob` for the Jobs still listed active that finished.
fn saw_completed(e: &Engine, cj: &Value, owned: &[Arc<Value>]) {
    let listed = cj.pointer("/status/active").and_then(Value::as_array);
    for j in owned {
        let Some(cond) = finished(j) else { continue };
        if listed.is_some_and(|a| a.iter().any(|r| pods::str_at(r, "/uid") == pods::uid(j))) {
            e.events.cronjob.record(
                About::object(cj),
                EventType::Normal,
                "SawCompletedJob",
                &format!("Saw completed job: {}, condition: {cond}", pods::name(j)),
            );
        }
    }
}

/// Deletes finished Jobs beyond the history limits, oldest first.
fn clean_history(e: &Engine, cj: &Value, owned: &[Arc<Value>]) {
    for (cond, limit_ptr, default) in [
        ("Complete", "/spec/successfulJobsHistoryLimit", 3),
        ("Failed", "/spec/failedJobsHistoryLimit", 1),
    ] {
        let limit =
            usize::try_from(pods::int_at(cj, limit_ptr).unwrap_or(default).max(0)).unwrap_or(0);
        let mut done: Vec<&Arc<Value>> =
            owned.iter().filter(|j| finished(j) == Some(cond)).collect();
        done.sort_by_key(|j| (time_at(j, "/status/startTime"), pods::name(j).to_owned()));
        let excess = done.len().saturating_sub(limit);
        for j in done.into_iter().take(excess) {
            delete_job(e, cj, j);
        }
    }
}

fn write_status(
    e: &Engine,
    key: &str,
    owned: &[Arc<Value>],
    active: &[Arc<Value>],
    last: Option<Timestamp>,
) {
    let last_success = owned
        .iter()
        .filter(|j| finished(j) == Some("Complete"))
        .filter_map(|j| time_at(j, "/status/completionTime"))
        .max();
    let refs: Vec<Value> = active.iter().map(|j| reference(j)).collect();
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            if !o.get("status").is_some_and(Value::is_object) {
                o["status"] = json!({});
            }
            let st = &mut o["status"];
            match refs.is_empty() {
                true => {
                    if let Some(m) = st.as_object_mut() {
                        m.remove("active");
                    }
                }
                false => st["active"] = json!(refs),
            }
            if let Some(t) = last {
                st["lastScheduleTime"] = json!(t.to_string());
            }
            if let Some(t) = last_success {
                st["lastSuccessfulTime"] = json!(t.to_string());
            }
            Ok(())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn schedules_read_as_kubernetes_reads_them() {
        let daily = parse("@daily").unwrap();
        let (due, n) = most_recent(
            &daily,
            &TimeZone::UTC,
            t("2026-03-01T09:00:00Z"),
            t("2026-03-03T01:00:00Z"),
        );
        assert_eq!((due, n), (Some(t("2026-03-03T00:00:00Z")), 2));
        let every5 = parse("*/5 * * * *").unwrap();
        let (due, n) = most_recent(
            &every5,
            &TimeZone::UTC,
            t("2026-03-01T09:00:00Z"),
            t("2026-03-01T09:04:59Z"),
        );
        assert_eq!((due, n), (None, 0));
        // 0 and 7 are Sunday; 2026-03-01 is a Sunday.
        let sunday = parse("30 2 * * 0").unwrap();
        let (due, _) = most_recent(
            &sunday,
            &TimeZone::UTC,
            t("2026-02-28T00:00:00Z"),
            t("2026-03-02T00:00:00Z"),
        );
        assert_eq!(due, Some(t("2026-03-01T02:30:00Z")));
        assert!(parse("0 0 0 * * *").is_err(), "six fields are refused");
        assert!(parse("not a schedule").is_err());
    }
}
