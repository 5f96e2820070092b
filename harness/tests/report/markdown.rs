//! `summary.md` against golden files (`GAMEDAY_UPDATE_GOLDEN=1` rewrites them).

use gameday::report::{markdown, testing};

fn golden(name: &str) -> std::path::PathBuf {
    crate::common::fixtures().join("report").join(name)
}

#[test]
fn sample_run_matches_golden() {
    let md = markdown::render(&testing::run_report());
    crate::common::assert_golden(&golden("summary.expected.md"), &md);
}

#[test]
fn aborted_run_matches_golden() {
    let md = markdown::render(&testing::aborted_run_report());
    crate::common::assert_golden(&golden("summary-aborted.expected.md"), &md);
}

#[test]
fn names_the_missed_phase_in_the_overview_row() {
    let md = markdown::render(&testing::run_report());
    let row = md
        .lines()
        .find(|l| l.starts_with("| [cluster-loss-slow]"))
        .expect("overview row");
    assert!(
        row.contains("❌ failed: converge 3m40s > budget 3m"),
        "{row}"
    );
    assert!(
        md.starts_with("## ⚠️ gameday: 2 of 5 scenarios missed an objective"),
        "{md}"
    );
}

#[test]
fn scenario_text_cannot_break_the_table() {
    let mut report = testing::run_report();
    report.scenarios[1].verdict.failures = vec!["a | b <script>".into()];
    let md = markdown::render(&report);
    let row = md
        .lines()
        .find(|l| l.starts_with("| [cluster-loss-slow]"))
        .unwrap();
    assert!(row.contains("a \\| b &lt;script>"), "{row}");
    assert_eq!(row.matches(" | ").count(), 4, "{row}");
}
