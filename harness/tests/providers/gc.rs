//! `gameday gc` against the fake kind: what it deletes, what it refuses,
//! and what it never looks at.

use gameday::cluster::Cluster;
use gameday::cluster::gc::lock_run_dir;

use super::fakes::{Fakes, kind_scenario};

fn stdout(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gameday gc failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A marked cluster a run left behind (its cleanup never ran).
async fn leak(fakes: &Fakes, run: &str, scenario: &str) -> String {
    let s = kind_scenario(scenario, "    - fault: node-loss", "{ method: reconcile }");
    let cx = fakes.context(run, scenario);
    let c = Cluster::create(&s, &cx, 0).await.expect("create");
    c.name().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_deletes_marked_leftovers_and_refuses_or_ignores_everything_else() {
    let fakes = Fakes::new();
    let leaked = leak(&fakes, "0a0b0c", "leak").await;
    fakes.kind(&["create", "cluster", "--name", "dev"]);
    fakes.kind(&["create", "cluster", "--name", "gameday-by-hand-ffffff"]);
    let run_dir = fakes.tmp().join("gameday-0a0b0c");
    let repo = fakes.tmp().join("gameday-repo-Ab12Cd");
    std::fs::create_dir_all(&repo).unwrap();
    assert!(run_dir.is_dir());

    let dry = stdout(&fakes.gameday(&["gc", "--dry-run"]));
    let tmp = fakes.tmp().display().to_string();
    assert!(
        dry.contains(&format!(
            "would delete  kind cluster {leaked} (run 0a0b0c)\n"
        )),
        "{dry}"
    );
    assert!(
        dry.contains("refused       kind cluster gameday-by-hand-ffffff: refusing to delete cluster gameday-by-hand-ffffff: it has no ownership marker"),
        "{dry}"
    );
    assert!(
        dry.contains("left alone    1 kind cluster(s) gameday did not create: dev\n"),
        "{dry}"
    );
    assert!(
        dry.contains(&format!(
            "would delete  folder {tmp}/gameday-0a0b0c (run 0a0b0c)\n"
        )),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("would delete  folder {tmp}/gameday-repo-Ab12Cd\n")),
        "the scratch folder of a killed process: {dry}"
    );
    // In use: the scratch folders this test process's own fakes hold.
    let summary = dry.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("3 to delete, 1 refused, ") && summary.ends_with(" in use, 0 failed"),
        "{dry}"
    );
    assert_eq!(
        fakes.clusters(),
        ["dev", "gameday-by-hand-ffffff", leaked.as_str()],
        "a dry run deletes nothing"
    );
    assert!(run_dir.is_dir());

    let done = stdout(&fakes.gameday(&["gc"]));
    assert!(
        done.contains(&format!(
            "deleted       kind cluster {leaked} (run 0a0b0c)\n"
        )),
        "{done}"
    );
    assert!(
        done.contains(&format!(
            "deleted       folder {tmp}/gameday-0a0b0c (run 0a0b0c)\n"
        )),
        "{done}"
    );
    let summary = done.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("3 deleted, 1 refused, ") && summary.ends_with(" in use, 0 failed"),
        "{done}"
    );
    assert_eq!(
        fakes.clusters(),
        ["dev", "gameday-by-hand-ffffff"],
        "never deleted: a cluster gameday did not create, one without the marker"
    );
    assert!(!run_dir.exists());
    assert!(
        !repo.exists(),
        "a scratch folder no process holds is a leftover"
    );
    let calls = fakes.take_transcript("0a0b0c");
    assert!(!calls.contains("delete cluster --name dev"), "{calls}");
    assert!(
        !calls.contains("delete cluster --name gameday-by-hand-ffffff"),
        "{calls}"
    );
    fakes.kind(&["delete", "clusters", "--all"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_leaves_a_running_run_alone() {
    let fakes = Fakes::new();
    let leaked = leak(&fakes, "0d0e0f", "busy").await;
    let lock = lock_run_dir(&fakes.tmp().join("gameday-0d0e0f")).expect("lock");

    let out = stdout(&fakes.gameday(&["gc"]));
    assert!(
        out.contains(&format!(
            "in use        kind cluster {leaked}: run 0d0e0f is still going\n"
        )),
        "{out}"
    );
    assert!(out.contains("in use        folder "), "{out}");
    assert_eq!(fakes.clusters(), [leaked.as_str()]);

    drop(lock);
    let out = stdout(&fakes.gameday(&["gc"]));
    assert!(
        out.ends_with("2 deleted, 0 refused, 0 in use, 0 failed\n"),
        "{out}"
    );
    assert!(fakes.clusters().is_empty());
}

#[test]
fn gc_without_kind_still_cleans_run_folders() {
    let fakes = Fakes::new();
    std::fs::create_dir_all(fakes.tmp().join("gameday-aaaaaa/x")).unwrap();
    // A PATH without kind (gameday itself needs nothing from it).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("gc")
        .env("PATH", fakes.root())
        .env("TMPDIR", fakes.tmp())
        .output()
        .unwrap();
    let out = stdout(&out);
    assert!(
        out.contains("note: kind is not installed (looked for `kind` on PATH)"),
        "{out}"
    );
    assert!(out.contains("deleted       folder "), "{out}");
    assert!(!fakes.tmp().join("gameday-aaaaaa").exists());
}
