//! `gameday list`: the scenarios as a table.

use std::path::PathBuf;

use gameday::scenario::duration::format_duration;
use gameday::scenario::model::Provider;
use gameday::{exit, scenario};

use super::render;

/// Arguments of `gameday list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched recursively for *.yaml). Default: scenarios/
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(args: &Args) -> u8 {
    let files = match scenario::discover(&super::default_paths(&args.paths)) {
        Ok(files) => files,
        Err(e) => return super::fail(&e, exit::INVALID_INPUT),
    };
    let mut rows = Vec::new();
    let mut invalid = Vec::new();
    for file in &files {
        match scenario::load(file) {
            Ok(drills) => rows.extend(drills.iter().map(|s| {
                vec![
                    s.name.clone(),
                    provider(s.cluster.provider).to_owned(),
                    s.disaster
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join("+"),
                    s.recovery.method.name().to_owned(),
                    format_duration(s.rto.total),
                    s.description.clone(),
                ]
            })),
            Err(d) => invalid.push(d),
        }
    }
    print!(
        "{}",
        render::table(
            &[
                "NAME",
                "PROVIDER",
                "DISASTER",
                "RECOVERY",
                "RTO",
                "DESCRIPTION"
            ],
            &rows
        )
    );
    for d in &invalid {
        eprintln!("{d}");
    }
    if invalid.is_empty() {
        exit::SUCCESS
    } else {
        eprintln!(
            "{} invalid scenario file(s) not listed; run `gameday validate` for details",
            invalid.len()
        );
        exit::INVALID_INPUT
    }
}

fn provider(p: Provider) -> &'static str {
    match p {
        Provider::Sim => "sim",
        Provider::Kind => "kind",
        Provider::Terraform => "terraform",
        Provider::Existing => "existing",
    }
}
