//! `gameday sim serve`: run a simulated cluster for kubectl and friends.

use std::path::PathBuf;

use gameday::clock::Clock;
use gameday::exit;
use gameday::gitops::mirror::{Mirror, Mirrors};
use gameday::scenario::model::{BootstrapMethod, SecretSource};
use gameday::sim::Profile;
use gameday::sim::SimOptions;
use gameday::sim::apiserver::{control, serve};
use gameday::sim::from_source::{self, FromSource};

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
    /// Prints `ready: kubeconfig written to PATH` once it accepts requests
    /// (with `--source`: once every Kustomization is Ready, or the direct
    /// apply succeeded; exit 1 naming what did not); point kubectl at that
    /// file. The file is removed on exit. An existing file is refused
    /// unless `--force` (then it is backed up to `FILE.gameday-backup` and
    /// put back on exit); a file changed since gameday wrote it is never
    /// removed.
    Serve(Box<ServeArgs>),
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
    /// Replace an existing kubeconfig file until exit: it is copied to
    /// `FILE.gameday-backup` first and put back when gameday exits.
    #[arg(long)]
    force: bool,
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
    /// Serve `URL` (and everything under it) from the folder `PATH` to the
    /// emulated source-controller: for an HTTP(S) Helm repository, its
    /// `index.yaml` and chart archives (a folder without `index.yaml` is
    /// indexed); for an `oci://` registry, one folder per repository with
    /// one subfolder per tag (served from a registry of gameday's on
    /// 127.0.0.1). Objects keep their real URLs. Needs `--flux` or
    /// `--source`; repeatable.
    #[arg(long, value_name = "URL=PATH", value_parser = Mirror::parse_flag)]
    mirror: Vec<Mirror>,
    /// Bootstrap the cluster from this repository: a folder (one that is
    /// not a Git repository is committed into a scratch one, as a
    /// scenario's `fixture:`) or a clone URL. Needs `--path`.
    #[arg(long, value_name = "DIR|URL", requires = "path")]
    source: Option<String>,
    /// The path in the source to reconcile, e.g. `clusters/staging`.
    #[arg(long, value_name = "P", requires = "source")]
    path: Option<String>,
    /// How to bootstrap from the source: `flux` (install the emulated Flux
    /// and point it at the source, as `flux bootstrap` does) or `direct`
    /// (gameday applies the path itself).
    #[arg(long, value_name = "METHOD", default_value = "flux", value_parser = ["flux", "direct"], requires = "source")]
    method: String,
    /// The branch of the source to follow.
    #[arg(long, value_name = "B", default_value = "main", requires = "source")]
    branch: String,
    /// A Secret created before the first reconciliation (decryption keys,
    /// tokens), its data key the file's name; repeatable.
    #[arg(long, value_name = "NAMESPACE/NAME=FILE", value_parser = from_source::parse_secret, requires = "source")]
    secret: Vec<SecretSource>,
    /// How long the bootstrap may take until everything is Ready, on the
    /// cluster's clock (`--speed` times faster than wall time).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration, requires = "source")]
    timeout: std::time::Duration,
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
    let from = a.source.as_ref().map(|location| FromSource {
        location: location.clone(),
        path: a.path.clone().unwrap_or_default(),
        branch: Some(a.branch.clone()),
        method: if a.method == "direct" {
            BootstrapMethod::Direct(Default::default())
        } else {
            BootstrapMethod::Flux(Default::default())
        },
        secrets: a.secret.clone(),
        timeout: a.timeout,
    });
    let mirrors = Mirrors::new(a.mirror.clone());
    if !mirrors.is_empty() && !a.flux && from.is_none() {
        eprintln!(
            "error: --mirror needs --flux or --source (mirrors serve the emulated Flux's source-controller)"
        );
        return exit::INVALID_INPUT;
    }
    let serving = serve::Serving {
        kubeconfig: &kubeconfig,
        force: a.force,
        control: a.control.as_deref(),
        flux: a.flux,
        source: from.as_ref(),
        mirrors: &mirrors,
    };
    let result = runtime.block_on(serve::serve(options, serving, |ready| {
        match ready.bootstrapped {
            Some(what) => println!(
                "ready: kubeconfig written to {}; {what}",
                ready.kubeconfig.display()
            ),
            None => println!(
                "ready: kubeconfig written to {}",
                ready.kubeconfig.display()
            ),
        }
    }));
    match result {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprint!("{}", render::error_chain(&e));
            match &e {
                gameday::sim::Error::FromSource(f) if f.is_not_ready() => exit::OBJECTIVE_MISSED,
                gameday::sim::Error::FromSource(f) if f.is_bad_source() => exit::INVALID_INPUT,
                gameday::sim::Error::KubeconfigExists { .. }
                | gameday::sim::Error::KubeconfigFolder { .. } => exit::INVALID_INPUT,
                _ => exit::INFRASTRUCTURE,
            }
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
