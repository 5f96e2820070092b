//! Recovery methods and their timed phases. Phases are contiguous from the
//! disaster: each starts where the previous one ended, so their durations
//! add up to the recovery time the RTO judges.
//!
//! | method | phases |
//! |---|---|
//! | rebuild | provision (when the cluster was lost; with Terraform: infra, cluster-ready), bootstrap, converge, healthy |
//! | reconcile | converge (after `infra-drift`: the Terraform controller applied Git's values again), healthy |
//! | git-revert | detect, converge (the reverting revision applied), healthy |
//! | manual | healthy |

use std::time::Duration;

use jiff::Timestamp;

use super::error::{Error, Result};
use super::probe::checks::{self, Broken, Converged, Healthy};
use super::probe::infra::InfraRestored;
use super::repeat::Drill;
use crate::clock::duration_between;
use crate::report::tree::PhaseGroup;
use crate::scenario::capabilities;
use crate::scenario::model::{Fault, Phase, RecoveryMethod};

/// Runs the recovery; returns when the steady state was restored.
///
/// # Errors
/// [`Error::NotRecovered`] when a phase does not complete within the
/// recovery timeout; other errors when an action fails.
pub(super) async fn recover(d: &mut Drill, t0: Timestamp) -> Result<Timestamp> {
    let s = d.setup.scenario.clone();
    let kinds: Vec<_> = s.disaster.iter().map(Fault::kind).collect();
    let phases = capabilities::recovery_phases(&s.recovery.method, &kinds, s.cluster.provider);
    let deadline = t0
        .checked_add(
            jiff::SignedDuration::try_from(s.recovery.timeout).unwrap_or(jiff::SignedDuration::MAX),
        )
        .unwrap_or(Timestamp::MAX);
    let mut at = t0;
    for phase in phases {
        let budget = s.rto.phases.get(&phase).copied();
        d.timeline()
            .begin_at(phase.name(), PhaseGroup::Recovery, budget, at);
        let left = duration_between(d.clock().now(), deadline).max(Duration::from_millis(1));
        at = match phase {
            Phase::Provision => {
                d.generation += 1;
                d.provision(at, left).await.map_err(|e| match e {
                    Error::NotSteady(w) => Error::NotRecovered(w),
                    other => other,
                })?
            }
            Phase::Infra => infra(d, left).await?,
            Phase::ClusterReady => d.cluster_ready(at, left).await.map_err(|e| match e {
                Error::NotSteady(w) => Error::NotRecovered(w),
                other => other,
            })?,
            Phase::Bootstrap => bootstrap(d, at, left).await?,
            Phase::Detect => detect(d, at, left).await?,
            Phase::Converge => converge(d, &s.recovery.method, at, left).await?,
            Phase::Healthy => healthy(d, &s.recovery.method, at, left).await?,
        };
    }
    Ok(at)
}

/// `terraform apply` of the module from its folder (the module in Git is
/// the source of truth): a new cluster after `cluster-loss`, the same state
/// applied again after `infra-loss`.
async fn infra(d: &mut Drill, left: Duration) -> Result<Timestamp> {
    if d.cluster.is_none() {
        d.generation += 1;
    }
    let clock = d.clock().clone();
    match clock.timeout(left, d.create_cluster()).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(Error::NotRecovered(
                super::probe::observer::Error::TimedOut {
                    what: "the infrastructure applied again".into(),
                    after: left,
                    last: "terraform apply still running".into(),
                },
            ));
        }
    }
    let done = clock.now();
    d.timeline().end_at(done, None);
    Ok(done)
}

async fn bootstrap(d: &mut Drill, at: Timestamp, left: Duration) -> Result<Timestamp> {
    let clock = d.clock().clone();
    let bootstrapped = clock.timeout(left, super::gitops::bootstrap(d)).await;
    let (tooling, ready_at) = match bootstrapped {
        Ok(r) => r?,
        Err(_) => {
            return Err(Error::NotRecovered(
                super::probe::observer::Error::TimedOut {
                    what: "the GitOps tooling bootstrapped".into(),
                    after: left,
                    last: "bootstrap still running".into(),
                },
            ));
        }
    };
    d.tooling = Some(tooling);
    let done = ready_at.max(at);
    d.timeline().end_at(done, None);
    Ok(done)
}

async fn detect(d: &mut Drill, at: Timestamp, left: Duration) -> Result<Timestamp> {
    let cx = d.check_context();
    let mut broken = Broken(cx.clone());
    let seen = d
        .wait(&mut broken, "the steady state observed broken", left, at)
        .await
        .map_err(Error::NotRecovered)?;
    if let Some(why) = checks::first_failure(&cx, &seen.world) {
        d.timeline().operation(&format!("detected: {why}"));
    }
    d.timeline().end_at(seen.at, seen.lag);
    // The rollback: revert the bad commit (and push it when the source is a remote).
    if let Some(bad) = d.bad_commit.clone() {
        let _acting = d.clock().busy();
        let rev = d.source.revert(&bad).await?;
        d.timeline().operation(&format!(
            "reverted {} as {}",
            &bad[..bad.len().min(7)],
            rev.short_sha()
        ));
        d.revision = rev.to_string();
    }
    Ok(seen.at)
}

async fn converge(
    d: &mut Drill,
    method: &RecoveryMethod,
    at: Timestamp,
    left: Duration,
) -> Result<Timestamp> {
    if let RecoveryMethod::Reconcile { trigger: true } = method {
        let _acting = d.clock().busy();
        if let (Some(tooling), Some(cluster)) = (&d.tooling, &d.cluster) {
            tooling.trigger(cluster).await?;
            d.timeline()
                .operation("reconciliation requested (as `flux reconcile` does)");
        }
    }
    // Drifted infrastructure first: the Terraform controller applies Git's
    // values again at its next reconciliation.
    let mut at = at;
    if !d.drifted.is_empty() {
        let mut restored = InfraRestored(d.drifted.clone());
        let seen = d
            .wait(
                &mut restored,
                "the drifted infrastructure applied again from Git",
                left,
                at,
            )
            .await
            .map_err(Error::NotRecovered)?;
        at = seen.at;
    }
    let flux = d
        .tooling
        .as_ref()
        .is_some_and(super::gitops::Tooling::is_flux);
    let mut converged = Converged::new(d.check_context(), flux);
    let seen = d
        .wait(&mut converged, "the desired state applied", left, at)
        .await
        .map_err(Error::NotRecovered)?;
    d.timeline().end_at(seen.at, seen.lag);
    Ok(seen.at)
}

async fn healthy(
    d: &mut Drill,
    method: &RecoveryMethod,
    at: Timestamp,
    left: Duration,
) -> Result<Timestamp> {
    if let RecoveryMethod::Manual { instructions } = method {
        let text = manual_notice(d, instructions.as_deref(), left);
        d.timeline()
            .events()
            .send(crate::report::events::Event::Notice {
                scenario: Some(d.scenario().name.clone()),
                text,
            });
    }
    let mut healthy = Healthy(d.check_context());
    let seen = d
        .wait(&mut healthy, "the steady state restored", left, at)
        .await
        .map_err(Error::NotRecovered)?;
    d.timeline().end_at(seen.at, seen.lag);
    Ok(seen.at)
}

/// What people are told in game-day mode: what broke, what "recovered"
/// means, and how long they have.
fn manual_notice(d: &Drill, instructions: Option<&str>, left: Duration) -> String {
    let s = d.scenario();
    let broke: Vec<String> = d
        .timeline()
        .phases()
        .iter()
        .filter(|p| p.group == PhaseGroup::Disaster)
        .flat_map(|p| p.operations.iter().map(|o| o.what.clone()))
        .collect();
    let checks: Vec<String> = s
        .steady_state
        .checks
        .iter()
        .map(|c| match c {
            crate::scenario::model::Check::Kustomizations(None) => {
                "every Flux Kustomization Ready at the head revision".to_owned()
            }
            crate::scenario::model::Check::Kustomizations(Some(n)) => format!(
                "Kustomizations {} Ready",
                n.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            crate::scenario::model::Check::Workloads(ns) => match ns {
                Some(ns) => format!("every workload ready in {}", ns.join(", ")),
                None => "every workload ready in the source's namespaces".to_owned(),
            },
            crate::scenario::model::Check::Object { object, condition } => match condition {
                Some(c) => format!("{object} with {c}=True"),
                None => format!("{object} exists"),
            },
        })
        .collect();
    let kubeconfig = d
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
