//! Bootstrap: the GitOps method with its settings, and the secrets restored
//! before reconciliation.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// Bootstrap settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    /// Method and its settings.
    pub method: BootstrapMethod,
    /// Secrets restored before reconciliation.
    pub secrets: Vec<SecretSource>,
}

/// A bootstrap method with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BootstrapMethod {
    /// Flux.
    Flux(FluxSettings),
    /// gameday's applier.
    Direct(DirectSettings),
}

impl BootstrapMethod {
    /// `flux` or `direct`.
    pub fn name(&self) -> &'static str {
        match self {
            BootstrapMethod::Flux(_) => "flux",
            BootstrapMethod::Direct(_) => "direct",
        }
    }
}

/// Flux settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FluxSettings {
    /// Install manifests: a file or URL.
    pub manifests: Option<String>,
    /// Interval of the sync objects.
    pub interval: Duration,
}

/// The namespace the direct applier puts namespaced objects in when they
/// set none (as `kubectl apply` does with its context's namespace).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Direct applier settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectSettings {
    /// Re-apply interval.
    pub interval: Duration,
    /// Prune removed objects.
    pub prune: bool,
    /// Objects applied at once.
    pub concurrency: u32,
    /// Namespace of namespaced objects that set none.
    pub namespace: String,
}

/// A Secret from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretSource {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The file.
    pub from_file: PathBuf,
    /// Data key.
    pub key: String,
}

impl Default for FluxSettings {
    /// A scenario's defaults: no manifests file, interval 1m.
    fn default() -> Self {
        FluxSettings {
            manifests: None,
            interval: std::time::Duration::from_secs(60),
        }
    }
}

impl Default for DirectSettings {
    /// A scenario's defaults: interval 1m, prune, 16 at once, namespace
    /// `default` (as `kubectl apply`).
    fn default() -> Self {
        DirectSettings {
            interval: std::time::Duration::from_secs(60),
            prune: true,
            concurrency: 16,
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}
