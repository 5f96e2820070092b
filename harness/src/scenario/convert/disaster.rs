//! `spec.disaster` → [`Fault`]s: at least one, each checked on its own by
//! one exhaustive match over the file's faults. What a fault needs from
//! the rest of the scenario (a provider that can inject it, a recovery
//! that can repair it) is checked in `combinations`.

use std::collections::BTreeMap;

use super::names::{is_dns_label, namespaced_name};
use super::paths::clean_repo_path;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file::FaultSpec;
use crate::scenario::model::{Fault, FileChange, ResourceTarget};

pub(super) fn disaster(c: &mut Collector, faults: &[FaultSpec]) -> Vec<Fault> {
    if faults.is_empty() {
        c.field_help(
            "spec.disaster",
            "is empty: a drill needs at least one fault",
            "e.g. `- fault: cluster-loss` (or list alternatives, each a drill of its own, under spec.disasters)",
        );
    }
    faults
        .iter()
        .enumerate()
        .map(|(i, f)| fault(c, &At(i), f))
        .collect()
}

/// The field path of fault `i`'s fields.
struct At(usize);

impl At {
    /// `spec.disaster[i]`.
    fn fault(&self) -> String {
        format!("spec.disaster[{}]", self.0)
    }

    /// `spec.disaster[i].<field>`.
    fn field(&self, field: &str) -> String {
        format!("spec.disaster[{}].{field}", self.0)
    }
}

fn fault(c: &mut Collector, at: &At, f: &FaultSpec) -> Fault {
    match f {
        FaultSpec::ClusterLoss {} => Fault::ClusterLoss,
        FaultSpec::NamespaceLoss { namespace } => {
            if !is_dns_label(namespace) {
                c.field(
                    at.field("namespace"),
                    format!("{namespace:?} is not a valid namespace name"),
                );
            }
            Fault::NamespaceLoss {
                namespace: namespace.clone(),
            }
        }
        FaultSpec::ResourceLoss {
            api_version,
            kind,
            namespace,
            name,
            selector,
        } => Fault::ResourceLoss {
            api_version: api_version.clone(),
            kind: kind.clone(),
            namespace: namespace.clone(),
            target: resource_target(c, at, name.as_ref(), selector.as_ref()),
        },
        FaultSpec::ControllerLoss {} => Fault::ControllerLoss,
        FaultSpec::NodeLoss { count } => {
            let count = count.unwrap_or(1);
            if count == 0 {
                c.field(at.field("count"), "must be at least 1");
            }
            Fault::NodeLoss { count }
        }
        FaultSpec::BadCommit {
            file,
            set,
            document,
            content,
            delete,
            message,
        } => {
            let change = file_change(
                c,
                at,
                set,
                *document,
                content.as_ref(),
                delete.unwrap_or(false),
            );
            Fault::BadCommit {
                file: repo_file(c, at, file),
                change,
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("gameday: bad commit to {file}")),
            }
        }
        FaultSpec::ApiOutage { duration } => {
            if duration.0.is_zero() {
                c.field(at.field("duration"), "must be longer than 0s");
            }
            Fault::ApiOutage {
                duration: duration.0,
            }
        }
        FaultSpec::InfraLoss { targets } => Fault::InfraLoss {
            targets: targets.clone(),
        },
        FaultSpec::InfraDrift { terraform, vars } => infra_drift(c, at, terraform, vars),
    }
}

/// A `resource-loss` deletes one object by `name` or all matching
/// `selector`: exactly one of the two.
fn resource_target(
    c: &mut Collector,
    at: &At,
    name: Option<&String>,
    selector: Option<&String>,
) -> ResourceTarget {
    match (name, selector) {
        (Some(n), None) => ResourceTarget::Name(n.clone()),
        (None, Some(s)) => ResourceTarget::Selector(s.clone()),
        (Some(n), Some(_)) => {
            c.field_help(
                at.field("name"),
                "`name` and `selector` are both set",
                "keep one",
            );
            ResourceTarget::Name(n.clone())
        }
        (None, None) => {
            c.field_help(
                at.field("name"),
                "resource-loss needs `name` (one object) or `selector` (e.g. app=podinfo)",
                "add one of them",
            );
            ResourceTarget::Selector(String::new())
        }
    }
}

/// The one change a `bad-commit` makes: `set`, `content` or `delete: true`.
fn file_change(
    c: &mut Collector,
    at: &At,
    set: &BTreeMap<String, serde_json::Value>,
    document: Option<u32>,
    content: Option<&String>,
    delete: bool,
) -> FileChange {
    let chosen =
        usize::from(!set.is_empty()) + usize::from(content.is_some()) + usize::from(delete);
    if chosen != 1 {
        c.field_help(
            at.fault(),
            format!("bad-commit needs exactly one change: `set`, `content` or `delete: true` ({chosen} given)"),
            "e.g. `set: {\"spec.template.spec.containers[0].image\": \"ghcr.io/org/app:broken\"}`",
        );
    }
    if delete {
        FileChange::Delete
    } else if let Some(content) = content {
        FileChange::Replace(content.clone())
    } else {
        FileChange::Set {
            document: document.unwrap_or(0),
            fields: set.clone(),
        }
    }
}

/// The file a `bad-commit` changes, cleaned; it must stay inside the
/// repository.
fn repo_file(c: &mut Collector, at: &At, file: &str) -> String {
    if file.trim().is_empty() || file.starts_with('/') || file.split('/').any(|p| p == "..") {
        c.field(
            at.field("file"),
            format!("{file:?} must be a path inside the repository, relative to its root"),
        );
    }
    clean_repo_path(file)
}

/// An `infra-drift` names a Terraform object and the values that drift.
fn infra_drift(
    c: &mut Collector,
    at: &At,
    terraform: &str,
    vars: &BTreeMap<String, String>,
) -> Fault {
    if vars.is_empty() {
        c.field_help(
            at.field("vars"),
            "infra-drift needs the values applied by hand (nothing would drift)",
            "e.g. `vars: {cidr: 10.99.0.0/16}`: variables of the Terraform object's module",
        );
    }
    let terraform = namespaced_name(terraform);
    if !is_dns_label(&terraform.name) || !is_dns_label(&terraform.namespace) {
        c.field_help(
            at.field("terraform"),
            format!(
                "{:?} is not the name of a Terraform object",
                terraform.to_string()
            ),
            "give `name` (in flux-system) or `namespace/name`, in lower case, e.g. `network`",
        );
    }
    Fault::InfraDrift {
        terraform,
        vars: vars.clone(),
    }
}
