//! Truthful verdicts: a drill passes only when the steady state covered the
//! source, the direct applier waited for what it applied, and a source
//! that never reached a steady state is `unrecoverable`, with its reasons.

use std::time::Duration;

use gameday::drill::runner::{RunOptions, Runner};
use gameday::drill::timeline::Events;
use gameday::report::events::Event;
use gameday::report::tree::{Coverage, RepeatReport, RunReport, Status};
use gameday::scenario::{self, Scenario};
use tokio_util::sync::CancellationToken;

use crate::common::{fixtures, root};
use crate::support::run;

fn truthful(name: &str) -> Scenario {
    let path = fixtures().join("truthful").join(format!("{name}.yaml"));
    scenario::load_one(&path).unwrap_or_else(|d| panic!("{d}"))
}

fn first(report: &RunReport) -> &RepeatReport {
    &report.scenarios[0].repeats[0]
}

/// Every message a report holds, as the sinks render them.
fn rendered_messages(report: &RunReport) -> String {
    let mut all = String::new();
    for s in &report.scenarios {
        for r in &s.repeats {
            all.push_str(r.error.as_deref().unwrap_or_default());
            all.push_str(&r.reasons.join("\n"));
            for p in &r.phases {
                all.push_str(p.message.as_deref().unwrap_or_default());
                for o in &p.operations {
                    all.push_str(&o.what);
                }
            }
        }
    }
    all.push_str(&gameday::report::terminal::summary(report, false));
    all.push_str(&gameday::report::markdown::render(report));
    all.push_str(&gameday::report::html::render(report));
    all
}

fn assert_no_debug_formatting(report: &RunReport) {
    let all = rendered_messages(report);
    for debug in ["Status {", "Some(", "ErrorResponse {"] {
        assert!(
            !all.contains(debug),
            "{debug:?} in a rendered message:\n{all}"
        );
    }
}

/// The NOTE column of the summary row of the first scenario.
fn note(report: &RunReport) -> String {
    let table = gameday::report::terminal::summary(report, false);
    let row = table
        .lines()
        .find(|l| l.starts_with(&report.scenarios[0].name))
        .unwrap_or_else(|| panic!("no row in\n{table}"));
    let status = report.scenarios[0].status.name();
    let after_status = row.split_once(status).map_or("", |(_, rest)| rest);
    // RECOVERY, BUDGET, MARGIN, LOST, then the NOTE.
    after_status
        .split_whitespace()
        .skip(4)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_folder_without_namespaces_lands_in_default_and_is_counted() {
    let report = run(truthful("plain-folder")).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Passed, "{:?} {:?}", r.error, r.verdict);
    // Two Deployments and two Services, all applied into `default` and held
    // by the snapshot that recovery was checked against.
    assert_eq!(
        r.coverage,
        Some(Coverage {
            rendered: 4,
            applied: 4,
            covered: 4
        })
    );
    let bootstrap = &r.phases.iter().find(|p| p.name == "bootstrap").unwrap();
    assert!(
        bootstrap
            .operations
            .iter()
            .any(|o| o.what.contains("4 object(s) applied")),
        "{:?}",
        bootstrap.operations
    );
    assert!(
        r.diff.lost.is_empty() && r.diff.extra.is_empty(),
        "{:?}",
        r.diff
    );
    assert!(r.diff.compared >= 4, "{:?}", r.diff);
    let snapshot = r.phases.iter().find(|p| p.name == "snapshot").unwrap();
    assert!(
        snapshot
            .operations
            .iter()
            .any(|o| o.what == "source: 4 rendered, 4 applied, 4 covered by the steady state"),
        "{:?}",
        snapshot.operations
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_source_path_is_unrecoverable_and_says_nothing_was_rendered() {
    let report = run(truthful("empty-path")).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Unrecoverable, "{:?}", r.error);
    assert_eq!(report.scenarios[0].status, Status::Unrecoverable);
    assert_eq!(report.status, Status::Unrecoverable);
    let error = r.error.as_deref().unwrap();
    assert!(
        error.contains("source path `./empty` renders no objects"),
        "{error}"
    );
    assert_eq!(r.coverage.map(|c| c.rendered), Some(0));
    assert_eq!(r.recovery_ms, None, "no recovery was measured");
    assert_no_debug_formatting(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_whose_crd_nothing_installs_is_unrecoverable_and_named() {
    let report = run(truthful("orphan-cr")).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Unrecoverable, "{:?}", r.error);
    let bootstrap = r.phases.iter().find(|p| p.name == "bootstrap").unwrap();
    assert_eq!(bootstrap.status, Status::Unrecoverable);
    assert_eq!(
        r.reasons.len(),
        1,
        "one object could not be applied: {:?}",
        r.reasons
    );
    assert!(
        r.reasons[0].contains("BackupPolicy/default/nightly")
            && r.reasons[0].contains("no matches for kind \"BackupPolicy\""),
        "{:?}",
        r.reasons
    );
    let error = r.error.as_deref().unwrap();
    assert!(
        error.starts_with("the source never reached its steady state before the disaster"),
        "{error}"
    );
    // The terminal NOTE: one line of at most 120 characters naming it.
    let note = note(&report);
    assert!(note.chars().count() <= 120, "{note}");
    assert!(note.contains("BackupPolicy/default/nightly"), "{note}");
    assert_no_debug_formatting(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_objects_that_cannot_be_applied_make_one_note_and_a_full_list() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for i in 0..5 {
        std::fs::write(
            repo.join(format!("policy-{i}.yaml")),
            format!(
                "apiVersion: platform.example.com/v1alpha1\nkind: BackupPolicy\nmetadata: {{name: p{i}, namespace: default}}\n"
            ),
        )
        .unwrap();
    }
    let mut s = truthful("orphan-cr");
    s.source.location = gameday::scenario::model::SourceLocation::Fixture(repo);
    s.source.path = String::new();
    let report = run(s).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Unrecoverable);
    assert_eq!(r.reasons.len(), 5, "{:?}", r.reasons);
    let note = note(&report);
    assert!(note.chars().count() <= 120, "{note}");
    assert!(note.ends_with("(and 4 more)"), "{note}");
    let html = gameday::report::html::render(&report);
    for i in 0..5 {
        assert!(html.contains(&format!("BackupPolicy/default/p{i}")), "p{i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_bootstrap_fixture_compares_what_it_applied_and_finds_nothing_extra() {
    let path = fixtures().join("scenarios/valid/direct-bootstrap.yaml");
    let s = scenario::load_one(&path).unwrap_or_else(|d| panic!("{d}"));
    let report = run(s).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Passed, "{:?}", r.error);
    // It used to snapshot before the direct applier's first apply, so the
    // ConfigMap came back as "1 extra of 2 objects".
    assert!(r.diff.extra.is_empty(), "{:?}", r.diff.extra);
    assert_eq!(
        r.coverage,
        Some(Coverage {
            rendered: 1,
            applied: 1,
            covered: 1
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phase_that_times_out_reports_the_real_elapsed_time() {
    // A bad commit that breaks nothing: `detect` waits out the recovery
    // timeout.
    let text = std::fs::read_to_string(root().join("scenarios/bad-commit.yaml"))
        .unwrap()
        .replace("../fixtures", &fixtures().display().to_string())
        .replace(
            r#"set: { "spec.template.spec.containers[0].image": "ghcr.io/stefanprodan/podinfo:broken" }"#,
            r#"set: { "metadata.labels.harmless": "yes" }"#,
        )
        .replace(
            "recovery: { method: git-revert }",
            "recovery: { method: git-revert, timeout: 20m }",
        );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("harmless-commit.yaml");
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}"));

    let work = tempfile::tempdir().unwrap();
    let mut options = RunOptions::new();
    options.work_dir = work.path().to_owned();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(options, Events::new(tx), CancellationToken::new());
    let report = runner.run(vec![s]).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Failed, "{:?}", r.error);
    let mut detect = None;
    while let Ok(e) = rx.try_recv() {
        if let Event::PhaseFinished {
            phase,
            status,
            duration,
            ..
        } = e
            && phase == "detect"
        {
            detect = Some((status, duration));
        }
    }
    let (status, duration) = detect.expect("detect finished");
    assert_eq!(status, Status::Failed);
    assert!(
        duration >= Duration::from_secs(19 * 60) && duration <= Duration::from_secs(20 * 60),
        "detect failed after {duration:?}, not after the 20m it waited"
    );
    let ms = u64::try_from(duration.as_millis()).unwrap();
    assert_eq!(gameday::report::human::duration(ms), "20m");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_error_reads_as_one_clean_line() {
    // Deleting an object that does not exist: the API answers 404.
    let text = std::fs::read_to_string(fixtures().join("truthful/plain-folder.yaml"))
        .unwrap()
        .replace(
            "fixture: repo",
            &format!("fixture: {}", fixtures().join("truthful/repo").display()),
        )
        .replace(
            "    - fault: cluster-loss\n  recovery: { method: rebuild }",
            "    - fault: resource-loss\n      apiVersion: v1\n      kind: ConfigMap\n      namespace: default\n      name: nope\n  recovery: { method: reconcile }",
        );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing-object.yaml");
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}"));
    let report = run(s).await;
    let r = first(&report);
    let error = r.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("deleting ConfigMap nope")
            && error.contains("NotFound: ")
            && error.ends_with("(HTTP 404)"),
        "{error}"
    );
    assert_no_debug_formatting(&report);
}

/// plain-folder.yaml with its disaster and recovery replaced.
fn plain_folder_with(disaster: &str, recovery: &str) -> (Scenario, tempfile::TempDir) {
    let text = std::fs::read_to_string(fixtures().join("truthful/plain-folder.yaml"))
        .unwrap()
        .replace(
            "fixture: repo",
            &format!("fixture: {}", fixtures().join("truthful/repo").display()),
        )
        .replace(
            "    - fault: cluster-loss\n  recovery: { method: rebuild }",
            &format!("{disaster}\n  recovery: {recovery}"),
        );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("variant.yaml");
    std::fs::write(&file, text).unwrap();
    (
        scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}")),
        dir,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_converge_waits_for_the_reconciliation_that_restores_the_object() {
    let (s, _dir) = plain_folder_with(
        "    - fault: resource-loss\n      apiVersion: apps/v1\n      kind: Deployment\n      namespace: default\n      name: frontend",
        "{ method: reconcile }",
    );
    let report = run(s).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Passed, "{:?} {:?}", r.error, r.verdict);
    let converge = r.phases.iter().find(|p| p.name == "converge").unwrap();
    // The next reconciliation comes at the direct interval (1m), not at once.
    let took = converge.duration_ms().unwrap();
    assert!(took > 0 && took <= 60_000, "converge took {took} ms");
    assert!(r.diff.lost.is_empty(), "{:?}", r.diff.lost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_git_revert_converges_only_once_the_revert_is_applied() {
    let (s, _dir) = plain_folder_with(
        r#"    - fault: bad-commit
      file: kubernetes-manifests/frontend.yaml
      set: { "spec.template.spec.containers[0].image": "us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:broken" }"#,
        "{ method: git-revert }",
    );
    let report = run(s).await;
    let r = first(&report);
    assert_eq!(r.status, Status::Passed, "{:?} {:?}", r.error, r.verdict);
    let phase = |n: &str| r.phases.iter().find(|p| p.name == n).unwrap();
    let detect = phase("detect");
    assert!(
        detect
            .operations
            .iter()
            .any(|o| o.what.starts_with("reverted ")),
        "{:?}",
        detect.operations
    );
    // The revert is applied at the direct applier's next reconciliation.
    assert!(phase("converge").duration_ms().unwrap() > 0);
}
