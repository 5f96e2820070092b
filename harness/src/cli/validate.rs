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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let mut invalid = 0;
    for file in &files {
        // What `gameday run` refuses too: a `url:` the drill cannot push to.
        let loaded = scenario::load(file).and_then(|s| {
            runtime
                .block_on(gameday::drill::pushable::check(&s))
                .map(|()| s)
        });
        match loaded {
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
