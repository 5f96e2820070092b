//! The drill runner: scenarios (some at once with `--parallel`), their
//! repeats one after the other, each repeat in its own task with its own
//! cleanup registry, and the report tree built as they finish.
//!
//! Interruption (Ctrl-C) cancels the [`CancellationToken`]: running repeats
//! are stopped where they are, everything they created is deleted (unless
//! retained), their partial timelines go into the report marked `aborted`,
//! and scenarios not started yet are left out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::context::Context;
use super::preflight;
use super::repeat;
use super::timeline::{Events, Timeline};
use crate::clock::Clock;
use crate::cluster::cleanup::{Cleanup, Held};
use crate::report::events::Event;
use crate::report::stats;
use crate::report::tree::{
    Objective, REPORT_FORMAT, RepeatReport, RunReport, ScenarioReport, StateDiff, Status, TimeBase,
};
use crate::scenario::model::{Provider, Scenario};
use crate::sim::workloads::images::Contents;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run id (part of cluster names).
    pub run_id: String,
    /// Overrides every scenario's `repeat`.
    pub repeat: Option<u32>,
    /// Overrides every scenario's seed.
    pub seed: Option<u64>,
    /// Keep clusters and repositories instead of deleting them.
    pub retain: bool,
    /// Scenarios run at once (≥ 1).
    pub parallel: usize,
    /// Where run files go (a `gameday-<run id>` folder is made inside).
    pub work_dir: PathBuf,
    /// The user confirmed destructive faults on clusters gameday does not
    /// own (`--yes`, or the prompt on a terminal); without it the
    /// `existing` provider refuses every fault.
    pub confirmed: bool,
}

impl RunOptions {
    /// Defaults: a fresh run id, one scenario at a time, the system temp dir.
    pub fn new() -> RunOptions {
        RunOptions {
            run_id: new_run_id(),
            repeat: None,
            seed: None,
            retain: false,
            parallel: 1,
            work_dir: std::env::temp_dir(),
            confirmed: false,
        }
    }

    /// This run's folder.
    pub fn run_dir(&self) -> PathBuf {
        crate::cluster::gc::run_dir(&self.work_dir, &self.run_id)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions::new()
    }
}

/// A short run id: 6 lower-case hex digits, unique enough for cluster names.
pub fn new_run_id() -> String {
    let n: u32 = rand::random();
    format!("{:06x}", n & 0xff_ffff)
}

/// Runs scenarios and builds the report.
#[derive(Debug, Clone)]
pub struct Runner {
    options: RunOptions,
    events: Events,
    cancel: CancellationToken,
    /// What `--retain` keeps serving in this process (simulated clusters,
    /// their Git servers), for the caller to release.
    held: Arc<std::sync::Mutex<Held>>,
}

impl Runner {
    /// A runner sending events to `events`, stopped by `cancel`.
    pub fn new(options: RunOptions, events: Events, cancel: CancellationToken) -> Runner {
        Runner {
            options,
            events,
            cancel,
            held: Arc::default(),
        }
    }

    /// What the run retained that lives in this process (simulated
    /// clusters and the Git servers they fetch from, with `--retain`):
    /// serving until the caller releases it ([`Held::release`]), which
    /// `gameday run` does on Ctrl-C. Empty without `--retain`.
    pub fn take_held(&self) -> Held {
        std::mem::take(&mut *self.held.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Runs every scenario; the report is complete even when interrupted
    /// (then its status is `aborted`).
    pub async fn run(&self, scenarios: Vec<Scenario>) -> RunReport {
        let started = jiff::Timestamp::now();
        let wall = Instant::now();
        self.events.send(Event::RunStarted {
            run_id: self.options.run_id.clone(),
            scenarios: scenarios.len(),
            parallel: self.options.parallel.max(1),
        });
        let run_dir = self.options.run_dir();
        // Held for the whole run: `gameday gc` leaves this run's folder and
        // clusters alone while it lasts.
        let lock = match crate::cluster::gc::lock_run_dir(&run_dir) {
            Ok(lock) => Some(lock),
            Err(e) => {
                tracing::warn!(dir = %run_dir.display(), error = %e, "could not lock the run folder; `gameday gc` may take it for a leftover");
                None
            }
        };
        let results: Vec<Option<ScenarioReport>> =
            futures::stream::iter(scenarios.into_iter().map(|s| {
                let this = self.clone();
                let run_dir = run_dir.clone();
                async move {
                    if this.cancel.is_cancelled() {
                        return None;
                    }
                    Some(this.scenario(s, &run_dir).await)
                }
            }))
            .buffered(self.options.parallel.max(1))
            .collect()
            .await;
        let scenarios: Vec<ScenarioReport> = results.into_iter().flatten().collect();
        // The run folder is empty unless something was retained.
        let _ = std::fs::remove_dir(&run_dir);
        {
            // Held resources live in the run folder: it stays locked (safe
            // from `gameday gc`) until they are released.
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            if !held.is_empty()
                && let Some(lock) = lock
            {
                held.keep_with(Box::new(lock), run_dir.clone());
            }
        }
        let mut status = stats::run_status(&scenarios);
        if self.cancel.is_cancelled() {
            status = Status::Aborted;
        }
        let report = RunReport {
            format: REPORT_FORMAT.to_owned(),
            run_id: self.options.run_id.clone(),
            gameday_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: started.to_string(),
            wall_ms: u64::try_from(wall.elapsed().as_millis()).unwrap_or(u64::MAX),
            status,
            scenarios,
            partition: None,
        };
        self.events.send(Event::RunFinished {
            report: Box::new(report.clone()),
        });
        report
    }

    async fn scenario(&self, s: Scenario, run_dir: &std::path::Path) -> ScenarioReport {
        let repeats = self.options.repeat.unwrap_or(s.repeat).max(1);
        self.events.send(Event::ScenarioStarted {
            scenario: s.name.clone(),
            repeats,
        });
        let (unsupported, images) = match s.cluster.provider {
            Provider::Sim => self.preflight(&s, run_dir).await,
            _ => (None, Vec::new()),
        };
        let s = Arc::new(s);
        let mut reports = Vec::new();
        for index in 1..=repeats {
            if self.cancel.is_cancelled() {
                break;
            }
            let registry = Contents::with_images(s.cluster.sim.images.iter().chain(&images));
            let report = self
                .repeat(s.clone(), index, run_dir, unsupported.clone(), registry)
                .await;
            self.events.send(Event::RepeatFinished {
                scenario: s.name.clone(),
                report: Box::new(report.clone()),
            });
            reports.push(report);
        }
        let objective = objective(&s);
        let verdict = stats::scenario_verdict(&objective, &reports);
        let status = stats::scenario_status(&reports, &verdict);
        let report = ScenarioReport {
            name: s.name.clone(),
            file: s.file.display().to_string(),
            description: s.description.clone(),
            provider: provider_name(s.cluster.provider).to_owned(),
            time_base: time_base(s.cluster.provider),
            disaster: s.disaster.iter().map(|f| f.name().to_owned()).collect(),
            recovery: s.recovery.method.name().to_owned(),
            objective,
            stats: stats::scenario_stats(&reports),
            repeats: reports,
            verdict,
            status,
            baseline: None,
        };
        self.events.send(Event::ScenarioFinished {
            report: Box::new(report.clone()),
        });
        report
    }

    /// The simulator's preflight ([`preflight`]): the verdict's message
    /// when the source uses what the simulator does not emulate, and the
    /// images the source references. A source that cannot be scanned is
    /// left to the drill, whose preparation reports it.
    async fn preflight(
        &self,
        s: &Scenario,
        run_dir: &std::path::Path,
    ) -> (Option<String>, Vec<String>) {
        let scratch = run_dir.join(format!("{}-preflight", s.name));
        let result = preflight::scenario(s, &scratch).await;
        let _ = std::fs::remove_dir_all(&scratch);
        match result {
            Ok(p) => (p.unsupported(), p.images),
            Err(e) => {
                tracing::debug!(scenario = %s.name, error = %crate::error_chain::one_line(&e), "preflight skipped");
                (None, Vec::new())
            }
        }
    }

    /// One repeat, pulling from `registry`; `unsupported` (the
    /// preflight's findings) reports it without starting anything.
    async fn repeat(
        &self,
        s: Arc<Scenario>,
        index: u32,
        run_dir: &std::path::Path,
        unsupported: Option<String>,
        registry: Contents,
    ) -> RepeatReport {
        let base_seed = self.options.seed.unwrap_or(s.cluster.sim.seed);
        // Repeats differ in seed (so percentiles mean something); the
        // same base seed always gives the same sequence.
        let seed = base_seed.wrapping_add(u64::from(index) - 1);
        let clock = match s.cluster.provider {
            Provider::Sim => Clock::simulated(start_of_repeat()),
            _ => Clock::wall(),
        };
        let timeline = Timeline::new(&s.name, index, clock.clone(), self.events.clone());
        self.events.send(Event::RepeatStarted {
            scenario: s.name.clone(),
            repeat: index,
            clock: clock.clone(),
        });
        let cleanup = Cleanup::default();
        let dir = run_dir.join(format!("{}-{index}", s.name));
        let cx = Context {
            scenario: s.clone(),
            timeline: timeline.clone(),
            provider: crate::cluster::Context {
                run_id: self.options.run_id.clone(),
                dir: dir.clone(),
                clock: clock.clone(),
                seed,
                cleanup: cleanup.clone(),
                confirmed: self.options.confirmed,
                tools: crate::process::Tools::default(),
                images: registry,
            },
        };
        let wall = Instant::now();
        let outcome = match unsupported {
            Some(text) => repeat::Outcome::errored(Status::Unsupported, text),
            None => self.drill(cx, clock).await,
        };
        if timeline.is_open() {
            timeline.fail(
                outcome.status,
                outcome.error.as_deref().unwrap_or("stopped"),
            );
        }
        // Delete (or keep) everything the repeat created, on every path.
        if self.clean_up(&s.name, index, &cleanup).await {
            // Something was kept: the folder holds it.
            let _ = std::fs::remove_dir(&dir);
        } else if let Err(e) = crate::cluster::cleanup::remove_folder(&dir).await {
            // Everything in it is this repeat's, and every child is gone
            // or going: what a late writer added goes too.
            tracing::warn!(dir = %dir.display(), error = %e, "could not remove the repeat's folder");
        }
        let phases = timeline.phases();
        let objective = objective(&s);
        let recovery_ms = outcome.recovery_ms;
        let diff = outcome.diff.clone().unwrap_or_default();
        let mut verdict = stats::repeat_verdict(&objective, &phases, recovery_ms, &diff);
        let status = match outcome.status {
            Status::Passed if !verdict.passed => Status::Failed,
            other => other,
        };
        if let Some(e) = &outcome.error
            && status == Status::Failed
            && !verdict.failures.iter().any(|f| f == e)
        {
            verdict.failures.push(e.clone());
            verdict.passed = false;
        }
        RepeatReport {
            index,
            seed,
            status,
            phases,
            recovery_ms,
            verdict,
            diff: outcome.diff.unwrap_or_else(StateDiff::default),
            reasons: if outcome.error.is_some() {
                outcome.reasons
            } else {
                Vec::new()
            },
            coverage: timeline.coverage(),
            error: outcome.error,
            wall_ms: u64::try_from(wall.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Runs the repeat's pipeline on its clock, until it ends or the run
    /// is interrupted.
    async fn drill(&self, cx: Context, clock: Clock) -> repeat::Outcome {
        // The repeat acts on its clock: simulated time passes only while
        // it waits for the cluster.
        let task = tokio::spawn(async move { clock.act(repeat::run(cx)).await });
        let abort = task.abort_handle();
        tokio::select! {
            joined = task => match joined {
                Ok(outcome) => outcome,
                Err(e) if e.is_panic() => repeat::Outcome::errored(Status::Error, format!("the drill panicked: {}", panic_text(e))),
                Err(_) => repeat::Outcome::errored(Status::Aborted, "interrupted".to_owned()),
            },
            () = self.cancel.cancelled() => {
                abort.abort();
                repeat::Outcome::errored(Status::Aborted, "interrupted (Ctrl-C)".to_owned())
            }
        }
    }

    /// Runs the repeat's cleanup registry and says what it kept or could
    /// not delete; true when something was (its folder must then stay).
    async fn clean_up(&self, scenario: &str, index: u32, cleanup: &Cleanup) -> bool {
        let cleaned = cleanup.run(self.options.retain).await;
        let kept =
            !(cleaned.held.is_empty() && cleaned.retained.is_empty() && cleaned.failed.is_empty());
        if !cleaned.held.is_empty() {
            let reach = cleaned.held.reach();
            self.events.send(Event::Notice {
                scenario: Some(scenario.to_owned()),
                text: format!(
                    "{scenario} #{index}: retained (--retain), serving until gameday exits (Ctrl-C):\n  {}",
                    reach.join("\n  ")
                ),
            });
            self.held
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(cleaned.held);
        }
        if !cleaned.retained.is_empty() {
            self.events.send(Event::Notice {
                scenario: Some(scenario.to_owned()),
                text: format!(
                    "{scenario} #{index}: retained (--retain); delete them yourself when done:\n  {}",
                    cleaned.retained.join("\n  ")
                ),
            });
        }
        if !cleaned.failed.is_empty() {
            self.events.send(Event::Notice {
                scenario: Some(scenario.to_owned()),
                text: format!(
                    "{scenario} #{index}: could not delete:\n  {}",
                    cleaned.failed.join("\n  ")
                ),
            });
        }
        kept
    }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Simulated repeats start at the current wall time (whole seconds), so
/// object timestamps look familiar; durations do not depend on it.
fn start_of_repeat() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The scenario's objective in report form.
pub fn objective(s: &Scenario) -> Objective {
    Objective {
        total_ms: ms(s.rto.total),
        phases_ms: s
            .rto
            .phases
            .iter()
            .map(|(p, d)| (p.name().to_owned(), ms(*d)))
            .collect(),
        quantile: s.rto.quantile.name().to_owned(),
    }
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Provider name as in files.
pub fn provider_name(p: Provider) -> &'static str {
    p.name()
}

fn time_base(p: Provider) -> TimeBase {
    match p {
        Provider::Sim => TimeBase::Simulated,
        _ => TimeBase::Wall,
    }
}
