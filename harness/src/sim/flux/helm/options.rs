//! How a `HelmRelease` asks its actions to run, with helm-controller's
//! defaults (`api/v2/helmrelease_types.go`): the CRD policies, the
//! remediation of failed installs and upgrades, waiting, tests, drift
//! detection and the per-action timeouts.

use std::time::Duration;

use serde_json::Value;

use crate::sim::flux::spec::{dur, s};

/// `install.crds` / `upgrade.crds`: what happens to the CRDs of the
/// chart's `crds/` folder. None deletes a CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrdPolicy {
    /// Touch nothing.
    Skip,
    /// Create the CRDs the cluster lacks.
    Create,
    /// Create them, and replace those that exist.
    CreateReplace,
}

/// What undoes a failed release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `helm rollback` to the previous successful release.
    Rollback,
    /// `helm uninstall`.
    Uninstall,
}

/// `install.remediation` or `upgrade.remediation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remediation {
    /// `retries` (0; negative: unlimited).
    pub retries: i64,
    /// Install remediation always uninstalls; upgrade's rolls back unless
    /// `strategy: uninstall`.
    pub strategy: Strategy,
    /// Remediate the failure that exhausted the retries too.
    pub remediate_last_failure: bool,
    /// `ignoreTestFailures` (None: `test.ignoreFailures` decides).
    pub ignore_test_failures: Option<bool>,
    /// The status counter of this action's failures.
    pub counter: &'static str,
}

impl Remediation {
    /// The failures counted for this action.
    pub fn failures(&self, status: Option<&Value>) -> i64 {
        status
            .and_then(|s| s.get(self.counter))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// `retries >= 0 && failures > retries`.
    pub fn exhausted(&self, status: Option<&Value>) -> bool {
        self.retries >= 0 && self.failures(status) > self.retries
    }

    /// Whether test failures are ignored (`default`: `test.ignoreFailures`).
    pub fn ignores_tests(&self, default: bool) -> bool {
        self.ignore_test_failures.unwrap_or(default)
    }
}

/// `install.strategy` / `upgrade.strategy`: what follows a failed release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Remediate by the action's `remediation` (the default).
    Remediate,
    /// Never remediate: upgrade again after `retryInterval` (5m).
    Retry(Duration),
}

fn on_failure(obj: &Value, action: &str) -> Result<OnFailure, String> {
    match s(obj, &format!("/spec/{action}/strategy/name")) {
        None | Some("RemediateOnFailure") => Ok(OnFailure::Remediate),
        Some("RetryOnFailure") => Ok(OnFailure::Retry(
            dur(obj, &format!("/spec/{action}/strategy/retryInterval"))?
                .unwrap_or(Duration::from_secs(300)),
        )),
        Some(other) => Err(format!(
            "spec.{action}.strategy.name: Unsupported value: \"{other}\": supported values: \"RemediateOnFailure\", \"RetryOnFailure\""
        )),
    }
}

/// `driftDetection.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftMode {
    /// No detection (the default).
    Disabled,
    /// Detect and report.
    Warn,
    /// Detect, report and correct.
    Enabled,
}

/// One `driftDetection.ignore` rule: JSON pointers to leave out of the
/// comparison, for the objects `target` selects (all when None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// JSON pointers (`/spec/replicas`).
    pub paths: Vec<String>,
    /// `target`: kind, name, namespace, group (each optional).
    pub target: Option<Target>,
}

/// A `driftDetection.ignore[].target` (kustomize's selector, without the
/// label and annotation selectors).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// `group`.
    pub group: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `namespace`.
    pub namespace: Option<String>,
}

impl Target {
    /// Whether the object of `group`, `version`, `kind`, `namespace`,
    /// `name` is selected.
    pub fn selects(
        &self,
        (group, version): (&str, &str),
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.group, group)
            && eq(&self.version, version)
            && eq(&self.kind, kind)
            && eq(&self.name, name)
            && eq(&self.namespace, namespace.unwrap_or_default())
    }
}

/// The action options of a HelmRelease.
#[derive(Debug, Clone)]
pub struct Options {
    /// `install.crds` (`Create`; `install.skipCRDs: true` means `Skip`).
    pub install_crds: CrdPolicy,
    /// `upgrade.crds` (`Skip`; `upgrade.skipCRDs` is ignored by Flux
    /// when `crds` is set, and means `Skip` otherwise — the default).
    pub upgrade_crds: CrdPolicy,
    /// `install.remediation`.
    pub install_remediation: Remediation,
    /// `upgrade.remediation`.
    pub upgrade_remediation: Remediation,
    /// `install.strategy`.
    pub install_strategy: OnFailure,
    /// `upgrade.strategy`.
    pub upgrade_strategy: OnFailure,
    /// `install.disableWait`.
    pub install_disable_wait: bool,
    /// `upgrade.disableWait`.
    pub upgrade_disable_wait: bool,
    /// `rollback.disableWait`.
    pub rollback_disable_wait: bool,
    /// `install.timeout` (`spec.timeout`).
    pub install_timeout: Duration,
    /// `upgrade.timeout`.
    pub upgrade_timeout: Duration,
    /// `rollback.timeout`.
    pub rollback_timeout: Duration,
    /// `uninstall.timeout`.
    pub uninstall_timeout: Duration,
    /// `test.timeout`.
    pub test_timeout: Duration,
    /// `test.enable`.
    pub test: bool,
    /// `test.ignoreFailures`.
    pub test_ignore_failures: bool,
    /// `driftDetection.mode`.
    pub drift: DriftMode,
    /// `driftDetection.ignore`.
    pub drift_ignore: Vec<IgnoreRule>,
}

fn flag(obj: &Value, ptr: &str) -> bool {
    obj.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn crds(obj: &Value, action: &str, default: CrdPolicy) -> Result<CrdPolicy, String> {
    let legacy = if flag(obj, &format!("/spec/{action}/skipCRDs")) {
        CrdPolicy::Skip
    } else {
        default
    };
    match s(obj, &format!("/spec/{action}/crds")) {
        None => Ok(legacy),
        Some("Skip") => Ok(CrdPolicy::Skip),
        Some("Create") => Ok(CrdPolicy::Create),
        Some("CreateReplace") => Ok(CrdPolicy::CreateReplace),
        Some(other) => Err(format!(
            "spec.{action}.crds: Unsupported value: \"{other}\": supported values: \"Skip\", \"Create\", \"CreateReplace\""
        )),
    }
}

fn remediation(obj: &Value, action: &str) -> Result<Remediation, String> {
    let at = |f: &str| format!("/spec/{action}/remediation/{f}");
    let retries = obj
        .pointer(&at("retries"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let last = obj
        .pointer(&at("remediateLastFailure"))
        .and_then(Value::as_bool);
    let install = action == "install";
    let strategy = match (install, s(obj, &at("strategy"))) {
        (true, _) => Strategy::Uninstall,
        (false, None | Some("rollback")) => Strategy::Rollback,
        (false, Some("uninstall")) => Strategy::Uninstall,
        (false, Some(other)) => {
            return Err(format!(
                "spec.upgrade.remediation.strategy: Unsupported value: \"{other}\": supported values: \"rollback\", \"uninstall\""
            ));
        }
    };
    Ok(Remediation {
        retries,
        strategy,
        // Install: false unless set; upgrade: true when retries > 0.
        remediate_last_failure: last.unwrap_or(!install && retries > 0),
        ignore_test_failures: obj
            .pointer(&at("ignoreTestFailures"))
            .and_then(Value::as_bool),
        counter: if install {
            "installFailures"
        } else {
            "upgradeFailures"
        },
    })
}

fn drift(obj: &Value) -> Result<(DriftMode, Vec<IgnoreRule>), String> {
    let mode = match s(obj, "/spec/driftDetection/mode") {
        None | Some("disabled") => DriftMode::Disabled,
        Some("warn") => DriftMode::Warn,
        Some("enabled") => DriftMode::Enabled,
        Some(other) => {
            return Err(format!(
                "spec.driftDetection.mode: Unsupported value: \"{other}\": supported values: \"enabled\", \"warn\", \"disabled\""
            ));
        }
    };
    let rules = obj
        .pointer("/spec/driftDetection/ignore")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut ignore = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let paths: Vec<String> = r
            .get("paths")
            .and_then(Value::as_array)
            .map(|p| {
                p.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() {
            return Err(format!(
                "spec.driftDetection.ignore[{i}].paths: Required value"
            ));
        }
        let target = match r.get("target") {
            None | Some(Value::Null) => None,
            Some(t) => {
                if t.get("labelSelector").is_some() || t.get("annotationSelector").is_some() {
                    return Err(format!(
                        "spec.driftDetection.ignore[{i}].target: label and annotation selectors are not emulated by gameday's helm-controller"
                    ));
                }
                let f = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_owned);
                Some(Target {
                    group: f("group"),
                    version: f("version"),
                    kind: f("kind"),
                    name: f("name"),
                    namespace: f("namespace"),
                })
            }
        };
        ignore.push(IgnoreRule { paths, target });
    }
    Ok((mode, ignore))
}

impl Options {
    /// Reads the options of `obj`; `timeout` is `spec.timeout`.
    ///
    /// # Errors
    /// The field and what is wrong with it.
    pub fn read(obj: &Value, timeout: Duration) -> Result<Options, String> {
        let t = |action: &str| -> Result<Duration, String> {
            Ok(dur(obj, &format!("/spec/{action}/timeout"))?.unwrap_or(timeout))
        };
        let (drift, drift_ignore) = drift(obj)?;
        Ok(Options {
            install_crds: crds(obj, "install", CrdPolicy::Create)?,
            upgrade_crds: crds(obj, "upgrade", CrdPolicy::Skip)?,
            install_remediation: remediation(obj, "install")?,
            upgrade_remediation: remediation(obj, "upgrade")?,
            install_strategy: on_failure(obj, "install")?,
            upgrade_strategy: on_failure(obj, "upgrade")?,
            install_disable_wait: flag(obj, "/spec/install/disableWait"),
            upgrade_disable_wait: flag(obj, "/spec/upgrade/disableWait"),
            rollback_disable_wait: flag(obj, "/spec/rollback/disableWait"),
            install_timeout: t("install")?,
            upgrade_timeout: t("upgrade")?,
            rollback_timeout: t("rollback")?,
            uninstall_timeout: t("uninstall")?,
            test_timeout: t("test")?,
            test: flag(obj, "/spec/test/enable"),
            test_ignore_failures: flag(obj, "/spec/test/ignoreFailures"),
            drift,
            drift_ignore,
        })
    }

    /// The remediation of the last attempted release action
    /// (`status.lastAttemptedReleaseAction`), if any.
    pub fn active(&self, status: Option<&Value>) -> Option<&Remediation> {
        match status
            .and_then(|s| s.get("lastAttemptedReleaseAction"))
            .and_then(Value::as_str)
        {
            Some("install") => Some(&self.install_remediation),
            Some("upgrade") => Some(&self.upgrade_remediation),
            _ => None,
        }
    }

    /// The strategy of the last attempted release action.
    pub fn active_strategy(&self, status: Option<&Value>) -> OnFailure {
        match status
            .and_then(|s| s.get("lastAttemptedReleaseAction"))
            .and_then(Value::as_str)
        {
            Some("install") => self.install_strategy,
            Some("upgrade") => self.upgrade_strategy,
            _ => OnFailure::Remediate,
        }
    }

    /// Whether test failures are ignored, as the active remediation says.
    pub fn ignores_tests(&self, status: Option<&Value>) -> bool {
        self.active(status).map_or(self.test_ignore_failures, |r| {
            r.ignores_tests(self.test_ignore_failures)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_follow_helm_controller() {
        let o = Options::read(&json!({"spec": {}}), Duration::from_secs(300)).unwrap();
        assert_eq!(o.install_crds, CrdPolicy::Create);
        assert_eq!(o.upgrade_crds, CrdPolicy::Skip);
        assert_eq!(o.install_remediation.retries, 0);
        assert!(!o.install_remediation.remediate_last_failure);
        assert!(!o.upgrade_remediation.remediate_last_failure);
        assert_eq!(o.upgrade_remediation.strategy, Strategy::Rollback);
        assert_eq!(o.drift, DriftMode::Disabled);
        assert_eq!(o.test_timeout, Duration::from_secs(300));
        // retries > 0: the last failure of an upgrade is remediated.
        let o = Options::read(
            &json!({"spec": {"install": {"skipCRDs": true, "remediation": {"retries": 2}},
                "upgrade": {"crds": "CreateReplace", "timeout": "1m", "remediation": {"retries": 1, "strategy": "uninstall"}}}}),
            Duration::from_secs(300),
        )
        .unwrap();
        assert_eq!(o.install_crds, CrdPolicy::Skip);
        assert!(!o.install_remediation.remediate_last_failure);
        assert!(o.upgrade_remediation.remediate_last_failure);
        assert_eq!(o.upgrade_remediation.strategy, Strategy::Uninstall);
        assert_eq!(o.upgrade_crds, CrdPolicy::CreateReplace);
        assert_eq!(o.upgrade_timeout, Duration::from_secs(60));
        assert_eq!(o.install_strategy, OnFailure::Remediate);
        let retry = json!({"spec": {"upgrade": {"strategy": {"name": "RetryOnFailure"}},
            "install": {"strategy": {"name": "RetryOnFailure", "retryInterval": "1m"}}}});
        let o = Options::read(&retry, Duration::from_secs(300)).unwrap();
        assert_eq!(
            o.upgrade_strategy,
            OnFailure::Retry(Duration::from_secs(300))
        );
        assert_eq!(
            o.install_strategy,
            OnFailure::Retry(Duration::from_secs(60))
        );
        let status = json!({"lastAttemptedReleaseAction": "install"});
        assert_eq!(
            o.active_strategy(Some(&status)),
            OnFailure::Retry(Duration::from_secs(60))
        );
        assert_eq!(o.install_timeout, Duration::from_secs(300));
    }

    #[test]
    fn retries_are_exhausted_past_their_number_and_never_when_negative() {
        let r = |retries| Remediation {
            retries,
            strategy: Strategy::Uninstall,
            remediate_last_failure: false,
            ignore_test_failures: None,
            counter: "installFailures",
        };
        let status = json!({"installFailures": 3});
        assert!(r(2).exhausted(Some(&status)));
        assert!(!r(3).exhausted(Some(&status)));
        assert!(!r(-1).exhausted(Some(&status)));
        assert!(!r(0).exhausted(None));
    }

    #[test]
    fn unknown_values_are_refused_with_their_field() {
        let bad = json!({"spec": {"upgrade": {"crds": "Replace"}}});
        assert!(
            Options::read(&bad, Duration::ZERO)
                .unwrap_err()
                .starts_with("spec.upgrade.crds: Unsupported value: \"Replace\"")
        );
        let bad = json!({"spec": {"driftDetection": {"mode": "on"}}});
        assert!(Options::read(&bad, Duration::ZERO).is_err());
    }
}
