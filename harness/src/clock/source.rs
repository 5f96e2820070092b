//! Where the times of observed changes come from.
//!
//! A drill timestamps what it observes on the cluster's clock. The simulator
//! stamps every revision with the clock time it was written ([`Stamps`]), so
//! a phase ends at the write that made it true and the harness's own
//! reaction time never enters a measured duration. A real cluster has no
//! such stamps: the clock's time when the event arrived is used.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::BoxStream;
use jiff::Timestamp;

use super::{Busy, Clock};

/// A cluster that stamps its revisions (the simulator).
pub trait Stamps: Send + Sync + fmt::Debug {
    /// The cluster's clock.
    fn clock(&self) -> &Clock;
    /// The clock time `revision` was written, while it is remembered.
    fn time_of(&self, revision: u64) -> Option<Timestamp>;
    /// The wall-clock instant `revision` was written, while it is remembered
    /// (the observer's lag is measured from it).
    fn wall_of(&self, revision: u64) -> Option<Instant>;
    /// Every write to the resource `group`/`plural` from now on: its
    /// revision, with a [`Busy`] guard held until the reader drops it, so
    /// simulated time does not move on before the reader judged the write.
    fn writes(&self, group: &str, plural: &str) -> BoxStream<'static, (u64, Busy)>;
}

/// Where event times come from.
#[derive(Debug, Clone)]
pub enum TimeSource {
    /// The cluster stamps its revisions (the simulator).
    Stamped(Arc<dyn Stamps>),
    /// A real cluster: the clock's time when the event arrived.
    Arrival(Clock),
}

impl TimeSource {
    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        match self {
            TimeSource::Stamped(s) => s.clock(),
            TimeSource::Arrival(c) => c,
        }
    }

    /// When the change of `revision` happened: its stamp, else now.
    pub fn time_of(&self, revision: Option<u64>) -> Timestamp {
        match (self, revision) {
            (TimeSource::Stamped(s), Some(rv)) => s.time_of(rv).unwrap_or_else(|| s.clock().now()),
            _ => self.clock().now(),
        }
    }

    /// Wall time elapsed since `revision` was written (stamped clusters
    /// only).
    pub fn lag_of(&self, revision: Option<u64>) -> Option<std::time::Duration> {
        match (self, revision) {
            (TimeSource::Stamped(s), Some(rv)) => s.wall_of(rv).map(|w| w.elapsed()),
            _ => None,
        }
    }

    /// The stamps, when the cluster has them.
    pub fn stamps(&self) -> Option<&Arc<dyn Stamps>> {
        match self {
            TimeSource::Stamped(s) => Some(s),
            TimeSource::Arrival(_) => None,
        }
    }
}
