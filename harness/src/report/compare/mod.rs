//! Baselines: a run's RTO figures compared with an earlier run's
//! (`gameday compare BASE NEW`, `gameday run --baseline FILE`), so that CI
//! catches a recovery that got slower before it misses its budget.
//!
//! Per scenario (matched by name) and per recovery phase plus `total`, the
//! figure compared is the one the verdict judges: the objective's quantile
//! (`p95`, `max`…) of the repeats that completed the phase ([`figures`]).
//! A phase regresses when the new figure exceeds the base by more than the
//! tolerance (20 % by default, per phase with `--phase-tolerance`), or when
//! the base completed it and the new run did not. Figures are compared only
//! on the same clock: a scenario simulated in one report and timed on the
//! wall clock in the other is refused ([`CompareError::TimeBase`]). On the
//! simulator the same seeds give the same simulated times, so there a
//! baseline is exact and any change is real.

mod figures;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use figures::judged;

use super::human;
use super::tree::{RunReport, TimeBase};

/// The default tolerance, percent.
pub const DEFAULT_TOLERANCE_PCT: f64 = 20.0;

/// How much slower a phase may get before it is a regression.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerance {
    /// Percent, for phases without their own.
    pub default_pct: f64,
    /// Percent, by phase name (`total` included).
    pub phases: BTreeMap<String, f64>,
}

impl Default for Tolerance {
    fn default() -> Tolerance {
        Tolerance {
            default_pct: DEFAULT_TOLERANCE_PCT,
            phases: BTreeMap::new(),
        }
    }
}

impl Tolerance {
    /// The tolerance of `phase`, percent.
    pub fn for_phase(&self, phase: &str) -> f64 {
        self.phases.get(phase).copied().unwrap_or(self.default_pct)
    }
}

/// A tolerance that is not a percentage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid tolerance {0:?}: write a percentage such as 20% (or PHASE=20% for --phase-tolerance)"
)]
pub struct ToleranceError(pub String);

/// Parses `20%` or `20` (percent, ≥ 0).
///
/// # Errors
/// [`ToleranceError`] for anything else.
pub fn parse_percent(s: &str) -> Result<f64, ToleranceError> {
    let t = s.trim();
    t.strip_suffix('%')
        .unwrap_or(t)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| ToleranceError(s.to_owned()))
}

/// Parses `PHASE=20%`.
///
/// # Errors
/// [`ToleranceError`] without a phase name or a valid percentage.
pub fn parse_phase_tolerance(s: &str) -> Result<(String, f64), ToleranceError> {
    let (phase, pct) = s
        .split_once('=')
        .ok_or_else(|| ToleranceError(s.to_owned()))?;
    if phase.trim().is_empty() {
        return Err(ToleranceError(s.to_owned()));
    }
    Ok((phase.trim().to_owned(), parse_percent(pct)?))
}

/// Why two reports cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// The scenario's times are on different clocks in the two reports.
    #[error(
        "cannot compare scenario {scenario}: its times are {} in the baseline and {} in the new report; compare simulated runs with simulated runs and wall-clock runs with wall-clock runs (same --provider)",
        human::time_base(*base),
        human::time_base(*new)
    )]
    TimeBase {
        /// The scenario.
        scenario: String,
        /// Its time base in the baseline.
        base: TimeBase,
        /// Its time base in the new report.
        new: TimeBase,
    },
}

/// One scenario's figures against the baseline's (stored in the report
/// tree as `ScenarioReport::baseline`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioComparison {
    /// The baseline's run id.
    pub base_run_id: String,
    /// Which clock both are on.
    pub time_base: TimeBase,
    /// Each recovery phase, then `total`.
    pub phases: Vec<PhaseComparison>,
    /// True when any phase regressed.
    pub regressed: bool,
}

/// One phase, base → new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseComparison {
    /// Phase name, or `total`.
    pub phase: String,
    /// The baseline's figure, ms (None: no repeat completed the phase).
    pub base_ms: Option<u64>,
    /// The new figure, ms.
    pub new_ms: Option<u64>,
    /// (new − base) / base, percent, to 0.1 %; None unless both exist and
    /// base > 0.
    pub change_pct: Option<f64>,
    /// The tolerance applied, percent.
    pub tolerance_pct: f64,
    /// Slower than the tolerance allows, or no longer completed.
    pub regressed: bool,
}

/// Two runs compared, scenario by scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RunComparison {
    /// The baseline's run id.
    pub base_run_id: String,
    /// Scenarios in both, in the new report's order.
    pub scenarios: Vec<(String, ScenarioComparison)>,
    /// Scenarios of the baseline the new report lacks.
    pub only_in_base: Vec<String>,
    /// Scenarios of the new report the baseline lacks (nothing to compare).
    pub only_in_new: Vec<String>,
}

impl RunComparison {
    /// `(scenario, phase)` of every regression.
    pub fn regressions(&self) -> Vec<(&str, &PhaseComparison)> {
        self.scenarios
            .iter()
            .flat_map(|(name, c)| {
                c.phases
                    .iter()
                    .filter(|p| p.regressed)
                    .map(move |p| (name.as_str(), p))
            })
            .collect()
    }
}

/// Compares `new` with `base`.
///
/// # Errors
/// [`CompareError::TimeBase`] for a scenario on different clocks.
pub fn compare(
    base: &RunReport,
    new: &RunReport,
    tolerance: &Tolerance,
) -> Result<RunComparison, CompareError> {
    let mut scenarios = Vec::new();
    let mut only_in_new = Vec::new();
    for n in &new.scenarios {
        let Some(b) = base.scenarios.iter().find(|b| b.name == n.name) else {
            only_in_new.push(n.name.clone());
            continue;
        };
        if b.time_base != n.time_base {
            return Err(CompareError::TimeBase {
                scenario: n.name.clone(),
                base: b.time_base,
                new: n.time_base,
            });
        }
        let base_figures = judged(b);
        let new_figures = judged(n);
        // The new run's phases in its order, then any the baseline had alone.
        let mut names: Vec<&str> = new_figures.iter().map(|(p, _)| p.as_str()).collect();
        for (p, _) in &base_figures {
            if !names.contains(&p.as_str()) {
                names.insert(names.len().saturating_sub(1), p);
            }
        }
        let find = |figs: &[(String, Option<u64>)], p: &str| {
            figs.iter().find(|(q, _)| q == p).and_then(|(_, v)| *v)
        };
        let phases: Vec<PhaseComparison> = names
            .iter()
            .map(|p| {
                phase(
                    p,
                    find(&base_figures, p),
                    find(&new_figures, p),
                    tolerance.for_phase(p),
                )
            })
            .collect();
        let regressed = phases.iter().any(|p| p.regressed);
        scenarios.push((
            n.name.clone(),
            ScenarioComparison {
                base_run_id: base.run_id.clone(),
                time_base: n.time_base,
                phases,
                regressed,
            },
        ));
    }
    let only_in_base = base
        .scenarios
        .iter()
        .filter(|b| !new.scenarios.iter().any(|n| n.name == b.name))
        .map(|b| b.name.clone())
        .collect();
    Ok(RunComparison {
        base_run_id: base.run_id.clone(),
        scenarios,
        only_in_base,
        only_in_new,
    })
}

/// One phase, judged.
pub fn phase(
    name: &str,
    base_ms: Option<u64>,
    new_ms: Option<u64>,
    tolerance_pct: f64,
) -> PhaseComparison {
    #[allow(clippy::cast_precision_loss)]
    let change_pct = match (base_ms, new_ms) {
        // Rounded to 0.1 %, so that report.json reads back as written.
        (Some(b), Some(n)) if b > 0 => {
            Some(((n as f64 - b as f64) / b as f64 * 1000.0).round() / 10.0)
        }
        _ => None,
    };
    let regressed = match (base_ms, new_ms) {
        // Strictly over: exactly +20 % at a 20 % tolerance is within it.
        #[allow(clippy::cast_precision_loss)]
        (Some(b), Some(n)) => (n as f64) > (b as f64) * (1.0 + tolerance_pct / 100.0),
        (Some(_), None) => true,
        (None, _) => false,
    };
    PhaseComparison {
        phase: name.to_owned(),
        base_ms,
        new_ms,
        change_pct,
        tolerance_pct,
        regressed,
    }
}

/// Puts each scenario's comparison into `report` (`run --baseline`).
pub fn attach(report: &mut RunReport, comparison: &RunComparison) {
    for s in &mut report.scenarios {
        s.baseline = comparison
            .scenarios
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, c)| c.clone());
    }
}

/// Whether any scenario of `report` regressed against its baseline.
pub fn any_regression(report: &RunReport) -> bool {
    report
        .scenarios
        .iter()
        .any(|s| s.baseline.as_ref().is_some_and(|b| b.regressed))
}

/// `1m28s → 1m40s`, for a table cell.
pub fn base_to_new(p: &PhaseComparison) -> String {
    let show = |v: Option<u64>| v.map_or("–".to_owned(), human::duration);
    format!("{} → {}", show(p.base_ms), show(p.new_ms))
}

/// `+13.6 %`, `-2.0 %`, `±0 %`; `did not complete` when the new run lacks
/// the figure; `new` when the baseline does.
pub fn change(p: &PhaseComparison) -> String {
    match (p.base_ms, p.new_ms, p.change_pct) {
        (_, _, Some(0.0)) => "±0 %".to_owned(),
        (_, _, Some(c)) => format!("{c:+.1} %"),
        (Some(_), None, _) => "did not complete".to_owned(),
        (None, Some(_), _) => "new".to_owned(),
        (Some(0), Some(0), _) => "±0 %".to_owned(),
        (Some(_), Some(n), None) => format!("from 0 to {}", human::duration(n)),
        (None, None, _) => "–".to_owned(),
    }
}

/// One short cell for a scenario's row: the total's change, and the phases
/// that regressed (`total +3.1 % · regressed: converge +30.0 %`).
pub fn summary_cell(c: &ScenarioComparison) -> String {
    let total = c
        .phases
        .iter()
        .find(|p| p.phase == super::stats::TOTAL)
        .map_or("total –".to_owned(), |p| format!("total {}", change(p)));
    let regressed: Vec<String> = c
        .phases
        .iter()
        .filter(|p| p.regressed)
        .map(|p| format!("{} {}", p.phase, change(p)))
        .collect();
    if regressed.is_empty() {
        total
    } else {
        format!("{total} · regressed: {}", regressed.join(", "))
    }
}

#[cfg(test)]
mod tests;
