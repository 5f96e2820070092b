//! `junit.xml` parses as JUnit XML with a testsuite per scenario, a testcase
//! per repeat, and failure messages that name the missed budget.

use gameday::report::{junit, testing};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

fn parse(report: &gameday::report::RunReport) -> Report {
    let xml = junit::to_string(report).unwrap();
    Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("not JUnit XML: {e}\n{xml}"))
}

#[test]
fn one_suite_per_scenario_one_case_per_repeat() {
    let report = testing::run_report();
    let junit = parse(&report);
    let names: Vec<&str> = junit.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cluster-loss",
            "cluster-loss-slow",
            "namespace-loss",
            "hand-made-drift",
            "controller-loss"
        ]
    );
    let cases: Vec<usize> = junit
        .test_suites
        .iter()
        .map(|s| s.test_cases.len())
        .collect();
    assert_eq!(cases, [1, 1, 5, 1, 1]);
    assert_eq!(junit.tests, 9);
    assert_eq!(junit.failures, 2);
    assert_eq!(junit.errors, 1);
    let ns = &junit.test_suites[2];
    let case_names: Vec<&str> = ns.test_cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        case_names,
        [
            "namespace-loss #1",
            "namespace-loss #2",
            "namespace-loss #3",
            "namespace-loss #4",
            "namespace-loss #5"
        ]
    );
}

#[test]
fn time_is_recovery_seconds_with_its_time_base() {
    let junit = parse(&testing::run_report());
    let suite = &junit.test_suites[0];
    let case = &suite.test_cases[0];
    // 19.6 s + 51.3 s + 1 m 34.2 s + 22.5 s of simulated recovery.
    assert_eq!(case.time.unwrap().as_millis(), 187_600);
    let prop = |name: &str| {
        suite
            .properties
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.value.as_str().to_owned())
    };
    assert_eq!(prop("time-base").as_deref(), Some("simulated"));
    assert!(prop("time").unwrap().contains("recovery time in seconds"));
    let out = case.system_out.as_ref().unwrap().as_str();
    assert!(out.starts_with("phase timeline, simulated time"), "{out}");
    assert!(out.contains("converge"), "{out}");
}

#[test]
fn failure_names_the_missed_budget_or_the_lost_objects() {
    let junit = parse(&testing::run_report());
    let message = |suite: usize| match &junit.test_suites[suite].test_cases[0].status {
        TestCaseStatus::NonSuccess { kind, message, .. } => {
            (*kind, message.as_ref().unwrap().as_str().to_owned())
        }
        other => panic!("expected a non-success, got {other:?}"),
    };
    assert_eq!(
        message(1),
        (
            NonSuccessKind::Failure,
            "converge 3m40s > budget 3m".to_owned()
        )
    );
    assert_eq!(
        message(3),
        (
            NonSuccessKind::Failure,
            "lost ConfigMap/podinfo/hand-made-config".to_owned()
        )
    );
    let (kind, error) = message(4);
    assert_eq!(kind, NonSuccessKind::Error);
    assert!(
        error.contains("Cannot connect to the Docker daemon"),
        "{error}"
    );
}

#[test]
fn aborted_repeats_are_skipped_with_the_reason() {
    let junit = parse(&testing::aborted_run_report());
    assert_eq!(junit.tests, 2);
    for suite in &junit.test_suites {
        assert_eq!(suite.test_cases.len(), 1, "{}", suite.name.as_str());
        let TestCaseStatus::Skipped { message, .. } = &suite.test_cases[0].status else {
            panic!("{} should be skipped", suite.name.as_str());
        };
        assert!(
            message.as_ref().unwrap().as_str().contains("abort"),
            "{message:?}"
        );
    }
}
