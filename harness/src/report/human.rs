//! Text every sink shares: durations, margins, budget misses, statuses.
//!
//! One formatter for all formats, so a budget miss reads the same in the
//! terminal, the JUnit failure message, the Markdown summary and the HTML
//! report (`converge 3m40s > budget 3m`), and CI greps stay stable.

use std::time::Duration;

use super::tree::{BudgetCheck, DiffEntry, RepeatReport, RunReport, Status, TimeBase};
use crate::scenario::duration::format_duration;

/// A duration in milliseconds for people, rounded to what matters at its
/// scale and without zero parts: `0s`, `850ms`, `12.4s`, `40s`, `3m`, `3m40s`,
/// `1h`, `1h2m`. Rounds down, so a value never reads larger than it is.
pub fn duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        let tenths = ms / 100;
        return if tenths.is_multiple_of(10) {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        };
    }
    let secs = ms / 1_000;
    let (big, small, units) = if ms < 3_600_000 {
        (secs / 60, secs % 60, ("m", "s"))
    } else {
        (secs / 3_600, (secs % 3_600) / 60, ("h", "m"))
    };
    if small == 0 {
        format!("{big}{}", units.0)
    } else {
        format!("{big}{}{small}{}", units.0, units.1)
    }
}

/// A margin (budget − actual, ms) with its sign: `+1m48s`, `-40s`, `0s`.
pub fn margin(ms: i64) -> String {
    let abs = duration(ms.unsigned_abs());
    match ms.signum() {
        1 => format!("+{abs}"),
        -1 => format!("-{abs}"),
        _ => abs,
    }
}

/// `converge 3m40s > budget 3m`: why a measured phase missed its budget.
///
/// When rounding would print the same number on both sides (3m0.4s against
/// 3m), both are written exactly (`3m400ms > budget 3m`) so the message never
/// contradicts itself.
pub fn over_budget(phase: &str, actual_ms: u64, budget_ms: u64) -> String {
    let (mut actual, mut budget) = (duration(actual_ms), duration(budget_ms));
    if actual == budget {
        actual = format_duration(Duration::from_millis(actual_ms));
        budget = format_duration(Duration::from_millis(budget_ms));
    }
    format!("{phase} {actual} > budget {budget}")
}

/// `converge did not complete (budget 3m)`: a budgeted phase that never ended.
pub fn incomplete(phase: &str, budget_ms: u64) -> String {
    format!("{phase} did not complete (budget {})", duration(budget_ms))
}

/// The failure text of a budget check, None when it passed.
pub fn check_failure(check: &BudgetCheck) -> Option<String> {
    if check.passed {
        return None;
    }
    Some(match check.actual_ms {
        Some(actual) => over_budget(&check.phase, actual, check.budget_ms),
        None => incomplete(&check.phase, check.budget_ms),
    })
}

/// `lost ConfigMap/podinfo/hand-made-config`.
pub fn lost(entry: &DiffEntry) -> String {
    format!("lost {}", entry.object)
}

/// The lower-case status word, as in the JSON (`passed`, `failed`, …).
pub fn status(status: Status) -> &'static str {
    status.name()
}

/// The status with a symbol, for Markdown and other Unicode-friendly text.
pub fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Passed => "✅",
        Status::Failed => "❌",
        Status::Unsupported => "🚫",
        Status::Unrecoverable => "💔",
        Status::Error => "⚠️",
        Status::Aborted => "⏹️",
    }
}

/// The longest NOTE a summary row holds, in characters.
pub const NOTE_MAX: usize = 120;

/// One line of at most [`NOTE_MAX`] characters for a list of reasons: the
/// first one (its first line, cut with `…` when long), then `(and N more)`.
/// The full list is in report.json and the HTML report.
pub fn note(reasons: &[String]) -> String {
    let Some(first) = reasons.first() else {
        return String::new();
    };
    let more = match reasons.len() - 1 {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    let first = first.lines().next().unwrap_or_default().trim_end();
    let room = NOTE_MAX.saturating_sub(more.chars().count());
    let mut line: String = if first.chars().count() > room {
        let cut: String = first.chars().take(room.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        first.to_owned()
    };
    line.push_str(&more);
    line
}

/// The NOTE of a repeat that stopped ([`note`] of its reasons, or of its
/// error); None when it did not stop on an error.
pub fn repeat_note(r: &RepeatReport) -> Option<String> {
    let error = r.error.as_ref()?;
    Some(if r.reasons.is_empty() {
        note(std::slice::from_ref(error))
    } else {
        note(&r.reasons)
    })
}

/// How a stopped repeat is labelled (`Error`, `Unrecoverable`, `Aborted`…).
pub fn error_label(status: Status) -> &'static str {
    match status {
        Status::Passed => "Passed",
        Status::Failed => "Failed",
        Status::Unsupported => "Unsupported",
        Status::Unrecoverable => "Unrecoverable",
        Status::Error => "Error",
        Status::Aborted => "Aborted",
    }
}

/// `simulated` or `wall`.
pub fn time_base(base: TimeBase) -> &'static str {
    match base {
        TimeBase::Simulated => "simulated",
        TimeBase::Wall => "wall",
    }
}

/// A sentence saying what the durations of a time base mean.
pub fn time_base_note(base: TimeBase) -> &'static str {
    match base {
        TimeBase::Simulated => {
            "Times are simulated: they are the embedded simulator's virtual clock, not wall time."
        }
        TimeBase::Wall => "Times are wall-clock time on the cluster.",
    }
}

/// `1 scenario`, `3 scenarios`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One line: how the run went.
pub fn headline(report: &RunReport) -> String {
    let n = report.scenarios.len();
    let count = |st: Status| report.scenarios.iter().filter(|s| s.status == st).count();
    let (failed, errors, aborted) = (
        count(Status::Failed),
        count(Status::Error),
        count(Status::Aborted),
    );
    if report.status == Status::Aborted {
        let done = n - aborted;
        return format!("run aborted: {done} of {} finished", plural(n, "scenario"));
    }
    let (unsupported, unrecoverable) = (count(Status::Unsupported), count(Status::Unrecoverable));
    if failed + errors + unsupported + unrecoverable == 0 {
        return match n {
            0 => "no scenarios ran".to_owned(),
            1 => "the scenario met its objectives".to_owned(),
            _ => format!("all {n} scenarios met their objectives"),
        };
    }
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!(
            "{failed} of {} missed an objective",
            plural(n, "scenario")
        ));
    }
    if unsupported > 0 {
        parts.push(format!(
            "{unsupported} use what the simulator does not emulate (unsupported)"
        ));
    }
    if unrecoverable > 0 {
        parts.push(format!(
            "{unrecoverable} never reached a steady state (unrecoverable)"
        ));
    }
    if errors > 0 {
        let what = if errors == 1 { "error" } else { "errors" };
        parts.push(if failed > 0 {
            format!("{errors} infrastructure {what}")
        } else {
            format!(
                "{errors} of {} could not run (infrastructure {what})",
                plural(n, "scenario")
            )
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_one_line_of_at_most_120_characters_with_the_count_of_the_rest() {
        let long = format!("Widget/default/w: {}", "no matches for kind ".repeat(20));
        let reasons = vec![long.clone(), "second".into(), "third\nline".into()];
        let n = note(&reasons);
        assert!(n.chars().count() <= NOTE_MAX, "{n}");
        assert!(n.starts_with("Widget/default/w: no matches"), "{n}");
        assert!(n.ends_with("… (and 2 more)"), "{n}");
        assert!(!n.contains('\n'));
        assert_eq!(note(&["short".into()]), "short");
        assert_eq!(note(&["a\nb".into(), "c".into()]), "a (and 1 more)");
        assert_eq!(note(&[]), "");
    }

    #[test]
    fn headline_counts_outcomes() {
        assert_eq!(
            headline(&crate::report::testing::run_report()),
            "2 of 5 scenarios missed an objective, 1 infrastructure error"
        );
        assert_eq!(
            headline(&crate::report::testing::passing_run_report()),
            "all 2 scenarios met their objectives"
        );
        assert_eq!(
            headline(&crate::report::testing::aborted_run_report()),
            "run aborted: 0 of 2 scenarios finished"
        );
    }

    #[test]
    fn durations_drop_zero_parts_and_round_down() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_400), "12.4s");
        assert_eq!(duration(12_499), "12.4s");
        assert_eq!(duration(40_000), "40s");
        assert_eq!(duration(180_000), "3m");
        assert_eq!(duration(220_400), "3m40s");
        assert_eq!(duration(3_600_000), "1h");
        assert_eq!(duration(3_720_000), "1h2m");
    }

    #[test]
    fn margins_carry_their_sign() {
        assert_eq!(margin(108_000), "+1m48s");
        assert_eq!(margin(-40_000), "-40s");
        assert_eq!(margin(0), "0s");
    }

    #[test]
    fn over_budget_names_phase_and_both_values() {
        assert_eq!(
            over_budget("converge", 220_000, 180_000),
            "converge 3m40s > budget 3m"
        );
        // Rounded alike: written exactly instead of "3m > budget 3m".
        assert_eq!(
            over_budget("converge", 180_400, 180_000),
            "converge 3m400ms > budget 3m"
        );
        assert_eq!(
            incomplete("healthy", 60_000),
            "healthy did not complete (budget 1m)"
        );
    }
}
