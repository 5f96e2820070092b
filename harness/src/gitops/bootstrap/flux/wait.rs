//! Waiting for the sync objects as `flux bootstrap` does (reference
//! §20.4): the GitRepository (or OCIRepository) until it is Ready for its
//! current generation
//! with the expected artifact revision; the Kustomization until it is Ready
//! for its current generation with the expected `lastAttemptedRevision`.
//! `Ready=False` ends the wait at once with the condition's message — for
//! the GitRepository as soon as the condition is about the current
//! generation, for the Kustomization once it attempted the expected
//! revision (earlier failures, such as a source without artifact yet, are
//! transient). Watch-based, with the timeout on the cluster's clock.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use crate::clock::Clock;
use crate::gitops::bootstrap::{Error, Result};
use crate::kstatus::condition;

/// Which sync object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The GitRepository.
    GitRepository,
    /// The OCIRepository (a source that is an OCI artifact).
    OciRepository,
    /// The Kustomization.
    Kustomization,
}

impl Kind {
    fn resource(self) -> ApiResource {
        let (group, kind, plural) = match self {
            Kind::GitRepository => (
                "source.toolkit.fluxcd.io",
                "GitRepository",
                "gitrepositories",
            ),
            Kind::OciRepository => (
                "source.toolkit.fluxcd.io",
                "OCIRepository",
                "ocirepositories",
            ),
            Kind::Kustomization => (
                "kustomize.toolkit.fluxcd.io",
                "Kustomization",
                "kustomizations",
            ),
        };
        ApiResource {
            group: group.to_owned(),
            version: "v1".to_owned(),
            api_version: format!("{group}/v1"),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::GitRepository => "GitRepository",
            Kind::OciRepository => "OCIRepository",
            Kind::Kustomization => "Kustomization",
        }
    }

    /// The kind of the sync's source.
    pub fn source_of(source: &crate::gitops::bootstrap::SyncSource) -> Kind {
        if source.artifact.is_some() {
            Kind::OciRepository
        } else {
            Kind::GitRepository
        }
    }
}

/// Where an object stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Reconciled at the expected revision and Ready.
    Done,
    /// Not yet (what it looks like).
    Pending(String),
    /// `Ready=False` (its message).
    Failed(String),
}

fn int(o: &Value, ptr: &str) -> Option<i64> {
    o.pointer(ptr).and_then(Value::as_i64)
}

fn text(o: &Value, ptr: &str) -> Option<String> {
    o.pointer(ptr).and_then(Value::as_str).map(str::to_owned)
}

/// Judges a sync object against the expected revision.
pub fn judge(kind: Kind, obj: Option<&Value>, expected: &str) -> Verdict {
    let Some(o) = obj else {
        return Verdict::Pending("it does not exist".to_owned());
    };
    let generation = int(o, "/metadata/generation").unwrap_or(0);
    let observed = int(o, "/status/observedGeneration").unwrap_or(-1);
    let ready = condition(o, "Ready");
    let ready_status = ready.and_then(|c| c.get("status")).and_then(Value::as_str);
    let ready_text = ready.map_or_else(
        || "no Ready condition yet".to_owned(),
        |c| {
            format!(
                "Ready={} ({}: {})",
                ready_status.unwrap_or("?"),
                c.get("reason").and_then(Value::as_str).unwrap_or(""),
                c.get("message").and_then(Value::as_str).unwrap_or("")
            )
        },
    );
    let condition_current = ready
        .and_then(|c| c.get("observedGeneration"))
        .and_then(Value::as_i64)
        .is_none_or(|g| g == generation);
    let message = ready
        .and_then(|c| c.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    match kind {
        Kind::GitRepository | Kind::OciRepository => {
            if ready_status == Some("False") && condition_current {
                return Verdict::Failed(message);
            }
            let revision = text(o, "/status/artifact/revision");
            if observed == generation
                && ready_status == Some("True")
                && revision.as_deref() == Some(expected)
            {
                return Verdict::Done;
            }
            Verdict::Pending(format!(
                "{ready_text}, artifact revision {}",
                revision.as_deref().unwrap_or("(none)")
            ))
        }
        Kind::Kustomization => {
            if o.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                return Verdict::Failed("Kustomization is suspended".to_owned());
            }
            let attempted = text(o, "/status/lastAttemptedRevision");
            if attempted.as_deref() == Some(expected) && condition_current {
                match ready_status {
                    Some("True") if observed == generation => return Verdict::Done,
                    Some("False") => return Verdict::Failed(message),
                    _ => {}
                }
            }
            Verdict::Pending(format!(
                "{ready_text}, last attempted revision {}",
                attempted.as_deref().unwrap_or("(none)")
            ))
        }
    }
}

/// Waits for the sync object `kind` `namespace/name` to be Ready at
/// `expected`, at most `timeout` on `clock`.
///
/// # Errors
/// [`Error::NotReady`] on `Ready=False`; [`Error::Timeout`] naming the
/// object, the revision and its last state; [`Error::Watch`].
pub async fn wait_ready(
    client: &kube::Client,
    clock: &Clock,
    kind: Kind,
    namespace: &str,
    name: &str,
    expected: &str,
    timeout: Duration,
) -> Result<Value> {
    let object = format!("{} {namespace}/{name}", kind.name());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &kind.resource());
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut last = Verdict::Pending("not seen yet".to_owned());
    let mut current: Option<Value> = None;
    let waited = clock
        .timeout(timeout, async {
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                        current = serde_json::to_value(&o).ok();
                    }
                    Ok(watcher::Event::Delete(_)) => current = None,
                    Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
                    // The watcher retries with backoff.
                    Err(e) => {
                        tracing::debug!(error = %e, %object, "watch error");
                        continue;
                    }
                }
                last = judge(kind, current.as_ref(), expected);
                match &last {
                    Verdict::Done => return Ok(current.clone().unwrap_or(Value::Null)),
                    Verdict::Failed(message) => {
                        return Err(Error::NotReady {
                            object: object.clone(),
                            message: message.clone(),
                        });
                    }
                    Verdict::Pending(_) => {}
                }
            }
            Err(Error::Timeout {
                what: format!("{object} to be Ready at {expected}"),
                after: timeout,
                last: "the watch ended".to_owned(),
            })
        })
        .await;
    match waited {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: format!("{object} to be Ready at {expected}"),
            after: timeout,
            last: match last {
                Verdict::Pending(s) | Verdict::Failed(s) => s,
                Verdict::Done => "ready".to_owned(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REV: &str = "main@sha1:363a6a8fe6a7f13e05d34c163b0ef02a777da20a";

    #[test]
    fn kustomizations_fail_only_at_the_expected_revision() {
        let stale = json!({"metadata": {"generation": 1}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "ArtifactFailed", "message": "Source artifact not found, retrying in 30s", "observedGeneration": 1}]}});
        assert!(matches!(
            judge(Kind::Kustomization, Some(&stale), REV),
            Verdict::Pending(_)
        ));
        let broken = json!({"metadata": {"generation": 1}, "status": {"lastAttemptedRevision": REV, "conditions": [
            {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed: boom", "observedGeneration": 1}]}});
        assert_eq!(
            judge(Kind::Kustomization, Some(&broken), REV),
            Verdict::Failed("kustomize build failed: boom".into())
        );
        let ok = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "lastAttemptedRevision": REV, "conditions": [
            {"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "message": "Applied revision", "observedGeneration": 1}]}});
        assert_eq!(judge(Kind::Kustomization, Some(&ok), REV), Verdict::Done);
        assert!(matches!(
            judge(Kind::Kustomization, Some(&ok), "main@sha1:other"),
            Verdict::Pending(_)
        ));
    }

    #[test]
    fn git_repositories_need_the_artifact_revision() {
        let ok = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "artifact": {"revision": REV},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored", "observedGeneration": 2}]}});
        assert_eq!(judge(Kind::GitRepository, Some(&ok), REV), Verdict::Done);
        let fetch = json!({"metadata": {"generation": 1}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "GitOperationFailed", "message": "failed to checkout", "observedGeneration": 1}]}});
        assert_eq!(
            judge(Kind::GitRepository, Some(&fetch), REV),
            Verdict::Failed("failed to checkout".into())
        );
        assert!(matches!(
            judge(Kind::GitRepository, None, REV),
            Verdict::Pending(_)
        ));
        // An OCIRepository is judged the same way, at `<tag>@sha256:…`.
        let oci = "1.1.0@sha256:bffad7e6e4363316a75c6b878f2d8f4e8f413bb65a4ecfb6c7c11828164b4c7e";
        let pulled = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "artifact": {"revision": oci},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored", "observedGeneration": 1}]}});
        assert_eq!(
            judge(Kind::OciRepository, Some(&pulled), oci),
            Verdict::Done
        );
        assert!(matches!(
            judge(Kind::OciRepository, Some(&pulled), "1.0.0@sha256:00"),
            Verdict::Pending(_)
        ));
    }
}
