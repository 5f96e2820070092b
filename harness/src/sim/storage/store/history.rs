//! The bounded event history watches resume from, and the clock time of
//! every revision.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::Timestamp;

use super::Event;

/// How often history is compacted on the cluster's clock, as
/// kube-apiserver asks etcd to (`--etcd-compaction-interval`, 5 minutes).
pub(crate) const COMPACTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// A ring of the most recent events, oldest first, bounded like etcd's
/// history: at most `capacity` events, and compacted every
/// [`COMPACTION_INTERVAL`] of cluster time to the revision of the previous
/// compaction tick (etcd's compactor keeps one interval of history). A
/// watch from an older revision gets `410 Gone` and relists.
#[derive(Debug)]
pub(crate) struct History {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    /// The highest revision no longer replayable: a watch from `N` needs
    /// every event after `N`, so `N < compacted_through` is too old.
    compacted_through: u64,
    /// The last compaction tick: when, and the revision current then (the
    /// next tick compacts through it).
    tick: Option<(Timestamp, u64)>,
}

impl History {
    pub(crate) fn new(capacity: usize) -> Self {
        History {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            compacted_through: 0,
            tick: None,
        }
    }

    /// Adds an event written at `now` (the cluster's clock).
    pub(crate) fn push(&mut self, ev: Arc<Event>, now: Timestamp) {
        if self.events.len() >= self.capacity
            && let Some(old) = self.events.pop_front()
        {
            self.compacted_through = self.compacted_through.max(old.revision);
        }
        let before = ev.revision.saturating_sub(1);
        match self.tick {
            None => self.tick = Some((now, before)),
            Some((at, rev)) if crate::clock::duration_between(at, now) >= COMPACTION_INTERVAL => {
                self.compact(rev);
                self.tick = Some((now, before));
            }
            Some(_) => {}
        }
        self.events.push_back(ev);
    }

    /// Events held (for tests and memory accounting).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Drops every event up to and including `rev`.
    pub(crate) fn compact(&mut self, rev: u64) {
        while self.events.front().is_some_and(|e| e.revision <= rev) {
            self.events.pop_front();
        }
        self.compacted_through = self.compacted_through.max(rev);
    }

    /// Events after `rev`, oldest first; `None` when some were dropped.
    pub(crate) fn since(&self, rev: u64) -> Option<impl Iterator<Item = &Arc<Event>>> {
        if rev < self.compacted_through {
            return None;
        }
        let start = self.events.partition_point(|e| e.revision <= rev);
        Some(self.events.range(start..))
    }

    /// The oldest revision still replayable from.
    pub(crate) fn oldest(&self) -> u64 {
        self.compacted_through
    }

    pub(crate) fn clear(&mut self, rev: u64) {
        self.events.clear();
        self.compacted_through = rev;
    }
}

/// Change points of the clock: `(first revision, time)`; the time of a
/// revision is the time of the last change point at or before it.
#[derive(Debug)]
pub(crate) struct RevisionTimes {
    points: VecDeque<(u64, Timestamp)>,
    /// Wall instant of each recent write: how long the harness took to
    /// notice a state (its own overhead) is measured against these.
    walls: VecDeque<(u64, std::time::Instant)>,
    capacity: usize,
}

impl RevisionTimes {
    pub(crate) fn new(start: Timestamp) -> Self {
        let mut points = VecDeque::new();
        points.push_back((0, start));
        RevisionTimes {
            points,
            walls: VecDeque::new(),
            capacity: 1 << 16,
        }
    }

    /// Records that `rev` was written at `at`.
    pub(crate) fn record(&mut self, rev: u64, at: Timestamp) {
        if self.walls.len() >= self.capacity {
            self.walls.pop_front();
        }
        self.walls.push_back((rev, std::time::Instant::now()));
        if self.points.back().is_some_and(|&(_, t)| t == at) {
            return;
        }
        if self.points.len() >= self.capacity {
            self.points.pop_front();
        }
        self.points.push_back((rev, at));
    }

    /// The time `rev` was written; None beyond `current` or when forgotten.
    pub(crate) fn time_of(&self, rev: u64, current: u64) -> Option<Timestamp> {
        if rev > current {
            return None;
        }
        let idx = self.points.partition_point(|&(r, _)| r <= rev);
        if idx == 0 {
            return None;
        }
        Some(self.points[idx - 1].1)
    }

    /// The wall instant `rev` was written, while it is among the recent ones.
    pub(crate) fn wall_of(&self, rev: u64) -> Option<std::time::Instant> {
        let idx = self.walls.partition_point(|&(r, _)| r < rev);
        self.walls
            .get(idx)
            .filter(|&&(r, _)| r == rev)
            .map(|&(_, w)| w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(revision: u64) -> Arc<Event> {
        Arc::new(Event {
            kind: super::super::EventType::Modified,
            resource: super::super::GroupResource::new("", "configmaps"),
            object: Arc::new(serde_json::json!({})),
            old: None,
            revision,
        })
    }

    #[test]
    fn history_is_bounded_by_count_and_compacted_each_interval_like_etcd() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut h = History::new(1000);
        for rev in 1..=20_000 {
            h.push(event(rev), t0);
        }
        assert_eq!(h.len(), 1000);
        assert!(h.since(1).is_none(), "a watch from revision 1 is too old");
        assert_eq!(h.since(19_000).map(Iterator::count), Some(1000));
        // Five minutes later the first tick compacts nothing newer than the
        // revision it recorded at the start (0 here); the next one compacts
        // through what the previous tick saw.
        let t1 = t0 + std::time::Duration::from_secs(300);
        h.push(event(20_001), t1);
        assert_eq!(h.len(), 1000);
        let t2 = t1 + std::time::Duration::from_secs(300);
        h.push(event(20_002), t2);
        assert!(
            h.since(19_999).is_none(),
            "compacted through the previous tick"
        );
        assert_eq!(h.since(20_000).map(Iterator::count), Some(2));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn revision_times_are_change_points() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let mut rt = RevisionTimes::new(t0);
        rt.record(1, t0);
        rt.record(2, t0);
        rt.record(3, t1);
        rt.record(4, t1);
        assert_eq!(rt.time_of(2, 4), Some(t0));
        assert_eq!(rt.time_of(3, 4), Some(t1));
        assert_eq!(rt.time_of(4, 4), Some(t1));
        assert_eq!(rt.time_of(5, 4), None);
    }
}
