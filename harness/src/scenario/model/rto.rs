//! The recovery time objective: budgets in total and per phase, and the
//! quantile that judges repeated runs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::Phase;

/// The objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rto {
    /// Disaster → steady state.
    pub total: Duration,
    /// Per-phase budgets.
    pub phases: BTreeMap<Phase, Duration>,
    /// Quantile the verdict uses over repeats.
    pub quantile: Quantile,
}

/// A quantile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// Maximum.
    Max,
}

impl Quantile {
    /// The quantile as a fraction in (0, 1].
    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.50,
            Quantile::P90 => 0.90,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
            Quantile::Max => 1.0,
        }
    }

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Quantile::P50 => "p50",
            Quantile::P90 => "p90",
            Quantile::P95 => "p95",
            Quantile::P99 => "p99",
            Quantile::Max => "max",
        }
    }
}
