//! What `kubectl` asks when someone explores a simulated cluster, answered
//! as truthfully as a simulator can:
//!
//! - `kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview):
//!   the cluster's token is cluster-admin, so everything is allowed;
//! - `kubectl logs`: no container runs, so there is no output; the log is
//!   what the simulated kubelet knows of the container (image pulled,
//!   started, exit codes, restarts), every line marked as simulated;
//! - `kubectl exec`, `attach`, `cp` and `port-forward`: a Status saying the
//!   simulator runs no processes (rather than a NotFound that reads as "the
//!   pod does not exist").

use serde_json::{Value, json};

use super::route::ResourcePath;
use crate::sim::storage::resource::{Gvr, ObjectRef};
use crate::sim::storage::status::{ApiError, ApiResult};
use crate::sim::storage::store::Store;

/// The endpoints of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
    AccessReview,
    /// `POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews`.
    RulesReview,
    /// `GET …/pods/{name}/log`.
    Log,
    /// `…/pods/{name}/exec|attach|portforward`.
    Process,
}

/// Which endpoint of this module `rp` names, if any.
pub fn endpoint(rp: &ResourcePath) -> Option<Endpoint> {
    match (rp.group.as_str(), rp.plural.as_str(), rp.sub.as_deref()) {
        ("authorization.k8s.io", "selfsubjectaccessreviews", None) if rp.name.is_none() => {
            Some(Endpoint::AccessReview)
        }
        ("authorization.k8s.io", "selfsubjectrulesreviews", None) if rp.name.is_none() => {
            Some(Endpoint::RulesReview)
        }
        ("", "pods", Some("log")) => Some(Endpoint::Log),
        ("", "pods", Some("exec" | "attach" | "portforward")) => Some(Endpoint::Process),
        _ => None,
    }
}

/// The answer of a review: the request echoed with its status.
///
/// # Errors
/// 400 when the body is not a review object.
pub fn review(endpoint: Endpoint, body: &Value) -> ApiResult<Value> {
    let kind = match endpoint {
        Endpoint::AccessReview => "SelfSubjectAccessReview",
        _ => "SelfSubjectRulesReview",
    };
    if !body.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body must be a {kind} object"
        )));
    }
    let mut out = body.clone();
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!(kind);
    out["status"] = match endpoint {
        Endpoint::AccessReview => json!({
            "allowed": true,
            "reason": "the simulated cluster's token is cluster-admin: every request is allowed",
        }),
        _ => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
    };
    Ok(out)
}

/// The Status of `exec`, `attach`, `port-forward` (and `cp`, which execs).
pub fn no_processes(rp: &ResourcePath) -> ApiError {
    let what = match rp.sub.as_deref() {
        Some("portforward") => "port-forward",
        Some(s) => s,
        None => "exec",
    };
    ApiError::bad_request(format!(
        "{what} is not available on gameday's simulated cluster: it runs no processes (pods, containers and their state are simulated; kubectl exec, attach, cp and port-forward need a real cluster, e.g. a kind provider)"
    ))
}

/// `kubectl logs`: what the simulated kubelet knows of one container,
/// every line marked `[simulated]`.
///
/// `container` defaults to the only container (a pod with several needs
/// one named, as on a real cluster); `previous` shows the last terminated
/// run.
///
/// # Errors
/// 404 when the pod does not exist; 400 for an unknown or missing
/// container, or `previous` without a terminated run.
pub fn logs(
    store: &Store,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    previous: bool,
) -> ApiResult<String> {
    let obj = store.get(&ObjectRef {
        gvr: Gvr::new("", "v1", "pods"),
        namespace: Some(namespace.to_owned()),
        name: pod.to_owned(),
    })?;
    let spec: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| obj.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let names: Vec<&str> = spec
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let name = match container {
        Some(c) if names.contains(&c) => c,
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {pod}"
            )));
        }
        None if names.len() == 1 => names[0],
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let image = spec
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|c| c.get("image").and_then(Value::as_str))
        .unwrap_or("");
    let status = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| {
            obj.pointer(&format!("/status/{k}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name));
    let mut lines = vec![format!(
        "[simulated] gameday's simulated kubelet runs no process: this is what it knows of container {name:?} of pod {namespace}/{pod}, not the container's output"
    )];
    let Some(status) = status else {
        lines.push(format!(
            "[simulated] not started yet (pod phase {})",
            obj.pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Pending")
        ));
        return Ok(lines.join("\n") + "\n");
    };
    if previous {
        let Some(last) = status.pointer("/lastState/terminated") else {
            return Err(ApiError::bad_request(format!(
                "previous terminated container {name:?} in pod {pod:?} not found"
            )));
        };
        lines.push(format!("[simulated] image {image:?} pulled"));
        lines.extend(terminated(last));
        return Ok(lines.join("\n") + "\n");
    }
    let restarts = status
        .get("restartCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if status
        .get("imageID")
        .and_then(Value::as_str)
        .is_some_and(|i| !i.is_empty())
    {
        lines.push(format!("[simulated] image {image:?} pulled"));
    }
    if let Some(last) = status.pointer("/lastState/terminated") {
        lines.push("[simulated] previous run:".to_owned());
        lines.extend(terminated(last));
    }
    if restarts > 0 {
        lines.push(format!("[simulated] restarted {restarts} time(s)"));
    }
    let state = status.get("state").cloned().unwrap_or(Value::Null);
    if let Some(r) = state.get("running") {
        lines.push(format!(
            "[simulated] {} container started",
            text(r, "startedAt")
        ));
    } else if let Some(t) = state.get("terminated") {
        lines.extend(terminated(t));
    } else if let Some(w) = state.get("waiting") {
        let message = w
            .get("message")
            .and_then(Value::as_str)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        lines.push(format!(
            "[simulated] waiting: {}{message}",
            text(w, "reason")
        ));
    }
    Ok(lines.join("\n") + "\n")
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("-")
}

fn terminated(t: &Value) -> Vec<String> {
    vec![
        format!("[simulated] {} container started", text(t, "startedAt")),
        format!(
            "[simulated] {} container exited with code {} ({})",
            text(t, "finishedAt"),
            t.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
            text(t, "reason")
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::sim::storage::store::WriteOptions;

    fn store_with_pod(status: Value) -> Store {
        let store = Store::new(
            crate::sim::storage::kinds::Registry::with_builtins(),
            Clock::wall(),
            crate::sim::storage::store::StoreOptions::default(),
        );
        let opts = WriteOptions::manager("t");
        store
            .create(
                &Gvr::core("namespaces"),
                None,
                json!({"metadata": {"name": "default"}}),
                &opts,
            )
            .unwrap();
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}});
        store
            .create(&Gvr::new("", "v1", "pods"), Some("default"), pod, &opts)
            .unwrap();
        store
            .mutate(
                &ObjectRef {
                    gvr: Gvr::new("", "v1", "pods"),
                    namespace: Some("default".into()),
                    name: "p".into(),
                },
                true,
                &opts,
                |o| {
                    o["status"] = status.clone();
                    Ok(())
                },
            )
            .unwrap();
        store
    }

    #[test]
    fn logs_tell_what_the_kubelet_knows_marked_simulated() {
        let store = store_with_pod(json!({"phase": "Running", "containerStatuses": [{
            "name": "app", "imageID": "docker.io/library/nginx@sha256:1", "restartCount": 2,
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:01:00Z"}},
            "state": {"running": {"startedAt": "2026-01-01T00:02:00Z"}}}]}));
        let log = logs(&store, "default", "p", None, false).unwrap();
        assert!(log.lines().all(|l| l.starts_with("[simulated]")), "{log}");
        for want in [
            "image \"nginx:1.27\" pulled",
            "exited with code 137 (OOMKilled)",
            "restarted 2 time(s)",
            "2026-01-01T00:02:00Z container started",
        ] {
            assert!(log.contains(want), "{want} in {log}");
        }
        let prev = logs(&store, "default", "p", Some("app"), true).unwrap();
        assert!(prev.contains("code 137"), "{prev}");
        assert_eq!(
            logs(&store, "default", "p", Some("nope"), false)
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            logs(&store, "default", "gone", None, false)
                .unwrap_err()
                .code,
            404
        );
    }

    #[test]
    fn reviews_allow_everything() {
        let r = review(
            Endpoint::AccessReview,
            &json!({"spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}}),
        )
        .unwrap();
        assert_eq!(r["status"]["allowed"], true);
        assert_eq!(r["spec"]["resourceAttributes"]["verb"], "delete");
        let r = review(Endpoint::RulesReview, &json!({"spec": {"namespace": "x"}})).unwrap();
        assert_eq!(r["status"]["resourceRules"][0]["verbs"][0], "*");
    }
}
