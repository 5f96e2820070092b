//! `gameday run`: run drills, show them live, write the reports, pick the
//! exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gameday::cluster::cleanup::Held;
use gameday::cluster::providers::existing;
use gameday::drill::pushable;
use gameday::drill::runner::{RunOptions, Runner};
use gameday::drill::timeline::Events;
use gameday::report::compare;
use gameday::report::tree::{PartitionInfo, RunReport};
use gameday::report::{self};
use gameday::scenario::model::Provider;
use gameday::scenario::partition::Partition;
use gameday::{exit, scenario};
use tokio_util::sync::CancellationToken;

use super::{adhoc, ci, render};

/// Arguments of `gameday run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files or folders (searched recursively for *.yaml). Default: scenarios/
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    report: ci::ReportArgs,
    /// Run only partition K of N of the catalogue (by a stable hash of the
    /// scenario name, as nextest's hash:K/N), e.g. one per CI runner; merge
    /// the reports with `gameday report merge`.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// Compare the run with this earlier report (a report.json or its
    /// folder): the comparison goes into every report, and a phase slower
    /// than the tolerance exits 1.
    #[arg(long, value_name = "REPORT")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    tolerance: ci::ToleranceArgs,
    /// Run every scenario this many times (overrides `spec.repeat`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,
    /// Run every scenario on this provider (sim, kind, terraform, existing);
    /// scenarios whose faults it cannot inject are skipped.
    #[arg(long, value_name = "PROVIDER", value_parser = parse_provider)]
    provider: Option<Provider>,
    /// Seed of the simulated latencies (overrides `spec.cluster.sim.seed`).
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Keep clusters and repositories for inspection and print how to reach them.
    #[arg(long)]
    retain: bool,
    /// Go ahead with destructive faults on clusters gameday does not own
    /// (provider existing) without asking; needed where there is no terminal.
    #[arg(long)]
    yes: bool,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    parallel: u16,
    #[command(flatten)]
    adhoc: adhoc::AdhocArgs,
}

pub(super) fn parse_provider(s: &str) -> Result<Provider, String> {
    match s {
        "sim" => Ok(Provider::Sim),
        "kind" => Ok(Provider::Kind),
        "terraform" => Ok(Provider::Terraform),
        "existing" => Ok(Provider::Existing),
        _ => Err(format!(
            "unknown provider {s:?}; choose one of: sim, kind, terraform, existing"
        )),
    }
}

pub fn run(args: &Args) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let loaded: Vec<Result<scenario::Scenario, scenario::Diagnostics>> =
        if args.adhoc.fault.is_some() {
            if !args.paths.is_empty() {
                eprintln!(
                    "error: an ad-hoc drill (--fault) takes no scenario files; run them separately"
                );
                return exit::INVALID_INPUT;
            }
            match runtime.block_on(adhoc::scenario(&args.adhoc)) {
                Ok(adhoc::Adhoc::Printed) => return exit::SUCCESS,
                Ok(adhoc::Adhoc::Scenario(s)) => vec![Ok(*s)],
                Err(code) => return code,
            }
        } else {
            let files = match scenario::discover(&super::default_paths(&args.paths)) {
                Ok(files) => files,
                Err(e) => return super::fail(&e, exit::INVALID_INPUT),
            };
            // A file with `spec.disasters` declares several drills.
            files
                .iter()
                .flat_map(|f| match scenario::load(f) {
                    Ok(drills) => drills.into_iter().map(Ok).collect(),
                    Err(d) => vec![Err(d)],
                })
                .collect()
        };
    let mut scenarios: Vec<scenario::Scenario> = Vec::new();
    let mut invalid = 0;
    let mut skipped = 0;
    for loaded in loaded {
        let file = loaded
            .as_ref()
            .map_or_else(|d| d.file.clone(), |s| s.file.clone());
        let loaded = loaded.map(|s| match args.provider {
            // A drill the provider cannot carry out (infra-loss on kind) is
            // left out of a run on that provider, not an input error.
            Some(p) => match scenario::capabilities::first_impossible(&s, p) {
                Some(why) => {
                    skipped += 1;
                    eprintln!("skipped {}: {why}", file.display());
                    Ok(None)
                }
                None => scenario::with_provider(&s, p).map(Some),
            },
            None => Ok(Some(s)),
        });
        match loaded.and_then(|s| s) {
            Ok(Some(s)) => scenarios.push(s),
            Ok(None) => {}
            Err(d) => {
                invalid += 1;
                eprintln!("{d}");
            }
        }
    }
    for d in scenario::duplicate_names(&scenarios) {
        invalid += 1;
        eprintln!("error: {d}");
    }
    // A `url:` source the drill cannot push to is refused before any
    // cluster exists.
    for s in &scenarios {
        if let Err(d) = runtime.block_on(pushable::check(s)) {
            invalid += 1;
            eprintln!("{d}");
        }
    }
    if invalid > 0 {
        eprintln!("error: {invalid} invalid scenario file(s); nothing was run");
        return exit::INVALID_INPUT;
    }
    if scenarios.is_empty() && skipped > 0 {
        eprintln!("error: no scenario can run on the chosen provider; nothing was run");
        return exit::INVALID_INPUT;
    }
    // What Git will not bring back, said before the drills show it.
    eprint!("{}", runtime.block_on(adhoc::lint_errors(&scenarios)));
    let catalogue: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    if let Some(p) = args.partition {
        scenarios = p.select(scenarios, |s| s.name.as_str());
        eprintln!(
            "partition {p}: {} of the {} scenarios{}",
            scenarios.len(),
            catalogue.len(),
            if scenarios.is_empty() {
                " (nothing to run here)"
            } else {
                ""
            }
        );
    }
    let baseline = match args.baseline.as_deref().map(ci::read_report).transpose() {
        Ok(b) => b,
        Err(code) => return code,
    };
    if let Err(e) = report::check_writable(&args.report.out, &args.report.formats()) {
        eprint!("{}", render::error_chain(&e));
        eprintln!(
            "error: the reports cannot be written there; give another --out; nothing was run"
        );
        return exit::INVALID_INPUT;
    }
    super::doctor::warn_missing(&scenarios);
    let plan: Vec<String> = scenarios
        .iter()
        .flat_map(existing::destructive_plan)
        .collect();
    let confirmed = match confirm(&plan, args.yes) {
        Ok(confirmed) => confirmed,
        Err(code) => return code,
    };
    let partition = args.partition.map(|p| PartitionInfo {
        index: p.index(),
        total: p.total(),
        catalogue,
    });
    let Drove {
        mut report,
        held,
        cancel,
        serving,
    } = runtime.block_on(drive(args, scenarios, confirmed));
    report.partition = partition;
    if let Some(base) = &baseline {
        match compare::compare(base, &report, &args.tolerance.tolerance()) {
            Ok(c) => {
                compare::attach(&mut report, &c);
                eprint!("{}", ci::comparison_table(&c));
            }
            Err(e) => {
                // The drills ran: their reports are still written.
                let _ = args.report.write(&report);
                return super::fail(&e, exit::INVALID_INPUT);
            }
        }
    }
    let written = args.report.write(&report);
    let code = ci::finish(&report, written);
    if !held.is_empty() {
        serving.store(true, Ordering::SeqCst);
        runtime.block_on(serve_retained(held, &cancel));
    }
    code
}

/// What [`drive`] leaves: the report, what `--retain` keeps serving, and
/// the signal handling that stops it.
struct Drove {
    report: RunReport,
    held: Held,
    cancel: CancellationToken,
    serving: Arc<AtomicBool>,
}

/// Destructive faults on clusters gameday does not own go ahead with
/// `--yes`, or when the person at the terminal types `yes`; elsewhere
/// nothing runs (exit 2).
fn confirm(plan: &[String], yes: bool) -> Result<bool, u8> {
    use std::io::IsTerminal;
    if plan.is_empty() || yes {
        return Ok(yes);
    }
    eprintln!("These drills break things in clusters gameday did not create:");
    for line in plan {
        eprintln!("  - {line}");
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        eprintln!(
            "error: not on a terminal, so gameday cannot ask: pass --yes to go ahead; nothing was run"
        );
        return Err(exit::INVALID_INPUT);
    }
    eprint!("Type `yes` to go ahead: ");
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() || answer.trim() != "yes" {
        eprintln!("not confirmed; nothing was run");
        return Err(exit::INVALID_INPUT);
    }
    Ok(true)
}

async fn drive(args: &Args, scenarios: Vec<scenario::Scenario>, confirmed: bool) -> Drove {
    let cancel = CancellationToken::new();
    let serving = Arc::new(AtomicBool::new(false));
    tokio::spawn(watch_signals(cancel.clone(), serving.clone()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reporter = tokio::spawn(async move {
        let events =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
        report::terminal::LiveReporter::stderr().drive(events).await
    });
    let mut options = RunOptions::new();
    options.repeat = args.repeat;
    options.seed = args.seed;
    options.retain = args.retain;
    options.parallel = usize::from(args.parallel);
    options.confirmed = confirmed;
    let runner = Runner::new(options, Events::new(tx), cancel.clone());
    let report = runner.run(scenarios).await;
    let held = runner.take_held();
    drop(runner);
    let _ = reporter.await;
    Drove {
        report,
        held,
        cancel,
        serving,
    }
}

/// `--retain` on the simulator: the retained clusters (and the Git
/// servers they fetch from) live in this process, so it keeps serving
/// them, saying how to reach each, until Ctrl-C/SIGTERM; then deletes them.
async fn serve_retained(held: Held, cancel: &CancellationToken) {
    let reach = held.reach();
    // Nothing to reach (the drills stopped before a cluster existed):
    // nothing worth serving.
    if !cancel.is_cancelled() && !reach.is_empty() {
        println!(
            "retained simulated cluster(s), serving until Ctrl-C (SIGINT) or SIGTERM; in another terminal:"
        );
        for line in &reach {
            match line.split_once(": ") {
                Some((what, how)) => println!("  {how}    # {what}"),
                None => println!("  {line}"),
            }
        }
        cancel.cancelled().await;
    }
    let out = held.release().await;
    for failed in &out.failed {
        eprintln!("could not delete {failed}");
    }
    if !reach.is_empty() {
        eprintln!("stopped {} retained resource(s)", out.deleted.len());
    }
}

/// First SIGINT/SIGTERM (or SIGHUP: the terminal closed): stop the run,
/// clean up, write the partial report — or, once the run is over and
/// retained clusters are `serving`, stop them. A second one: leave at once
/// (cleanup skipped; `gameday gc` finds leftovers).
async fn watch_signals(cancel: CancellationToken, serving: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
    if serving.load(Ordering::SeqCst) {
        eprintln!("\nstopping the retained clusters (press Ctrl-C again to quit at once)");
    } else {
        eprintln!(
            "\ninterrupted: stopping the drills and cleaning up (press Ctrl-C again to quit at once)"
        );
    }
    cancel.cancel();
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
    eprintln!("interrupted again: quitting without cleanup; `gameday gc` removes what was left");
    tokio::time::sleep(Duration::from_millis(50)).await;
    std::process::exit(i32::from(exit::INTERRUPTED));
}
