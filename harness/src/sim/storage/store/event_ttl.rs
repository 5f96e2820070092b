//! Events are short-lived, as in kube-apiserver (`--event-ttl`, default
//! one hour): every write of a core Event (which is also every
//! `events.k8s.io/v1` Event) renews its lease, and an Event whose lease ran
//! out is deleted (a `DELETED` watch event, as etcd's lease expiry gives).
//! The simulator also caps how many Events a cluster keeps
//! ([`MAX_EVENTS`], the oldest go first), so a large drill's memory does
//! not grow without end.
//!
//! Expiry runs on the simulated clock at each Event write: Events are
//! written whenever anything happens, so nothing outlives its hour by long
//! while the cluster is busy, and a quiet cluster holds what it held.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::Timestamp;

use super::state::{Key, State};
use super::{GroupResource, meta};
use crate::clock::Clock;

/// How long an Event lives after its last write (kube-apiserver's default
/// `--event-ttl`).
pub const EVENT_TTL: Duration = Duration::from_secs(3600);

/// The most Events one simulated cluster keeps.
pub const MAX_EVENTS: usize = 10_000;

/// The leases of the stored Events.
#[derive(Debug, Default)]
pub(crate) struct EventLeases {
    by_deadline: BTreeSet<(Timestamp, Key)>,
    deadline: HashMap<Key, Timestamp>,
}

pub(crate) fn is_event(gr: &GroupResource) -> bool {
    gr.group.is_empty() && gr.resource == "events"
}

impl EventLeases {
    /// Renews (or takes) the lease of `key` at `now`.
    pub(crate) fn renew(&mut self, key: &Key, now: Timestamp) {
        let ttl = jiff::SignedDuration::try_from(EVENT_TTL).unwrap_or(jiff::SignedDuration::MAX);
        let until = now.checked_add(ttl).unwrap_or(Timestamp::MAX);
        if let Some(old) = self.deadline.insert(key.clone(), until) {
            self.by_deadline.remove(&(old, key.clone()));
        }
        self.by_deadline.insert((until, key.clone()));
    }

    /// Drops the lease of a deleted Event.
    pub(crate) fn release(&mut self, key: &Key) {
        if let Some(old) = self.deadline.remove(key) {
            self.by_deadline.remove(&(old, key.clone()));
        }
    }

    /// The Event to expire now: a lease that ran out, or the oldest one
    /// while more than `cap` are held.
    fn next_expired(&self, now: Timestamp, cap: usize) -> Option<Key> {
        let (until, key) = self.by_deadline.first()?;
        (*until <= now || self.deadline.len() > cap).then(|| key.clone())
    }

    pub(crate) fn clear(&mut self) {
        self.by_deadline.clear();
        self.deadline.clear();
    }
}

impl State {
    /// Deletes the Events whose lease ran out, and the oldest beyond the
    /// cap.
    pub(crate) fn expire_events(&mut self, clock: &Clock) {
        let gr = GroupResource::new("", "events");
        let now = clock.now();
        while let Some(key) = self.event_leases.next_expired(now, MAX_EVENTS) {
            match self.get(&gr, Some(key.0.as_str()), &key.1) {
                Some(old) => {
                    let last = (*old).clone();
                    self.commit_delete(clock, &gr, last, old);
                }
                // Cannot happen (deletes release the lease); never loop.
                None => self.event_leases.release(&key),
            }
        }
    }
}

/// The key of a stored object.
pub(crate) fn key_of(obj: &serde_json::Value) -> Key {
    super::state::key_of(meta::namespace_of(obj).as_deref(), meta::name_of(obj))
}
