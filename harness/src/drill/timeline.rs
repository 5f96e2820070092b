//! The timeline of one repeat: phases with their start and end on the
//! cluster's clock, operations inside them, and the events every reporter
//! consumes. Shared behind a lock, so a repeat interrupted halfway (Ctrl-C,
//! a panic) still leaves its phases for the partial report.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::clock::{Clock, duration_between};
use crate::report::events::Event;
use crate::report::tree::{Coverage, Operation, PhaseGroup, PhaseReport, Status};

/// Where events go (nowhere when nobody listens).
#[derive(Debug, Clone, Default)]
pub struct Events(Option<tokio::sync::mpsc::UnboundedSender<Event>>);

impl Events {
    /// Events sent to `tx`.
    pub fn new(tx: tokio::sync::mpsc::UnboundedSender<Event>) -> Events {
        Events(Some(tx))
    }

    /// Events dropped.
    pub fn none() -> Events {
        Events(None)
    }

    /// Sends one event (a reporter that went away is not an error).
    pub fn send(&self, e: Event) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(e);
        }
    }
}

#[derive(Debug)]
struct State {
    phases: Vec<PhaseReport>,
    open: Option<(usize, Instant)>,
    coverage: Option<Coverage>,
}

/// The timeline of one repeat. Cheap to clone; clones share it.
#[derive(Debug, Clone)]
pub struct Timeline {
    scenario: String,
    repeat: u32,
    origin: Timestamp,
    clock: Clock,
    events: Events,
    state: Arc<Mutex<State>>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Timeline {
    /// A timeline starting now on `clock`.
    pub fn new(scenario: &str, repeat: u32, clock: Clock, events: Events) -> Timeline {
        Timeline {
            scenario: scenario.to_owned(),
            repeat,
            origin: clock.now(),
            clock,
            events,
            state: Arc::new(Mutex::new(State {
                phases: Vec::new(),
                open: None,
                coverage: None,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The events sink.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Milliseconds from the start of the repeat to `t`.
    pub fn offset(&self, t: Timestamp) -> u64 {
        ms(duration_between(self.origin, t))
    }

    /// Begins a phase now.
    pub fn begin(&self, name: &str, group: PhaseGroup, budget: Option<Duration>) {
        self.begin_at(name, group, budget, self.clock.now());
    }

    /// Begins a phase at `at` (recovery phases start where the previous
    /// one ended, so they add up to the whole recovery).
    pub fn begin_at(&self, name: &str, group: PhaseGroup, budget: Option<Duration>, at: Timestamp) {
        let start_ms = self.offset(at);
        let mut st = self.lock();
        st.phases.push(PhaseReport {
            name: name.to_owned(),
            group,
            start_ms,
            end_ms: None,
            budget_ms: budget.map(ms),
            status: Status::Passed,
            wall_ms: 0,
            observe_lag_ms: None,
            operations: Vec::new(),
            message: None,
        });
        st.open = Some((st.phases.len() - 1, Instant::now()));
        drop(st);
        self.events.send(Event::PhaseStarted {
            scenario: self.scenario.clone(),
            repeat: self.repeat,
            phase: name.to_owned(),
            group,
            budget,
        });
    }

    /// What the running phase waits for now.
    pub fn progress(&self, detail: &str) {
        let phase = {
            let st = self.lock();
            st.open.map(|(i, _)| st.phases[i].name.clone())
        };
        if let Some(phase) = phase {
            self.events.send(Event::PhaseProgress {
                scenario: self.scenario.clone(),
                repeat: self.repeat,
                phase,
                detail: detail.to_owned(),
            });
        }
    }

    /// Records a notable moment in the running phase (or the last one).
    pub fn operation(&self, what: &str) {
        let at_ms = self.offset(self.clock.now());
        {
            let mut st = self.lock();
            let idx = st.open.map(|(i, _)| i).or(st.phases.len().checked_sub(1));
            if let Some(i) = idx {
                st.phases[i].operations.push(Operation {
                    at_ms,
                    what: what.to_owned(),
                });
            }
        }
        self.events.send(Event::Operation {
            scenario: self.scenario.clone(),
            repeat: self.repeat,
            what: what.to_owned(),
        });
    }

    /// Ends the running phase at `at`; over budget makes it failed.
    /// Returns the phase's duration.
    pub fn end_at(&self, at: Timestamp, lag: Option<Duration>) -> Duration {
        self.close(Some(at), Status::Passed, None, lag)
    }

    /// Ends the running phase now.
    pub fn end(&self) -> Duration {
        self.end_at(self.clock.now(), None)
    }

    /// Ends the running phase unfinished (timed out, errored, aborted).
    pub fn fail(&self, status: Status, message: &str) {
        self.close(None, status, Some(message.to_owned()), None);
    }

    fn close(
        &self,
        at: Option<Timestamp>,
        status: Status,
        message: Option<String>,
        lag: Option<Duration>,
    ) -> Duration {
        let (phase, duration, status, budget) = {
            let mut st = self.lock();
            let Some((i, wall)) = st.open.take() else {
                return Duration::ZERO;
            };
            let p = &mut st.phases[i];
            p.wall_ms = ms(wall.elapsed());
            p.end_ms = at.map(|t| self.offset(t).max(p.start_ms));
            p.observe_lag_ms = lag.map(|l| l.as_secs_f64() * 1000.0);
            // A phase that never ended ran until now: `failed after` says so.
            let elapsed = p
                .duration_ms()
                .unwrap_or_else(|| self.offset(self.clock.now()).saturating_sub(p.start_ms));
            let duration = Duration::from_millis(elapsed);
            let over = matches!((p.budget_ms, p.duration_ms()), (Some(b), Some(d)) if d > b);
            p.status = if over {
                Status::Failed.worst(status)
            } else {
                status
            };
            p.message = message.or_else(|| {
                over.then(|| {
                    crate::report::human::over_budget(
                        &p.name,
                        p.duration_ms().unwrap_or(0),
                        p.budget_ms.unwrap_or(0),
                    )
                })
            });
            (
                p.name.clone(),
                duration,
                p.status,
                p.budget_ms.map(Duration::from_millis),
            )
        };
        self.events.send(Event::PhaseFinished {
            scenario: self.scenario.clone(),
            repeat: self.repeat,
            phase,
            status,
            duration,
            budget,
        });
        duration
    }

    /// Records how much of the source the steady state covers.
    pub fn set_coverage(&self, coverage: Coverage) {
        self.lock().coverage = Some(coverage);
    }

    /// How much of the source the steady state covered, once judged.
    pub fn coverage(&self) -> Option<Coverage> {
        self.lock().coverage
    }

    /// True while a phase is open.
    pub fn is_open(&self) -> bool {
        self.lock().open.is_some()
    }

    /// The phases so far (an open one has no end).
    pub fn phases(&self) -> Vec<PhaseReport> {
        self.lock().phases.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_are_timed_on_the_clock_and_judged_against_budgets() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = Clock::simulated(start);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let t = Timeline::new("s", 1, clock.clone(), Events::new(tx));
        t.begin(
            "converge",
            PhaseGroup::Recovery,
            Some(Duration::from_secs(60)),
        );
        drop(clock.sleep(Duration::from_secs(90)).await);
        t.operation("revert committed");
        assert_eq!(t.end(), Duration::from_secs(90));
        t.begin("healthy", PhaseGroup::Recovery, None);
        t.fail(Status::Error, "API gone");
        let phases = t.phases();
        assert_eq!(phases[0].duration_ms(), Some(90_000));
        assert_eq!(phases[0].status, Status::Failed);
        assert_eq!(
            phases[0].message.as_deref(),
            Some("converge 1m30s > budget 1m")
        );
        assert_eq!(phases[0].operations[0].at_ms, 90_000);
        assert_eq!(phases[1].end_ms, None);
        assert_eq!(phases[1].status, Status::Error);
        let mut kinds = Vec::new();
        while let Ok(e) = rx.try_recv() {
            kinds.push(match e {
                Event::PhaseStarted { .. } => "started",
                Event::PhaseFinished { .. } => "finished",
                Event::Operation { .. } => "operation",
                _ => "other",
            });
        }
        assert_eq!(
            kinds,
            ["started", "operation", "finished", "started", "finished"]
        );
    }
}
