//! Checks that depend on several sections at once, run after every section
//! is converted, and again when a run overrides the provider
//! ([`crate::scenario::with_provider`]). The rules themselves live in
//! [`capabilities`]' tables; this module turns a broken rule into a
//! diagnostic that names the field to change and what would work.
//!
//! The checks run in a fixed order (the golden files pin it): the
//! provider's own block, then each fault against the provider and the
//! recovery, then the phase budgets, then what particular faults need from
//! the cluster.

use crate::scenario::capabilities::{self, FaultScope};
use crate::scenario::diagnostic::Collector;
use crate::scenario::duration::format_duration;
use crate::scenario::model::{
    BootstrapMethod, Fault, FaultKind, Phase, Provider, RecoveryMethod, Scenario,
};

/// Checks that depend on several sections at once: what the provider can
/// do, what the recovery can repair, which phases exist. Also used when a
/// run overrides the provider.
pub(crate) fn check_combinations(c: &mut Collector, s: &Scenario) {
    provider_block(c, s);
    let faults: Vec<FaultKind> = s.disaster.iter().map(Fault::kind).collect();
    faults_and_recovery(c, s, &faults);
    phase_budgets(c, s, &faults);
    node_loss_counts(c, s);
    existing_namespaces(c, s);
    artifact_source(c, s, &faults);
}

/// An OCI artifact source has no Git history to break or revert, and only
/// Flux (an OCIRepository) follows it.
fn artifact_source(c: &mut Collector, s: &Scenario, faults: &[FaultKind]) {
    if !s.source.location.is_oci() {
        return;
    }
    for (i, fault) in faults.iter().enumerate() {
        if *fault == FaultKind::BadCommit {
            c.field_help(
                format!("spec.disaster[{i}].fault"),
                "bad-commit pushes a commit to Git, but spec.source is an OCI artifact: there is no repository to commit to",
                "drill a bad artifact from a Git source (`fixture` or `url`), or choose another fault",
            );
        }
    }
    if s.recovery.method == RecoveryMethod::GitRevert {
        c.field_help(
            "spec.recovery.method",
            "git-revert reverts a Git commit, but spec.source is an OCI artifact",
            "recover with reconcile or rebuild, or drill rollbacks from a Git source",
        );
    }
    if matches!(s.bootstrap.method, BootstrapMethod::Direct(_)) {
        c.field_help(
            "spec.bootstrap.method",
            "the direct applier follows Git, but spec.source is an OCI artifact",
            "use `method: flux`: Flux's OCIRepository pulls the artifact",
        );
    }
}

/// Terraform and existing clusters cannot do without their block.
fn provider_block(c: &mut Collector, s: &Scenario) {
    match s.cluster.provider {
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
    if !s.mirrors.is_empty() && s.cluster.provider != Provider::Sim {
        c.field_help(
            "spec.mirrors",
            format!(
                "provider {} cannot use mirrors: the real Flux fetches the real URLs",
                s.cluster.provider.name()
            ),
            "remove spec.mirrors to drill with the real sources, or use provider: sim",
        );
    }
}

/// Each fault must be one the provider can inject and the recovery method
/// can repair; git-revert needs a bad commit to revert; cluster-loss
/// leaves nothing for other faults to break.
fn faults_and_recovery(c: &mut Collector, s: &Scenario, faults: &[FaultKind]) {
    let provider = s.cluster.provider;
    let provider_name = provider.name();
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
}

/// Budgets must name phases this recovery has, and fit in the total.
fn phase_budgets(c: &mut Collector, s: &Scenario, faults: &[FaultKind]) {
    let provider = s.cluster.provider;
    let phases = capabilities::recovery_phases(&s.recovery.method, faults, provider);
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
                    "recovery {} after {} on {} has no {} phase{extra}",
                    s.recovery.method.name(),
                    join_faults(faults),
                    provider.name(),
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
                    format_duration(*budget),
                    format_duration(s.rto.total)
                ),
                "a phase cannot take longer than the whole recovery: lower it or raise spec.rto.total",
            );
        }
    }
}

/// A simulated node-loss must leave a node to reschedule pods on.
fn node_loss_counts(c: &mut Collector, s: &Scenario) {
    for (i, f) in s.disaster.iter().enumerate() {
        if let Fault::NodeLoss { count } = f
            && matches!(s.cluster.provider, Provider::Sim)
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
}

/// On a cluster gameday did not create, faults touch only the namespaces
/// `allowNamespaces` lists.
fn existing_namespaces(c: &mut Collector, s: &Scenario) {
    let (Provider::Existing, Some(existing)) = (s.cluster.provider, &s.cluster.existing) else {
        return;
    };
    for (i, f) in s.disaster.iter().enumerate() {
        match capabilities::fault_scope(f, &s.bootstrap.method) {
            FaultScope::Namespace(ns) if !existing.allow_namespaces.contains(&ns) => {
                c.field_help(
                    format!("spec.disaster[{i}]"),
                    format!("{} would touch namespace {ns:?}, which spec.cluster.existing.allowNamespaces does not list", f.name()),
                    format!("add {ns:?} to allowNamespaces if this cluster may really lose it"),
                );
            }
            FaultScope::AllNamespaces => c.field_help(
                format!("spec.disaster[{i}].namespace"),
                format!("{} without a namespace would touch every namespace (or cluster-scoped objects) of an existing cluster", f.name()),
                "give the namespace to delete from; it must be listed in spec.cluster.existing.allowNamespaces",
            ),
            _ => {}
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
