//! `gameday sim serve`: run a simulated cluster for kubectl and friends.

use std::path::PathBuf;

use gameday::clock::Clock;
use gameday::exit;
use gameday::sim::profile::Profile;
use gameday::sim::{SimOptions, serve};

use super::render;

/// Arguments of `gameday sim`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SimCommand {
    /// Serve a simulated Kubernetes cluster until Ctrl-C (SIGINT) or SIGTERM.
    ///
    /// Prints `ready: kubeconfig written to PATH` once it accepts requests;
    /// point kubectl at that file. The file is removed on exit.
    Serve(ServeArgs),
}

/// Arguments of `gameday sim serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Cluster name (kubeconfig context `sim-<name>`).
    #[arg(long, default_value = "gameday")]
    name: String,
    /// Latency profile of the simulated controllers (instant, kind, eks).
    #[arg(long, default_value = "kind", value_parser = parse_profile)]
    profile: String,
    /// Number of nodes: one control plane, the rest workers.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// How many times faster than wall time the cluster's clock runs
    /// (1 = realistic timings).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,
    /// Seed of every random choice (same seed, same simulated durations).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the kubeconfig (mode 0600) [default: ./sim-<name>.kubeconfig].
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Port on 127.0.0.1 [default: random].
    #[arg(long)]
    port: Option<u16>,
    /// Plain HTTP without authentication (debugging only).
    #[arg(long)]
    insecure: bool,
}

fn parse_profile(s: &str) -> Result<String, String> {
    Profile::named(s).map(|p| p.name).ok_or_else(|| {
        format!(
            "unknown profile {s:?}; choose one of: {}",
            Profile::NAMES.join(", ")
        )
    })
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

pub fn run(args: &Args) -> u8 {
    match &args.command {
        SimCommand::Serve(a) => serve_cmd(a),
    }
}

fn serve_cmd(a: &ServeArgs) -> u8 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprint!("{}", render::error_chain(&e));
            return exit::INFRASTRUCTURE;
        }
    };
    let kubeconfig = a
        .kubeconfig
        .clone()
        .unwrap_or_else(|| serve::default_kubeconfig(&a.name));
    let options = SimOptions {
        tls: !a.insecure,
        port: a.port,
        // Validated by clap: the name is known.
        profile: Profile::named(&a.profile).unwrap_or_else(Profile::kind),
        nodes: a.nodes,
        seed: a.seed,
        ..SimOptions::new(&a.name, Clock::scaled(a.speed))
    };
    let result = runtime.block_on(serve::serve(options, &kubeconfig, |path| {
        println!("ready: kubeconfig written to {}", path.display());
    }));
    match result {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprint!("{}", render::error_chain(&e));
            exit::INFRASTRUCTURE
        }
    }
}
