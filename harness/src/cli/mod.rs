//! Argument parsing and dispatch. Each subcommand has its own file holding
//! its arguments and its rendering.

// The binary is where output is rendered; the library never prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod adhoc;
mod ci;
mod compare;
mod completions;
mod doctor;
mod gc;
mod init;
mod lint;
mod list;
mod man;
mod reference;
mod render;
mod report;
mod run;
mod schema;
mod sim;
mod synth;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Disaster-recovery drills for GitOps-managed Kubernetes.
///
/// gameday creates a throwaway cluster, bootstraps it from Git, breaks it on
/// purpose, recovers it the GitOps way and measures every phase of the
/// recovery against the RTO budgets of a scenario file.
#[derive(Debug, Parser)]
#[command(
    name = "gameday",
    version = env!("GAMEDAY_VERSION_LINE"),
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit codes: 0 success, 1 an objective missed, 2 invalid input, 3 infrastructure error, 130 interrupted.\nScenario format reference: `gameday reference` (scenarios/README.md in the repository)."
)]
struct Cli {
    /// More logs on stderr (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a first catalogue of drills for a repository.
    ///
    /// Recognises the layout (Flux `clusters/<name>/`, Kustomize overlays,
    /// plain folders) and writes cluster-loss, namespace-loss (the largest
    /// workload namespaces), controller-loss, bad-commit and resource-loss
    /// scenarios, each saying why it exists. Never overwrites without --force.
    Init(init::Args),
    /// Run drills: break clusters on purpose and time their recovery.
    ///
    /// From scenario files, or one ad-hoc drill from flags (--source,
    /// --path, --fault).
    Run(Box<run::Args>),
    /// Read a repository for what Git will not bring back after a disaster.
    ///
    /// Static recoverability findings with file, line, severity, why and
    /// the fix, as text, JSON or SARIF; exit 1 when any is an error.
    Lint(lint::Args),
    /// Merge the reports of a run's partitions (CI runners) into one.
    Report(report::Args),
    /// Compare a run's RTO figures with a baseline's; exit 1 on a regression.
    ///
    /// Per scenario and recovery phase (and the total), the figure the
    /// verdict judges (the objective's quantile over repeats), base → new.
    /// Simulated times are compared only with simulated ones, wall with wall.
    Compare(compare::Args),
    /// Check scenario files and report every problem.
    Validate(validate::Args),
    /// List scenarios: name, provider, disaster, recovery, RTO.
    List(list::Args),
    /// Print the JSON Schema of the scenario file format.
    Schema(schema::Args),
    /// The embedded Kubernetes API simulator.
    Sim(sim::Args),
    /// Write a synthetic Flux repository of N objects and its cluster-loss drill.
    ///
    /// `DIR/repo/`: Namespaces, K Flux Kustomizations and the objects
    /// (ConfigMaps, Secrets, Services, Deployments in the --mix weights);
    /// `DIR/scenario.yaml`: the whole cluster lost and rebuilt from it on the
    /// simulator. `gameday run DIR/scenario.yaml` reproduces the README's
    /// scale figures, or load-tests your own pipeline.
    Synth(synth::Args),
    /// Delete what gameday runs left behind (kind clusters, run folders).
    ///
    /// Deletes `gameday-*` kind clusters that carry gameday's ownership
    /// marker (refusing, and saying so, those without it) and
    /// `gameday-<run id>` folders in the temp dir ($TMPDIR), except those of
    /// runs still going. Nothing else is touched.
    Gc(gc::Args),
    /// Check the tools the given scenarios need: version, path, how to install.
    ///
    /// For each scenario (the catalogue in `scenarios/` when none is
    /// given): the programs its provider, bootstrap, faults and source need
    /// (git, kubectl, kind and Docker or Podman, terraform, flux, sops…),
    /// each with the version found and where, or how to install it. Exit 0
    /// when every scenario can run, 1 when a tool is missing.
    Doctor(doctor::Args),
    /// Print the scenario format reference (Markdown).
    Reference(reference::Args),
    /// Print the shell completion script for bash, zsh, fish, PowerShell or Elvish.
    Completions(completions::Args),
    /// Print a man page, or write them all (`--out DIR`).
    Man(man::Args),
}

/// Parses the command line, runs the subcommand and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version exit 0; usage errors exit 2 (INVALID_INPUT).
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    let code = match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::List(args) => list::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Synth(args) => synth::run(&args),
        Command::Gc(args) => gc::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Reference(args) => reference::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    };
    ExitCode::from(code)
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,gameday=debug",
        _ => "debug,gameday=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose > 1)
        .try_init();
}

/// The default scenario location when no path is given.
fn default_paths(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    if paths.is_empty() {
        vec![std::path::PathBuf::from("scenarios")]
    } else {
        paths.to_vec()
    }
}

/// Exit code for an error that prevented the command from starting.
fn fail(err: &dyn std::error::Error, code: u8) -> u8 {
    eprint!("{}", render::error_chain(err));
    code
}
