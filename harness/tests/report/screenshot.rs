//! Renders the sample `report.html` in headless Chromium (Debian's
//! `chromium` package) and checks a PNG comes out. Ignored by default (needs
//! the browser); `make report-screenshot` runs it and leaves the page and the
//! PNG in `target/report-screenshot/` to look at.

use std::path::PathBuf;
use std::time::Duration;

use gameday::process::Cmd;
use gameday::report::{html, testing};

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
    let page = dir.join("report.html");
    let png = dir.join("report.png");
    std::fs::write(&page, html::render(&testing::run_report())).expect("write report.html");
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
    assert!(
        bytes.len() > 20_000,
        "suspiciously small screenshot ({} bytes)",
        bytes.len()
    );
}
