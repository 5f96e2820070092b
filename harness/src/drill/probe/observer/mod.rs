//! Watch-based waiting: every phase boundary of a drill is a condition over
//! a set of objects, observed through kube-runtime watchers — never sleeps
//! or polling loops — and timed on the cluster's clock.
//!
//! An [`Observer::wait`] call starts one watcher per kind the condition
//! needs (resolved through discovery; kinds whose CRD does not exist yet are
//! resolved when a CRD becomes established), keeps every watched object in a
//! [`World`], and re-judges the condition after each event. The moment a
//! condition became true is the time of the write that made it true: on the
//! simulator, the clock time of that event's resourceVersion
//! ([`TimeSource::Stamped`]), so the harness's own reaction time never enters a
//! measured duration; elsewhere, the wall time the event arrived.

mod condition;
mod in_flight;
mod session;
mod watch;
mod world;

use std::fmt;
use std::time::{Duration, Instant};

use jiff::Timestamp;

pub use self::condition::{Condition, FnCondition, Judgement};
pub use self::world::{GroupKind, World};
use crate::clock::{Clock, TimeSource};

/// Errors of a wait.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The condition did not hold within the timeout.
    #[error("timed out after {} waiting for {what}: {last}", humantime::format_duration(*.after))]
    TimedOut {
        /// What was awaited.
        what: String,
        /// The timeout.
        after: Duration,
        /// The condition's last judgement.
        last: String,
        /// The cluster's Events about the objects `last` names, one line
        /// each (see [`crate::drill::events`]); filled in by the drill.
        events: Vec<String>,
    },
    /// Discovery failed (the API server did not answer).
    #[error("discovering the cluster's API resources failed")]
    Discovery(#[source] kube::Error),
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// When and how a condition was met.
#[derive(Debug, Clone)]
pub struct Observed {
    /// When it became true (cluster clock), never before `not_before`.
    pub at: Timestamp,
    /// Wall time between the triggering event's write and the harness
    /// recording it (simulator only).
    pub lag: Option<Duration>,
    /// The resourceVersion of the event that made it true.
    pub rv: Option<u64>,
    /// Events processed while waiting.
    pub events: u64,
    /// Every watched object at that moment.
    pub world: World,
}

/// Options of one wait.
pub struct WaitOptions<'a> {
    /// What is awaited, for messages (`podinfo Kustomizations Ready`).
    pub what: String,
    /// Give up after this long on the cluster's clock.
    pub timeout: Duration,
    /// The condition cannot have become true before this (e.g. the disaster).
    pub not_before: Timestamp,
    /// Called with the condition's judgement when it changes.
    pub progress: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

impl fmt::Debug for WaitOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("what", &self.what)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Waits for conditions on one cluster.
#[derive(Clone)]
pub struct Observer {
    client: kube::Client,
    times: TimeSource,
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer")
            .field("times", &self.times)
            .finish_non_exhaustive()
    }
}

impl Observer {
    /// An observer using `client`, timing events with `times`.
    pub fn new(client: kube::Client, times: TimeSource) -> Observer {
        Observer { client, times }
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        self.times.clock()
    }

    /// The client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Waits until `condition` holds.
    ///
    /// # Errors
    /// [`Error::TimedOut`] (naming what was awaited and the last judgement)
    /// or [`Error::Discovery`].
    pub async fn wait(
        &self,
        condition: &mut dyn Condition,
        opts: WaitOptions<'_>,
    ) -> Result<Observed> {
        let clock = self.clock().clone();
        let mut last = String::from("nothing observed yet");
        let result = clock
            .timeout(
                opts.timeout,
                session::watch_until(self, condition, &opts, &mut last),
            )
            .await;
        match result {
            Ok(r) => r,
            Err(_) => Err(Error::TimedOut {
                what: opts.what.clone(),
                after: opts.timeout,
                last,
                events: Vec::new(),
            }),
        }
    }
}

/// Wall-clock stopwatch for the harness's own overhead figures.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }
    /// Milliseconds since start.
    pub fn ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
