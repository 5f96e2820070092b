//! `gameday doctor`: every tool the drills may drive, whether it is
//! installed (version, path) and which of the given scenarios need it; how
//! to install what is missing; exit 0 when every scenario can run.

use std::path::PathBuf;

use gameday::drill::requirements::probe::{self, Probe, Status};
use gameday::drill::requirements::{self, Need, Tool};
use gameday::process::Lookup;
use gameday::scenario::model::Provider;
use gameday::{exit, scenario};
use serde_json::json;

use super::render;

/// Arguments of `gameday doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched recursively for *.yaml). Default: scenarios/
    #[arg(value_name = "SCENARIO")]
    paths: Vec<PathBuf>,

    /// Check for this provider instead of each scenario's (as `run --provider`).
    #[arg(long, value_name = "PROVIDER", value_parser = super::run::parse_provider)]
    provider: Option<Provider>,

    /// Output: text (a table) or json.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

/// One scenario's needs, each with whether its tool is usable.
struct ScenarioNeeds {
    name: String,
    file: PathBuf,
    needs: Vec<Need>,
}

pub fn run(args: &Args) -> u8 {
    let files = match scenario::discover(&super::default_paths(&args.paths)) {
        Ok(files) => files,
        Err(e) => return super::fail(&e, exit::INVALID_INPUT),
    };
    let mut scenarios = Vec::new();
    let mut invalid = 0;
    for file in &files {
        let drills = match scenario::load(file) {
            Ok(drills) => drills,
            Err(d) => {
                invalid += 1;
                eprintln!("{d}");
                continue;
            }
        };
        for s in drills {
            let loaded = match args.provider {
                // As `run --provider`: a drill the provider cannot carry
                // out is left out.
                Some(p) => match scenario::capabilities::first_impossible(&s, p) {
                    Some(why) => {
                        eprintln!("skipped {}: {why}", file.display());
                        Ok(None)
                    }
                    None => scenario::with_provider(&s, p).map(Some),
                },
                None => Ok(Some(s)),
            };
            match loaded {
                Ok(Some(s)) => scenarios.push(s),
                Ok(None) => {}
                Err(d) => {
                    invalid += 1;
                    eprintln!("{d}");
                }
            }
        }
    }
    if invalid > 0 {
        eprintln!("error: {invalid} invalid scenario file(s); run `gameday validate` for details");
        return exit::INVALID_INPUT;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let (needs, probes) = runtime.block_on(async {
        let mut needs = Vec::new();
        for s in &scenarios {
            needs.push(ScenarioNeeds {
                name: s.name.clone(),
                file: s.file.clone(),
                needs: requirements::for_scenario(s).await,
            });
        }
        // The engine is always asked `info`: a client without its daemon
        // (docker installed, not running) is not a usable engine, and
        // "ok" next to it would mislead whoever plans a kind drill.
        let engine_must_answer = true;
        let lookup = Lookup::default();
        let mut probes = Vec::new();
        for tool in Tool::ALL {
            probes.push(probe::probe(tool, &lookup, engine_must_answer).await);
        }
        (needs, probes)
    });
    let usable = |t: Tool| probes.iter().any(|p| p.tool == t && p.status == Status::Ok);
    let ready = needs
        .iter()
        .filter(|s| s.needs.iter().all(|n| usable(n.tool)))
        .count();
    if args.format == "json" {
        print_json(&needs, &probes, &usable);
    } else {
        print_text(&needs, &probes, &usable);
    }
    if ready == needs.len() {
        exit::SUCCESS
    } else {
        exit::OBJECTIVE_MISSED
    }
}

fn needed_by(needs: &[ScenarioNeeds], tool: Tool) -> Vec<&ScenarioNeeds> {
    needs
        .iter()
        .filter(|s| s.needs.iter().any(|n| n.tool == tool))
        .collect()
}

fn status_word(p: &Probe) -> &'static str {
    match p.status {
        Status::Ok => "ok",
        Status::Missing => "missing",
        Status::Unusable => "unusable",
    }
}

fn print_text(needs: &[ScenarioNeeds], probes: &[Probe], usable: &dyn Fn(Tool) -> bool) {
    let rows: Vec<Vec<String>> = probes
        .iter()
        .map(|p| {
            let by = needed_by(needs, p.tool);
            vec![
                p.tool.name().to_owned(),
                status_word(p).to_owned(),
                p.version.clone().unwrap_or_else(|| "-".into()),
                p.path
                    .as_ref()
                    .map_or_else(|| "-".into(), |p| p.display().to_string()),
                if by.is_empty() {
                    "-".into()
                } else {
                    by.iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(&["TOOL", "STATUS", "VERSION", "PATH", "NEEDED BY"], &rows)
    );
    let blocking: Vec<&Probe> = probes
        .iter()
        .filter(|p| p.status != Status::Ok && !needed_by(needs, p.tool).is_empty())
        .collect();
    if !blocking.is_empty() {
        println!("\nTo install:");
        for p in blocking {
            let by = needed_by(needs, p.tool);
            let why = by
                .first()
                .and_then(|s| s.needs.iter().find(|n| n.tool == p.tool))
                .map(|n| n.why.as_str())
                .unwrap_or_default();
            println!("  {} ({}): {why}", p.tool, status_word(p));
            if let Some(d) = &p.detail {
                println!("    {d}");
            }
            println!("    install: {}", p.tool.install_hint());
        }
    }
    println!("\nScenarios:");
    let rows: Vec<Vec<String>> = needs
        .iter()
        .map(|s| {
            let missing: Vec<&str> = s
                .needs
                .iter()
                .filter(|n| !usable(n.tool))
                .map(|n| n.tool.name())
                .collect();
            vec![
                format!("  {}", s.name),
                if missing.is_empty() {
                    "ready".to_owned()
                } else {
                    format!("cannot run: needs {}", missing.join(", "))
                },
                s.file.display().to_string(),
            ]
        })
        .collect();
    let table = render::table(&["", "", ""], &rows);
    // No header line for this one.
    print!("{}", table.split_once('\n').map_or("", |(_, rest)| rest));
    let ready = needs
        .iter()
        .filter(|s| s.needs.iter().all(|n| usable(n.tool)))
        .count();
    println!("\n{ready} of {} scenario(s) can run.", needs.len());
}

fn print_json(needs: &[ScenarioNeeds], probes: &[Probe], usable: &dyn Fn(Tool) -> bool) {
    let tools: Vec<_> = probes
        .iter()
        .map(|p| {
            json!({
                "tool": p.tool,
                "status": p.status,
                "program": p.program,
                "path": p.path,
                "version": p.version,
                "detail": p.detail,
                "needed_by": needed_by(needs, p.tool).iter().map(|s| &s.name).collect::<Vec<_>>(),
                "install": (p.status != Status::Ok).then(|| p.tool.install_hint()),
            })
        })
        .collect();
    let scenarios: Vec<_> = needs
        .iter()
        .map(|s| {
            let missing: Vec<Tool> = s
                .needs
                .iter()
                .filter(|n| !usable(n.tool))
                .map(|n| n.tool)
                .collect();
            json!({
                "name": s.name,
                "file": s.file,
                "ready": missing.is_empty(),
                "needs": s.needs,
                "missing": missing,
            })
        })
        .collect();
    let ready = needs.iter().all(|s| s.needs.iter().all(|n| usable(n.tool)));
    let doc = json!({"ready": ready, "tools": tools, "scenarios": scenarios});
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
    );
}

/// Before a run: one warning per scenario that needs a program that is
/// not installed (from the scenario file alone, without reading its
/// source), pointing at `gameday doctor`. The drill still runs and fails
/// with the program's own error.
pub(super) fn warn_missing(scenarios: &[scenario::Scenario]) {
    let lookup = Lookup::default();
    for s in scenarios {
        let missing: Vec<&str> = requirements::from_scenario(s)
            .iter()
            .filter(|n| !probe::installed(n.tool, &lookup))
            .map(|n| n.tool.name())
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "warning: {} needs {}, not installed; `gameday doctor {}` says how to install it",
                s.name,
                missing.join(", "),
                s.file.display()
            );
        }
    }
}
