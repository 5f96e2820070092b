//! `spec.rto` → [`Rto`]: a total above zero, budgets keyed by known phase
//! names, and the quantile (p95 by default). Whether the recovery has
//! those phases, and whether they fit the total, is checked in
//! `combinations`.

use std::collections::BTreeMap;

use crate::scenario::diagnostic::Collector;
use crate::scenario::file::{self, QuantileName};
use crate::scenario::model::{Phase, Quantile, Rto};

pub(super) fn rto(c: &mut Collector, r: &file::RtoSpec) -> Rto {
    if r.total.0.is_zero() {
        c.field("spec.rto.total", "must be longer than 0s");
    }
    let mut phases = BTreeMap::new();
    for (name, budget) in &r.phases {
        match Phase::from_name(name) {
            Some(p) => {
                phases.insert(p, budget.0);
            }
            None => {
                let known: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
                c.field_help(
                    format!("spec.rto.phases.{name}"),
                    format!("unknown phase {name:?}"),
                    format!("phases are: {}", known.join(", ")),
                );
            }
        }
    }
    Rto {
        total: r.total.0,
        phases,
        quantile: match r.quantile.unwrap_or(QuantileName::P95) {
            QuantileName::P50 => Quantile::P50,
            QuantileName::P90 => Quantile::P90,
            QuantileName::P95 => Quantile::P95,
            QuantileName::P99 => Quantile::P99,
            QuantileName::Max => Quantile::Max,
        },
    }
}
