//! The figures a comparison (and the OpenMetrics export) reads from a
//! scenario: per recovery phase and for the total, the objective's quantile
//! of the repeats that completed it, the value the verdict judges.

use crate::report::stats::{self, TOTAL};
use crate::report::tree::{PhaseGroup, ScenarioReport};

/// `(phase, ms)` for each recovery phase in the order it ran, then
/// [`TOTAL`]; ms is None when no repeat completed the phase. An unknown
/// quantile name is read as `max`, as the verdict does.
pub fn judged(s: &ScenarioReport) -> Vec<(String, Option<u64>)> {
    let q = stats::quantile_fraction(&s.objective.quantile).unwrap_or(1.0);
    let mut names: Vec<&str> = Vec::new();
    for p in s.repeats.iter().flat_map(|r| &r.phases) {
        if p.group == PhaseGroup::Recovery && !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let mut out: Vec<(String, Option<u64>)> = names
        .into_iter()
        .map(|name| {
            let samples: Vec<u64> = s
                .repeats
                .iter()
                .filter_map(|r| stats::recovery_phase_ms(&r.phases, name))
                .collect();
            (name.to_owned(), stats::quantile(&samples, q))
        })
        .collect();
    let totals: Vec<u64> = s.repeats.iter().filter_map(|r| r.recovery_ms).collect();
    out.push((TOTAL.to_owned(), stats::quantile(&totals, q)));
    out
}
