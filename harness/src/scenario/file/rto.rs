//! `spec.rto`: the recovery time objective, in total and per phase, and
//! the quantile that judges repeated runs.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::duration::HumanDuration;

/// RTO budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RtoSpec {
    /// Budget from the disaster to the steady state restored.
    pub total: HumanDuration,
    /// Budgets of single recovery phases: `detect`, `provision`, `infra`,
    /// `cluster-ready`, `bootstrap`, `converge`, `healthy` (those the
    /// recovery method has).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases: BTreeMap<String, HumanDuration>,
    /// With `repeat` > 1, which quantile of the repeats must meet the
    /// budgets: `p50`, `p90`, `p95` (default), `p99` or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<QuantileName>,
}

/// A quantile of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuantileName {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// The worst run.
    Max,
}
