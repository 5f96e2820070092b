//! Waiting until every Kustomization of a cluster is Ready — what
//! `kubectl wait --for=condition=Ready kustomization --all -A` checks — for
//! `gameday sim serve --source`, which announces `ready:` only then.
//!
//! A Kustomization is Ready with `Ready=True` for its current generation
//! (`status.observedGeneration == metadata.generation`). One that cannot
//! get there without a change to its source ends the wait at once: a
//! `Stalled=True` condition, or `Ready=False` for its current generation
//! with reason `BuildFailed` or `ReconciliationFailed` (its manifests do
//! not build or apply) or `ArtifactFailed` saying `kustomization path not
//! found` (Flux's words: the path is not in the source). Others (`DependencyNotReady`, `ArtifactFailed`,
//! `HealthCheckFailed`, progressing) are waited on until the timeout, on
//! the cluster's clock. Watch-based.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use crate::clock::Clock;
use crate::kstatus::condition;

/// Reasons of `Ready=False` that retrying the same source does not fix.
const PERMANENT: &[&str] = &["BuildFailed", "ReconciliationFailed"];

/// Why not every Kustomization became Ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Some cannot become Ready (failed), or did not in time.
    #[error("{}", describe(.failed, .pending, *.after))]
    NotReady {
        /// Those that failed: `Kustomization ns/name: reason: message`.
        failed: Vec<String>,
        /// Those still not Ready at the timeout, with their state.
        pending: Vec<String>,
        /// The timeout, when it passed.
        after: Option<Duration>,
    },
    /// There is no Kustomization at all.
    #[error("no Kustomization exists: nothing is reconciled")]
    None,
}

fn describe(failed: &[String], pending: &[String], after: Option<Duration>) -> String {
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!("cannot become Ready: {}", failed.join("; ")));
    }
    if !pending.is_empty() {
        let when = after.map_or_else(String::new, |d| {
            let whole = Duration::from_secs(d.as_secs_f64().round() as u64);
            format!(
                " within {}",
                crate::scenario::duration::format_duration(whole)
            )
        });
        parts.push(format!("not Ready{when}: {}", pending.join("; ")));
    }
    parts.join("; ")
}

/// Where one Kustomization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Ready,
    Pending(String),
    Failed(String),
}

fn judge(o: &Value) -> State {
    let generation = o.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = o
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    if let Some(s) = condition(o, "Stalled")
        && s.get("status").and_then(Value::as_str) == Some("True")
    {
        let msg = s.get("message").and_then(Value::as_str).unwrap_or("");
        return State::Failed(format!("Stalled: {msg}"));
    }
    let Some(ready) = condition(o, "Ready") else {
        return State::Pending("no Ready condition yet".to_owned());
    };
    let status = ready
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let reason = ready.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = ready.get("message").and_then(Value::as_str).unwrap_or("");
    let current = ready
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .is_none_or(|g| Some(g) == generation);
    if status == "True" && observed == generation {
        return State::Ready;
    }
    let permanent = PERMANENT.contains(&reason)
        || (reason == "ArtifactFailed" && message.starts_with("kustomization path not found"));
    if status == "False" && current && permanent {
        return State::Failed(format!("Ready=False, {reason}: {message}"));
    }
    State::Pending(format!("Ready={status}, {reason}: {message}"))
}

fn kustomizations() -> ApiResource {
    let group = "kustomize.toolkit.fluxcd.io";
    ApiResource {
        group: group.to_owned(),
        version: "v1".to_owned(),
        api_version: format!("{group}/v1"),
        kind: "Kustomization".to_owned(),
        plural: "kustomizations".to_owned(),
    }
}

/// Waits until every Kustomization in every namespace is Ready (at least
/// one must exist), at most `timeout` on `clock`; returns their names
/// (`namespace/name`), sorted.
///
/// # Errors
/// [`Error::NotReady`] naming each one that failed or was not Ready in
/// time, with its condition; [`Error::None`] when none exists at the
/// timeout.
pub async fn wait_all_ready(
    client: &kube::Client,
    clock: &Clock,
    timeout: Duration,
) -> Result<Vec<String>, Error> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &kustomizations());
    let mut events = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut seen: BTreeMap<String, State> = BTreeMap::new();
    let mut synced = false;
    let waited = clock
        .timeout(timeout, async {
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                        let key = key(&o);
                        let v = serde_json::to_value(&o).unwrap_or(Value::Null);
                        seen.insert(key, judge(&v));
                    }
                    Ok(watcher::Event::Delete(o)) => {
                        seen.remove(&key(&o));
                    }
                    Ok(watcher::Event::Init) => seen.clear(),
                    Ok(watcher::Event::InitDone) => synced = true,
                    Err(e) => {
                        tracing::debug!(error = %e, "watch error (retried)");
                        continue;
                    }
                }
                if !synced {
                    continue;
                }
                let failed = listed(&seen, |s| matches!(s, State::Failed(_)));
                if !failed.is_empty() {
                    return Err(Error::NotReady {
                        failed,
                        pending: Vec::new(),
                        after: None,
                    });
                }
                if !seen.is_empty() && seen.values().all(|s| *s == State::Ready) {
                    return Ok(seen.keys().cloned().collect());
                }
            }
            Err(Error::None)
        })
        .await;
    match waited {
        Ok(r) => r,
        Err(_) if seen.is_empty() => Err(Error::None),
        Err(_) => Err(Error::NotReady {
            failed: Vec::new(),
            pending: listed(&seen, |s| !matches!(s, State::Ready)),
            after: Some(timeout),
        }),
    }
}

fn key(o: &DynamicObject) -> String {
    format!(
        "{}/{}",
        o.metadata.namespace.as_deref().unwrap_or(""),
        o.metadata.name.as_deref().unwrap_or("")
    )
}

fn listed(seen: &BTreeMap<String, State>, pick: impl Fn(&State) -> bool) -> Vec<String> {
    seen.iter()
        .filter(|(_, s)| pick(s))
        .map(|(k, s)| match s {
            State::Ready => format!("Kustomization {k}"),
            State::Pending(why) | State::Failed(why) => format!("Kustomization {k} ({why})"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ks(generation: i64, observed: i64, ready: &str, reason: &str) -> Value {
        json!({"metadata": {"generation": generation}, "status": {"observedGeneration": observed,
            "conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": "m", "observedGeneration": observed}]}})
    }

    #[test]
    fn ready_only_for_the_current_generation() {
        assert_eq!(
            judge(&ks(2, 2, "True", "ReconciliationSucceeded")),
            State::Ready
        );
        assert!(matches!(
            judge(&ks(3, 2, "True", "ReconciliationSucceeded")),
            State::Pending(_)
        ));
        assert!(matches!(
            judge(&json!({"metadata": {"generation": 1}})),
            State::Pending(_)
        ));
    }

    #[test]
    fn build_failures_and_stalls_end_the_wait_dependencies_do_not() {
        assert_eq!(
            judge(&ks(1, 1, "False", "BuildFailed")),
            State::Failed("Ready=False, BuildFailed: m".into())
        );
        assert!(matches!(
            judge(&ks(1, 1, "False", "DependencyNotReady")),
            State::Pending(_)
        ));
        assert!(matches!(
            judge(&ks(1, 1, "False", "ArtifactFailed")),
            State::Pending(_)
        ));
        let mut missing = ks(1, 1, "False", "ArtifactFailed");
        missing["status"]["conditions"][0]["message"] =
            json!("kustomization path not found: stat /a/apps: no such file or directory");
        assert!(matches!(judge(&missing), State::Failed(_)));
        assert!(matches!(
            judge(&ks(1, 1, "False", "HealthCheckFailed")),
            State::Pending(_)
        ));
        let stalled = json!({"metadata": {"generation": 1}, "status": {"conditions": [
            {"type": "Stalled", "status": "True", "reason": "InvalidPath", "message": "no such path"}]}});
        assert_eq!(
            judge(&stalled),
            State::Failed("Stalled: no such path".into())
        );
    }

    #[test]
    fn the_error_names_each_kustomization() {
        let e = Error::NotReady {
            failed: vec!["Kustomization flux-system/apps (Ready=False, BuildFailed: boom)".into()],
            pending: vec!["Kustomization flux-system/infra (Ready=Unknown, Progressing: m)".into()],
            after: Some(Duration::from_secs(300)),
        };
        assert_eq!(
            e.to_string(),
            "cannot become Ready: Kustomization flux-system/apps (Ready=False, BuildFailed: boom); not Ready within 5m: Kustomization flux-system/infra (Ready=Unknown, Progressing: m)"
        );
    }
}
