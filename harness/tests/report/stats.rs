//! Quantiles (nearest rank) and verdicts over repeats.

use gameday::report::stats::{self, quantile};
use gameday::report::testing;
use proptest::prelude::*;

#[test]
fn nearest_rank_on_known_inputs() {
    let samples: Vec<u64> = (1..=20).collect();
    assert_eq!(quantile(&samples, 0.5), Some(10));
    assert_eq!(quantile(&samples, 0.95), Some(19));
    assert_eq!(quantile(&samples, 1.0), Some(20));
    assert_eq!(quantile(&samples, 0.0), Some(1));
    assert_eq!(quantile(&[7, 3, 5], 0.5), Some(5));
    assert_eq!(quantile(&[7, 3, 5, 9, 1], 0.95), Some(9));
    assert_eq!(quantile(&[42], 0.5), Some(42));
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(quantile(&[1, 2], f64::NAN), Some(2), "NaN reads as max");
}

#[test]
fn stats_and_verdict_of_the_sample_repeats() {
    let report = testing::run_report();
    let ns = &report.scenarios[2];
    let total = ns.stats.iter().find(|s| s.phase == "total").unwrap();
    assert_eq!(
        (total.samples, total.p50_ms, total.p95_ms, total.max_ms),
        (5, 59_600, 76_900, 76_900)
    );
    assert!(ns.verdict.passed);
    let check = ns
        .verdict
        .budgets
        .iter()
        .find(|c| c.phase == "total")
        .unwrap();
    assert_eq!(
        (check.actual_ms, check.margin_ms),
        (Some(76_900), Some(43_100))
    );
}

#[test]
fn a_phase_that_never_ended_misses_its_budget_in_a_finished_repeat() {
    let mut report = testing::run_report();
    let s = &mut report.scenarios[2];
    // Repeat 3 timed out in converge: over the 5 repeats, p95 (rank 5) is that miss.
    let r = &mut s.repeats[2];
    let converge = r.phases.iter_mut().find(|p| p.name == "converge").unwrap();
    converge.end_ms = None;
    r.status = gameday::report::tree::Status::Failed;
    let v = stats::scenario_verdict(&s.objective, &s.repeats);
    assert!(!v.passed);
    assert!(
        v.failures
            .contains(&"converge did not complete (budget 1m)".to_owned()),
        "{:?}",
        v.failures
    );
}

#[test]
fn nothing_measured_when_no_repeat_ran() {
    let report = testing::run_report();
    let s = &report.scenarios[4];
    assert_eq!(s.verdict.failures, [stats::NOTHING_MEASURED]);
    assert_eq!(s.status, gameday::report::tree::Status::Error);
}

proptest! {
    #[test]
    fn quantiles_are_ordered_and_within_range(samples in proptest::collection::vec(0u64..10_000_000, 1..60)) {
        let s = stats::stats("converge", &samples).unwrap();
        let (min, max) = (*samples.iter().min().unwrap(), *samples.iter().max().unwrap());
        prop_assert!(s.p50_ms <= s.p95_ms && s.p95_ms <= s.max_ms);
        prop_assert!(min <= s.p50_ms && s.max_ms == max);
        prop_assert!(samples.contains(&s.p50_ms) && samples.contains(&s.p95_ms), "a measured value");
        prop_assert_eq!(s.samples as usize, samples.len());
    }

    #[test]
    fn quantile_is_monotonic_in_q(samples in proptest::collection::vec(0u64..1000, 1..40), a in 0.0f64..=1.0, b in 0.0f64..=1.0) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(quantile(&samples, lo) <= quantile(&samples, hi));
    }
}
