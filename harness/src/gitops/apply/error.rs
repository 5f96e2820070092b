//! Errors of the apply engine: per-object failures ([`ObjectError`]) and
//! the module's [`Error`].
//!
//! Every message names the object (`Deployment/podinfo/podinfo`), the file
//! it came from when known, what went wrong and what to do about it.

use std::fmt;
use std::time::Duration;

use super::object::ObjectId;

/// The result type of the apply engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why one object could not be applied (or pruned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The manifest is not a Kubernetes object (what is missing).
    InvalidManifest(String),
    /// A namespaced object without a namespace, and no default to use.
    NamespaceNotSpecified,
    /// The cluster does not serve this kind (no CRD for it, or a typo).
    UnknownKind {
        /// `group/version`.
        api_version: String,
        /// The kind.
        kind: String,
    },
    /// A CRD applied in the same batch did not become `Established`.
    CrdNotEstablished {
        /// How long the engine waited.
        after: Duration,
    },
    /// The API server refused the request.
    Rejected {
        /// HTTP status code.
        code: u16,
        /// The Status `reason` (`Invalid`, `Conflict`, `NotFound`…).
        reason: String,
        /// The Status `message`.
        message: String,
    },
    /// The request did not get an answer (connection, TLS, decoding).
    Request(String),
}

impl Failure {
    /// The failure of a kube-rs call.
    pub fn from_kube(e: &kube::Error) -> Failure {
        match e {
            kube::Error::Api(s) => Failure::Rejected {
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            other => Failure::Request(other.to_string()),
        }
    }

    /// True for a 404 from the API server.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Failure::Rejected { code: 404, .. })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::InvalidManifest(p) => write!(
                f,
                "not a Kubernetes object: {p}; every manifest needs `apiVersion`, `kind` and `metadata.name`"
            ),
            Failure::NamespaceNotSpecified => write!(
                f,
                "namespace not specified; set `metadata.namespace` in the manifest (or `targetNamespace` on the Kustomization)"
            ),
            Failure::UnknownKind { api_version, kind } => write!(
                f,
                "no matches for kind \"{kind}\" in version \"{api_version}\"; install its CustomResourceDefinition first (in the same source, or in one this source depends on) or fix `apiVersion`/`kind`"
            ),
            Failure::CrdNotEstablished { after } => write!(
                f,
                "not Established after {}; check `kubectl get crd` and its status conditions",
                humantime::format_duration(*after)
            ),
            Failure::Rejected {
                code,
                reason,
                message,
            } => {
                write!(f, "the API server rejected it ({code} {reason}): {message}")?;
                match (*code, reason.as_str()) {
                    (404, _) if message.starts_with("namespaces ") => write!(
                        f,
                        "; add the Namespace to the source or create it before applying"
                    ),
                    (422, _) | (400, _) => write!(f, "; fix the manifest"),
                    (409, _) => write!(f, "; another writer changed it, retry"),
                    (403, _) => write!(
                        f,
                        "; check the namespace is not being deleted and the credentials may write it"
                    ),
                    _ => Ok(()),
                }
            }
            Failure::Request(e) => write!(
                f,
                "the request failed: {e}; check the cluster is reachable and retry"
            ),
        }
    }
}

/// One object that failed, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ObjectError {
    /// The object.
    pub id: ObjectId,
    /// Its file and document, when known.
    pub origin: Option<String>,
    /// What went wrong.
    pub failure: Failure,
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(o) => write!(f, "{} (from {o}): {}", self.id, self.failure),
            None => write!(f, "{}: {}", self.id, self.failure),
        }
    }
}

/// How an object stood when a health wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhealthy {
    /// The object.
    pub id: ObjectId,
    /// kstatus' word for it: `InProgress`, `Failed` or `NotFound`.
    pub status: &'static str,
    /// What it is waiting for, or why it failed.
    pub detail: String,
}

/// Renders `[Deployment/ns/name status: 'InProgress', …]` as Flux does.
pub fn flux_object_list(objects: &[Unhealthy]) -> String {
    let items: Vec<String> = objects
        .iter()
        .map(|u| format!("{} status: '{}'", u.id, u.status))
        .collect();
    format!("[{}]", items.join(", "))
}

fn details(objects: &[Unhealthy]) -> String {
    objects
        .iter()
        .map(|u| format!("\n  - {}: {}", u.id, u.detail))
        .collect()
}

/// Errors of the apply engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some objects could not be applied.
    #[error("{} of {total} object(s) could not be applied:{}", .failures.len(), render_failures(.failures))]
    Apply {
        /// The failed objects.
        failures: Vec<ObjectError>,
        /// How many objects the batch had.
        total: usize,
    },
    /// Some stale objects could not be deleted.
    #[error("{} stale object(s) could not be pruned:{}", .failures.len(), render_failures(.failures))]
    Prune {
        /// The objects that are still there.
        failures: Vec<ObjectError>,
    },
    /// Objects did not become healthy in time.
    #[error("timeout waiting for: {} (after {}); what they wait for:{}", flux_object_list(.pending), humantime::format_duration(*.after), details(.pending))]
    HealthTimeout {
        /// The objects that were not healthy yet.
        pending: Vec<Unhealthy>,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// Objects failed in a way waiting will not fix (kstatus `Failed`).
    #[error("failed early due to stalled resources: {}; why:{}", flux_object_list(.failed), details(.failed))]
    HealthFailed {
        /// The failed objects.
        failed: Vec<Unhealthy>,
    },
    /// An object to check could not be mapped to an API resource.
    #[error("cannot check the health of {0}")]
    HealthTarget(#[source] ObjectError),
}

impl Error {
    /// The message Flux puts in a `HealthCheckFailed` condition for this
    /// error (without the per-object details), or None for other errors.
    pub fn flux_health_message(&self) -> Option<String> {
        match self {
            Error::HealthTimeout { pending, .. } => Some(format!(
                "timeout waiting for: {}",
                flux_object_list(pending)
            )),
            Error::HealthFailed { failed } => Some(format!(
                "failed early due to stalled resources: {}",
                flux_object_list(failed)
            )),
            _ => None,
        }
    }
}

fn render_failures(failures: &[ObjectError]) -> String {
    failures.iter().map(|f| format!("\n  - {f}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_errors_name_object_origin_and_fix() {
        let e = ObjectError {
            id: ObjectId::namespaced("example.com", "Widget", "default", "w"),
            origin: Some("infra/widget.yaml, document 1".into()),
            failure: Failure::UnknownKind {
                api_version: "example.com/v1".into(),
                kind: "Widget".into(),
            },
        };
        let text = e.to_string();
        assert!(text.starts_with("Widget/default/w (from infra/widget.yaml, document 1): no matches for kind \"Widget\" in version \"example.com/v1\""), "{text}");
        assert!(
            text.contains("install its CustomResourceDefinition"),
            "{text}"
        );
    }

    #[test]
    fn health_timeouts_read_like_flux() {
        let e = Error::HealthTimeout {
            pending: vec![Unhealthy {
                id: ObjectId::namespaced("apps", "Deployment", "podinfo", "podinfo"),
                status: "InProgress",
                detail: "0/2 updated replicas available".into(),
            }],
            after: Duration::from_secs(30),
        };
        assert_eq!(
            e.flux_health_message().unwrap(),
            "timeout waiting for: [Deployment/podinfo/podinfo status: 'InProgress']"
        );
        assert!(e.to_string().contains("0/2 updated replicas available"));
        assert!(e.to_string().contains("30s"));
    }
}
