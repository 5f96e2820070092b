//! The live view of a run, fed with the runner's [`Event`]s.
//!
//! On a terminal (indicatif): one spinner line per running phase showing its
//! elapsed time **on the repeat's cluster clock** against its budget
//! (`cluster-loss #1  converge  1m12s / 3m`), turning red with `OVER BUDGET`
//! once past it; finished phases become permanent lines; several scenarios
//! run side by side (`--parallel`) each get their own lines.
//!
//! Anywhere else (CI logs, a pipe): plain lines, one per event, each
//! prefixed with `<scenario> #<repeat>:` so interleaved parallel scenarios
//! stay readable, and nothing redrawn.
//!
//! The CLI drives it from a tokio task:
//! ```no_run
//! # async fn demo(rx: tokio::sync::mpsc::Receiver<gameday::report::events::Event>) {
//! use gameday::report::terminal::LiveReporter;
//! let task = tokio::spawn(LiveReporter::stderr().drive_channel(rx));
//! // … the runner sends events; dropping its sender ends the task …
//! let _reporter = task.await;
//! # }
//! ```

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::pin::pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

use super::Paint;
use super::lines::{bar_message, finished, fmt, repeat_finished, scenario_finished};
use crate::clock::Clock;
use crate::report::events::Event;
use crate::report::human::{self, plural};

/// How often running phases are redrawn (wall time; the view never holds
/// the virtual clock back).
pub const TICK: Duration = Duration::from_millis(100);

/// Consumes events and shows them; see the module docs.
pub struct LiveReporter {
    out: Output,
    clocks: HashMap<(String, u32), Clock>,
    running: HashMap<Key, Running>,
}

impl std::fmt::Debug for LiveReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveReporter")
            .field("bars", &matches!(self.out, Output::Bars(_)))
            .field("running", &self.running.len())
            .finish_non_exhaustive()
    }
}

enum Output {
    Bars(MultiProgress),
    Lines(Box<dyn Write + Send>),
}

type Key = (String, u32, String);

struct Running {
    started: Option<Timestamp>,
    budget: Option<Duration>,
    detail: String,
    bar: Option<ProgressBar>,
    over: bool,
}

impl LiveReporter {
    /// Progress lines on stderr when it is a terminal, plain lines on stderr
    /// otherwise.
    pub fn stderr() -> LiveReporter {
        if std::io::stderr().is_terminal() {
            LiveReporter::terminal(ProgressDrawTarget::stderr())
        } else {
            LiveReporter::lines(Box::new(std::io::stderr()))
        }
    }

    /// Redrawn progress lines on an indicatif target.
    pub fn terminal(target: ProgressDrawTarget) -> LiveReporter {
        LiveReporter {
            out: Output::Bars(MultiProgress::with_draw_target(target)),
            clocks: HashMap::new(),
            running: HashMap::new(),
        }
    }

    /// Plain lines, one per event, on any writer (CI logs, tests). Write
    /// errors are ignored: a closed log must not stop a drill.
    pub fn lines(writer: Box<dyn Write + Send>) -> LiveReporter {
        LiveReporter {
            out: Output::Lines(writer),
            clocks: HashMap::new(),
            running: HashMap::new(),
        }
    }

    fn paint(&self) -> Paint {
        Paint(matches!(self.out, Output::Bars(_)))
    }

    /// Reads events until the stream ends, redrawing running phases every
    /// [`TICK`]; returns the reporter (e.g. to inspect it in tests).
    pub async fn drive(mut self, events: impl Stream<Item = Event>) -> LiveReporter {
        let mut events = pin!(events);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(event) => self.handle(&event),
                    None => break,
                },
                _ = tick.tick() => self.tick(),
            }
        }
        self.clear();
        self
    }

    /// [`LiveReporter::drive`] over a tokio channel; ends when every sender
    /// is dropped.
    pub async fn drive_channel(self, rx: tokio::sync::mpsc::Receiver<Event>) -> LiveReporter {
        let events =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
        self.drive(events).await
    }

    /// Shows one event.
    pub fn handle(&mut self, event: &Event) {
        let paint = self.paint();
        match event {
            Event::RunStarted {
                run_id,
                scenarios,
                parallel,
            } => {
                let at_once = if *parallel > 1 {
                    format!(", {parallel} at a time")
                } else {
                    String::new()
                };
                self.println(&format!(
                    "gameday run {run_id}: {}{at_once}",
                    plural(*scenarios, "scenario")
                ));
            }
            Event::ScenarioStarted { scenario, repeats } => {
                self.println(&format!(
                    "{scenario}: started ({})",
                    plural(*repeats as usize, "repeat")
                ));
            }
            Event::RepeatStarted {
                scenario,
                repeat,
                clock,
            } => {
                let base = human::time_base(clock.time_base());
                self.clocks
                    .insert((scenario.clone(), *repeat), clock.clone());
                self.println(&format!("{scenario} #{repeat}: started ({base} time)"));
            }
            Event::PhaseStarted {
                scenario,
                repeat,
                phase,
                budget,
                ..
            } => {
                self.phase_started(scenario, *repeat, phase, *budget);
            }
            Event::PhaseProgress {
                scenario,
                repeat,
                phase,
                detail,
            } => {
                self.progress(scenario, *repeat, phase, detail);
            }
            Event::PhaseFinished {
                scenario,
                repeat,
                phase,
                status,
                duration,
                budget,
            } => {
                let key = (scenario.clone(), *repeat, phase.clone());
                if let Some(bar) = self.running.remove(&key).and_then(|r| r.bar) {
                    bar.finish_and_clear();
                }
                let text = finished(paint, phase, *status, *duration, *budget);
                self.println(&format!("{scenario} #{repeat}: {text}"));
            }
            Event::Operation {
                scenario,
                repeat,
                what,
            } => {
                self.println(&format!("{scenario} #{repeat}: {} {what}", paint.dim("·")));
            }
            Event::Notice { text, .. } => {
                for line in text.lines() {
                    self.println(line);
                }
            }
            Event::RepeatFinished { scenario, report } => {
                self.clocks.remove(&(scenario.clone(), report.index));
                let text = repeat_finished(paint, report);
                self.println(&format!("{scenario} #{}: {text}", report.index));
            }
            Event::ScenarioFinished { report } => {
                self.println(&scenario_finished(paint, report));
            }
            Event::RunFinished { report } => {
                self.clear();
                let headline = human::headline(report);
                self.println(&format!(
                    "gameday run {}: {} ({headline})",
                    report.run_id,
                    paint.status(report.status)
                ));
            }
        }
    }

    fn phase_started(
        &mut self,
        scenario: &str,
        repeat: u32,
        phase: &str,
        budget: Option<Duration>,
    ) {
        let started = self
            .clocks
            .get(&(scenario.to_owned(), repeat))
            .map(Clock::now);
        let bar = match &self.out {
            Output::Bars(multi) => {
                let bar = multi.add(ProgressBar::new_spinner().with_style(style(false)));
                bar.set_prefix(format!("{scenario} #{repeat}"));
                Some(bar)
            }
            Output::Lines(_) => None,
        };
        let key = (scenario.to_owned(), repeat, phase.to_owned());
        self.running.insert(
            key.clone(),
            Running {
                started,
                budget,
                detail: String::new(),
                bar,
                over: false,
            },
        );
        if matches!(self.out, Output::Lines(_)) {
            let budget = budget.map_or(String::new(), |b| format!(" (budget {})", fmt(b)));
            self.println(&format!("{scenario} #{repeat}: {phase} started{budget}"));
        }
        self.redraw(&key);
    }

    fn progress(&mut self, scenario: &str, repeat: u32, phase: &str, detail: &str) {
        let key = (scenario.to_owned(), repeat, phase.to_owned());
        let Some(running) = self.running.get_mut(&key) else {
            return;
        };
        if running.detail == detail {
            return;
        }
        running.detail = detail.to_owned();
        if matches!(self.out, Output::Lines(_)) {
            self.println(&format!("{scenario} #{repeat}: {phase}: {detail}"));
        } else {
            self.redraw(&key);
        }
    }

    /// Redraws every running phase with its current elapsed time. Call it
    /// every [`TICK`] ([`LiveReporter::drive`] does); no-op in line mode.
    pub fn tick(&mut self) {
        if matches!(self.out, Output::Lines(_)) {
            return;
        }
        let keys: Vec<Key> = self.running.keys().cloned().collect();
        for key in keys {
            self.redraw(&key);
        }
    }

    fn redraw(&mut self, key: &Key) {
        let elapsed = self
            .clocks
            .get(&(key.0.clone(), key.1))
            .zip(self.running.get(key).and_then(|r| r.started))
            .map(|(clock, started)| clock.since(started));
        let Some(running) = self.running.get_mut(key) else {
            return;
        };
        let Some(bar) = &running.bar else {
            return;
        };
        let over = matches!((elapsed, running.budget), (Some(e), Some(b)) if e > b);
        if over && !running.over {
            running.over = true;
            bar.set_style(style(true));
        }
        bar.set_message(bar_message(
            &key.2,
            elapsed,
            running.budget,
            &running.detail,
        ));
        bar.tick();
    }

    fn println(&mut self, line: &str) {
        match &mut self.out {
            Output::Bars(multi) => {
                if let Err(e) = multi.println(line) {
                    tracing::debug!(error = %e, "cannot draw progress");
                }
            }
            Output::Lines(w) => {
                if let Err(e) = writeln!(w, "{line}").and_then(|()| w.flush()) {
                    tracing::debug!(error = %e, "cannot write progress line");
                }
            }
        }
    }

    /// Removes every progress line still drawn (e.g. before the CLI prints
    /// the summary table after an abort).
    pub fn clear(&mut self) {
        for (_, running) in self.running.drain() {
            if let Some(bar) = running.bar {
                bar.finish_and_clear();
            }
        }
        if let Output::Bars(multi) = &self.out {
            let _ = multi.clear();
        }
    }
}

fn style(over: bool) -> ProgressStyle {
    let template = if over {
        "{spinner:.red} {prefix:.bold} {wide_msg:.red}"
    } else {
        "{spinner:.cyan} {prefix:.bold} {wide_msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}
