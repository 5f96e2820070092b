//! Helpers shared by the integration test binaries (each includes this
//! module with `#[path = "../common/mod.rs"] mod common;`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_owned()
}

/// The top-level `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// True when golden files should be rewritten instead of compared
/// (`GAMEDAY_UPDATE_GOLDEN=1 cargo nextest run`).
pub fn update_golden() -> bool {
    std::env::var_os("GAMEDAY_UPDATE_GOLDEN").is_some_and(|v| v != "0")
}

/// Compares `actual` with the golden file, or rewrites it in update mode.
pub fn assert_golden(golden: &Path, actual: &str) {
    if update_golden() {
        std::fs::write(golden, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with GAMEDAY_UPDATE_GOLDEN=1 to create it. Actual output:\n{actual}",
            golden.display()
        )
    });
    assert_eq!(
        expected,
        actual,
        "output differs from {} (GAMEDAY_UPDATE_GOLDEN=1 rewrites it)",
        golden.display()
    );
}

/// Replaces machine-specific paths with stable placeholders.
pub fn redact_paths(text: &str) -> String {
    let fixtures = fixtures();
    let root = root();
    text.replace(&fixtures.display().to_string(), "<fixtures>")
        .replace(&root.display().to_string(), "<root>")
}

/// A provider context whose repeat folder is
/// `<work_dir>/gameday-<run id>/<scenario>-1`, as the runner makes it.
pub fn context_in(
    work_dir: &Path,
    run_id: &str,
    scenario: &str,
    tools: gameday::process::Tools,
) -> gameday::cluster::Context {
    let dir = work_dir
        .join(format!("gameday-{run_id}"))
        .join(format!("{scenario}-1"));
    std::fs::create_dir_all(&dir).unwrap();
    gameday::cluster::Context {
        run_id: run_id.to_owned(),
        dir,
        clock: gameday::clock::Clock::wall(),
        seed: 1,
        cleanup: gameday::cluster::cleanup::Cleanup::default(),
        confirmed: false,
        tools,
        images: gameday::sim::workloads::images::Contents::default(),
    }
}
