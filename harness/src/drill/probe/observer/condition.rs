//! Conditions: what a wait waits for — the kinds it reads and its
//! judgement of the world ([`Condition`], [`Judgement`]); [`FnCondition`]
//! makes one from a closure.

use std::collections::BTreeSet;
use std::fmt;

use super::world::{GroupKind, World};

/// The judgement of a condition over the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// The condition holds.
    Met,
    /// It does not hold yet; what is missing, one line.
    Pending(String),
}

/// A condition: the kinds it reads, and its judgement.
pub trait Condition: Send {
    /// Kinds to watch. May grow as the world is discovered (e.g. the kinds
    /// listed in Kustomization inventories).
    fn needs(&self, world: &World) -> BTreeSet<GroupKind>;
    /// Judges the world. Called after every event once every needed kind is
    /// synced.
    fn judge(&mut self, world: &World) -> Judgement;
}

/// A condition from a closure, for simple cases and tests.
pub struct FnCondition<F> {
    needs: BTreeSet<GroupKind>,
    judge: F,
}

impl<F> fmt::Debug for FnCondition<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnCondition")
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&World) -> Judgement + Send> FnCondition<F> {
    /// Watches `needs`, judges with `judge`.
    pub fn new(needs: impl IntoIterator<Item = GroupKind>, judge: F) -> Self {
        FnCondition {
            needs: needs.into_iter().collect(),
            judge,
        }
    }
}

impl<F: FnMut(&World) -> Judgement + Send> Condition for FnCondition<F> {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        self.needs.clone()
    }
    fn judge(&mut self, world: &World) -> Judgement {
        (self.judge)(world)
    }
}
