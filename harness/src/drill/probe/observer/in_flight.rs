//! Writes on their way to the harness. On the simulator every write the
//! observer's watches will deliver comes first as a token holding the
//! virtual clock, so simulated time cannot move on while its event is in
//! flight.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use kube::api::DynamicObject;
use kube::runtime::watcher::{self, Event};

use super::world::GroupKind;
use crate::clock::Busy;

/// What the merged streams deliver: a watch event from the API, or — on
/// the simulator — the token of a write the watch will deliver.
pub(super) enum Item {
    Watch(Box<std::result::Result<Event<DynamicObject>, watcher::Error>>),
    Token(u64, Busy),
}

pub(super) type Tagged = (GroupKind, Item);

/// Tokens of writes the simulator made that this observer's watches have
/// not delivered yet. Each holds the virtual clock: simulated time cannot
/// move on while an event is on its way to the harness, however slowly the
/// machine delivers it (without this, a loaded machine could let the clock
/// jump to a timeout with the event that met the condition still in flight).
#[derive(Default)]
pub(super) struct InFlight {
    tokens: BTreeMap<GroupKind, VecDeque<(u64, Instant, Busy)>>,
    /// The highest revision each watch has delivered (a token may arrive
    /// after its event: it is then already done with).
    through: BTreeMap<GroupKind, u64>,
    /// Kinds whose watch is broken (API unreachable): their tokens are
    /// dropped, or an outage would freeze time forever.
    disconnected: BTreeSet<GroupKind>,
}

impl InFlight {
    pub(super) fn token(&mut self, gk: &GroupKind, rev: u64, busy: Busy) {
        let done = self.through.get(gk).is_some_and(|t| *t >= rev);
        if !done && !self.disconnected.contains(gk) {
            self.tokens
                .entry(gk.clone())
                .or_default()
                .push_back((rev, Instant::now(), busy));
        }
    }

    pub(super) fn delivered(&mut self, gk: &GroupKind, rev: u64) {
        let t = self.through.entry(gk.clone()).or_insert(0);
        *t = (*t).max(rev);
        if let Some(q) = self.tokens.get_mut(gk) {
            while q.front().is_some_and(|(r, _, _)| *r <= rev) {
                q.pop_front();
            }
        }
    }

    pub(super) fn clear(&mut self, gk: &GroupKind) {
        self.tokens.remove(gk);
    }

    pub(super) fn disconnect(&mut self, gk: &GroupKind) {
        self.clear(gk);
        self.disconnected.insert(gk.clone());
    }

    pub(super) fn connect(&mut self, gk: &GroupKind) {
        self.clear(gk);
        self.disconnected.remove(gk);
    }

    /// Drops tokens older than [`TOKEN_TTL`] (a write whose event the watch
    /// will never deliver, such as a deletion just before a relist); returns
    /// when the next one expires.
    pub(super) fn expire(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for q in self.tokens.values_mut() {
            q.retain(|(_, at, _)| now.duration_since(*at) < TOKEN_TTL);
            if let Some((_, at, _)) = q.front() {
                let due = *at + TOKEN_TTL;
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        next
    }
}

/// How long (wall time) a write may hold the clock waiting for its watch
/// event: far above any delivery delay, and a bound on the stall when an
/// event is never delivered.
const TOKEN_TTL: Duration = Duration::from_millis(250);
