//! `gameday validate`: one line per file, `ok` or its problems; for
//! scenarios on the simulator, and for `--source`, the constructs of the
//! source the simulator does not emulate (the preflight `run` applies).

use std::path::PathBuf;

use gameday::drill::preflight::{self, Preflight};
use gameday::gitops::repo::GitRef;
use gameday::scenario::model::{Provider, SourceLocation};
use gameday::{exit, scenario};

/// Arguments of `gameday validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched recursively for *.yaml). Default: scenarios/
    #[arg(value_name = "PATH", conflicts_with = "source")]
    paths: Vec<PathBuf>,
    /// Check a source instead of scenario files: a folder (a checkout, or
    /// manifests) or a Git URL. Lists what the simulator does not emulate.
    #[arg(long, value_name = "DIR|URL")]
    source: Option<String>,
    /// The path in the source that Flux applies (with --source).
    #[arg(long, value_name = "P", default_value = ".", requires = "source")]
    path: String,
    /// The branch of a URL source (default: the remote's default branch).
    #[arg(long, value_name = "B", requires = "source")]
    branch: Option<String>,
}

pub fn run(args: &Args) -> u8 {
    match &args.source {
        Some(source) => source_only(source, args),
        None => files(args),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Prints what the preflight found, indented; true when the simulator can
/// drill the source.
fn print_preflight(p: &Preflight, indent: &str) -> bool {
    for e in &p.render_errors {
        println!("{indent}does not render: {e}");
    }
    for f in &p.findings {
        println!("{indent}{f}");
    }
    p.findings.is_empty() && p.render_errors.is_empty()
}

/// A folder is scanned as it is (unless a branch is asked for: then it is
/// cloned like a URL); anything else is a Git URL.
fn location(source: &str, branch: Option<&str>) -> SourceLocation {
    let path = PathBuf::from(source);
    let url_like = source.contains("://") || source.contains('@');
    if (path.is_dir() && branch.is_none()) || (!path.exists() && !url_like) {
        SourceLocation::Fixture(path)
    } else {
        SourceLocation::Url(source.to_owned())
    }
}

fn source_only(source: &str, args: &Args) -> u8 {
    let scratch = gameday::scratch::Scratch::new("validate");
    let scratch = match scratch {
        Ok(s) => s,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let reference = GitRef::from_parts(args.branch.clone(), None, None);
    let scanned = runtime().block_on(preflight::scan_source(
        &location(source, args.branch.as_deref()),
        &reference,
        &args.path,
        scratch.path(),
        &gameday::gitops::mirror::Mirrors::default(),
    ));
    let p = match scanned {
        Ok(p) => p,
        Err(e) => return super::fail(&e, exit::INVALID_INPUT),
    };
    let clean = print_preflight(&p, "");
    println!(
        "\n{} object{} in {} path{}: {} not emulated, {} not rendering",
        p.objects,
        if p.objects == 1 { "" } else { "s" },
        p.units,
        if p.units == 1 { "" } else { "s" },
        p.findings.len(),
        p.render_errors.len()
    );
    if clean {
        exit::SUCCESS
    } else {
        exit::OBJECTIVE_MISSED
    }
}

fn files(args: &Args) -> u8 {
    let files = match scenario::discover(&super::default_paths(&args.paths)) {
        Ok(files) => files,
        Err(e) => return super::fail(&e, exit::INVALID_INPUT),
    };
    let rt = runtime();
    let (mut invalid, mut unsupported) = (0, 0);
    let mut all: Vec<scenario::Scenario> = Vec::new();
    for file in &files {
        // What `gameday run` refuses too: a `url:` the drill cannot push to.
        let loaded = scenario::load(file).and_then(|drills| {
            for s in &drills {
                rt.block_on(gameday::drill::pushable::check(s))?;
            }
            Ok(drills)
        });
        // A file with `spec.disasters` declares several drills sharing one
        // source: the source is scanned once.
        let ok = |drills: &[scenario::Scenario]| match drills.len() {
            1 => format!("ok    {}", file.display()),
            n => format!("ok    {} ({n} drills)", file.display()),
        };
        if let Ok(drills) = &loaded {
            all.extend(drills.iter().cloned());
        }
        match loaded {
            Ok(drills) if drills[0].cluster.provider == Provider::Sim => {
                let s = &drills[0];
                let scratch = std::env::temp_dir().join(format!(
                    "gameday-validate-{}-{}",
                    std::process::id(),
                    s.name
                ));
                let scanned = rt.block_on(preflight::scenario(s, &scratch));
                let _ = std::fs::remove_dir_all(&scratch);
                match scanned {
                    Ok(p) if !p.findings.is_empty() => {
                        unsupported += 1;
                        println!("UNSUP {}", file.display());
                        for f in &p.findings {
                            println!("      {f}");
                        }
                    }
                    // Render errors and unreachable sources are the
                    // drill's to report (it may fix them: a bad commit…).
                    _ => println!("{}", ok(&drills)),
                }
            }
            Ok(drills) => println!("{}", ok(&drills)),
            Err(diags) => {
                invalid += 1;
                println!("FAIL  {}", file.display());
                for line in diags.lines() {
                    println!("      {}", line.replace('\n', "\n      "));
                }
            }
        }
    }
    // Names identify drills across files too (`gameday run` refuses this).
    let duplicates = scenario::duplicate_names(&all);
    for d in &duplicates {
        println!("FAIL  {d}");
    }
    let valid = files.len() - invalid;
    let clashes = match duplicates.len() {
        0 => String::new(),
        1 => ", 1 name clash".to_owned(),
        n => format!(", {n} name clashes"),
    };
    println!(
        "\n{valid} valid, {invalid} invalid{clashes}, {unsupported} unsupported on the simulator ({} file{})",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    invalid += duplicates.len();
    if invalid > 0 {
        exit::INVALID_INPUT
    } else if unsupported > 0 {
        exit::OBJECTIVE_MISSED
    } else {
        exit::SUCCESS
    }
}
