//! The bounded event history watches resume from, and the clock time of
//! every revision.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::Timestamp;

use super::Event;

/// A ring of the most recent events, oldest first.
#[derive(Debug)]
pub(crate) struct History {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    /// The highest revision no longer replayable: a watch from `N` needs
    /// every event after `N`, so `N < compacted_through` is too old.
    compacted_through: u64,
}

impl History {
    pub(crate) fn new(capacity: usize) -> Self {
        History {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            compacted_through: 0,
        }
    }

    pub(crate) fn push(&mut self, ev: Arc<Event>) {
        if self.events.len() >= self.capacity
            && let Some(old) = self.events.pop_front()
        {
            self.compacted_through = self.compacted_through.max(old.revision);
        }
        self.events.push_back(ev);
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
