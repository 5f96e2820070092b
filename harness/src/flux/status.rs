//! Flux's status and metadata conventions, shared by everything that reads
//! or writes Flux objects (the bootstrap's waits, the simulator's emulated
//! controllers, the probe): condition types, reasons, the annotation that
//! requests a reconciliation, the finalizer, and how suspension and
//! deletion are read.

use serde_json::Value;

/// Condition types.
pub mod types {
    /// Ready.
    pub const READY: &str = "Ready";
    /// Reconciling (only while True).
    pub const RECONCILING: &str = "Reconciling";
    /// Stalled (only while True).
    pub const STALLED: &str = "Stalled";
    /// Healthy (Kustomizations with health checks).
    pub const HEALTHY: &str = "Healthy";
    /// ArtifactInStorage (sources).
    pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
    /// ArtifactOutdated (sources, only while True).
    pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
    /// FetchFailed (sources, only while True).
    pub const FETCH_FAILED: &str = "FetchFailed";
    /// Source: an included repository is missing or has no artifact.
    pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
}

/// Reasons (`fluxcd/pkg/apis/meta` and the controllers' APIs).
pub mod reasons {
    /// Work in progress.
    pub const PROGRESSING: &str = "Progressing";
    /// Work in progress after a failure.
    pub const PROGRESSING_WITH_RETRY: &str = "ProgressingWithRetry";
    /// Source: done.
    pub const SUCCEEDED: &str = "Succeeded";
    /// Kustomization: done.
    pub const RECONCILIATION_SUCCEEDED: &str = "ReconciliationSucceeded";
    /// Kustomization: apply failed.
    pub const RECONCILIATION_FAILED: &str = "ReconciliationFailed";
    /// Kustomization: source or artifact missing.
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    /// Kustomization: a dependency is not ready.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// Kustomization: kustomize build failed.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// Kustomization: a `healthCheckExprs` expression does not parse.
    pub const INVALID_CEL_EXPRESSION: &str = "InvalidCELExpression";
    /// Kustomization: garbage collection failed.
    pub const PRUNE_FAILED: &str = "PruneFailed";
    /// Kustomization: health checks failed.
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    /// Source: a git operation failed.
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    /// Source: the URL is invalid.
    pub const URL_INVALID: &str = "URLInvalid";
    /// Source: a new revision.
    pub const NEW_REVISION: &str = "NewRevision";
    /// Source: storing the artifact failed.
    pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
}

/// The annotation `flux reconcile` sets to ask for a reconciliation now.
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

/// The finalizer Flux puts on its objects.
pub const FINALIZER: &str = "finalizers.fluxcd.io";

/// The `reconcile.fluxcd.io/requestedAt` annotation, if set.
pub fn requested_at(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(REQUESTED_AT)?
        .as_str()
}

/// True when the object is being deleted.
pub fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// True when the object carries Flux's finalizer.
pub fn has_finalizer(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(FINALIZER)))
}

/// `spec.suspend`.
pub fn suspended(obj: &Value) -> bool {
    obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)
}
