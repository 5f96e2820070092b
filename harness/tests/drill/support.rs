//! Running scenarios in-process for the drill tests.

use std::path::PathBuf;

use gameday::drill::runner::{RunOptions, Runner};
use gameday::drill::timeline::Events;
use gameday::report::tree::{PhaseGroup, PhaseReport, RunReport};
use gameday::scenario::{self, Scenario};
use tokio_util::sync::CancellationToken;

use crate::common::root;

/// A catalogue scenario.
pub fn catalogue(name: &str) -> Scenario {
    let path: PathBuf = root().join("scenarios").join(format!("{name}.yaml"));
    scenario::load_one(&path).unwrap_or_else(|d| panic!("{d}"))
}

/// Runs scenarios with a fresh work dir; returns the report and the work dir
/// (to check that nothing was left in it).
pub async fn run_with(
    scenarios: Vec<Scenario>,
    seed: Option<u64>,
) -> (RunReport, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let mut options = RunOptions::new();
    options.work_dir = work.path().to_owned();
    options.seed = seed;
    let runner = Runner::new(options, Events::none(), CancellationToken::new());
    (runner.run(scenarios).await, work)
}

/// Runs one scenario.
pub async fn run(s: Scenario) -> RunReport {
    let (report, work) = run_with(vec![s], None).await;
    assert_left_nothing(&work);
    report
}

/// Nothing of the run is left in its work dir.
pub fn assert_left_nothing(work: &tempfile::TempDir) {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            out.push(entry.path());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), out);
            }
        }
    }
    let mut left = Vec::new();
    walk(work.path(), &mut left);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The recovery phases of the first repeat of the first scenario.
pub fn recovery(report: &RunReport) -> Vec<PhaseReport> {
    report.scenarios[0].repeats[0]
        .phases
        .iter()
        .filter(|p| p.group == PhaseGroup::Recovery)
        .cloned()
        .collect()
}

/// Phase names in order.
pub fn names(phases: &[PhaseReport]) -> Vec<String> {
    phases.iter().map(|p| p.name.clone()).collect()
}

/// Whether the real helm is here; outside CI its absence skips the test
/// (loudly), under CI it fails.
#[allow(clippy::print_stderr)]
pub fn have_helm() -> bool {
    if gameday::process::Lookup::default().find("helm").is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "helm is required in CI (make tools)"
    );
    eprintln!("\n!!! SKIPPED: the real helm is needed\n");
    false
}
