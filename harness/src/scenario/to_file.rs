//! Internal model → file format: the inverse of conversion, used to show a
//! scenario with every default spelled out and to test that nothing is lost
//! between the two shapes.
//!
//! One function per section, in the file's order, each the mirror of its
//! `convert/` counterpart. Every optional field the model has a value for
//! is written out, so a round trip through the file format is lossless.

use super::duration::HumanDuration;
use super::file::{self, ScenarioFile};
use super::model::*;
use crate::gitops::oci::artifact::ArtifactRef;

fn path_string(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

fn dur(d: std::time::Duration) -> Option<HumanDuration> {
    Some(HumanDuration(d))
}

fn object_ref(o: &ObjectRef) -> file::ObjectRefSpec {
    file::ObjectRefSpec {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
    }
}

/// The file form of a scenario, every default written out and every path
/// absolute.
pub fn to_file(s: &Scenario) -> ScenarioFile {
    ScenarioFile {
        api_version: file::API_VERSION.into(),
        kind: file::KIND.into(),
        metadata: file::Metadata {
            name: s.name.clone(),
            description: (!s.description.is_empty()).then(|| s.description.clone()),
        },
        spec: file::Spec {
            cluster: Some(cluster(&s.cluster)),
            source: source(&s.source),
            mirrors: s
                .mirrors
                .iter()
                .map(|m| file::MirrorSpec {
                    url: m.url.clone(),
                    path: path_string(&m.path),
                })
                .collect(),
            bootstrap: Some(bootstrap(&s.bootstrap)),
            steady_state: Some(file::SteadyStateSpec {
                timeout: dur(s.steady_state.timeout),
                checks: s.steady_state.checks.iter().map(check).collect(),
            }),
            setup: s.setup.iter().map(setup_step).collect(),
            disaster: s.disaster.iter().map(fault).collect(),
            disasters: Vec::new(),
            recovery: recovery(&s.recovery),
            rto: rto(&s.rto),
            expect: Some(file::ExpectSpec {
                lost: s.expect.lost.iter().map(object_ref).collect(),
            }),
            repeat: Some(s.repeat),
        },
    }
}

/// Every provider's block the model holds, the chosen one included.
fn cluster(c: &Cluster) -> file::ClusterSpec {
    file::ClusterSpec {
        provider: Some(c.provider),
        sim: Some(file::SimBlock {
            profile: Some(c.sim.profile),
            nodes: Some(c.sim.nodes),
            seed: Some(c.sim.seed),
            images: c.sim.images.clone(),
            skip_verify: c.sim.skip_verify,
        }),
        kind: Some(file::KindBlock {
            config: c.kind.config.as_deref().map(path_string),
            image: c.kind.image.clone(),
            wait: dur(c.kind.wait),
        }),
        terraform: c.terraform.as_ref().map(|t| file::TerraformBlock {
            dir: path_string(&t.dir),
            vars: t.vars.clone(),
            kubeconfig_output: Some(t.kubeconfig_output.clone()),
            workspace: t.workspace.clone(),
            timeout: dur(t.timeout),
        }),
        existing: c.existing.as_ref().map(|e| file::ExistingBlock {
            kubeconfig: e.kubeconfig.as_deref().map(path_string),
            context: e.context.clone(),
            allow_contexts: e.allow_contexts.clone(),
            allow_namespaces: e.allow_namespaces.clone(),
        }),
    }
}

fn source(s: &Source) -> file::SourceSpec {
    file::SourceSpec {
        fixture: match &s.location {
            SourceLocation::Fixture(p) => Some(path_string(p)),
            _ => None,
        },
        url: match &s.location {
            SourceLocation::Url(u) => Some(u.clone()),
            _ => None,
        },
        oci: match &s.location {
            SourceLocation::Oci { url, reference } => Some(file::OciSourceSpec {
                url: url.clone(),
                tag: match reference {
                    ArtifactRef::Tag(t) => Some(t.clone()),
                    ArtifactRef::Semver(_) => None,
                },
                semver: match reference {
                    ArtifactRef::Semver(r) => Some(r.clone()),
                    ArtifactRef::Tag(_) => None,
                },
            }),
            _ => None,
        },
        branch: s.reference.branch.clone(),
        tag: s.reference.tag.clone(),
        commit: s.reference.commit.clone(),
        path: Some(s.path.clone()),
    }
}

/// The method's name and its block; the other method's block stays empty.
fn bootstrap(b: &Bootstrap) -> file::BootstrapSpec {
    file::BootstrapSpec {
        method: Some(match b.method {
            BootstrapMethod::Flux(_) => file::BootstrapMethodName::Flux,
            BootstrapMethod::Direct(_) => file::BootstrapMethodName::Direct,
        }),
        secrets: b
            .secrets
            .iter()
            .map(|x| file::SecretSpec {
                namespace: x.namespace.clone(),
                name: x.name.clone(),
                from_file: path_string(&x.from_file),
                key: Some(x.key.clone()),
            })
            .collect(),
        flux: match &b.method {
            BootstrapMethod::Flux(f) => Some(file::FluxBlock {
                manifests: f.manifests.clone(),
                interval: dur(f.interval),
            }),
            BootstrapMethod::Direct(_) => None,
        },
        direct: match &b.method {
            BootstrapMethod::Direct(d) => Some(file::DirectBlock {
                interval: dur(d.interval),
                prune: Some(d.prune),
                concurrency: Some(d.concurrency),
                namespace: Some(d.namespace.clone()),
            }),
            BootstrapMethod::Flux(_) => None,
        },
    }
}

fn check(c: &Check) -> file::CheckSpec {
    match c {
        Check::Kustomizations(None) => file::CheckSpec::Kustomizations(file::Selection::All),
        Check::Kustomizations(Some(names)) => file::CheckSpec::Kustomizations(
            file::Selection::Names(names.iter().map(ToString::to_string).collect()),
        ),
        Check::Workloads(namespaces) => file::CheckSpec::Workloads(file::WorkloadsCheck {
            namespaces: namespaces.clone(),
        }),
        Check::Object { object, condition } => file::CheckSpec::Object(file::ObjectCheck {
            api_version: object.api_version.clone().unwrap_or_default(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            condition: condition.clone(),
        }),
    }
}

fn setup_step(step: &SetupStep) -> file::SetupStep {
    match step {
        SetupStep::Apply(p) => file::SetupStep::Apply(path_string(p)),
        SetupStep::Delete(o) => file::SetupStep::Delete(object_ref(o)),
        SetupStep::Sleep(d) => file::SetupStep::Sleep(HumanDuration(*d)),
    }
}

/// The method's name, with only that method's settings.
fn recovery(r: &Recovery) -> file::RecoverySpec {
    file::RecoverySpec {
        method: match r.method {
            RecoveryMethod::Rebuild => file::RecoveryMethodName::Rebuild,
            RecoveryMethod::Reconcile { .. } => file::RecoveryMethodName::Reconcile,
            RecoveryMethod::GitRevert => file::RecoveryMethodName::GitRevert,
            RecoveryMethod::Manual { .. } => file::RecoveryMethodName::Manual,
        },
        trigger: match r.method {
            RecoveryMethod::Reconcile { trigger } => Some(trigger),
            _ => None,
        },
        timeout: dur(r.timeout),
        instructions: match &r.method {
            RecoveryMethod::Manual { instructions } => instructions.clone(),
            _ => None,
        },
    }
}

fn rto(r: &Rto) -> file::RtoSpec {
    file::RtoSpec {
        total: HumanDuration(r.total),
        phases: r
            .phases
            .iter()
            .map(|(p, d)| (p.name().to_owned(), HumanDuration(*d)))
            .collect(),
        quantile: Some(match r.quantile {
            Quantile::P50 => file::QuantileName::P50,
            Quantile::P90 => file::QuantileName::P90,
            Quantile::P95 => file::QuantileName::P95,
            Quantile::P99 => file::QuantileName::P99,
            Quantile::Max => file::QuantileName::Max,
        }),
    }
}

fn fault(f: &Fault) -> file::FaultSpec {
    match f {
        Fault::ClusterLoss => file::FaultSpec::ClusterLoss {},
        Fault::NamespaceLoss { namespace } => file::FaultSpec::NamespaceLoss {
            namespace: namespace.clone(),
        },
        Fault::ResourceLoss {
            api_version,
            kind,
            namespace,
            target,
        } => file::FaultSpec::ResourceLoss {
            api_version: api_version.clone(),
            kind: kind.clone(),
            namespace: namespace.clone(),
            name: match target {
                ResourceTarget::Name(n) => Some(n.clone()),
                ResourceTarget::Selector(_) => None,
            },
            selector: match target {
                ResourceTarget::Selector(s) => Some(s.clone()),
                ResourceTarget::Name(_) => None,
            },
        },
        Fault::ControllerLoss => file::FaultSpec::ControllerLoss {},
        Fault::NodeLoss { count } => file::FaultSpec::NodeLoss {
            count: Some(*count),
        },
        Fault::BadCommit {
            file,
            change,
            message,
        } => {
            let (set, document, content, delete) = match change {
                FileChange::Set { document, fields } => {
                    (fields.clone(), Some(*document), None, None)
                }
                FileChange::Replace(c) => (Default::default(), None, Some(c.clone()), None),
                FileChange::Delete => (Default::default(), None, None, Some(true)),
            };
            file::FaultSpec::BadCommit {
                file: file.clone(),
                set,
                document,
                content,
                delete,
                message: Some(message.clone()),
            }
        }
        Fault::ApiOutage { duration } => file::FaultSpec::ApiOutage {
            duration: HumanDuration(*duration),
        },
        Fault::InfraLoss { targets } => file::FaultSpec::InfraLoss {
            targets: targets.clone(),
        },
        Fault::InfraDrift { terraform, vars } => file::FaultSpec::InfraDrift {
            terraform: terraform.to_string(),
            vars: vars.clone(),
        },
    }
}

/// The file form rendered as YAML, starting with the schema comment.
///
/// # Errors
/// When serialisation fails (it does not for valid scenarios).
pub fn to_yaml(s: &Scenario) -> Result<String, serde_yaml::Error> {
    Ok(format!(
        "# yaml-language-server: $schema={}\n{}",
        super::schema::SCHEMA_FILE,
        serde_yaml::to_string(&to_file(s))?
    ))
}
