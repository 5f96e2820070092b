//! Renders the sample `report.html` in headless Chromium (Debian's
//! `chromium` package) and checks a PNG comes out. Ignored by default (needs
//! the browser); `make report-screenshot` runs it and leaves the pages and the
//! PNGs (`report`, `aborted`) in `target/report-screenshot/` to look at.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gameday::process::Cmd;
use gameday::report::{RunReport, html, testing};

fn out_dir() -> PathBuf {
    std::env::var_os("GAMEDAY_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::root().join("target/report-screenshot"))
}

#[test]
#[ignore = "needs Chromium (apt-get install chromium); run with `make report-screenshot`"]
fn sample_report_renders_in_headless_chromium() {
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    screenshot(&dir, "report", &testing::run_report());
    screenshot(&dir, "aborted", &testing::aborted_run_report());
}

/// Writes `<name>.html` and renders it to `<name>.png` with Chromium.
fn screenshot(dir: &Path, name: &str, report: &RunReport) {
    let page = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&page, html::render(report)).expect("write the page");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().expect("temp profile dir");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let out = rt.block_on(
        Cmd::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=1400,2000")
            .arg(format!("file://{}", page.display()))
            .timeout(Duration::from_secs(120))
            .output(),
    );
    if let Err(e) = out {
        panic!("chromium failed: {e}");
    }
    let bytes = std::fs::read(&png).expect("chromium wrote no screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {}",
        png.display()
    );
    // A blank 1400x2000 page compresses to a few kB; a drawn report does not.
    assert!(
        bytes.len() > 20_000,
        "suspiciously small screenshot {} ({} bytes)",
        png.display(),
        bytes.len()
    );
}
