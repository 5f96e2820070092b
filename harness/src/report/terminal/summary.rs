//! The end-of-run summary table: one row per scenario, then a totals line.
//!
//! ```text
//! SCENARIO           STATUS  RECOVERY        BUDGET  MARGIN  LOST  NOTE
//! cluster-loss       passed  3m7s sim        5m      +1m52s  0
//! cluster-loss-slow  failed  5m55s sim       8m      +2m4s   0     converge 3m40s > budget 3m
//! ```

use super::Paint;
use crate::report::human::{self, plural};
use crate::report::stats::TOTAL;
use crate::report::tree::{RunReport, ScenarioReport, Status, TimeBase};

/// The summary table of a run, ending with a newline. With `color`, status
/// words and missed margins are coloured with ANSI escapes (only for a
/// terminal).
pub fn summary(report: &RunReport, color: bool) -> String {
    let paint = Paint(color);
    let header = [
        "SCENARIO", "STATUS", "RECOVERY", "BUDGET", "MARGIN", "LOST", "NOTE",
    ];
    let rows: Vec<Row> = report.scenarios.iter().map(row).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.cells()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<(String, String)> = header
        .iter()
        .map(|h| ((*h).to_owned(), (*h).to_owned()))
        .collect();
    push_line(&mut out, &widths, &header);
    for r in &rows {
        let painted = [
            r.name.clone(),
            paint.status(r.status),
            r.recovery.clone(),
            r.budget.clone(),
            if r.missed {
                paint.red(&r.margin)
            } else {
                r.margin.clone()
            },
            if r.lost_bad {
                paint.red(&r.lost)
            } else {
                r.lost.clone()
            },
            r.note.clone(),
        ];
        let cells: Vec<(String, String)> = r
            .cells()
            .into_iter()
            .map(str::to_owned)
            .zip(painted)
            .collect();
        push_line(&mut out, &widths, &cells);
    }
    out.push_str(&totals(report, paint));
    out.push('\n');
    out
}

struct Row {
    name: String,
    status: Status,
    recovery: String,
    budget: String,
    margin: String,
    missed: bool,
    lost: String,
    lost_bad: bool,
    note: String,
}

impl Row {
    fn cells(&self) -> [&str; 7] {
        [
            &self.name,
            self.status.name(),
            &self.recovery,
            &self.budget,
            &self.margin,
            &self.lost,
            &self.note,
        ]
    }
}

fn row(s: &ScenarioReport) -> Row {
    let total = s.verdict.budgets.iter().find(|c| c.phase == TOTAL);
    let recovery = match total.and_then(|c| c.actual_ms) {
        Some(ms) => {
            let q = if s.repeats.len() > 1 {
                format!("{} ", s.objective.quantile)
            } else {
                String::new()
            };
            let base = match s.time_base {
                TimeBase::Simulated => " sim",
                TimeBase::Wall => "",
            };
            format!("{q}{}{base}", human::duration(ms))
        }
        None => "-".to_owned(),
    };
    let lost: usize = s
        .repeats
        .iter()
        .map(|r| r.diff.lost.iter().filter(|e| !e.allowed).count())
        .sum();
    let note = match s.status {
        Status::Passed => String::new(),
        Status::Failed => human::note(&s.verdict.failures),
        Status::Unsupported | Status::Unrecoverable | Status::Error | Status::Aborted => s
            .repeats
            .iter()
            .find_map(human::repeat_note)
            .unwrap_or_else(|| "not run".to_owned()),
    };
    Row {
        name: s.name.clone(),
        status: s.status,
        recovery,
        budget: human::duration(s.objective.total_ms),
        margin: total
            .and_then(|c| c.margin_ms)
            .map_or("-".to_owned(), human::margin),
        missed: total.is_some_and(|c| !c.passed && c.actual_ms.is_some()),
        lost: if s.repeats.is_empty() {
            "-".to_owned()
        } else {
            lost.to_string()
        },
        lost_bad: lost > 0,
        // One line per row, whatever the error text holds.
        note: note.replace(['\n', '\r'], " "),
    }
}

/// `(plain, painted)` cells: padding is computed on the plain text so ANSI
/// escapes do not shift the columns. The last column is not padded.
fn push_line(out: &mut String, widths: &[usize], cells: &[(String, String)]) {
    let mut line = String::new();
    for (i, (plain, painted)) in cells.iter().enumerate() {
        line.push_str(painted);
        if i + 1 < cells.len() {
            let pad = widths[i].saturating_sub(plain.chars().count()) + 2;
            line.push_str(&" ".repeat(pad));
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn totals(report: &RunReport, paint: Paint) -> String {
    let n = report.scenarios.len();
    let mut parts = Vec::new();
    for st in Status::ALL {
        let count = report.scenarios.iter().filter(|s| s.status == st).count();
        if count > 0 {
            parts.push(format!("{count} {}", paint.status(st)));
        }
    }
    let lost: usize = report
        .scenarios
        .iter()
        .flat_map(|s| &s.repeats)
        .map(|r| r.diff.lost.iter().filter(|e| !e.allowed).count())
        .sum();
    let mut line = format!("{}: {}", plural(n, "scenario"), parts.join(", "));
    if lost > 0 {
        line.push_str(&format!(", {} lost", plural(lost, "object")));
    }
    if report
        .scenarios
        .iter()
        .any(|s| s.time_base == TimeBase::Simulated)
    {
        line.push_str(" · recovery times marked sim are simulated");
    }
    line.push_str(&format!(" · {} wall", human::duration(report.wall_ms)));
    if report.status == Status::Aborted {
        line.push_str(&format!(" · {}", paint.bold("run aborted")));
    }
    paint.bold(&line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn table_lists_every_scenario_with_its_numbers() {
        let text = summary(&testing::run_report(), false);
        let expected = "\
SCENARIO           STATUS  RECOVERY       BUDGET  MARGIN  LOST  NOTE
cluster-loss       passed  3m7s sim       5m      +1m52s  0
cluster-loss-slow  failed  5m55s sim      8m      +2m5s   0     converge 3m40s > budget 3m
namespace-loss     passed  p95 1m16s sim  2m      +43.1s  0
hand-made-drift    failed  1m sim         3m      +1m59s  1     lost ConfigMap/podinfo/hand-made-config
controller-loss    error   -              3m      -       0     provider kind: `kind create cluster --name gameday-controller-loss-7f3a` exited 1: ERROR: failed to create cluster: Can…
5 scenarios: 2 passed, 2 failed, 1 error, 1 object lost · recovery times marked sim are simulated · 1.2s wall
";
        assert_eq!(text, expected);
    }

    #[test]
    fn aborted_run_says_so_and_colours_only_on_request() {
        let report = testing::aborted_run_report();
        let plain = summary(&report, false);
        assert!(plain.contains("run aborted"), "{plain}");
        assert!(
            plain.contains("node-loss") && plain.contains("not run"),
            "{plain}"
        );
        assert!(!plain.contains('\x1b'));
        let coloured = summary(&report, true);
        assert!(coloured.contains("\x1b[2maborted\x1b[0m"), "{coloured}");
    }
}
