//! `junit.xml` with a testcase per phase (`--junit-per-phase`), so a CI
//! system's test view shows which phase broke its budget, not only which
//! drill.
//!
//! A testsuite per scenario; per repeat, a testcase `<scenario> #<n>
//! <phase>` for each phase in the order it ran (time: the phase's duration
//! in seconds on the cluster's clock; failed → `<failure>` with the budget
//! miss or the phase's message; error → `<error>`; a phase that never
//! ended → `<skipped>`), then `<scenario> #<n> verdict` with the repeat's
//! outcome as the default JUnit gives it, which carries what no phase
//! does (lost objects, findings about the source).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::human;
use super::junit;
use super::tree::{PhaseReport, RunReport, ScenarioReport, Status};
use super::{Error, Result};

/// The per-phase JUnit XML of a run.
///
/// # Errors
/// [`Error::Junit`]; not expected for a tree built by the runner.
pub fn to_string(report: &RunReport) -> Result<String> {
    to_junit(report).to_string().map_err(Error::Junit)
}

/// The run as a quick-junit [`Report`], a testcase per phase.
pub fn to_junit(report: &RunReport) -> Report {
    let mut out = Report::new(format!("gameday run {}", report.run_id));
    let mut total = Duration::ZERO;
    for s in &report.scenarios {
        let suite = suite(s);
        total += suite.time.unwrap_or_default();
        out.add_test_suite(suite);
    }
    out.set_time(total);
    out
}

fn suite(s: &ScenarioReport) -> TestSuite {
    let mut suite = TestSuite::new(s.name.as_str());
    suite.add_properties([
        Property::new("file", s.file.as_str()),
        Property::new("provider", s.provider.as_str()),
        Property::new("time-base", human::time_base(s.time_base)),
    ]);
    let mut time = Duration::ZERO;
    for r in &s.repeats {
        for p in &r.phases {
            let mut case = TestCase::new(
                format!("{} #{} {}", s.name, r.index, p.name),
                phase_status(p),
            );
            case.set_classname(s.name.as_str());
            if let Some(ms) = p.duration_ms() {
                case.set_time(Duration::from_millis(ms));
                time += Duration::from_millis(ms);
            }
            case.add_property(Property::new("group", p.group.name()));
            suite.add_test_case(case);
        }
        let mut verdict =
            TestCase::new(format!("{} #{} verdict", s.name, r.index), junit::status(r));
        verdict.set_classname(s.name.as_str());
        verdict.set_system_out(junit::timeline(s.time_base, r));
        suite.add_test_case(verdict);
    }
    if s.repeats.is_empty() {
        let mut status = TestCaseStatus::skipped();
        status.set_message(format!("not run: the run was {}", s.status.name()));
        let mut case = TestCase::new(format!("{} #1 verdict", s.name), status);
        case.set_classname(s.name.as_str());
        suite.add_test_case(case);
    }
    suite.set_time(time);
    suite
}

fn phase_status(p: &PhaseReport) -> TestCaseStatus {
    if p.end_ms.is_none() && p.status != Status::Failed && p.status != Status::Error {
        let mut st = TestCaseStatus::skipped();
        st.set_message(format!("{} never ended", p.name));
        return st;
    }
    match p.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed | Status::Unsupported | Status::Unrecoverable => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let over = match (p.duration_ms(), p.budget_ms) {
                (Some(actual), Some(budget)) if actual > budget => {
                    Some(human::over_budget(&p.name, actual, budget))
                }
                (None, Some(budget)) => Some(human::incomplete(&p.name, budget)),
                _ => None,
            };
            st.set_message(
                over.or_else(|| p.message.as_ref().map(|m| format!("{}: {m}", p.name)))
                    .unwrap_or_else(|| format!("{} failed", p.name)),
            );
            st.set_type(if p.budget_ms.is_some() {
                "rto"
            } else {
                p.status.name()
            });
            st
        }
        Status::Error => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_message(
                p.message
                    .as_deref()
                    .unwrap_or("the phase could not be carried out"),
            );
            st.set_type("infrastructure");
            st
        }
        Status::Aborted => {
            let mut st = TestCaseStatus::skipped();
            st.set_message("aborted");
            st.set_type("aborted");
            st
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn each_phase_is_a_testcase_and_the_slow_one_fails_with_its_budget() {
        let report = testing::run_report();
        let xml = to_string(&report).unwrap();
        let parsed = Report::deserialize_from_str(&xml).unwrap();
        let slow = &parsed.test_suites[1];
        assert_eq!(slow.name.as_str(), "cluster-loss-slow");
        let phases = report.scenarios[1].repeats[0].phases.len();
        assert_eq!(
            slow.test_cases.len(),
            phases + 1,
            "a case per phase plus the verdict"
        );
        let failed: Vec<(&str, Option<&str>)> = slow
            .test_cases
            .iter()
            .filter_map(|c| match &c.status {
                TestCaseStatus::NonSuccess {
                    kind: NonSuccessKind::Failure,
                    message,
                    ..
                } => Some((c.name.as_str(), message.as_ref().map(|m| m.as_str()))),
                _ => None,
            })
            .collect();
        assert_eq!(
            failed,
            [
                (
                    "cluster-loss-slow #1 converge",
                    Some("converge 3m40s > budget 3m")
                ),
                (
                    "cluster-loss-slow #1 verdict",
                    Some("converge 3m40s > budget 3m")
                ),
            ]
        );
        let converge = slow
            .test_cases
            .iter()
            .find(|c| c.name.as_str().ends_with("converge"))
            .unwrap();
        assert_eq!(converge.time, Some(Duration::from_secs(220)));
        // The lost object is the verdict's, not a phase's.
        let drift = &parsed.test_suites[3];
        let verdict = drift.test_cases.last().unwrap();
        assert!(matches!(
            verdict.status,
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                ..
            }
        ));
    }
}
