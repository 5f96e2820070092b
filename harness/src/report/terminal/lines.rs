//! The one-line texts of the live view: a running phase's progress line and
//! the permanent lines for finished phases, repeats and scenarios. Shared by
//! the terminal and the plain-line modes, so CI logs read like the screen.

use std::time::Duration;

use super::Paint;
use crate::report::human::{self, plural};
use crate::report::stats::TOTAL;
use crate::report::tree::{RepeatReport, ScenarioReport, Status, TimeBase};

pub(super) fn fmt(d: Duration) -> String {
    human::duration(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `converge      1m12s / 3m  waiting for 2/3 Kustomizations Ready`, or
/// `… 3m5s > budget 3m  OVER BUDGET`.
pub(super) fn bar_message(
    phase: &str,
    elapsed: Option<Duration>,
    budget: Option<Duration>,
    detail: &str,
) -> String {
    // Whole seconds while running: tenths would flicker on every redraw.
    let elapsed_text = elapsed.map_or("…".to_owned(), |e| {
        if e < Duration::from_secs(60) {
            format!("{}s", e.as_secs())
        } else {
            fmt(e)
        }
    });
    let mut msg = match (elapsed, budget) {
        (Some(e), Some(b)) if e > b => format!(
            "{phase:<13} {elapsed_text:>7} > budget {}  OVER BUDGET",
            fmt(b)
        ),
        (_, Some(b)) => format!("{phase:<13} {elapsed_text:>7} / {}", fmt(b)),
        (_, None) => format!("{phase:<13} {elapsed_text:>7}"),
    };
    if !detail.is_empty() {
        msg.push_str("  ");
        msg.push_str(detail);
    }
    msg
}

pub(super) fn finished(
    paint: Paint,
    phase: &str,
    status: Status,
    duration: Duration,
    budget: Option<Duration>,
) -> String {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let budget_ms = budget.map(|b| u64::try_from(b.as_millis()).unwrap_or(u64::MAX));
    match (status, budget_ms) {
        (Status::Failed, Some(b)) if ms > b => {
            format!(
                "{phase} {}: {}",
                paint.red("FAILED"),
                paint.red(&human::over_budget(phase, ms, b))
            )
        }
        (Status::Passed, Some(b)) => format!(
            "{phase} {} in {} (budget {}, margin {})",
            paint.status(status),
            human::duration(ms),
            human::duration(b),
            human::margin(b as i64 - ms as i64)
        ),
        (Status::Passed, None) => format!(
            "{phase} {} in {}",
            paint.status(status),
            human::duration(ms)
        ),
        _ => format!(
            "{phase} {} after {}",
            paint.status(status),
            human::duration(ms)
        ),
    }
}

pub(super) fn repeat_finished(paint: Paint, r: &RepeatReport) -> String {
    let total = r.verdict.budgets.iter().find(|c| c.phase == TOTAL);
    match r.status {
        Status::Passed => {
            let mut text = paint.status(r.status);
            if let Some(ms) = r.recovery_ms {
                text.push_str(&format!(", recovery {}", human::duration(ms)));
                if let Some(c) = total {
                    text.push_str(&format!(
                        " (budget {}, margin {})",
                        human::duration(c.budget_ms),
                        c.margin_ms.map_or("-".to_owned(), human::margin)
                    ));
                }
            }
            text
        }
        Status::Failed => {
            let mut text = format!("{}: {}", paint.red("FAILED"), r.verdict.failures.join("; "));
            // The first reason is the error the failures already say; the
            // rest are the Events of what was not ready.
            for why in r.reasons.iter().skip(1) {
                text.push_str(&format!("\n  {why}"));
            }
            text
        }
        Status::Unsupported | Status::Unrecoverable => {
            let mut text = format!(
                "{}: {}",
                paint.red(&r.status.name().to_uppercase()),
                r.error.as_deref().unwrap_or("the source was not drilled")
            );
            if r.reasons.len() > 1 {
                for why in &r.reasons {
                    text.push_str(&format!("\n  - {why}"));
                }
            }
            text
        }
        Status::Error => format!(
            "{}: {}",
            paint.yellow("ERROR"),
            r.error
                .as_deref()
                .unwrap_or("the drill could not be carried out")
        ),
        Status::Aborted => format!(
            "{}: {}",
            paint.status(r.status),
            r.error.as_deref().unwrap_or("interrupted")
        ),
    }
}

pub(super) fn scenario_finished(paint: Paint, s: &ScenarioReport) -> String {
    let mut text = format!("{}: {}", s.name, paint.status(s.status));
    if s.repeats.len() > 1 {
        let total = s.verdict.budgets.iter().find(|c| c.phase == TOTAL);
        text.push_str(&format!(" ({}", plural(s.repeats.len(), "repeat")));
        if let Some(ms) = total.and_then(|c| c.actual_ms) {
            let base = if s.time_base == TimeBase::Simulated {
                " sim"
            } else {
                ""
            };
            text.push_str(&format!(
                "; {} recovery {}{base}",
                s.objective.quantile,
                human::duration(ms)
            ));
        }
        text.push(')');
    }
    if s.status == Status::Failed {
        text.push_str(&format!(": {}", s.verdict.failures.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_message_shows_elapsed_against_budget() {
        let s = |secs| Some(Duration::from_secs(secs));
        assert_eq!(
            bar_message("converge", s(72), s(180), ""),
            "converge        1m12s / 3m"
        );
        assert_eq!(
            bar_message(
                "converge",
                s(185),
                s(180),
                "waiting for 2/3 Kustomizations Ready"
            ),
            "converge         3m5s > budget 3m  OVER BUDGET  waiting for 2/3 Kustomizations Ready"
        );
        assert_eq!(
            bar_message("healthy", s(5), None, ""),
            "healthy            5s"
        );
    }
}
