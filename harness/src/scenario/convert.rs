//! File format → internal model: defaults, path resolution and semantic
//! validation, reporting every problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::capabilities::{self, FLUX_NAMESPACE};
use super::diagnostic::{Collector, Diagnostic};
use super::file::{self, FaultSpec, ScenarioFile};
use super::model::*;

/// Longest scenario name: it becomes part of cluster names
/// (`gameday-<name>-<run id>`), which kind limits.
pub const MAX_NAME_LEN: usize = 40;

/// Converts a parsed file into the model. Relative paths resolve against
/// `base_dir` (the file's folder).
pub(crate) fn convert(
    f: &ScenarioFile,
    file: &Path,
    base_dir: &Path,
) -> Result<Scenario, Vec<Diagnostic>> {
    let mut c = Collector::default();
    let cx = Cx { base_dir };

    check_name(&mut c, &f.metadata.name);
    let cluster = cx.cluster(&mut c, f.spec.cluster.as_ref());
    let source = cx.source(&mut c, &f.spec.source);
    let bootstrap = cx.bootstrap(&mut c, f.spec.bootstrap.as_ref());
    let steady_state = cx.steady_state(&mut c, f.spec.steady_state.as_ref(), &bootstrap);
    let setup = cx.setup(&mut c, &f.spec.setup);
    let disaster = cx.disaster(&mut c, &f.spec.disaster);
    let rto_total = f.spec.rto.total.0;
    let recovery = recovery(&f.spec.recovery, rto_total);
    let rto = rto(&mut c, &f.spec.rto);
    let expect = Expect {
        lost: f
            .spec
            .expect
            .as_ref()
            .map(|e| e.lost.iter().map(object_ref).collect())
            .unwrap_or_default(),
    };
    let repeat = f.spec.repeat.unwrap_or(1);
    if repeat < 1 {
        c.field_help(
            "spec.repeat",
            "must be at least 1",
            "remove it to run the drill once",
        );
    }

    let scenario = Scenario {
        file: file.to_owned(),
        name: f.metadata.name.clone(),
        description: f.metadata.description.clone().unwrap_or_default(),
        cluster,
        source,
        bootstrap,
        steady_state,
        setup,
        disaster,
        recovery,
        rto,
        expect,
        repeat,
    };
    check_combinations(&mut c, &scenario);
    if c.items.is_empty() {
        Ok(scenario)
    } else {
        Err(c.items)
    }
}

/// Checks that depend on several sections at once: what the provider can
/// do, what the recovery can repair, which phases exist. Also used when a
/// run overrides the provider.
pub(crate) fn check_combinations(c: &mut Collector, s: &Scenario) {
    let provider = s.cluster.provider;
    let provider_name = provider_name(provider);
    match provider {
        Provider::Terraform if s.cluster.terraform.is_none() => c.field_help(
            "spec.cluster.terraform",
            "provider is terraform but there is no `terraform` block",
            "add spec.cluster.terraform with at least `dir: <module folder>`, or change spec.cluster.provider",
        ),
        Provider::Existing if s.cluster.existing.is_none() => c.field_help(
            "spec.cluster.existing",
            "provider is existing but there is no `existing` block",
            "add spec.cluster.existing with `allowContexts: [<context>]` (and `allowNamespaces`), or change spec.cluster.provider",
        ),
        _ => {}
    }

    let faults: Vec<FaultKind> = s.disaster.iter().map(Fault::kind).collect();
    for (i, fault) in faults.iter().enumerate() {
        let path = format!("spec.disaster[{i}].fault");
        if !capabilities::provider_faults(provider).contains(fault) {
            let can: Vec<&str> = capabilities::provider_faults(provider)
                .iter()
                .map(|f| f.name())
                .collect();
            c.field_help(
                &path,
                format!(
                    "provider {provider_name} cannot inject {fault}: {}",
                    capabilities::why_not(provider, *fault)
                ),
                format!("provider {provider_name} can inject: {}", can.join(", ")),
            );
        }
        let accepted = capabilities::fault_recoveries(*fault);
        let revert_without_commit = s.recovery.method == RecoveryMethod::GitRevert
            && !faults.contains(&FaultKind::BadCommit);
        // (That case gets one specific message below rather than one per fault.)
        if !accepted.contains(&s.recovery.method.name()) && !revert_without_commit {
            c.field_help(
                "spec.recovery.method",
                format!(
                    "{} cannot recover from {fault} ({})",
                    s.recovery.method.name(),
                    capabilities::recovery_hint(*fault)
                ),
                format!("after {fault} use: {}", accepted.join(" or ")),
            );
        }
    }
    if s.recovery.method == RecoveryMethod::GitRevert && !faults.contains(&FaultKind::BadCommit) {
        c.field_help(
            "spec.recovery.method",
            "git-revert reverts the disaster's bad commit, but the disaster has no bad-commit fault",
            "add a `fault: bad-commit` to spec.disaster, or choose another recovery method",
        );
    }
    if faults.contains(&FaultKind::ClusterLoss) && faults.len() > 1 {
        c.field_help(
            "spec.disaster",
            "cluster-loss destroys everything, so the other faults listed with it have no effect",
            "keep cluster-loss alone in its disaster, or write one scenario per fault",
        );
    }

    // Budgets must name phases this recovery has, and fit in the total.
    let phases = capabilities::recovery_phases(&s.recovery.method, &faults, provider);
    let names: Vec<&str> = phases.iter().map(|p| p.name()).collect();
    // With Terraform, `provision` is split in two; a `provision` budget
    // (from a scenario written for another provider) covers both halves.
    let split_provision = phases.contains(&Phase::Infra) && phases.contains(&Phase::ClusterReady);
    for (phase, budget) in &s.rto.phases {
        let path = format!("spec.rto.phases.{}", phase.name());
        let covered = phases.contains(phase) || (*phase == Phase::Provision && split_provision);
        if !covered {
            let extra = if *phase == Phase::Provision && provider == Provider::Terraform {
                " (with provider terraform, provision is split into infra and cluster-ready)"
            } else {
                ""
            };
            c.field_help(
                &path,
                format!(
                    "recovery {} after {} on {provider_name} has no {} phase{extra}",
                    s.recovery.method.name(),
                    join_faults(&faults),
                    phase.name()
                ),
                format!("its phases are: {}", names.join(", ")),
            );
        }
        if *budget > s.rto.total {
            c.field_help(
                &path,
                format!(
                    "budget {} is larger than the total rto.total {}",
                    super::duration::format_duration(*budget),
                    super::duration::format_duration(s.rto.total)
                ),
                "a phase cannot take longer than the whole recovery: lower it or raise spec.rto.total",
            );
        }
    }

    // Faults that need a particular setup.
    for (i, f) in s.disaster.iter().enumerate() {
        if let Fault::NodeLoss { count } = f
            && matches!(provider, Provider::Sim)
            && *count >= s.cluster.sim.nodes
        {
            c.field_help(
                format!("spec.disaster[{i}].count"),
                format!(
                    "losing {count} node(s) of a {}-node cluster leaves nowhere to reschedule pods",
                    s.cluster.sim.nodes
                ),
                "lower the count or raise spec.cluster.sim.nodes",
            );
        }
    }
    if let (Provider::Existing, Some(existing)) = (provider, &s.cluster.existing) {
        for (i, f) in s.disaster.iter().enumerate() {
            match capabilities::fault_scope(f, &s.bootstrap.method) {
                capabilities::FaultScope::Namespace(ns) if !existing.allow_namespaces.contains(&ns) => {
                    c.field_help(
                        format!("spec.disaster[{i}]"),
                        format!("{} would touch namespace {ns:?}, which spec.cluster.existing.allowNamespaces does not list", f.name()),
                        format!("add {ns:?} to allowNamespaces if this cluster may really lose it"),
                    );
                }
                capabilities::FaultScope::AllNamespaces => c.field_help(
                    format!("spec.disaster[{i}].namespace"),
                    format!("{} without a namespace would touch every namespace (or cluster-scoped objects) of an existing cluster", f.name()),
                    "give the namespace to delete from; it must be listed in spec.cluster.existing.allowNamespaces",
                ),
                _ => {}
            }
        }
    }
}

fn join_faults(faults: &[FaultKind]) -> String {
    faults
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(" + ")
}

fn provider_name(p: Provider) -> &'static str {
    p.name()
}

fn check_name(c: &mut Collector, name: &str) {
    if !is_dns_label(name) || name.len() > MAX_NAME_LEN {
        c.field_help(
            "metadata.name",
            format!("{name:?} is not a valid name: expected lower-case letters, digits and '-', starting and ending with a letter or digit, at most {MAX_NAME_LEN} characters"),
            "it becomes part of cluster names, e.g. `cluster-loss`",
        );
    }
}

/// True for a DNS-1123 label.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

struct Cx<'a> {
    base_dir: &'a Path,
}

impl Cx<'_> {
    fn resolve(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_owned()
        } else {
            normalize(&self.base_dir.join(path))
        }
    }

    fn existing_file(&self, c: &mut Collector, field: &str, p: &str) -> PathBuf {
        let path = self.resolve(p);
        if !path.is_file() {
            let what = if path.is_dir() {
                "is a folder, not a file"
            } else {
                "does not exist"
            };
            c.field_help(
                field,
                format!("{p:?} ({}) {what}", path.display()),
                "paths are relative to the scenario file's folder",
            );
        }
        path
    }

    fn existing_dir(&self, c: &mut Collector, field: &str, p: &str) -> PathBuf {
        let path = self.resolve(p);
        if !path.is_dir() {
            let what = if path.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            c.field_help(
                field,
                format!("{p:?} ({}) {what}", path.display()),
                "paths are relative to the scenario file's folder",
            );
        }
        path
    }

    fn cluster(&self, c: &mut Collector, spec: Option<&file::ClusterSpec>) -> Cluster {
        let provider = spec.and_then(|s| s.provider).unwrap_or(Provider::Sim);
        let sim = spec.and_then(|s| s.sim.as_ref());
        let nodes = sim.and_then(|s| s.nodes).unwrap_or(3);
        if nodes < 1 {
            c.field(
                "spec.cluster.sim.nodes",
                "must be at least 1 (the control plane)",
            );
        }
        let kind = spec.and_then(|s| s.kind.as_ref());
        let terraform = spec.and_then(|s| s.terraform.as_ref()).map(|t| {
            let dir = self.existing_dir(c, "spec.cluster.terraform.dir", &t.dir);
            TerraformSettings {
                dir,
                vars: t.vars.clone(),
                kubeconfig_output: t
                    .kubeconfig_output
                    .clone()
                    .unwrap_or_else(|| "kubeconfig".into()),
                workspace: t.workspace.clone(),
                timeout: t.timeout.map_or(Duration::from_secs(30 * 60), |d| d.0),
            }
        });
        let existing = spec.and_then(|s| s.existing.as_ref()).map(|e| {
            if e.allow_contexts.is_empty() {
                c.field_help(
                    "spec.cluster.existing.allowContexts",
                    "is empty, so no context may be used",
                    "list the kubeconfig context names gameday may touch",
                );
            }
            ExistingSettings {
                kubeconfig: e.kubeconfig.as_deref().map(|k| self.resolve(k)),
                context: e.context.clone(),
                allow_contexts: e.allow_contexts.clone(),
                allow_namespaces: e.allow_namespaces.clone(),
            }
        });
        Cluster {
            provider,
            sim: SimSettings {
                profile: sim.and_then(|s| s.profile).unwrap_or(SimProfile::Kind),
                nodes,
                seed: sim.and_then(|s| s.seed).unwrap_or(1),
            },
            kind: KindSettings {
                config: kind
                    .and_then(|k| k.config.as_deref())
                    .map(|p| self.existing_file(c, "spec.cluster.kind.config", p)),
                image: kind.and_then(|k| k.image.clone()),
                wait: kind
                    .and_then(|k| k.wait)
                    .map_or(Duration::from_secs(300), |d| d.0),
            },
            terraform,
            existing,
        }
    }

    fn source(&self, c: &mut Collector, s: &file::SourceSpec) -> Source {
        let location = match (&s.fixture, &s.url) {
            (Some(fixture), None) => {
                SourceLocation::Fixture(self.existing_dir(c, "spec.source.fixture", fixture))
            }
            (None, Some(url)) => {
                if url.trim().is_empty() {
                    c.field("spec.source.url", "is empty");
                }
                SourceLocation::Url(url.clone())
            }
            (Some(_), Some(_)) => {
                c.field_help(
                    "spec.source",
                    "has both `fixture` and `url`",
                    "keep one: `fixture` for a folder turned into a fresh repository, `url` for a real one",
                );
                SourceLocation::Url(String::new())
            }
            (None, None) => {
                c.field_help(
                    "spec.source",
                    "needs `fixture` (a folder) or `url` (a Git repository)",
                    "e.g. `fixture: ../fixtures/repos/podinfo`",
                );
                SourceLocation::Url(String::new())
            }
        };
        if s.tag.is_some() && s.branch.is_some() {
            c.field_help(
                "spec.source.tag",
                "`tag` and `branch` are both set",
                "keep one (a commit may be combined with a branch)",
            );
        }
        if let Some(commit) = &s.commit
            && (!(7..=40).contains(&commit.len()) || !commit.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            c.field(
                "spec.source.commit",
                format!("{commit:?} is not a commit SHA: expected 7 to 40 hexadecimal digits"),
            );
        }
        let branch = match (&s.branch, &s.tag, &s.commit) {
            (Some(b), _, _) => Some(b.clone()),
            (None, None, None) => Some("main".to_owned()),
            _ => None,
        };
        let path = s
            .path
            .as_deref()
            .map(clean_repo_path)
            .unwrap_or_else(|| ".".into());
        if path.split('/').any(|p| p == "..") {
            c.field(
                "spec.source.path",
                format!("{path:?} leaves the repository ('..' is not allowed)"),
            );
        }
        Source {
            location,
            reference: GitRef {
                branch,
                tag: s.tag.clone(),
                commit: s.commit.clone(),
            },
            path,
        }
    }

    fn bootstrap(&self, c: &mut Collector, b: Option<&file::BootstrapSpec>) -> Bootstrap {
        let method_name = b
            .and_then(|b| b.method)
            .unwrap_or(file::BootstrapMethodName::Flux);
        let method = match method_name {
            file::BootstrapMethodName::Flux => {
                let flux = b.and_then(|b| b.flux.as_ref());
                BootstrapMethod::Flux(FluxSettings {
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
                })
            }
            file::BootstrapMethodName::Direct => {
                let direct = b.and_then(|b| b.direct.as_ref());
                let concurrency = direct.and_then(|d| d.concurrency).unwrap_or(16);
                if concurrency == 0 {
                    c.field("spec.bootstrap.direct.concurrency", "must be at least 1");
                }
                BootstrapMethod::Direct(DirectSettings {
                    interval: direct
                        .and_then(|d| d.interval)
                        .map_or(Duration::from_secs(60), |d| d.0),
                    prune: direct.and_then(|d| d.prune).unwrap_or(true),
                    concurrency,
                })
            }
        };
        if let Some(b) = b {
            if b.flux.is_some() && method_name != file::BootstrapMethodName::Flux {
                c.field_help(
                    "spec.bootstrap.flux",
                    "is set but the method is direct",
                    "remove it or set `method: flux`",
                );
            }
            if b.direct.is_some() && method_name != file::BootstrapMethodName::Direct {
                c.field_help(
                    "spec.bootstrap.direct",
                    "is set but the method is flux",
                    "remove it or set `method: direct`",
                );
            }
        }
        let secrets = b
            .map(|b| {
                b.secrets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
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
                    })
                    .collect()
            })
            .unwrap_or_default();
        Bootstrap { method, secrets }
    }

    fn steady_state(
        &self,
        c: &mut Collector,
        s: Option<&file::SteadyStateSpec>,
        b: &Bootstrap,
    ) -> SteadyState {
        let timeout = s
            .and_then(|s| s.timeout)
            .map_or(Duration::from_secs(600), |d| d.0);
        let flux = matches!(b.method, BootstrapMethod::Flux(_));
        let checks: Vec<Check> = match s.map(|s| s.checks.as_slice()).unwrap_or_default() {
            [] if flux => vec![Check::Kustomizations(None), Check::Workloads(None)],
            [] => vec![Check::Workloads(None)],
            checks => checks
                .iter()
                .enumerate()
                .map(|(i, check)| match check {
                    file::CheckSpec::Kustomizations(sel) => {
                        if !flux {
                            c.field_help(
                                format!("spec.steadyState.checks[{i}].kustomizations"),
                                "checks Flux Kustomizations, but the bootstrap method is direct",
                                "use a `workloads` or `object` check, or `bootstrap.method: flux`",
                            );
                        }
                        Check::Kustomizations(match sel {
                            file::Selection::All => None,
                            file::Selection::Names(names) => {
                                Some(names.iter().map(|n| namespaced_name(n)).collect())
                            }
                        })
                    }
                    file::CheckSpec::Workloads(w) => Check::Workloads(w.namespaces.clone()),
                    file::CheckSpec::Object(o) => Check::Object {
                        object: ObjectRef {
                            api_version: Some(o.api_version.clone()),
                            kind: o.kind.clone(),
                            namespace: o.namespace.clone(),
                            name: o.name.clone(),
                        },
                        condition: o.condition.clone(),
                    },
                })
                .collect(),
        };
        SteadyState { timeout, checks }
    }

    fn setup(&self, c: &mut Collector, steps: &[file::SetupStep]) -> Vec<SetupStep> {
        steps
            .iter()
            .enumerate()
            .map(|(i, step)| match step {
                file::SetupStep::Apply(p) => {
                    let path = self.resolve(p);
                    if !path.exists() {
                        c.field_help(
                            format!("spec.setup[{i}].apply"),
                            format!("{p:?} ({}) does not exist", path.display()),
                            "give a manifest file or a folder of manifests, relative to the scenario file",
                        );
                    }
                    SetupStep::Apply(path)
                }
                file::SetupStep::Delete(o) => SetupStep::Delete(object_ref(o)),
                file::SetupStep::Sleep(d) => SetupStep::Sleep(d.0),
            })
            .collect()
    }

    fn disaster(&self, c: &mut Collector, faults: &[FaultSpec]) -> Vec<Fault> {
        if faults.is_empty() {
            c.field_help(
                "spec.disaster",
                "is empty: a drill needs at least one fault",
                "e.g. `- fault: cluster-loss`",
            );
        }
        faults
            .iter()
            .enumerate()
            .map(|(i, f)| fault(c, i, f))
            .collect()
    }
}

fn fault(c: &mut Collector, i: usize, f: &FaultSpec) -> Fault {
    let at = |field: &str| format!("spec.disaster[{i}].{field}");
    match f {
        FaultSpec::ClusterLoss {} => Fault::ClusterLoss,
        FaultSpec::NamespaceLoss { namespace } => {
            if !is_dns_label(namespace) {
                c.field(
                    at("namespace"),
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
        } => {
            let target = match (name, selector) {
                (Some(n), None) => ResourceTarget::Name(n.clone()),
                (None, Some(s)) => ResourceTarget::Selector(s.clone()),
                (Some(n), Some(_)) => {
                    c.field_help(at("name"), "`name` and `selector` are both set", "keep one");
                    ResourceTarget::Name(n.clone())
                }
                (None, None) => {
                    c.field_help(
                        at("name"),
                        "resource-loss needs `name` (one object) or `selector` (e.g. app=podinfo)",
                        "add one of them",
                    );
                    ResourceTarget::Selector(String::new())
                }
            };
            Fault::ResourceLoss {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                target,
            }
        }
        FaultSpec::ControllerLoss {} => Fault::ControllerLoss,
        FaultSpec::NodeLoss { count } => {
            let count = count.unwrap_or(1);
            if count == 0 {
                c.field(at("count"), "must be at least 1");
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
            let delete = delete.unwrap_or(false);
            let chosen =
                usize::from(!set.is_empty()) + usize::from(content.is_some()) + usize::from(delete);
            if chosen != 1 {
                c.field_help(
                    format!("spec.disaster[{i}]"),
                    format!("bad-commit needs exactly one change: `set`, `content` or `delete: true` ({chosen} given)"),
                    "e.g. `set: {\"spec.template.spec.containers[0].image\": \"ghcr.io/org/app:broken\"}`",
                );
            }
            if file.trim().is_empty() || file.starts_with('/') || file.split('/').any(|p| p == "..")
            {
                c.field(
                    at("file"),
                    format!("{file:?} must be a path inside the repository, relative to its root"),
                );
            }
            let change = if delete {
                FileChange::Delete
            } else if let Some(content) = content {
                FileChange::Replace(content.clone())
            } else {
                FileChange::Set {
                    document: document.unwrap_or(0),
                    fields: set.clone(),
                }
            };
            Fault::BadCommit {
                file: clean_repo_path(file),
                change,
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("gameday: bad commit to {file}")),
            }
        }
        FaultSpec::ApiOutage { duration } => {
            if duration.0.is_zero() {
                c.field(at("duration"), "must be longer than 0s");
            }
            Fault::ApiOutage {
                duration: duration.0,
            }
        }
        FaultSpec::InfraLoss { targets } => Fault::InfraLoss {
            targets: targets.clone(),
        },
        FaultSpec::InfraDrift { terraform, vars } => {
            if vars.is_empty() {
                c.field_help(
                    at("vars"),
                    "infra-drift needs the values applied by hand (nothing would drift)",
                    "e.g. `vars: {cidr: 10.99.0.0/16}`: variables of the Terraform object's module",
                );
            }
            let terraform = namespaced_name(terraform);
            if !is_dns_label(&terraform.name) || !is_dns_label(&terraform.namespace) {
                c.field_help(
                    at("terraform"),
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
    }
}

/// `namespace/name`, or a bare name in Flux's namespace.
fn namespaced_name(n: &str) -> NamespacedName {
    match n.split_once('/') {
        Some((ns, name)) => NamespacedName {
            namespace: ns.into(),
            name: name.into(),
        },
        None => NamespacedName {
            namespace: FLUX_NAMESPACE.into(),
            name: n.to_owned(),
        },
    }
}

fn recovery(r: &file::RecoverySpec, total: Duration) -> Recovery {
    let method = match r.method {
        file::RecoveryMethodName::Rebuild => RecoveryMethod::Rebuild,
        file::RecoveryMethodName::Reconcile => RecoveryMethod::Reconcile {
            trigger: r.trigger.unwrap_or(false),
        },
        file::RecoveryMethodName::GitRevert => RecoveryMethod::GitRevert,
        file::RecoveryMethodName::Manual => RecoveryMethod::Manual {
            instructions: r.instructions.clone(),
        },
    };
    let timeout = r
        .timeout
        .map_or_else(|| (total * 3).max(Duration::from_secs(600)), |d| d.0);
    Recovery { method, timeout }
}

fn rto(c: &mut Collector, r: &file::RtoSpec) -> Rto {
    if r.total.0.is_zero() {
        c.field("spec.rto.total", "must be longer than 0s");
    }
    let mut phases = BTreeMap::new();
    for (name, budget) in &r.phases {
        match Phase::from_name(name) {
            Some(p) => {
                phases.insert(p, budget.0);
            }
            None => {
                let known: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
                c.field_help(
                    format!("spec.rto.phases.{name}"),
                    format!("unknown phase {name:?}"),
                    format!("phases are: {}", known.join(", ")),
                );
            }
        }
    }
    Rto {
        total: r.total.0,
        phases,
        quantile: match r.quantile.unwrap_or(file::QuantileName::P95) {
            file::QuantileName::P50 => Quantile::P50,
            file::QuantileName::P90 => Quantile::P90,
            file::QuantileName::P95 => Quantile::P95,
            file::QuantileName::P99 => Quantile::P99,
            file::QuantileName::Max => Quantile::Max,
        },
    }
}

fn object_ref(o: &file::ObjectRefSpec) -> ObjectRef {
    ObjectRef {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
    }
}

/// `./apps//x/` → `apps/x`; empty → `.`.
fn clean_repo_path(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Removes `.` and resolves `..` lexically (the path may not exist).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in p.components() {
        match comp {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_cleaned() {
        assert_eq!(clean_repo_path("./clusters/staging/"), "clusters/staging");
        assert_eq!(clean_repo_path("./"), ".");
        assert_eq!(clean_repo_path(""), ".");
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("cluster-loss"));
        assert!(!is_dns_label("Cluster"));
        assert!(!is_dns_label("-x"));
        assert!(!is_dns_label(""));
    }

    #[test]
    fn normalizes_parent_dirs() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
