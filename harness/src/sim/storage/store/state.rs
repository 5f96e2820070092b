//! The guarded state of a store and its commit path: every write goes
//! through [`State::commit`] or [`State::commit_delete`], which bump the
//! revision, keep the indexes, record history and notify subscribers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tokio::sync::mpsc;

use super::event_ttl::{self, EventLeases};
use super::history::{History, RevisionTimes};
use super::meta;
use super::subscribe::{Kind, Notice, Subscriber, Subscription};
use super::{
    ApiError, ApiResult, Event, EventFilter, EventType, GroupResource, ObjectRef, StoreOptions,
};
use crate::clock::Clock;
use crate::sim::storage::kinds::Registry;
use crate::sim::storage::selectors::Selector;

/// `(namespace or "", name)`: BTreeMap order is the list order.
pub(crate) type Key = (String, String);

pub(crate) struct State {
    pub(crate) rev: u64,
    tables: HashMap<GroupResource, BTreeMap<Key, Arc<Value>>>,
    /// owner uid → dependents.
    owners: HashMap<String, BTreeSet<(GroupResource, Key)>>,
    /// uid → object.
    pub(crate) uids: HashMap<String, (GroupResource, Key)>,
    /// Per resource, `(label, value)` → the objects carrying it: a list
    /// with a label selector reads the objects it selects, not every
    /// object of the resource (lists by label are how controllers and
    /// appliers find what they own; without the index each one costs the
    /// whole table, and a reconcile of K appliers K times that).
    labels: HashMap<GroupResource, HashMap<(String, String), BTreeSet<Key>>>,
    pub(crate) history: History,
    pub(crate) times: RevisionTimes,
    subscribers: Vec<Subscriber>,
    pub(crate) rng: ChaCha8Rng,
    /// The TTL leases of core Events.
    pub(crate) event_leases: EventLeases,
}

pub(crate) fn key_of(ns: Option<&str>, name: &str) -> Key {
    (ns.unwrap_or("").to_owned(), name.to_owned())
}

fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

impl State {
    pub(crate) fn new(options: &StoreOptions, now: Timestamp) -> Self {
        State {
            rev: 0,
            tables: HashMap::new(),
            owners: HashMap::new(),
            uids: HashMap::new(),
            labels: HashMap::new(),
            history: History::new(options.history_capacity),
            times: RevisionTimes::new(now),
            subscribers: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            event_leases: EventLeases::default(),
        }
    }

    pub(crate) fn get(
        &self,
        gr: &GroupResource,
        ns: Option<&str>,
        name: &str,
    ) -> Option<Arc<Value>> {
        self.tables.get(gr)?.get(&key_of(ns, name)).cloned()
    }

    /// Objects of `gr` in `ns` (all namespaces when None), in key order.
    pub(crate) fn scan<'a>(
        &'a self,
        gr: &GroupResource,
        ns: Option<&str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<Value>> + 'a> {
        let Some(table) = self.tables.get(gr) else {
            return Box::new(std::iter::empty());
        };
        match ns {
            None => Box::new(table.values()),
            Some(ns) => {
                let ns = ns.to_owned();
                let start = (ns.clone(), String::new());
                Box::new(
                    table
                        .range(start..)
                        .take_while(move |((n, _), _)| *n == ns)
                        .map(|(_, v)| v),
                )
            }
        }
    }

    /// Objects of `gr` in `ns` (all namespaces when None) that `selector`
    /// selects, in key order. With an equality on a label (`k=v`, or `k in
    /// (v)`), only the objects carrying it are read.
    pub(crate) fn scan_selected<'a>(
        &'a self,
        gr: &GroupResource,
        ns: Option<&str>,
        selector: &'a Selector,
    ) -> Box<dyn Iterator<Item = &'a Arc<Value>> + 'a> {
        let Some(table) = self.tables.get(gr) else {
            return Box::new(std::iter::empty());
        };
        let index = self.labels.get(gr);
        let mut best: Option<&BTreeSet<Key>> = None;
        for (k, v) in selector.equalities() {
            let Some(set) = index.and_then(|m| m.get(&(k.to_owned(), v.to_owned()))) else {
                // No object carries this label: nothing is selected.
                return Box::new(std::iter::empty());
            };
            if best.is_none_or(|b| set.len() < b.len()) {
                best = Some(set);
            }
        }
        let Some(keys) = best else {
            return Box::new(self.scan(gr, ns).filter(move |o| selector.matches(o)));
        };
        let ns = ns.map(str::to_owned);
        Box::new(
            keys.iter()
                .filter(move |(n, _)| ns.as_ref().is_none_or(|ns| ns == n))
                .filter_map(move |key| table.get(key))
                .filter(move |o| selector.matches(o)),
        )
    }

    fn index_labels(
        &mut self,
        gr: &GroupResource,
        key: &Key,
        old: Option<&Value>,
        new: Option<&Value>,
    ) {
        fn labels_of(o: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
            o.and_then(|o| o.pointer("/metadata/labels"))
                .and_then(Value::as_object)
        }
        // Borrowed: most writes (status, spec) keep the labels as they were.
        let (before, after) = (labels_of(old), labels_of(new));
        if before == after {
            return;
        }
        let index = self.labels.entry(gr.clone()).or_default();
        for (k, v) in before.into_iter().flatten() {
            let entry = (k.clone(), v.as_str().unwrap_or_default().to_owned());
            if let Some(set) = index.get_mut(&entry) {
                set.remove(key);
                if set.is_empty() {
                    index.remove(&entry);
                }
            }
        }
        for (k, v) in after.into_iter().flatten() {
            if let Some(v) = v.as_str() {
                index
                    .entry((k.clone(), v.to_owned()))
                    .or_default()
                    .insert(key.clone());
            }
        }
    }

    fn index(&mut self, gr: &GroupResource, key: &Key, old: Option<&Value>, new: Option<&Value>) {
        self.index_labels(gr, key, old, new);
        if let Some(o) = old {
            for uid in owner_uids(o) {
                if let Some(set) = self.owners.get_mut(uid) {
                    set.remove(&(gr.clone(), key.clone()));
                    if set.is_empty() {
                        self.owners.remove(uid);
                    }
                }
            }
            if new.is_none()
                && let Some(uid) = meta::uid_of(o)
            {
                self.uids.remove(uid);
            }
        }
        if let Some(n) = new {
            for uid in owner_uids(n) {
                self.owners
                    .entry(uid.to_owned())
                    .or_default()
                    .insert((gr.clone(), key.clone()));
            }
            if let Some(uid) = meta::uid_of(n) {
                self.uids.insert(uid.to_owned(), (gr.clone(), key.clone()));
            }
        }
    }

    fn next_rev(&mut self, clock: &Clock) -> u64 {
        self.rev += 1;
        self.times.record(self.rev, clock.now());
        self.rev
    }

    /// Stores `obj` (new or changed) under a fresh revision.
    pub(crate) fn commit(
        &mut self,
        clock: &Clock,
        gr: &GroupResource,
        mut obj: Value,
        old: Option<Arc<Value>>,
    ) -> Arc<Value> {
        let rev = self.next_rev(clock);
        meta::set_rv(&mut obj, rev);
        let key = key_of(meta::namespace_of(&obj).as_deref(), meta::name_of(&obj));
        let obj = Arc::new(obj);
        self.index(gr, &key, old.as_deref(), Some(&obj));
        self.tables
            .entry(gr.clone())
            .or_default()
            .insert(key, obj.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.publish(
            clock,
            Event {
                kind,
                resource: gr.clone(),
                object: obj.clone(),
                old,
                revision: rev,
            },
        );
        if event_ttl::is_event(gr) {
            self.event_leases
                .renew(&event_ttl::key_of(&obj), clock.now());
            self.expire_events(clock);
        }
        obj
    }

    /// Removes an object; the DELETED event carries `last` with the new revision.
    pub(crate) fn commit_delete(
        &mut self,
        clock: &Clock,
        gr: &GroupResource,
        mut last: Value,
        old: Arc<Value>,
    ) -> Arc<Value> {
        let rev = self.next_rev(clock);
        meta::set_rv(&mut last, rev);
        let key = key_of(meta::namespace_of(&last).as_deref(), meta::name_of(&last));
        if let Some(t) = self.tables.get_mut(gr) {
            t.remove(&key);
        }
        if event_ttl::is_event(gr) {
            self.event_leases.release(&key);
        }
        self.index(gr, &key, Some(&old), None);
        let last = Arc::new(last);
        self.publish(
            clock,
            Event {
                kind: EventType::Deleted,
                resource: gr.clone(),
                object: last.clone(),
                old: Some(old),
                revision: rev,
            },
        );
        last
    }

    fn publish(&mut self, clock: &Clock, ev: Event) {
        let ev = Arc::new(ev);
        self.history.push(ev.clone(), clock.now());
        let rev = ev.revision;
        self.subscribers.retain_mut(|s| {
            if !s.filter.matches(&ev) {
                return !s.tx.is_closed();
            }
            s.position = rev;
            s.tx.send(Notice::Event(ev.clone(), clock.busy())).is_ok()
        });
    }

    pub(crate) fn subscribe(
        &mut self,
        _clock: &Clock,
        filter: EventFilter,
        kind: Kind,
    ) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.push(Subscriber {
            filter,
            kind,
            tx,
            position: self.rev,
        });
        Subscription { rx }
    }

    /// A watch feed: replay (or synthetic ADDED) then live, with no gap.
    pub(crate) fn watch(
        &mut self,
        clock: &Clock,
        filter: EventFilter,
        from: Option<u64>,
    ) -> ApiResult<(Subscription, usize)> {
        let mut initial = 0;
        let (tx, rx) = mpsc::unbounded_channel();
        match from {
            Some(n) => {
                let n = n.min(self.rev);
                let events = self.history.since(n).ok_or_else(|| {
                    ApiError::expired(format!(
                        "too old resource version: {n} ({})",
                        self.history.oldest() + 1
                    ))
                })?;
                for ev in events.filter(|e| filter.matches(e)) {
                    let _ = tx.send(Notice::Event(ev.clone(), clock.busy()));
                }
            }
            None => {
                let items: Vec<Arc<Value>> = match &filter.resource {
                    Some(gr) => self
                        .scan(gr, filter.namespace.as_deref())
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                };
                for obj in items {
                    let ev = Event {
                        kind: EventType::Added,
                        resource: filter
                            .resource
                            .clone()
                            .unwrap_or_else(|| GroupResource::new("", "")),
                        revision: meta::rv_of(&obj),
                        object: obj,
                        old: None,
                    };
                    let _ = tx.send(Notice::Event(Arc::new(ev), clock.busy()));
                    initial += 1;
                }
            }
        }
        self.subscribers.push(Subscriber {
            filter,
            kind: Kind::Watch,
            tx,
            position: self.rev,
        });
        Ok((Subscription { rx }, initial))
    }

    /// Compacts through a fresh internal revision; watches are told.
    pub(crate) fn compact(&mut self, clock: &Clock) {
        let rev = self.next_rev(clock);
        self.history.compact(rev);
        let oldest = self.history.oldest();
        self.subscribers.retain(|s| match s.kind {
            Kind::Internal => true,
            Kind::Watch => {
                let _ = s.tx.send(Notice::Expired {
                    requested: s.position,
                    oldest,
                });
                false
            }
        });
    }

    /// Closes HTTP watches (of one resource, or all).
    pub(crate) fn close_watches(&mut self, only: Option<&GroupResource>) {
        self.subscribers.retain(|s| {
            s.kind == Kind::Internal
                || only.is_some_and(|gr| s.filter.resource.as_ref().is_some_and(|r| r != gr))
        });
    }

    pub(crate) fn clear(&mut self) {
        self.tables.clear();
        self.event_leases.clear();
        self.owners.clear();
        self.uids.clear();
        self.labels.clear();
        self.rev += 1;
        self.history.clear(self.rev);
        self.close_watches(None);
    }

    pub(crate) fn drop_table(&mut self, gr: &GroupResource) {
        self.tables.remove(gr);
        self.labels.remove(gr);
        self.close_watches(Some(gr));
    }

    pub(crate) fn dependents(&self, uid: &str, registry: &Registry) -> Vec<ObjectRef> {
        let Some(set) = self.owners.get(uid) else {
            return Vec::new();
        };
        set.iter()
            .filter_map(|(gr, key)| to_ref(registry, gr, key))
            .collect()
    }

    pub(crate) fn namespace_contents(&self, ns: &str, registry: &Registry) -> Vec<ObjectRef> {
        let mut out = Vec::new();
        for (gr, table) in &self.tables {
            let start = (ns.to_owned(), String::new());
            for (key, _) in table.range(start..).take_while(|((n, _), _)| n == ns) {
                if let Some(r) = to_ref(registry, gr, key) {
                    out.push(r);
                }
            }
        }
        out.sort();
        out
    }

    pub(crate) fn has_objects_in(&self, ns: &str) -> bool {
        self.tables.values().any(|t| {
            t.range((ns.to_owned(), String::new())..)
                .next()
                .is_some_and(|((n, _), _)| n == ns)
        })
    }

    /// Whether namespace `ns` exists, and whether it is terminating.
    pub(crate) fn namespace_state(&self, ns: &str) -> Option<bool> {
        let obj = self.get(&GroupResource::new("", "namespaces"), None, ns)?;
        Some(meta::is_deleting(&obj))
    }
}

fn to_ref(registry: &Registry, gr: &GroupResource, key: &Key) -> Option<ObjectRef> {
    let rt = registry.get(gr)?;
    Some(ObjectRef {
        gvr: rt.preferred_gvr(),
        namespace: (!key.0.is_empty()).then(|| key.0.clone()),
        name: key.1.clone(),
    })
}
