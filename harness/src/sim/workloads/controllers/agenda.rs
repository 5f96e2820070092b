//! The controllers' agenda: what to do at which simulated time.
//!
//! Tasks due at the same instant run in a fixed order (by task: reconciles
//! before stages, then controller, then object key), never in the order
//! they were scheduled, which keeps the simulation independent of how
//! tokio interleaved the events that scheduled them.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;

use crate::sim::workloads::stages::StageKind;

/// The controllers, in the order they run within one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Ctl {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    HorizontalPodAutoscaler,
    /// Endpoints and EndpointSlice of a Service.
    Endpoints,
    /// The scheduler works on every pending pod at once (key `""`).
    Scheduler,
}

/// Something to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Task {
    /// Reconcile the object `key` (`ns/name`, or a name) of a controller.
    Reconcile(Ctl, String),
    /// Apply the pending stage of an object.
    Stage(StageKindOrd, String),
}

/// [`StageKind`] with an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum StageKindOrd {
    Node,
    Pod,
}

impl From<StageKind> for StageKindOrd {
    fn from(k: StageKind) -> Self {
        match k {
            StageKind::Node => StageKindOrd::Node,
            StageKind::Pod => StageKindOrd::Pod,
        }
    }
}

impl From<StageKindOrd> for StageKind {
    fn from(k: StageKindOrd) -> Self {
        match k {
            StageKindOrd::Node => StageKind::Node,
            StageKindOrd::Pod => StageKind::Pod,
        }
    }
}

/// Tasks by due time; each task is scheduled at most once.
#[derive(Debug, Default)]
pub(crate) struct Agenda {
    queue: BTreeSet<(Timestamp, Task)>,
    due: HashMap<Task, Timestamp>,
}

impl Agenda {
    /// Schedules `task` at `at`, replacing an earlier schedule of it.
    pub(crate) fn set(&mut self, task: Task, at: Timestamp) {
        if let Some(old) = self.due.insert(task.clone(), at) {
            self.queue.remove(&(old, task.clone()));
        }
        self.queue.insert((at, task));
    }

    /// Schedules `task` at `at` unless it is already due at or before `at`.
    pub(crate) fn at_most(&mut self, task: Task, at: Timestamp) {
        match self.due.get(&task) {
            Some(old) if *old <= at => {}
            _ => self.set(task, at),
        }
    }

    /// Removes `task`.
    pub(crate) fn cancel(&mut self, task: &Task) {
        if let Some(old) = self.due.remove(task) {
            self.queue.remove(&(old, task.clone()));
        }
    }

    /// When `task` is due, if scheduled.
    pub(crate) fn due(&self, task: &Task) -> Option<Timestamp> {
        self.due.get(task).copied()
    }

    /// The earliest due time.
    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.queue.first().map(|(t, _)| *t)
    }

    /// Takes the first task due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Task)> {
        let (at, _) = self.queue.first()?;
        if *at > now {
            return None;
        }
        let (at, task) = self.queue.pop_first()?;
        self.due.remove(&task);
        Some((at, task))
    }

    /// Number of scheduled tasks.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn same_instant_runs_in_task_order_not_insertion_order() {
        let mut a = Agenda::default();
        a.set(Task::Stage(StageKindOrd::Pod, "b".into()), t(1));
        a.set(Task::Reconcile(Ctl::Scheduler, String::new()), t(1));
        a.set(Task::Stage(StageKindOrd::Pod, "a".into()), t(1));
        a.set(Task::Reconcile(Ctl::Deployment, "x".into()), t(1));
        let order: Vec<Task> = std::iter::from_fn(|| a.pop_due(t(1)).map(|(_, t)| t)).collect();
        assert_eq!(
            order,
            vec![
                Task::Reconcile(Ctl::Deployment, "x".into()),
                Task::Reconcile(Ctl::Scheduler, String::new()),
                Task::Stage(StageKindOrd::Pod, "a".into()),
                Task::Stage(StageKindOrd::Pod, "b".into()),
            ]
        );
    }

    #[test]
    fn at_most_keeps_the_earlier_and_set_replaces() {
        let mut a = Agenda::default();
        let task = Task::Reconcile(Ctl::Job, "j".into());
        a.at_most(task.clone(), t(5));
        a.at_most(task.clone(), t(9));
        assert_eq!(a.due(&task), Some(t(5)));
        a.at_most(task.clone(), t(2));
        assert_eq!(a.due(&task), Some(t(2)));
        a.set(task.clone(), t(7));
        assert_eq!((a.next(), a.len()), (Some(t(7)), 1));
        assert!(a.pop_due(t(6)).is_none());
        a.cancel(&task);
        assert_eq!(a.len(), 0);
    }
}
