//! `helm test` on the simulated clock. helm creates the test-hook Pods and
//! watches them in wall time; the Pods run on the simulated clock, which
//! stands still while the controller holds its guard. So the controller
//! holds it while helm starts, lets go of it only from the moment every
//! test Pod of this run exists until each has finished (`Succeeded` or
//! `Failed`) or `timeout` of simulated time passed — the Pods' own run
//! time, as a real cluster spends it — and holds it again while helm reads
//! the outcome. Test hooks that are not Pods (a Job) are waited for with
//! the guard let go for the whole of `helm test`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::clock::Busy;
use crate::gitops::helm::{Error, Helm};
use crate::process::{Output, ProcessError};
use crate::sim::storage::store::{EventFilter, EventType, Gvr, ObjectRef, Store};

/// How `helm test` ended: helm's report (stdout), or its error and
/// report.
pub type Outcome = Result<String, (String, String)>;

fn outcome(out: Result<Output, Error>) -> Outcome {
    match out {
        Ok(o) => Ok(o.stdout),
        Err(e) => {
            let stdout = match &e {
                Error::Failed {
                    source: ProcessError::Failed { stdout, .. },
                    ..
                } => stdout.clone(),
                _ => String::new(),
            };
            Err((super::release::text(&e), stdout))
        }
    }
}

/// The test hooks of a release's hooks (`helm get hooks`): Pods by name,
/// and whether any test hook is of another kind.
pub fn test_hooks(hooks: &str, namespace: &str) -> (Vec<(String, String)>, bool) {
    let (mut pods, mut other) = (Vec::new(), false);
    for doc in serde_yaml::Deserializer::from_str(hooks) {
        let Ok(v) = <Value as serde::Deserialize>::deserialize(doc) else {
            continue;
        };
        let hook = v
            .pointer("/metadata/annotations/helm.sh~1hook")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !hook
            .split(',')
            .any(|h| matches!(h.trim(), "test" | "test-success"))
        {
            continue;
        }
        let s = |p: &str| v.pointer(p).and_then(Value::as_str);
        match (s("/kind"), s("/metadata/name")) {
            (Some("Pod"), Some(name)) => pods.push((
                s("/metadata/namespace").unwrap_or(namespace).to_owned(),
                name.to_owned(),
            )),
            _ => other = true,
        }
    }
    (pods, other)
}

fn pod_ref(ns: &str, name: &str) -> ObjectRef {
    ObjectRef::namespaced(Gvr::core("pods"), ns, name)
}

fn uid(store: &Store, ns: &str, name: &str) -> Option<String> {
    let p = store.get(&pod_ref(ns, name)).ok()?;
    p.pointer("/metadata/uid")?.as_str().map(str::to_owned)
}

/// The test Pods of this run: each exists with a uid not in `before`.
fn all_new(store: &Store, pods: &[(String, String)], before: &BTreeSet<String>) -> bool {
    pods.iter()
        .all(|(ns, n)| uid(store, ns, n).is_some_and(|u| !before.contains(&u)))
}

fn all_done(store: &Store, pods: &[(String, String)]) -> bool {
    pods.iter().all(|(ns, n)| {
        store.get(&pod_ref(ns, n)).ok().is_some_and(|p| {
            matches!(
                p.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            )
        })
    })
}

/// Holds `busy` until the test Pods of this run exist, lets simulated time
/// pass until they finished (or `timeout`: Err), and returns a guard held.
async fn run_pods(
    store: &Store,
    pods: &[(String, String)],
    before: &BTreeSet<String>,
    timeout: Duration,
    busy: Busy,
) -> Result<Busy, Busy> {
    let clock = store.clock().clone();
    let mut sub = store.subscribe(EventFilter::resource(Gvr::core("pods").group_resource()));
    while !all_new(store, pods, before) {
        match sub.recv().await {
            Some(d) => drop(d.busy),
            None => return Ok(busy),
        }
    }
    if all_done(store, pods) {
        return Ok(busy);
    }
    drop(busy);
    let waited = clock
        .timeout(timeout, async {
            loop {
                match sub.recv().await {
                    Some(d) if d.event.kind != EventType::Deleted && all_done(store, pods) => {
                        return d.busy;
                    }
                    Some(d) => drop(d.busy),
                    None => std::future::pending::<()>().await,
                }
            }
        })
        .await;
    waited.map_err(|_| clock.busy())
}

/// `helm test` of `release`, its test Pods run on the simulated clock (see
/// the module docs); a Pod still running after `timeout` of simulated time
/// stops helm and fails the test as helm would. Returns the outcome and a
/// guard held.
pub async fn run(
    helm: &Helm,
    store: &Store,
    release: &str,
    namespace: &str,
    timeout: Duration,
    busy: Busy,
) -> (Outcome, Busy) {
    let hooks = helm.get_hooks(release, namespace).await.unwrap_or_default();
    let (pods, other) = test_hooks(&hooks, namespace);
    let clock = store.clock().clone();
    if other {
        drop(busy);
        let out = helm.test(release, namespace, timeout).await;
        return (outcome(out), clock.busy());
    }
    let before: BTreeSet<String> = pods
        .iter()
        .filter_map(|(ns, n)| uid(store, ns, n))
        .collect();
    let test = helm.test(release, namespace, timeout);
    tokio::pin!(test);
    let pods_run = run_pods(store, &pods, &before, timeout, busy);
    tokio::pin!(pods_run);
    tokio::select! {
        // helm ended first (no test Pod, or it failed to create one): the
        // guard was held throughout.
        out = &mut test => (outcome(out), clock.busy()),
        ran = &mut pods_run => match ran {
            Ok(busy) => (outcome(test.await), busy),
            // Dropping helm's future kills it.
            Err(busy) => {
                // Helm marks a hook it gave up on as failed; its report
                // would say so.
                let report: String = pods
                    .iter()
                    .map(|(_, n)| format!("TEST SUITE:     {n}\nPhase:          Failed\n"))
                    .collect();
                let msg = "timed out waiting for the condition".to_owned();
                (Err((msg, report)), busy)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pods_are_read_from_the_hooks() {
        let hooks = "---\n# Source: hello/templates/tests/t.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-hello-test\n  annotations:\n    helm.sh/hook: test\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\n";
        let (pods, other) = test_hooks(hooks, "apps");
        assert_eq!(pods, [("apps".to_owned(), "web-hello-test".to_owned())]);
        assert!(!other);
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test-success,post-install\n";
        assert_eq!(test_hooks(job, "apps"), (Vec::new(), true));
    }
}
