//! `junit.xml` for CI (quick-junit): a testsuite per scenario, a testcase per
//! repeat named `<scenario> #<n>`.
//!
//! - `time` of a testcase is the repeat's recovery time in seconds on the
//!   cluster's clock; the `time-base` property says whether that clock is
//!   `simulated` or `wall`. Suite and report times are the sums of their
//!   testcases'.
//! - failed → `<failure>` whose message is the verdict's failures joined by
//!   `; ` (`converge 3m40s > budget 3m`, `lost ConfigMap/podinfo/x`);
//!   error → `<error>` with the error; aborted → `<skipped>`.
//! - `<system-out>` holds the phase timeline.

use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::human;
use super::tree::{RepeatReport, RunReport, ScenarioReport, Status, TimeBase};
use super::{Error, Result};

/// The JUnit XML of a run.
///
/// # Errors
/// [`Error::Junit`]; not expected for a tree built by the runner.
pub fn to_string(report: &RunReport) -> Result<String> {
    to_junit(report).to_string().map_err(Error::Junit)
}

/// The run as a quick-junit [`Report`] (for callers that merge reports).
pub fn to_junit(report: &RunReport) -> Report {
    let mut junit = Report::new(format!("gameday run {}", report.run_id));
    let mut total = Duration::ZERO;
    for scenario in &report.scenarios {
        let suite = suite(scenario);
        total += suite.time.unwrap_or_default();
        junit.add_test_suite(suite);
    }
    junit.set_time(total);
    junit
}

fn suite(s: &ScenarioReport) -> TestSuite {
    let mut suite = TestSuite::new(s.name.as_str());
    suite.add_properties([
        Property::new("file", s.file.as_str()),
        Property::new("description", s.description.as_str()),
        Property::new("provider", s.provider.as_str()),
        Property::new("time-base", human::time_base(s.time_base)),
        Property::new("time", time_note(s.time_base)),
        Property::new("disaster", s.disaster.join("+")),
        Property::new("recovery", s.recovery.as_str()),
        Property::new("rto.total", human::duration(s.objective.total_ms)),
        Property::new("rto.quantile", s.objective.quantile.as_str()),
    ]);
    for (phase, ms) in &s.objective.phases_ms {
        suite.add_property(Property::new(
            format!("rto.phases.{phase}"),
            human::duration(*ms),
        ));
    }
    let mut time = Duration::ZERO;
    for r in &s.repeats {
        let case = case(s, r);
        time += case.time.unwrap_or_default();
        suite.add_test_case(case);
    }
    if s.repeats.is_empty() {
        // A scenario the run never reached still shows up in CI.
        let mut status = TestCaseStatus::skipped();
        status.set_message(format!("not run: the run was {}", s.status.name()));
        let mut case = TestCase::new(format!("{} #1", s.name), status);
        case.set_classname(s.name.as_str());
        suite.add_test_case(case);
    }
    suite.set_time(time);
    suite
}

fn time_note(base: TimeBase) -> String {
    format!(
        "testcase time = recovery time in seconds on the {} clock",
        match base {
            TimeBase::Simulated => "simulated (embedded simulator)",
            TimeBase::Wall => "wall",
        }
    )
}

fn case(s: &ScenarioReport, r: &RepeatReport) -> TestCase {
    let mut case = TestCase::new(format!("{} #{}", s.name, r.index), status(r));
    case.set_classname(s.name.as_str());
    if let Some(ms) = r.recovery_ms {
        case.set_time(Duration::from_millis(ms));
    }
    case.add_properties([
        Property::new("seed", r.seed.to_string()),
        Property::new("time-base", human::time_base(s.time_base)),
        Property::new("wall_ms", r.wall_ms.to_string()),
    ]);
    case.set_system_out(timeline(s.time_base, r));
    case
}

pub(super) fn status(r: &RepeatReport) -> TestCaseStatus {
    match r.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(failure_message(r));
            st.set_type(
                if r.verdict.failures.iter().all(|f| f.starts_with("lost ")) {
                    "lost-objects"
                } else {
                    "rto"
                },
            );
            st.set_description(budget_lines(r));
            st
        }
        Status::Unsupported | Status::Unrecoverable => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(r.error.as_deref().unwrap_or("the source was not drilled"));
            st.set_type(r.status.name());
            st
        }
        Status::Error => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_message(
                r.error
                    .as_deref()
                    .unwrap_or("the drill could not be carried out"),
            );
            st.set_type("infrastructure");
            st
        }
        Status::Aborted => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(match &r.error {
                Some(e) => format!("aborted: {e}"),
                None => "aborted before it finished".to_owned(),
            });
            st.set_type("aborted");
            st
        }
    }
}

/// The verdict's failures; when a phase failed without a budget miss (a
/// steady-state timeout), that phase's message.
fn failure_message(r: &RepeatReport) -> String {
    if !r.verdict.failures.is_empty() {
        return r.verdict.failures.join("; ");
    }
    r.phases
        .iter()
        .filter(|p| p.status == Status::Failed)
        .map(|p| match &p.message {
            Some(m) => format!("{}: {m}", p.name),
            None => format!("{} failed", p.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn budget_lines(r: &RepeatReport) -> String {
    let mut out = String::new();
    for c in &r.verdict.budgets {
        let actual = c.actual_ms.map_or("-".to_owned(), human::duration);
        let margin = c.margin_ms.map_or("-".to_owned(), human::margin);
        let mark = if c.passed { "ok" } else { "MISSED" };
        let _ = writeln!(
            out,
            "{:<14} {:>8} / {:<8} margin {:>8}  {mark}",
            c.phase,
            actual,
            human::duration(c.budget_ms),
            margin
        );
    }
    out
}

/// The phase timeline of a repeat as aligned text: start and end offsets,
/// duration, budget, status.
pub fn timeline(base: TimeBase, r: &RepeatReport) -> String {
    let mut out = format!(
        "phase timeline, {} time from the start of the repeat (seed {})\n",
        human::time_base(base),
        r.seed
    );
    let _ = writeln!(
        out,
        "{:<13} {:<12} {:>8} {:>8} {:>8} {:>8}  status",
        "phase", "group", "start", "end", "took", "budget"
    );
    for p in &r.phases {
        let end = p.end_ms.map_or("-".to_owned(), human::duration);
        let took = p.duration_ms().map_or("-".to_owned(), human::duration);
        let budget = p.budget_ms.map_or("-".to_owned(), human::duration);
        let _ = write!(
            out,
            "{:<13} {:<12} {:>8} {:>8} {:>8} {:>8}  {}",
            p.name,
            p.group.name(),
            human::duration(p.start_ms),
            end,
            took,
            budget,
            p.status.name()
        );
        if let Some(m) = &p.message {
            let _ = write!(out, ": {m}");
        }
        out.push('\n');
        for op in &p.operations {
            let _ = writeln!(out, "    {:>8}  {}", human::duration(op.at_ms), op.what);
        }
    }
    if let Some(ms) = r.recovery_ms {
        let _ = writeln!(out, "recovery {}", human::duration(ms));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "error: {e}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn timeline_lists_every_phase_with_budget() {
        let report = testing::run_report();
        let s = &report.scenarios[1];
        let text = timeline(s.time_base, &s.repeats[0]);
        assert!(text.starts_with("phase timeline, simulated time"), "{text}");
        let converge = text
            .lines()
            .find(|l| l.starts_with("converge"))
            .expect("converge line");
        assert!(
            converge.contains("3m40s") && converge.contains("3m ") && converge.contains("failed"),
            "{converge}"
        );
        assert_eq!(
            text.lines().filter(|l| !l.starts_with(' ')).count(),
            2 + s.repeats[0].phases.len() + 1
        );
    }
}
