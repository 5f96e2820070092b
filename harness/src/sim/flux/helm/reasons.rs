//! helm-controller's condition types and reasons
//! (`api/v2/condition_types.go`).

/// `Released`.
pub const RELEASED: &str = "Released";
/// `Remediated`.
pub const REMEDIATED: &str = "Remediated";
/// `TestSuccess`.
pub const TEST_SUCCESS: &str = "TestSuccess";
/// `Drifted`.
pub const DRIFTED: &str = "Drifted";
/// A first release succeeded.
pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
/// A first release failed.
pub const INSTALL_FAILED: &str = "InstallFailed";
/// An upgrade succeeded.
pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
/// An upgrade failed.
pub const UPGRADE_FAILED: &str = "UpgradeFailed";
/// The tests passed.
pub const TEST_SUCCEEDED: &str = "TestSucceeded";
/// A test failed.
pub const TEST_FAILED: &str = "TestFailed";
/// The release awaits its tests.
pub const AWAITING_TESTS: &str = "AwaitingTests";
/// The rollback remediation succeeded.
pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
/// The rollback remediation failed.
pub const ROLLBACK_FAILED: &str = "RollbackFailed";
/// The uninstall remediation succeeded.
pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
/// The uninstall remediation failed.
pub const UNINSTALL_FAILED: &str = "UninstallFailed";
/// Drift found.
pub const DRIFT_DETECTED: &str = "DriftDetected";
/// No drift found.
pub const NO_DRIFT_DETECTED: &str = "NoDriftDetected";
/// The chart's source has no artifact.
pub const SOURCE_NOT_READY: &str = "SourceNotReady";
/// `values`/`valuesFrom` could not be composed.
pub const VALUES_ERROR: &str = "ValuesError";
/// The retries are exhausted.
pub const RETRIES_EXCEEDED: &str = "RetriesExceeded";
/// Rollback remediation without a release to roll back to.
pub const MISSING_ROLLBACK_TARGET: &str = "MissingRollbackTarget";
/// An action failed without storing a release.
pub const RECONCILE_ERROR: &str = "ReconcileError";

/// The static reason equal to `reason` (Ready copies the reasons of
/// the conditions it summarizes).
pub fn of(reason: &str) -> &'static str {
    [
        INSTALL_SUCCEEDED,
        INSTALL_FAILED,
        UPGRADE_SUCCEEDED,
        UPGRADE_FAILED,
        TEST_SUCCEEDED,
        TEST_FAILED,
        AWAITING_TESTS,
        ROLLBACK_SUCCEEDED,
        ROLLBACK_FAILED,
        UNINSTALL_SUCCEEDED,
        UNINSTALL_FAILED,
        crate::sim::flux::status::reasons::PROGRESSING,
    ]
    .into_iter()
    .find(|r| *r == reason)
    .unwrap_or(RECONCILE_ERROR)
}
