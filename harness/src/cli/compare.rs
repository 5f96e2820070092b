//! `gameday compare BASE NEW`: a run's RTO figures against a baseline's.

use std::path::PathBuf;

use gameday::exit;
use gameday::report::compare;

use super::ci;

/// Arguments of `gameday compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline: a report.json, or the folder holding one.
    #[arg(value_name = "BASE")]
    base: PathBuf,
    /// The run to judge: a report.json, or the folder holding one.
    #[arg(value_name = "NEW")]
    new: PathBuf,
    #[command(flatten)]
    tolerance: ci::ToleranceArgs,
}

pub fn run(args: &Args) -> u8 {
    let base = match ci::read_report(&args.base) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let new = match ci::read_report(&args.new) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match compare::compare(&base, &new, &args.tolerance.tolerance()) {
        Ok(c) => {
            print!("{}", ci::comparison_table(&c));
            if c.regressions().is_empty() {
                exit::SUCCESS
            } else {
                exit::OBJECTIVE_MISSED
            }
        }
        Err(e) => super::fail(&e, exit::INVALID_INPUT),
    }
}
