//! `spec.bootstrap` → [`Bootstrap`]: the method (Flux by default) with the
//! settings of its own block only, and the secrets restored before
//! reconciliation, each read from a file that must exist.

use std::time::Duration;

use super::Cx;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file::{self, BootstrapMethodName};
use crate::scenario::model::bootstrap::DEFAULT_NAMESPACE;
use crate::scenario::model::{
    Bootstrap, BootstrapMethod, DirectSettings, FluxSettings, SecretSource,
};

impl Cx<'_> {
    pub(super) fn bootstrap(
        &self,
        c: &mut Collector,
        b: Option<&file::BootstrapSpec>,
    ) -> Bootstrap {
        let method_name = b
            .and_then(|b| b.method)
            .unwrap_or(BootstrapMethodName::Flux);
        let method = match method_name {
            BootstrapMethodName::Flux => {
                BootstrapMethod::Flux(self.flux(c, b.and_then(|b| b.flux.as_ref())))
            }
            BootstrapMethodName::Direct => {
                BootstrapMethod::Direct(direct(c, b.and_then(|b| b.direct.as_ref())))
            }
        };
        if let Some(b) = b {
            check_other_method_block(c, b, method_name);
        }
        let secrets = b
            .map(|b| {
                b.secrets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.secret(c, i, s))
                    .collect()
            })
            .unwrap_or_default();
        Bootstrap { method, secrets }
    }

    /// Flux's settings; install manifests are a URL or a file that exists.
    fn flux(&self, c: &mut Collector, flux: Option<&file::FluxBlock>) -> FluxSettings {
        FluxSettings {
            manifests: flux.and_then(|f| f.manifests.as_ref()).map(|m| {
                if m.starts_with("https://") || m.starts_with("http://") {
                    m.clone()
                } else {
                    self.existing_file(c, "spec.bootstrap.flux.manifests", m)
                        .to_string_lossy()
                        .into_owned()
                }
            }),
            interval: flux
                .and_then(|f| f.interval)
                .map_or(Duration::from_secs(60), |d| d.0),
        }
    }

    /// One secret; its data key defaults to the file's name.
    fn secret(&self, c: &mut Collector, i: usize, s: &file::SecretSpec) -> SecretSource {
        let field = format!("spec.bootstrap.secrets[{i}].fromFile");
        let from_file = self.existing_file(c, &field, &s.from_file);
        let key = s.key.clone().unwrap_or_else(|| {
            from_file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        SecretSource {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            from_file,
            key,
        }
    }
}

/// The direct applier's settings.
fn direct(c: &mut Collector, direct: Option<&file::DirectBlock>) -> DirectSettings {
    let concurrency = direct.and_then(|d| d.concurrency).unwrap_or(16);
    let namespace = direct
        .and_then(|d| d.namespace.clone())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    if !super::names::is_dns_label(&namespace) {
        c.field_help(
            "spec.bootstrap.direct.namespace",
            format!("{namespace:?} is not a valid namespace name"),
            "use lower-case letters, digits and '-' (at most 63), such as `default`",
        );
    }
    if concurrency == 0 {
        c.field("spec.bootstrap.direct.concurrency", "must be at least 1");
    }
    DirectSettings {
        interval: direct
            .and_then(|d| d.interval)
            .map_or(Duration::from_secs(60), |d| d.0),
        prune: direct.and_then(|d| d.prune).unwrap_or(true),
        concurrency,
        namespace,
    }
}

/// A block for the method not chosen would be silently ignored: say so.
fn check_other_method_block(
    c: &mut Collector,
    b: &file::BootstrapSpec,
    method: BootstrapMethodName,
) {
    if b.flux.is_some() && method != BootstrapMethodName::Flux {
        c.field_help(
            "spec.bootstrap.flux",
            "is set but the method is direct",
            "remove it or set `method: flux`",
        );
    }
    if b.direct.is_some() && method != BootstrapMethodName::Direct {
        c.field_help(
            "spec.bootstrap.direct",
            "is set but the method is flux",
            "remove it or set `method: direct`",
        );
    }
}
