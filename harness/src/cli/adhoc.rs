//! `gameday run --fault F`: one drill from flags, no file. It is built
//! as `gameday init` writes a drill — the same planner, the same file
//! text — and loaded like a file, so an ad-hoc drill and its
//! `--print-scenario` file are one model.
//!
//! Also here: the lint's errors for the drills' sources, shown before a
//! run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use gameday::init::origin::{Checkout, Origin};
use gameday::init::{layout, plan, write};
use gameday::lint::{self, Restored};
use gameday::scenario::duration::HumanDuration;
use gameday::scenario::file::RecoveryMethodName;
use gameday::scenario::model::SourceLocation;
use gameday::{exit, scenario};

/// The ad-hoc drill's flags.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Ad-hoc drill (without a scenario file)")]
pub struct AdhocArgs {
    /// The fault of an ad-hoc drill: cluster-loss, namespace-loss,
    /// controller-loss, bad-commit, resource-loss, node-loss, api-outage.
    #[arg(long, value_name = "FAULT")]
    pub fault: Option<String>,
    /// The repository of the ad-hoc drill: a folder, a Git URL or an OCI
    /// artifact (`oci://<registry>/<repository>[:<tag>]`).
    #[arg(long, value_name = "DIR|URL", requires = "fault")]
    pub source: Option<String>,
    /// The path Flux syncs. Default: recognised from the layout.
    #[arg(long, value_name = "PATH", requires = "fault")]
    pub path: Option<String>,
    /// The recovery: rebuild, reconcile, git-revert. Default: the fault's usual one.
    #[arg(long, value_name = "METHOD", requires = "fault", value_parser = parse_method)]
    pub method: Option<RecoveryMethodName>,
    /// The RTO (total). Default: a first guess from the source's intervals.
    #[arg(long, value_name = "DURATION", requires = "fault")]
    pub rto: Option<HumanDuration>,
    /// With namespace-loss: the namespace. Default: the one with the most workloads.
    #[arg(long, value_name = "NAMESPACE", requires = "fault")]
    pub namespace: Option<String>,
    /// Print the equivalent scenario file and exit, instead of running it.
    #[arg(long, requires = "fault")]
    pub print_scenario: bool,
    /// Read `URL` (and everything under it) from the folder `PATH`, as a
    /// scenario's `spec.mirrors` does (an `oci://` --source is pulled
    /// through it). Repeatable.
    #[arg(long, value_name = "URL=PATH", requires = "fault", value_parser = gameday::gitops::mirror::Mirror::parse_flag)]
    pub mirror: Vec<gameday::gitops::mirror::Mirror>,
}

fn parse_method(s: &str) -> Result<RecoveryMethodName, String> {
    match s {
        "rebuild" => Ok(RecoveryMethodName::Rebuild),
        "reconcile" => Ok(RecoveryMethodName::Reconcile),
        "git-revert" => Ok(RecoveryMethodName::GitRevert),
        "manual" => Ok(RecoveryMethodName::Manual),
        _ => Err(format!(
            "unknown method {s:?}; choose one of: rebuild, reconcile, git-revert, manual"
        )),
    }
}

/// What the flags produced.
#[derive(Debug)]
pub enum Adhoc {
    /// The scenario file was printed (`--print-scenario`).
    Printed,
    /// The drill to run.
    Scenario(Box<scenario::Scenario>),
}

/// The ad-hoc drill: planned from the source, written as a file would
/// be (relative paths from the current folder) and loaded from that text.
///
/// # Errors
/// The exit code, the reason already printed.
pub async fn scenario(args: &AdhocArgs) -> Result<Adhoc, u8> {
    let fault = args.fault.as_deref().unwrap_or_default();
    let source = args.source.as_deref().unwrap_or(".");
    let origin = Origin::parse(source).map_err(|e| {
        eprintln!("error: {e}");
        exit::INVALID_INPUT
    })?;
    let mirrors = gameday::gitops::mirror::Mirrors::new(args.mirror.clone());
    let checkout = Checkout::open(&origin, &mirrors)
        .await
        .map_err(|e| super::fail(&e, exit::INFRASTRUCTURE))?;
    let detected = layout::detect(checkout.root());
    let path = args.path.clone().unwrap_or_else(|| detected.path.clone());
    if !checkout.root().join(&path).is_dir() {
        eprintln!("error: --path {path}: no such folder in {source}");
        return Err(exit::INVALID_INPUT);
    }
    let (_, survey) = gameday::init::survey(checkout.root(), &path).await;
    let mut drill =
        plan::drill(fault, args.method, args.namespace.as_deref(), &survey).map_err(|e| {
            eprintln!("error: --fault {e}");
            exit::INVALID_INPUT
        })?;
    if matches!(origin, Origin::Oci { .. }) && write::commits(&drill.fault) {
        eprintln!("error: --fault bad-commit: {}", super::init::NO_GIT_HISTORY);
        return Err(exit::INVALID_INPUT);
    }
    if let Some(rto) = args.rto {
        drill.rto.total = rto.0;
        drill.rto.note = format!("Set with --rto {rto}.");
    }
    let cwd = std::env::current_dir().map_err(|e| super::fail(&e, exit::INFRASTRUCTURE))?;
    let common = super::init::common(&origin, &path, &detected, &cwd, &survey, &mirrors);
    let text = write::scenario(&common, &drill);
    if args.print_scenario {
        print!("{text}");
        return Ok(Adhoc::Printed);
    }
    let file: PathBuf = cwd.join(write::file_name(&drill));
    scenario::load_one_str(&text, &file)
        .map(|s| Adhoc::Scenario(Box::new(s)))
        .map_err(|d| {
            eprintln!("{d}");
            exit::INVALID_INPUT
        })
}

/// The lint's errors for each distinct source of `scenarios` (folders
/// only: a URL would be cloned once more just for this), with the
/// Secrets each restores counted as restored.
pub async fn lint_errors(scenarios: &[scenario::Scenario]) -> String {
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    for s in scenarios {
        let SourceLocation::Fixture(dir) = &s.source.location else {
            continue;
        };
        let restored: BTreeSet<Restored> = s
            .bootstrap
            .secrets
            .iter()
            .map(|k| Restored {
                namespace: k.namespace.clone(),
                name: k.name.clone(),
            })
            .collect();
        if !seen.insert((dir.clone(), s.source.path.clone(), restored.clone())) {
            continue;
        }
        let input = lint::Input {
            root: dir,
            path: &s.source.path,
            restored,
        };
        let report = lint::lint(&input, &Default::default()).await;
        let errors = super::lint::errors(&report, 10);
        if !errors.is_empty() {
            out.push_str(&format!(
                "{} ({}): `gameday lint` finds what Git will not bring back:\n{errors}",
                dir.display(),
                s.source.path
            ));
        }
    }
    out
}
