//! Subscriptions: in-process event streams and the feeds of HTTP watches.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Event, GroupResource};
use crate::clock::Busy;

/// Which events a subscription receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this resource type (all types when None).
    pub resource: Option<GroupResource>,
    /// Only this namespace (all when None).
    pub namespace: Option<String>,
    /// Only deletions: DELETED events and writes of objects that carry a
    /// `deletionTimestamp` (what finalizing controllers need; saves a
    /// wake-up per ordinary write).
    pub deletions_only: bool,
}

impl EventFilter {
    /// Every write.
    pub fn all() -> Self {
        EventFilter::default()
    }

    /// Every write to one resource type.
    pub fn resource(gr: GroupResource) -> Self {
        EventFilter {
            resource: Some(gr),
            ..EventFilter::default()
        }
    }

    /// Only deletions (see [`EventFilter::deletions_only`]).
    pub fn deletions(mut self) -> Self {
        self.deletions_only = true;
        self
    }

    /// Narrows to one namespace.
    pub fn in_namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.to_owned());
        self
    }

    pub(crate) fn matches(&self, ev: &Event) -> bool {
        if self.resource.as_ref().is_some_and(|r| r != &ev.resource) {
            return false;
        }
        if self.deletions_only
            && ev.kind != super::EventType::Deleted
            && ev
                .object
                .pointer("/metadata/deletionTimestamp")
                .is_none_or(|v| v.is_null())
        {
            return false;
        }
        match &self.namespace {
            None => true,
            Some(ns) => {
                ev.object
                    .pointer("/metadata/namespace")
                    .and_then(|v| v.as_str())
                    == Some(ns.as_str())
            }
        }
    }
}

/// One delivered event and the guard that keeps simulated time still
/// until the subscriber drops it.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub event: Arc<Event>,
    /// Drop after reacting to the event.
    pub busy: Busy,
}

/// What a subscription's channel carries.
#[derive(Debug)]
pub(crate) enum Notice {
    Event(Arc<Event>, Busy),
    /// The history was compacted past this watch's position.
    Expired {
        requested: u64,
        oldest: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Controllers: never closed by fault hooks.
    Internal,
    /// HTTP watches: closed by `close_watches`, told about compaction.
    Watch,
}

#[derive(Debug)]
pub(crate) struct Subscriber {
    pub(crate) filter: EventFilter,
    pub(crate) kind: Kind,
    pub(crate) tx: mpsc::UnboundedSender<Notice>,
    /// The revision of the last event queued (for 410 messages).
    pub(crate) position: u64,
}

/// A stream of events (see [`super::Store::subscribe`]).
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: mpsc::UnboundedReceiver<Notice>,
}

impl Subscription {
    /// The next event; None once the store is gone (or, for watches, closed).
    pub async fn recv(&mut self) -> Option<Delivery> {
        loop {
            match self.rx.recv().await? {
                Notice::Event(event, busy) => return Some(Delivery { event, busy }),
                Notice::Expired { .. } => continue,
            }
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        loop {
            match self.rx.try_recv().ok()? {
                Notice::Event(event, busy) => return Some(Delivery { event, busy }),
                Notice::Expired { .. } => continue,
            }
        }
    }

    pub(crate) async fn recv_notice(&mut self) -> Option<Notice> {
        self.rx.recv().await
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}
