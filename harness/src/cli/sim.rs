//! `gameday sim serve`: run a simulated cluster for kubectl and friends.

use std::path::PathBuf;

use gameday::clock::Clock;
use gameday::exit;
use gameday::sim::Profile;
use gameday::sim::SimOptions;
use gameday::sim::apiserver::{control, serve};

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
    /// Send one fault command to a cluster served with `--control`.
    ///
    /// Commands: `node stop NAME`, `node start NAME`, `api stop`,
    /// `api start`, `nodes`, `help`. Prints the answer's data lines; exits
    /// 0 when the simulator answered `ok`, 3 otherwise.
    Control(ControlArgs),
    /// Print the Flux install manifests the simulator's Flux emulation
    /// understands (apply them to a cluster served with `--flux`, as
    /// `flux install` applies Flux's).
    FluxManifests,
}

/// Arguments of `gameday sim control`.
#[derive(Debug, clap::Args)]
pub struct ControlArgs {
    /// The control socket (`gameday sim serve --control PATH`).
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,
    /// How long to wait for the answer, e.g. `10s`.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: std::time::Duration,
    /// The command, e.g. `node stop gameday-worker2`.
    #[arg(required = true, num_args = 1.., value_name = "COMMAND")]
    command: Vec<String>,
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
    /// Also serve fault commands (node stop/start, api stop/start) on this
    /// unix socket; send them with `gameday sim control --socket PATH`.
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Emulate Flux: GitRepository and Kustomization objects are reconciled
    /// once the install manifests (`gameday sim flux-manifests`) are applied.
    #[arg(long)]
    flux: bool,
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
        SimCommand::Control(a) => control_cmd(a),
        SimCommand::FluxManifests => {
            print!("{}", gameday::flux::install::manifests_yaml());
            exit::SUCCESS
        }
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
    let serving = serve::Serving {
        kubeconfig: &kubeconfig,
        control: a.control.as_deref(),
        flux: a.flux,
    };
    let result = runtime.block_on(serve::serve(options, serving, |path| {
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

fn control_cmd(a: &ControlArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprint!("{}", render::error_chain(&e));
            return exit::INFRASTRUCTURE;
        }
    };
    let command = a.command.join(" ");
    match runtime.block_on(control::request(&a.socket, &command, a.timeout)) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            exit::SUCCESS
        }
        Err(e) => {
            eprint!("{}", render::error_chain(&e));
            exit::INFRASTRUCTURE
        }
    }
}
