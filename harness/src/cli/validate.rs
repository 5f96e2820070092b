//! `gameday validate`: one line per file, `ok` or its problems.

use std::path::PathBuf;

use gameday::{exit, scenario};

/// Arguments of `gameday validate`.
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
    let mut invalid = 0;
    for file in &files {
        match scenario::load(file) {
            Ok(_) => println!("ok    {}", file.display()),
            Err(diags) => {
                invalid += 1;
                println!("FAIL  {}", file.display());
                for line in diags.lines() {
                    println!("      {}", line.replace('\n', "\n      "));
                }
            }
        }
    }
    let valid = files.len() - invalid;
    println!(
        "\n{valid} valid, {invalid} invalid ({} file{})",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    if invalid > 0 {
        exit::INVALID_INPUT
    } else {
        exit::SUCCESS
    }
}
