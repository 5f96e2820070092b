//! Recovery: the scenario's method as timed phases. Phases are contiguous
//! from the disaster: each starts where the previous one ended, so their
//! durations add up to the recovery time the RTO judges.
//!
//! | method | phases |
//! |---|---|
//! | rebuild | provision (when the cluster was lost; with Terraform: infra, cluster-ready), bootstrap, converge, healthy |
//! | reconcile | converge (after `infra-drift`: the Terraform controller applied Git's values again), healthy |
//! | git-revert | detect, converge (the reverting revision applied), healthy |
//! | manual | healthy |

use std::time::Duration;

use jiff::Timestamp;

use super::context::Context;
use super::disaster::Damage;
use super::error::{Error, Result};
use super::probe::checks::{self, Baseline, Broken, Context as CheckContext, Converged, Healthy};
use super::probe::infra::InfraRestored;
use super::probe::observer;
use super::target::Target;
use crate::clock::duration_between;
use crate::report::tree::PhaseGroup;
use crate::scenario::capabilities;
use crate::scenario::model::{Check, Fault, Phase, RecoveryMethod};

/// What every recovery phase works on.
struct Recovery<'a> {
    cx: &'a Context,
    target: &'a mut Target,
    /// The steady state to restore.
    baseline: &'a Baseline,
    damage: &'a Damage,
}

impl Recovery<'_> {
    /// The steady-state conditions' inputs now.
    fn checks(&self) -> CheckContext {
        self.target
            .check_context(self.cx, Some(self.baseline), &self.damage.lost_nodes)
    }
}

/// Runs the recovery; returns how long it took, from the disaster to the
/// steady state restored.
///
/// # Errors
/// [`Error::NotRecovered`] when a phase does not complete within the
/// recovery timeout; other errors when an action fails.
pub(super) async fn recover(
    cx: &Context,
    target: &mut Target,
    baseline: &Baseline,
    damage: &Damage,
) -> Result<Duration> {
    let s = cx.scenario.clone();
    let kinds: Vec<_> = s.disaster.iter().map(Fault::kind).collect();
    let phases = capabilities::recovery_phases(&s.recovery.method, &kinds, s.cluster.provider);
    let deadline = damage
        .at
        .checked_add(
            jiff::SignedDuration::try_from(s.recovery.timeout).unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(Timestamp::MAX);
    let mut r = Recovery {
        cx,
        target,
        baseline,
        damage,
    };
    let mut at = damage.at;
    for phase in phases {
        let budget = s.rto.phases.get(&phase).copied();
        cx.timeline()
            .begin_at(phase.name(), PhaseGroup::Recovery, budget, at);
        let left = duration_between(cx.clock().now(), deadline).max(Duration::from_millis(1));
        at = match phase {
            Phase::Provision => {
                r.target.generation += 1;
                r.target
                    .provision(cx, at, left)
                    .await
                    .map_err(not_recovered)?
            }
            Phase::Infra => infra(&mut r, left).await?,
            Phase::ClusterReady => r
                .target
                .cluster_ready(cx, at, left)
                .await
                .map_err(not_recovered)?,
            Phase::Bootstrap => bootstrap(&mut r, at, left).await?,
            Phase::Detect => detect(&mut r, at, left).await?,
            Phase::Converge => converge(&mut r, &s.recovery.method, at, left).await?,
            Phase::Healthy => healthy(&mut r, &s.recovery.method, at, left).await?,
        };
    }
    Ok(duration_between(damage.at, at))
}

/// A wait that could not make the steady state in preparation cannot make
/// the recovery either.
fn not_recovered(e: Error) -> Error {
    match e {
        Error::NotSteady(w) | Error::NodesNotReady(w) => Error::NotRecovered(w),
        other => other,
    }
}

/// `terraform apply` of the module from its folder (the module in Git is
/// the source of truth): a new cluster after `cluster-loss`, the same state
/// applied again after `infra-loss`.
async fn infra(r: &mut Recovery<'_>, left: Duration) -> Result<Timestamp> {
    if r.target.cluster.is_none() {
        r.target.generation += 1;
    }
    let clock = r.cx.clock().clone();
    match clock.timeout(left, r.target.create_cluster(r.cx)).await {
        Ok(created) => created?,
        Err(_) => {
            return Err(Error::NotRecovered(observer::Error::TimedOut {
                what: "the infrastructure applied again".into(),
                after: left,
                last: "terraform apply still running".into(),
                events: Vec::new(),
            }));
        }
    }
    let done = clock.now();
    r.cx.timeline().end_at(done, None);
    Ok(done)
}

async fn bootstrap(r: &mut Recovery<'_>, at: Timestamp, left: Duration) -> Result<Timestamp> {
    let clock = r.cx.clock().clone();
    let ready_at = match clock.timeout(left, r.target.bootstrap(r.cx)).await {
        Ok(bootstrapped) => bootstrapped.map_err(|e| match e {
            Error::Bootstrap(b) if b.is_source_finding() => Error::NotReapplied(b),
            other => other,
        })?,
        Err(_) => {
            return Err(Error::NotRecovered(observer::Error::TimedOut {
                what: "the GitOps tooling bootstrapped".into(),
                after: left,
                last: "bootstrap still running".into(),
                events: Vec::new(),
            }));
        }
    };
    let done = ready_at.max(at);
    r.cx.timeline().end_at(done, None);
    Ok(done)
}

async fn detect(r: &mut Recovery<'_>, at: Timestamp, left: Duration) -> Result<Timestamp> {
    let checks = r.checks();
    let mut broken = Broken(checks.clone());
    let seen = r
        .target
        .wait(
            r.cx,
            &mut broken,
            "the steady state observed broken",
            left,
            at,
        )
        .await
        .map_err(Error::NotRecovered)?;
    if let Some(why) = checks::first_failure(&checks, &seen.world) {
        r.cx.timeline().operation(&format!("detected: {why}"));
    }
    r.cx.timeline().end_at(seen.at, seen.lag);
    // The rollback: revert the bad commit (and push it when the source is a remote).
    if let Some(bad) = &r.damage.bad_commit {
        let _acting = r.cx.clock().busy();
        let rev = r.target.source.revert(bad).await?;
        r.cx.timeline().operation(&format!(
            "reverted {} as {}",
            &bad[..bad.len().min(7)],
            rev.short_sha()
        ));
    }
    Ok(seen.at)
}

async fn converge(
    r: &mut Recovery<'_>,
    method: &RecoveryMethod,
    at: Timestamp,
    left: Duration,
) -> Result<Timestamp> {
    if let RecoveryMethod::Reconcile { trigger: true } = method {
        let _acting = r.cx.clock().busy();
        if let (Some(tooling), Some(_)) = (&r.target.tooling, &r.target.cluster) {
            tooling.trigger().await.map_err(Error::Tooling)?;
            r.cx.timeline()
                .operation("reconciliation requested (as `flux reconcile` does)");
        }
    }
    // Drifted infrastructure first: the Terraform controller applies Git's
    // values again at its next reconciliation.
    let mut at = at;
    if !r.damage.drifted.is_empty() {
        let mut restored = InfraRestored(r.damage.drifted.clone());
        let seen = r
            .target
            .wait(
                r.cx,
                &mut restored,
                "the drifted infrastructure applied again from Git",
                left,
                at,
            )
            .await
            .map_err(Error::NotRecovered)?;
        at = seen.at;
    }
    // The direct applier: a reconciliation after the disaster applied the
    // head revision in full (Flux's Kustomizations say it in the world).
    if let Some(tooling) = &r.target.tooling {
        let revision = r.target.source.revision().to_owned();
        let applied = tooling
            .wait_direct_applied(&revision, r.damage.at, left)
            .await
            .map_err(|e| {
                if e.is_source_finding() {
                    Error::NotReapplied(e)
                } else {
                    Error::Tooling(e)
                }
            })?;
        if let Some(t) = applied {
            at = at.max(t);
        }
    }
    let mut converged = Converged::new(r.checks(), r.target.is_flux());
    let seen = r
        .target
        .wait(r.cx, &mut converged, "the desired state applied", left, at)
        .await
        .map_err(Error::NotRecovered)?;
    r.cx.timeline().end_at(seen.at, seen.lag);
    Ok(seen.at)
}

async fn healthy(
    r: &mut Recovery<'_>,
    method: &RecoveryMethod,
    at: Timestamp,
    left: Duration,
) -> Result<Timestamp> {
    if let RecoveryMethod::Manual { instructions } = method {
        let text = manual_notice(r, instructions.as_deref(), left);
        r.cx.timeline()
            .events()
            .send(crate::report::events::Event::Notice {
                scenario: Some(r.cx.scenario().name.clone()),
                text,
            });
    }
    let mut healthy = Healthy(r.checks());
    let seen = r
        .target
        .wait(r.cx, &mut healthy, "the steady state restored", left, at)
        .await
        .map_err(Error::NotRecovered)?;
    r.cx.timeline().end_at(seen.at, seen.lag);
    Ok(seen.at)
}

/// What people are told in game-day mode: what broke, what "recovered"
/// means, and how long they have.
fn manual_notice(r: &Recovery<'_>, instructions: Option<&str>, left: Duration) -> String {
    let s = r.cx.scenario();
    let broke: Vec<String> =
        r.cx.timeline()
            .phases()
            .iter()
            .filter(|p| p.group == PhaseGroup::Disaster)
            .flat_map(|p| p.operations.iter().map(|o| o.what.clone()))
            .collect();
    let checks: Vec<String> = s.steady_state.checks.iter().map(check_meaning).collect();
    let kubeconfig = r
        .target
        .cluster
        .as_ref()
        .map(|c| format!("export KUBECONFIG={}", c.kubeconfig().display()))
        .unwrap_or_default();
    format!(
        "GAME DAY — {name}: the cluster is broken, recover it by hand.\n\
         What broke:\n  {broke}\n\
         Recovered means:\n  {checks}\n\
         {instructions}\
         Reach the cluster with: {kubeconfig}\n\
         The clock is running (RTO {rto}); gameday stops waiting after {left}. Ctrl-C aborts.",
        name = s.name,
        broke = broke.join("\n  "),
        checks = checks.join("\n  "),
        instructions = instructions
            .map(|i| format!("Instructions:\n  {i}\n"))
            .unwrap_or_default(),
        rto = crate::scenario::duration::format_duration(s.rto.total),
        left = crate::scenario::duration::format_duration(Duration::from_secs(left.as_secs())),
    )
}

/// A steady-state check as people read it.
fn check_meaning(c: &Check) -> String {
    match c {
        Check::Kustomizations(None) => {
            "every Flux Kustomization Ready at the head revision".to_owned()
        }
        Check::Kustomizations(Some(n)) => format!(
            "Kustomizations {} Ready",
            n.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Check::Workloads(ns) => match ns {
            Some(ns) => format!("every workload ready in {}", ns.join(", ")),
            None => "every workload ready in the source's namespaces".to_owned(),
        },
        Check::Object { object, condition } => match condition {
            Some(c) => format!("{object} with {c}=True"),
            None => format!("{object} exists"),
        },
    }
}
