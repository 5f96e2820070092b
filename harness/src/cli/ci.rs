//! What `run` and `report merge` share for CI: writing the reports, the
//! GitHub annotations, the baseline comparison and the exit code.

use std::path::{Path, PathBuf};

use gameday::exit;
use gameday::report::compare::{self, RunComparison, Tolerance};
use gameday::report::tree::{RunReport, Status};
use gameday::report::{self, Format, WriteOptions, annotations};

use super::render;

/// Report-writing flags shared by `run` and `report merge`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Where the reports go.
    #[arg(long, default_value = "gameday-report", value_name = "DIR")]
    pub out: PathBuf,
    /// Report formats, comma-separated: json, junit, md, html, openmetrics.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "json,junit,md,html",
        value_name = "FORMATS"
    )]
    pub format: Vec<Format>,
    /// junit.xml with a testcase per phase (which phase broke its budget),
    /// plus a verdict case per repeat.
    #[arg(long)]
    pub junit_per_phase: bool,
}

impl ReportArgs {
    /// The formats asked for (every default one when none).
    pub fn formats(&self) -> Vec<Format> {
        if self.format.is_empty() {
            vec![Format::Json, Format::Junit, Format::Md, Format::Html]
        } else {
            self.format.clone()
        }
    }

    /// Writes the reports and lists them; None (after saying why) when
    /// they could not be written.
    pub fn write(&self, report: &RunReport) -> Option<Vec<PathBuf>> {
        let options = WriteOptions {
            junit_per_phase: self.junit_per_phase,
        };
        match report::write_all_with(report, &self.out, &self.formats(), options) {
            Ok(w) => Some(w),
            Err(e) => {
                eprint!("{}", render::error_chain(&e));
                None
            }
        }
    }
}

/// Baseline flags shared by `run --baseline` and `compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct ToleranceArgs {
    /// How much slower a phase may get before it is a regression.
    #[arg(long, default_value = "20%", value_name = "PERCENT", value_parser = parse_percent)]
    pub tolerance: f64,
    /// A phase's own tolerance, PHASE=PERCENT (repeat or comma-separate;
    /// `total` is the whole recovery).
    #[arg(long, value_delimiter = ',', value_name = "PHASE=PERCENT", value_parser = parse_phase)]
    pub phase_tolerance: Vec<(String, f64)>,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    compare::parse_percent(s).map_err(|e| e.to_string())
}

fn parse_phase(s: &str) -> Result<(String, f64), String> {
    compare::parse_phase_tolerance(s).map_err(|e| e.to_string())
}

impl ToleranceArgs {
    /// As the library takes it.
    pub fn tolerance(&self) -> Tolerance {
        Tolerance {
            default_pct: self.tolerance,
            phases: self.phase_tolerance.iter().cloned().collect(),
        }
    }
}

/// Reads a baseline or a report to compare, or says why not (exit 2).
pub fn read_report(path: &Path) -> Result<RunReport, u8> {
    report::read::read(path).map_err(|e| super::fail(&e, exit::INVALID_INPUT))
}

/// The comparison as a table: scenario, phase, base → new, change, and
/// `REGRESSION` where it is one; then the scenarios only one side has.
pub fn comparison_table(c: &RunComparison) -> String {
    let mut rows = Vec::new();
    for (name, s) in &c.scenarios {
        for p in &s.phases {
            rows.push(vec![
                name.clone(),
                p.phase.clone(),
                compare::base_to_new(p),
                compare::change(p),
                if p.regressed {
                    format!("REGRESSION (tolerance {}%)", p.tolerance_pct)
                } else {
                    String::new()
                },
            ]);
        }
    }
    let mut out = render::table(&["SCENARIO", "PHASE", "BASE → NEW", "CHANGE", ""], &rows);
    for n in &c.only_in_base {
        out.push_str(&format!("{n}: in the baseline only (not run this time)\n"));
    }
    for n in &c.only_in_new {
        out.push_str(&format!("{n}: new (not in the baseline)\n"));
    }
    let regressions = c.regressions().len();
    out.push_str(&format!(
        "baseline {}: {}\n",
        c.base_run_id,
        match regressions {
            0 => "no regression".to_owned(),
            1 => "1 regression".to_owned(),
            n => format!("{n} regressions"),
        }
    ));
    out
}

/// With `GITHUB_ACTIONS=true`, prints an `::error` annotation for each
/// scenario that did not pass (stdout, where the runner reads commands).
pub fn github_annotations(report: &RunReport) {
    if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
        for line in annotations::for_run(report) {
            println!("{line}");
        }
    }
}

/// The exit code of a finished run: its status's, and 1 when a passing
/// run regressed against its baseline.
pub fn exit_code(report: &RunReport) -> u8 {
    match report.status {
        Status::Passed if compare::any_regression(report) => exit::OBJECTIVE_MISSED,
        Status::Passed => exit::SUCCESS,
        Status::Failed | Status::Unsupported | Status::Unrecoverable => exit::OBJECTIVE_MISSED,
        Status::Error => exit::INFRASTRUCTURE,
        Status::Aborted => exit::INTERRUPTED,
    }
}

/// Prints the summary and the report files, and picks the exit code (a
/// run whose reports are lost never exits 0).
pub fn finish(report: &RunReport, written: Option<Vec<PathBuf>>) -> u8 {
    print!(
        "{}",
        report::terminal::summary(report, std::io::IsTerminal::is_terminal(&std::io::stdout()))
    );
    github_annotations(report);
    let Some(written) = written else {
        return match exit_code(report) {
            exit::SUCCESS => exit::INFRASTRUCTURE,
            code => code,
        };
    };
    if !written.is_empty() {
        println!(
            "reports: {}",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    exit_code(report)
}
