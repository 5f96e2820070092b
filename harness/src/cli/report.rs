//! `gameday report`: work on finished runs' reports.

use std::path::PathBuf;

use gameday::exit;
use gameday::report::merge;

use super::ci;

/// Arguments of `gameday report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Merge the reports of a catalogue's partitions (`run --partition
    /// K/N` on N runners) into one set of reports with one verdict.
    ///
    /// Checks that the reports are the partitions of one catalogue, each
    /// once and none missing; scenarios come back in the catalogue's order,
    /// as a single run would list them. Exits as `gameday run` would have.
    Merge(MergeArgs),
}

/// Arguments of `gameday report merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The partitions' report folders (or their report.json files).
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<PathBuf>,
    #[command(flatten)]
    report: ci::ReportArgs,
}

pub fn run(args: &Args) -> u8 {
    match &args.command {
        Command::Merge(m) => merge_reports(m),
    }
}

fn merge_reports(args: &MergeArgs) -> u8 {
    let mut reports = Vec::new();
    for path in &args.reports {
        match ci::read_report(path) {
            Ok(r) => reports.push((path.display().to_string(), r)),
            Err(code) => return code,
        }
    }
    let merged = match merge::merge(reports) {
        Ok(m) => m,
        Err(e) => return super::fail(&e, exit::INVALID_INPUT),
    };
    let written = args.report.write(&merged);
    ci::finish(&merged, written)
}
