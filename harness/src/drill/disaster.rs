//! The disaster: every fault of the scenario, in order, in one `disaster`
//! phase. It returns what recovery must know about what broke
//! ([`Damage`]); the faults themselves live in [`super::fault`].

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::context::Context;
use super::error::Result;
use super::fault::{self, Broke};
use super::probe::infra::Drifted;
use super::target::Target;
use crate::report::tree::PhaseGroup;

/// What the disaster broke, as far as recovery needs to know.
#[derive(Debug, Clone)]
pub(super) struct Damage {
    /// When the disaster began: recovery is timed from here.
    pub(super) at: Timestamp,
    /// Nodes it stopped: pods on them serve nothing.
    pub(super) lost_nodes: BTreeSet<String>,
    /// The bad commit's SHA, for `git-revert`.
    pub(super) bad_commit: Option<String>,
    /// Terraform objects whose infrastructure was changed outside Git.
    pub(super) drifted: Vec<Drifted>,
}

impl Damage {
    fn add(&mut self, broke: Broke) {
        match broke {
            Broke::Nothing => {}
            Broke::Nodes(names) => self.lost_nodes.extend(names),
            Broke::Commit(sha) => self.bad_commit = Some(sha),
            Broke::Infra(drifted) => self.drifted.push(drifted),
        }
    }
}

/// Injects every fault of the scenario's disaster.
///
/// # Errors
/// When a fault cannot be injected (an API call, git, the provider).
pub(super) async fn disaster(cx: &Context, target: &mut Target) -> Result<Damage> {
    let t = cx.timeline();
    let mut damage = Damage {
        at: cx.clock().now(),
        lost_nodes: BTreeSet::new(),
        bad_commit: None,
        drifted: Vec::new(),
    };
    // From here on the simulated registry holds what the cluster ran
    // before (and the scenario's `sim.images`), nothing pushed after.
    cx.provider.images.seal();
    t.begin("disaster", PhaseGroup::Disaster, None);
    for f in &cx.scenario().disaster {
        damage.add(fault::inject(cx, target, f).await?);
    }
    t.end();
    Ok(damage)
}
