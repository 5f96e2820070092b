//! Where a Flux Terraform controller keeps state, and how it hands a
//! module its variables — shared by the simulator's emulated controller
//! and the `infra-drift` fault, which runs Terraform by hand against the
//! same state as a person would.
//!
//! Like the real controller (flux-iac/tofu-controller), the state lives
//! in the cluster, through Terraform's built-in `kubernetes` backend: a
//! Secret `tfstate-<workspace>-<suffix>` in the object's namespace, with a
//! Lease as its lock. The backend is configured by an override file
//! written next to the module's own files; variables go into a
//! `*.auto.tfvars.json` file.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

/// The backend override file.
pub const BACKEND_OVERRIDE: &str = "backend_override.tf.json";

/// The variables file.
pub const VARS_FILE: &str = "generated.auto.tfvars.json";

/// The Secret holding the state of a workspace (`default`) for a suffix
/// (the object's name by default): `tfstate-default-<name>`.
pub fn state_secret(workspace: &str, suffix: &str) -> String {
    format!("tfstate-{workspace}-{suffix}")
}

/// Writes the `kubernetes` backend override into `dir`: state in
/// `namespace`, Secret suffix `suffix`, the cluster reached with
/// `kubeconfig`.
///
/// # Errors
/// When the file cannot be written.
pub fn write_kubernetes_backend(
    dir: &Path,
    suffix: &str,
    namespace: &str,
    kubeconfig: &Path,
) -> std::io::Result<()> {
    let config = json!({"terraform": {"backend": {"kubernetes": {
        "secret_suffix": suffix,
        "namespace": namespace,
        "config_path": kubeconfig.display().to_string(),
    }}}});
    std::fs::write(
        dir.join(BACKEND_OVERRIDE),
        serde_json::to_string_pretty(&config).unwrap_or_default(),
    )
}

/// Writes the module's variables (JSON values) into `dir`.
///
/// # Errors
/// When the file cannot be written.
pub fn write_vars(dir: &Path, vars: &BTreeMap<String, Value>) -> std::io::Result<()> {
    std::fs::write(
        dir.join(VARS_FILE),
        serde_json::to_string_pretty(vars).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_and_vars_files() {
        let d = tempfile::tempdir().unwrap();
        write_kubernetes_backend(d.path(), "network", "flux-system", Path::new("/k/config"))
            .unwrap();
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(d.path().join(BACKEND_OVERRIDE)).unwrap(),
        )
        .unwrap();
        assert_eq!(
            v["terraform"]["backend"]["kubernetes"]["secret_suffix"],
            "network"
        );
        assert_eq!(
            v["terraform"]["backend"]["kubernetes"]["config_path"],
            "/k/config"
        );
        write_vars(
            d.path(),
            &BTreeMap::from([("cidr".to_owned(), json!("10.0.0.0/16"))]),
        )
        .unwrap();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join(VARS_FILE)).unwrap())
                .unwrap();
        assert_eq!(v["cidr"], "10.0.0.0/16");
        assert_eq!(
            state_secret("default", "network"),
            "tfstate-default-network"
        );
    }
}
