//! Health of single objects, judged from their status the way kstatus (the
//! library behind `flux`, `kubectl rollout status`-like checks and Flux's
//! health checks) judges it: current, in progress, or failed.
//!
//! Pure functions over JSON objects, so they work the same on every
//! provider and are tested without a cluster.

use serde_json::Value;

/// The health of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reconciled and ready (kstatus `Current`).
    Ready,
    /// Still converging (kstatus `InProgress`), with what it waits for.
    InProgress(String),
    /// Failed in a way that will not resolve by waiting (kstatus `Failed`),
    /// with the reason: what an alert would fire on.
    Failed(String),
}

impl Health {
    /// True for [`Health::Ready`].
    pub fn is_ready(&self) -> bool {
        matches!(self, Health::Ready)
    }

    /// True for [`Health::Failed`].
    pub fn is_failed(&self) -> bool {
        matches!(self, Health::Failed(_))
    }
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_i64()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// The condition of `type` in `status.conditions`, if any.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.get("status")?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// `status` of the condition `type` (`"True"`, `"False"`, `"Unknown"`).
pub fn condition_status<'a>(obj: &'a Value, type_: &str) -> Option<&'a str> {
    condition(obj, type_)?.get("status")?.as_str()
}

fn condition_text(obj: &Value, type_: &str) -> String {
    let Some(c) = condition(obj, type_) else {
        return String::new();
    };
    let reason = c.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = c.get("message").and_then(Value::as_str).unwrap_or("");
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_owned(),
        (true, false) => message.to_owned(),
        (true, true) => String::new(),
    }
}

/// False while the controller has not yet seen the latest spec.
fn observed(obj: &Value) -> bool {
    match (
        int(obj, &["metadata", "generation"]),
        int(obj, &["status", "observedGeneration"]),
    ) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// True for objects of the Flux toolkit's API groups
/// (`*.toolkit.fluxcd.io`) and of Flux's Terraform controller
/// (`infra.contrib.fluxcd.io`, tofu-controller), which follows the same
/// conventions: a `Terraform` nothing reconciled yet has no conditions, and
/// kstatus's generic rule would call it current — a health check on it
/// would pass before any `terraform apply` ran.
pub fn is_flux_object(obj: &Value) -> bool {
    str_at(obj, &["apiVersion"])
        .and_then(|v| v.rsplit_once('/'))
        .is_some_and(|(group, _)| {
            group.ends_with(".toolkit.fluxcd.io") || group == "infra.contrib.fluxcd.io"
        })
}

/// Health of a workload or of any object with a `Ready` condition, by kind.
/// Flux toolkit objects follow [`flux_object`]: never healthy by default.
pub fn health(obj: &Value) -> Health {
    if is_flux_object(obj) {
        return flux_object(obj);
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Deployment" => deployment(obj),
        "StatefulSet" => statefulset(obj),
        "DaemonSet" => daemonset(obj),
        "ReplicaSet" => replicaset(obj),
        "Job" => job(obj),
        "Pod" => pod(obj),
        _ => generic(obj),
    }
}

fn deployment(d: &Value) -> Health {
    if !observed(d) {
        return Health::InProgress("the controller has not observed the latest generation".into());
    }
    if condition_status(d, "Progressing") == Some("False") {
        return Health::Failed(format!(
            "Progressing=False ({})",
            condition_text(d, "Progressing")
        ));
    }
    let spec = int(d, &["spec", "replicas"]).unwrap_or(1);
    let replicas = int(d, &["status", "replicas"]).unwrap_or(0);
    let updated = int(d, &["status", "updatedReplicas"]).unwrap_or(0);
    let available = int(d, &["status", "availableReplicas"]).unwrap_or(0);
    if updated < spec {
        return Health::InProgress(format!("{updated}/{spec} replicas updated"));
    }
    if replicas > updated {
        return Health::InProgress(format!(
            "{} old replicas pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Health::InProgress(format!("{available}/{updated} updated replicas available"));
    }
    Health::Ready
}

fn statefulset(s: &Value) -> Health {
    if !observed(s) {
        return Health::InProgress("the controller has not observed the latest generation".into());
    }
    let spec = int(s, &["spec", "replicas"]).unwrap_or(1);
    let ready = int(s, &["status", "readyReplicas"]).unwrap_or(0);
    let updated = int(s, &["status", "updatedReplicas"]).unwrap_or(0);
    let partitioned = str_at(s, &["spec", "updateStrategy", "type"]) == Some("OnDelete");
    if ready < spec {
        return Health::InProgress(format!("{ready}/{spec} replicas ready"));
    }
    if !partitioned {
        if updated < spec {
            return Health::InProgress(format!("{updated}/{spec} replicas updated"));
        }
        let current = str_at(s, &["status", "currentRevision"]);
        let update = str_at(s, &["status", "updateRevision"]);
        if current.is_some() && current != update {
            return Health::InProgress("rolling update in progress".into());
        }
    }
    Health::Ready
}

fn daemonset(d: &Value) -> Health {
    if !observed(d) {
        return Health::InProgress("the controller has not observed the latest generation".into());
    }
    let desired = int(d, &["status", "desiredNumberScheduled"]).unwrap_or(0);
    let updated = int(d, &["status", "updatedNumberScheduled"]).unwrap_or(0);
    let available = int(d, &["status", "numberAvailable"]).unwrap_or(0);
    if updated < desired {
        return Health::InProgress(format!("{updated}/{desired} pods updated"));
    }
    if available < desired {
        return Health::InProgress(format!("{available}/{desired} pods available"));
    }
    Health::Ready
}

fn replicaset(r: &Value) -> Health {
    if !observed(r) {
        return Health::InProgress("the controller has not observed the latest generation".into());
    }
    if condition_status(r, "ReplicaFailure") == Some("True") {
        return Health::Failed(format!(
            "ReplicaFailure ({})",
            condition_text(r, "ReplicaFailure")
        ));
    }
    let spec = int(r, &["spec", "replicas"]).unwrap_or(1);
    let available = int(r, &["status", "availableReplicas"]).unwrap_or(0);
    if available < spec {
        return Health::InProgress(format!("{available}/{spec} replicas available"));
    }
    Health::Ready
}

fn job(j: &Value) -> Health {
    if condition_status(j, "Failed") == Some("True") {
        return Health::Failed(format!("Failed ({})", condition_text(j, "Failed")));
    }
    if condition_status(j, "Complete") == Some("True") {
        return Health::Ready;
    }
    Health::InProgress("not complete".into())
}

/// Container states that mean a pod will not become ready by waiting.
const FAILING_REASONS: [&str; 6] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "InvalidImageName",
    "CreateContainerError",
];

fn pod(p: &Value) -> Health {
    let statuses = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| p.get("status")?.get(k)?.as_array())
        .flatten();
    for cs in statuses {
        if let Some(reason) = cs
            .get("state")
            .and_then(|s| s.get("waiting"))
            .and_then(|w| w.get("reason"))
            .and_then(Value::as_str)
            && FAILING_REASONS.contains(&reason)
        {
            let name = cs.get("name").and_then(Value::as_str).unwrap_or("?");
            return Health::Failed(format!("container {name}: {reason}"));
        }
    }
    match str_at(p, &["status", "phase"]) {
        Some("Succeeded") => Health::Ready,
        Some("Failed") => Health::Failed("phase Failed".into()),
        _ if condition_status(p, "Ready") == Some("True") => Health::Ready,
        _ => Health::InProgress("not ready".into()),
    }
}

/// Any object: Ready when it has a `Ready` condition `True` for its latest
/// generation; failed when `Ready=False` or `Stalled=True`; ready when it
/// has no conditions at all (a ConfigMap exists, that is all it can do).
fn generic(o: &Value) -> Health {
    if condition_status(o, "Stalled") == Some("True") {
        return Health::Failed(format!("Stalled ({})", condition_text(o, "Stalled")));
    }
    match condition_status(o, "Ready") {
        None => Health::Ready,
        Some(_) if !observed(o) => {
            Health::InProgress("the controller has not observed the latest generation".into())
        }
        Some("True") => Health::Ready,
        Some("False") => Health::Failed(format!("Ready=False ({})", condition_text(o, "Ready"))),
        Some(_) => Health::InProgress(format!("Ready=Unknown ({})", condition_text(o, "Ready"))),
    }
}

/// Health of a Flux toolkit object (a source, a Kustomization, a
/// HelmRelease, a Receiver…), kstatus's rule for objects with a `Ready`
/// condition made strict: healthy only with `Ready=True` once the
/// controller observed the latest generation
/// (`status.observedGeneration == metadata.generation`). An object without
/// a `Ready` condition has not been reconciled by anything, so it is in
/// progress — never healthy by default.
pub fn flux_object(o: &Value) -> Health {
    if condition_status(o, "Stalled") == Some("True") {
        return Health::Failed(format!("Stalled ({})", condition_text(o, "Stalled")));
    }
    let generation = int(o, &["metadata", "generation"]);
    let observed = int(o, &["status", "observedGeneration"]);
    let ready = condition_status(o, "Ready");
    if ready.is_none() {
        return Health::InProgress(
            "no Ready condition: no controller has reconciled it yet".into(),
        );
    }
    if observed.is_none() || (generation.is_some() && observed != generation) {
        return Health::InProgress(format!(
            "the controller has not observed generation {} (observedGeneration {})",
            generation.map_or_else(|| "?".to_owned(), |g| g.to_string()),
            observed.map_or_else(|| "unset".to_owned(), |g| g.to_string()),
        ));
    }
    match ready {
        Some("True") if condition_status(o, "Reconciling") != Some("True") => Health::Ready,
        Some("True") => Health::InProgress(format!(
            "Reconciling ({})",
            condition_text(o, "Reconciling")
        )),
        Some("False") => {
            let reason = condition(o, "Ready")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let text = format!("Ready=False ({})", condition_text(o, "Ready"));
            if TRANSIENT_FLUX_REASONS.contains(&reason) {
                Health::InProgress(text)
            } else {
                Health::Failed(text)
            }
        }
        _ => Health::InProgress(format!("Ready=Unknown ({})", condition_text(o, "Ready"))),
    }
}

/// Reasons of `Ready=False` on Flux Kustomizations that are transient
/// (waiting on something else), not failures.
const TRANSIENT_FLUX_REASONS: [&str; 3] = ["DependencyNotReady", "Progressing", "ArtifactFailed"];

/// What a drill says when a Kustomization with `spec.decryption` failed
/// to build because of SOPS: its encrypted secrets were not restored, and
/// why (the key Secret is missing, or its key does not decrypt them).
fn decryption_failure(k: &Value, reason: &str) -> Option<String> {
    let decryption = k.get("spec")?.get("decryption")?;
    if reason != "BuildFailed" {
        return None;
    }
    let message = condition(k, "Ready")?.get("message")?.as_str()?;
    let ns = str_at(k, &["metadata", "namespace"]).unwrap_or("");
    let secret = decryption
        .pointer("/secretRef/name")
        .and_then(Value::as_str);
    if let Some(name) = secret
        && message == format!("secrets \"{name}\" not found")
    {
        return Some(format!(
            "its SOPS-encrypted secrets could not be restored: the decryption key Secret {ns}/{name} does not exist (it lives outside Git: restore it with bootstrap.secrets)"
        ));
    }
    if message.contains("run `make tools`") {
        return Some(
            "its SOPS-encrypted secrets could not be restored: `sops` is not installed (run `make tools`)"
                .to_owned(),
        );
    }
    let sops = [
        "decryption failed for",
        "error decrypting sources",
        "cannot get sops data key",
        "failed to import",
    ];
    if sops.iter().any(|m| message.contains(m)) {
        let key = secret.map_or_else(
            || "no decryption key Secret is set".to_owned(),
            |n| format!("the key in Secret {ns}/{n} does not decrypt them"),
        );
        return Some(format!(
            "its SOPS-encrypted secrets could not be restored: {key}"
        ));
    }
    None
}

/// Health of a Flux Kustomization against the revision it must have
/// applied (`main@sha1:…`): Ready only when `Ready=True` for the latest
/// generation **and** `lastAppliedRevision` is that revision.
pub fn kustomization(k: &Value, revision: Option<&str>) -> Health {
    let ready = condition_status(k, "Ready");
    let applied = str_at(k, &["status", "lastAppliedRevision"]);
    if ready == Some("False") {
        let reason = condition(k, "Ready")
            .and_then(|c| c.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut text = format!("Ready=False ({})", condition_text(k, "Ready"));
        if let Some(why) = decryption_failure(k, reason) {
            text.push_str("; ");
            text.push_str(&why);
        }
        return if TRANSIENT_FLUX_REASONS.contains(&reason) {
            Health::InProgress(text)
        } else {
            Health::Failed(text)
        };
    }
    if !observed(k) {
        return Health::InProgress("not reconciled since its last change".into());
    }
    if let Some(rev) = revision
        && applied != Some(rev)
    {
        return Health::InProgress(format!(
            "applied revision {} is not {rev}",
            applied.unwrap_or("(none)")
        ));
    }
    match ready {
        Some("True") => Health::Ready,
        _ => Health::InProgress(format!("Ready={}", ready.unwrap_or("(none)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_decryption_failure_says_the_secrets_were_not_restored() {
        let ks = |message: &str| {
            json!({"metadata": {"namespace": "flux-system", "generation": 1},
                "spec": {"decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}},
                "status": {"observedGeneration": 1, "conditions": [
                    {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": message}]}})
        };
        let Health::Failed(missing) = kustomization(&ks("secrets \"sops-age\" not found"), None)
        else {
            panic!("failed")
        };
        assert!(
            missing.ends_with("its SOPS-encrypted secrets could not be restored: the decryption key Secret flux-system/sops-age does not exist (it lives outside Git: restore it with bootstrap.secrets)"),
            "{missing}"
        );
        let wrong = ks("decryption failed for '~G_v1_Secret/db': cannot get sops data key: …");
        let Health::Failed(wrong) = kustomization(&wrong, None) else {
            panic!("failed")
        };
        assert!(
            wrong.ends_with("the key in Secret flux-system/sops-age does not decrypt them"),
            "{wrong}"
        );
        let mut plain = ks("kustomize build failed: boom");
        let Health::Failed(plain_text) = kustomization(&plain, None) else {
            panic!("failed")
        };
        assert!(!plain_text.contains("SOPS"), "{plain_text}");
        let tool = ks(
            "decryption failed for '~G_v1_Secret/db': failed to decrypt and format 'a/db' Secret data: `sops` not found: GAMEDAY_SOPS is unset, …; run `make tools` to install it",
        );
        let Health::Failed(tool) = kustomization(&tool, None) else {
            panic!("failed")
        };
        assert!(
            tool.ends_with("`sops` is not installed (run `make tools`)"),
            "{tool}"
        );
        plain["spec"] = json!({});
        assert!(decryption_failure(&plain, "BuildFailed").is_none());
    }

    fn deploy(generation: i64, observed: i64, status: Value) -> Value {
        let mut status = status;
        status["observedGeneration"] = json!(observed);
        json!({"kind": "Deployment", "metadata": {"generation": generation}, "spec": {"replicas": 2}, "status": status})
    }

    #[test]
    fn deployments_follow_kstatus() {
        let ready = deploy(
            2,
            2,
            json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}),
        );
        assert_eq!(health(&ready), Health::Ready);
        let stale = deploy(
            3,
            2,
            json!({"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert!(matches!(health(&stale), Health::InProgress(_)));
        let rolling = deploy(
            2,
            2,
            json!({"replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(
            health(&rolling),
            Health::InProgress("1 old replicas pending termination".into())
        );
        let stuck = deploy(
            2,
            2,
            json!({"replicas": 3, "updatedReplicas": 1, "availableReplicas": 2,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"x\" has timed out progressing."}]}),
        );
        assert_eq!(
            health(&stuck),
            Health::Failed("Progressing=False (ProgressDeadlineExceeded: ReplicaSet \"x\" has timed out progressing.)".into())
        );
    }

    #[test]
    fn statefulsets_daemonsets_jobs() {
        let sts = json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "a", "updateRevision": "a"}});
        assert_eq!(health(&sts), Health::Ready);
        let sts_rolling = json!({"kind": "StatefulSet", "metadata": {"generation": 1}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3, "currentRevision": "a", "updateRevision": "b"}});
        assert!(matches!(health(&sts_rolling), Health::InProgress(_)));
        let ds = json!({"kind": "DaemonSet", "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}});
        assert_eq!(health(&ds), Health::InProgress("2/3 pods available".into()));
        let done = json!({"kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(health(&done), Health::Ready);
        let failed = json!({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert!(health(&failed).is_failed());
    }

    #[test]
    fn pods_with_image_pull_errors_have_failed() {
        let p = json!({"kind": "Pod", "status": {"phase": "Pending", "containerStatuses": [
            {"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}});
        assert_eq!(
            health(&p),
            Health::Failed("container app: ImagePullBackOff".into())
        );
        let ok = json!({"kind": "Pod", "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(health(&ok), Health::Ready);
    }

    #[test]
    fn kustomizations_must_be_ready_at_the_revision() {
        let k = json!({"kind": "Kustomization", "metadata": {"generation": 1}, "status": {
            "observedGeneration": 1, "lastAppliedRevision": "main@sha1:aaa",
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]}});
        assert_eq!(kustomization(&k, Some("main@sha1:aaa")), Health::Ready);
        assert!(matches!(
            kustomization(&k, Some("main@sha1:bbb")),
            Health::InProgress(_)
        ));
        assert_eq!(kustomization(&k, None), Health::Ready);
        let waiting = json!({"kind": "Kustomization", "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "DependencyNotReady", "message": "dependency 'flux-system/infra' is not ready"}]}});
        assert!(matches!(
            kustomization(&waiting, None),
            Health::InProgress(_)
        ));
        let broken = json!({"kind": "Kustomization", "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "HealthCheckFailed", "message": "timeout"}]}});
        assert!(kustomization(&broken, None).is_failed());
    }

    #[test]
    fn objects_without_conditions_are_ready_by_existing() {
        assert_eq!(
            health(&json!({"kind": "ConfigMap", "data": {}})),
            Health::Ready
        );
        let cr = json!({"kind": "Widget", "metadata": {"generation": 2}, "status": {"observedGeneration": 2,
            "conditions": [{"type": "Ready", "status": "False", "reason": "Broken"}]}});
        assert!(health(&cr).is_failed());
    }

    #[test]
    fn flux_objects_are_healthy_only_ready_at_their_generation() {
        let hr = |status: Value| {
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                "metadata": {"name": "podinfo", "generation": 2}, "status": status})
        };
        let ready = json!([{"type": "Ready", "status": "True", "reason": "InstallSucceeded"}]);
        // Stored, never reconciled: no condition at all.
        let bare = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "generation": 1}, "spec": {}});
        assert!(is_flux_object(&bare));
        let h = health(&bare);
        assert!(
            matches!(&h, Health::InProgress(m) if m.contains("no Ready condition")),
            "{h:?}"
        );
        // Ready, but for an older generation, or without observedGeneration.
        assert!(!health(&hr(json!({"observedGeneration": 1, "conditions": ready}))).is_ready());
        assert!(!health(&hr(json!({"conditions": ready}))).is_ready());
        assert!(health(&hr(json!({"observedGeneration": 2, "conditions": ready}))).is_ready());
        let failed = json!([{"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "boom"}]);
        assert!(health(&hr(json!({"observedGeneration": 2, "conditions": failed}))).is_failed());
        let waiting = json!([{"type": "Ready", "status": "False", "reason": "DependencyNotReady"}]);
        assert!(!health(&hr(json!({"observedGeneration": 2, "conditions": waiting}))).is_failed());
        // Flux's Terraform controller follows the same rule.
        let tf = json!({"apiVersion": "infra.contrib.fluxcd.io/v1alpha2", "kind": "Terraform",
            "metadata": {"name": "network", "generation": 1}, "spec": {}});
        assert!(is_flux_object(&tf) && !health(&tf).is_ready());
        // Other groups keep kstatus's rule: no conditions, current.
        let widget =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        assert!(!is_flux_object(&widget) && health(&widget).is_ready());
    }
}
