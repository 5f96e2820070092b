//! Statistics and verdicts over repeats: the arithmetic the runner uses to
//! fill [`PhaseStats`], [`Verdict`] and the statuses of the report tree.
//!
//! Quantiles use the **nearest-rank** method: the q-quantile of n sorted
//! samples is the sample at rank ⌈q·n⌉ (1-based, at least 1). It always
//! returns a measured value (never an interpolation between two runs), so a
//! reported p95 is a recovery that really happened, and `max` is q = 1.

use std::collections::BTreeSet;

use super::human;
use super::tree::{
    BudgetCheck, Objective, PhaseGroup, PhaseReport, PhaseStats, RepeatReport, ScenarioReport,
    StateDiff, Status, Verdict,
};
use crate::scenario::model::Phase;

/// The name of the whole-recovery entry in stats and budget checks.
pub const TOTAL: &str = "total";

/// The verdict's failure when no repeat ran to the end (all errored or
/// were aborted), so no budget could be judged.
pub const NOTHING_MEASURED: &str = "no repeat ran to the end: nothing to judge";

/// The nearest-rank `q`-quantile of `samples` (any order); None when empty.
///
/// `q` is clamped to [0, 1]; q = 0 gives the minimum, q = 1 the maximum.
/// A NaN `q` is treated as 1, the strictest reading.
pub fn quantile(samples: &[u64], q: f64) -> Option<u64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    Some(sorted[rank(sorted.len(), q) - 1])
}

/// ⌈q·n⌉ clamped to 1..=n. The small epsilon keeps 0.95 × 20 (which is
/// 19.000000000000004 in floating point) at rank 19, as on paper.
fn rank(n: usize, q: f64) -> usize {
    let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r = (q * n as f64 - 1e-9).ceil() as usize;
    r.clamp(1, n)
}

/// p50, p95 and max of one phase's samples (ms); None when there are none.
pub fn stats(phase: &str, samples: &[u64]) -> Option<PhaseStats> {
    Some(PhaseStats {
        phase: phase.to_owned(),
        samples: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        p50_ms: quantile(samples, 0.50)?,
        p95_ms: quantile(samples, 0.95)?,
        max_ms: quantile(samples, 1.0)?,
    })
}

/// The fraction of a quantile name as scenario files write it (`p50`, `p90`,
/// `p95`, `p99`, `max`); None for anything else.
pub fn quantile_fraction(name: &str) -> Option<f64> {
    match name {
        "p50" => Some(0.50),
        "p90" => Some(0.90),
        "p95" => Some(0.95),
        "p99" => Some(0.99),
        "max" => Some(1.0),
        _ => None,
    }
}

/// Compares a measured value with its budget; `actual_ms` None means the
/// phase never completed, which misses the budget.
pub fn budget_check(phase: &str, budget_ms: u64, actual_ms: Option<u64>) -> BudgetCheck {
    let margin_ms = actual_ms.map(|a| saturating_i64(budget_ms) - saturating_i64(a));
    BudgetCheck {
        phase: phase.to_owned(),
        budget_ms,
        actual_ms,
        margin_ms,
        passed: actual_ms.is_some_and(|a| a <= budget_ms),
    }
}

fn saturating_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Duration (ms) of the recovery phase named `name` in a repeat's phases;
/// None when it did not run or never ended.
pub fn recovery_phase_ms(phases: &[PhaseReport], name: &str) -> Option<u64> {
    let find = |name: &str| {
        phases
            .iter()
            .find(|p| p.group == PhaseGroup::Recovery && p.name == name)
    };
    match find(name) {
        Some(p) => p.duration_ms(),
        // A Terraform-made cluster provisions in two phases; a `provision`
        // budget (a scenario written for another provider) covers both.
        None if name == Phase::Provision.name() => {
            let infra = find(Phase::Infra.name())?.duration_ms()?;
            let ready = find(Phase::ClusterReady.name())?.duration_ms()?;
            Some(infra + ready)
        }
        None => None,
    }
}

/// Wall time the harness spent in a repeat's recovery phases.
pub fn recovery_wall_ms(r: &RepeatReport) -> u64 {
    r.phases
        .iter()
        .filter(|p| p.group == PhaseGroup::Recovery)
        .map(|p| p.wall_ms)
        .sum()
}

/// Budgeted phase names in timeline order (detect, provision, …, healthy);
/// names the scenario model does not know come last, alphabetically.
fn budget_order(objective: &Objective) -> Vec<&str> {
    let mut names: Vec<&str> = objective.phases_ms.keys().map(String::as_str).collect();
    names.sort_by_key(|n| {
        (
            Phase::from_name(n)
                .and_then(|p| Phase::ALL.iter().position(|a| *a == p))
                .unwrap_or(usize::MAX),
            *n,
        )
    });
    names
}

/// The verdict of one repeat: every phase budget against that phase's
/// duration, the total against `recovery_ms`, and lost objects that
/// `expect.lost` does not allow.
pub fn repeat_verdict(
    objective: &Objective,
    phases: &[PhaseReport],
    recovery_ms: Option<u64>,
    diff: &StateDiff,
) -> Verdict {
    let mut budgets: Vec<BudgetCheck> = budget_order(objective)
        .into_iter()
        .map(|name| {
            budget_check(
                name,
                objective.phases_ms[name],
                recovery_phase_ms(phases, name),
            )
        })
        .collect();
    budgets.push(budget_check(TOTAL, objective.total_ms, recovery_ms));
    let lost = diff
        .lost
        .iter()
        .filter(|e| !e.allowed)
        .map(human::lost)
        .collect();
    verdict(budgets, lost)
}

fn verdict(budgets: Vec<BudgetCheck>, lost: Vec<String>) -> Verdict {
    let mut failures: Vec<String> = budgets.iter().filter_map(human::check_failure).collect();
    failures.extend(lost);
    Verdict {
        passed: failures.is_empty(),
        budgets,
        failures,
    }
}

/// True for repeats that ran to the end (passed or failed): their missing
/// phases are misses. Errored and aborted repeats measured nothing.
fn ran_to_end(r: &RepeatReport) -> bool {
    matches!(r.status, Status::Passed | Status::Failed)
}

/// p50/p95/max per recovery phase (in the order phases first ran) and for
/// the total, over the repeats that completed each one.
pub fn scenario_stats(repeats: &[RepeatReport]) -> Vec<PhaseStats> {
    let mut names: Vec<&str> = Vec::new();
    for p in repeats.iter().flat_map(|r| &r.phases) {
        if p.group == PhaseGroup::Recovery && !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let mut out: Vec<PhaseStats> = names
        .into_iter()
        .filter_map(|name| {
            let samples: Vec<u64> = repeats
                .iter()
                .filter_map(|r| recovery_phase_ms(&r.phases, name))
                .collect();
            stats(name, &samples)
        })
        .collect();
    let totals: Vec<u64> = repeats.iter().filter_map(|r| r.recovery_ms).collect();
    out.extend(stats(TOTAL, &totals));
    out
}

/// The verdict over all repeats: each budget is judged on the objective's
/// quantile of the repeats that ran to the end; in those, a phase that never
/// completed counts as infinitely long. Lost objects of any repeat that
/// `expect.lost` does not allow fail it. An unknown quantile name is judged
/// as `max`. When no repeat ran to the end the verdict fails with
/// [`NOTHING_MEASURED`].
pub fn scenario_verdict(objective: &Objective, repeats: &[RepeatReport]) -> Verdict {
    let q = quantile_fraction(&objective.quantile).unwrap_or(1.0);
    let ran: Vec<&RepeatReport> = repeats.iter().filter(|r| ran_to_end(r)).collect();
    let judged =
        |samples: Vec<u64>| -> Option<u64> { quantile(&samples, q).filter(|v| *v != u64::MAX) };
    let mut budgets: Vec<BudgetCheck> = budget_order(objective)
        .into_iter()
        .map(|name| {
            let samples = ran
                .iter()
                .map(|r| recovery_phase_ms(&r.phases, name).unwrap_or(u64::MAX))
                .collect();
            budget_check(name, objective.phases_ms[name], judged(samples))
        })
        .collect();
    let totals = ran
        .iter()
        .map(|r| r.recovery_ms.unwrap_or(u64::MAX))
        .collect();
    budgets.push(budget_check(TOTAL, objective.total_ms, judged(totals)));
    let lost: BTreeSet<String> = repeats
        .iter()
        .flat_map(|r| r.diff.lost.iter().filter(|e| !e.allowed))
        .map(human::lost)
        .collect();
    if ran.is_empty() {
        // Nothing was measured: say so once rather than list every budget
        // as "did not complete".
        let mut failures = vec![NOTHING_MEASURED.to_owned()];
        failures.extend(lost);
        return Verdict {
            passed: false,
            budgets,
            failures,
        };
    }
    verdict(budgets, lost.into_iter().collect())
}

/// A scenario's status: the worst of its repeats', failed when the verdict
/// did not pass, aborted when no repeat ran.
pub fn scenario_status(repeats: &[RepeatReport], verdict: &Verdict) -> Status {
    let Some(worst) = repeats.iter().map(|r| r.status).max() else {
        return Status::Aborted;
    };
    if verdict.passed {
        worst
    } else {
        worst.worst(Status::Failed)
    }
}

/// A run's status: the worst of its scenarios' (passed when there are none).
/// An interrupted run is aborted whatever its scenarios say; the runner
/// sets that itself.
pub fn run_status(scenarios: &[ScenarioReport]) -> Status {
    scenarios
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Passed)
}
