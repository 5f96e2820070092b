//! One wait, from its first watch to the moment its condition holds: the
//! watchers it starts (kinds resolved through discovery; kinds not served
//! yet resolved once a CRD becomes established), the world they fill, and
//! the loop that applies watch events in bursts and judges the condition
//! after each burst.
//!
//! The clock: while starting watchers the observer is acting, not waiting,
//! so it holds the clock (simulated time cannot run ahead between
//! discovery, the initial lists and the first judgement) until every
//! needed kind is synced, or a watch fails (an unreachable API server must
//! not freeze time, or an outage would never end). From a burst's first
//! event until it is judged it holds the clock too: judging is the
//! observer's work, and simulated time must not run on while it is done.

use std::collections::BTreeSet;

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use kube::discovery::Discovery;
use kube::runtime::watcher::Event;

use super::condition::{Condition, Judgement};
use super::in_flight::{InFlight, Item, Tagged};
use super::watch::{event_summary, resolve, watch_kind};
use super::world::{self, GroupKind, World};
use super::{Error, Observed, Observer, Result, WaitOptions};
use crate::clock::Busy;

/// The most watch events applied to the world between two judgements.
const MAX_BATCH: usize = 4096;

fn crd_kind() -> GroupKind {
    GroupKind::new("apiextensions.k8s.io", "CustomResourceDefinition")
}

/// The state of one wait (see the module docs).
struct Session<'o> {
    observer: &'o Observer,
    world: World,
    streams: SelectAll<BoxStream<'static, Tagged>>,
    watching: BTreeSet<GroupKind>,
    discovery: Option<Discovery>,
    /// Watch events processed.
    events: u64,
    /// The highest resourceVersion delivered.
    last_rv: Option<u64>,
    in_flight: InFlight,
    /// Held while starting watchers (see the module docs).
    acting: Option<Busy>,
    /// Held from a burst's first event until it is judged.
    judging: Option<Busy>,
}

/// Waits until `condition` holds; `last` keeps its last judgement (for
/// the timeout's message). The caller owns the timeout.
pub(super) async fn watch_until(
    observer: &Observer,
    condition: &mut dyn Condition,
    opts: &WaitOptions<'_>,
    last: &mut String,
) -> Result<Observed> {
    let mut s = Session {
        observer,
        world: World::default(),
        streams: SelectAll::new(),
        watching: BTreeSet::new(),
        discovery: None,
        events: 0,
        last_rv: None,
        in_flight: InFlight::default(),
        acting: Some(observer.clock().busy()),
        judging: None,
    };
    loop {
        let needs = condition.needs(&s.world);
        let needs = s.watch(needs).await?;
        // Judge once every needed, known kind is synced.
        let ready = needs
            .iter()
            .all(|gk| s.world.synced.contains(gk) || s.world.unknown.contains(gk));
        if ready {
            s.acting = None;
            match condition.judge(&s.world) {
                Judgement::Met => return Ok(s.observed(opts)),
                Judgement::Pending(why) => {
                    if *last != why {
                        if let Some(p) = opts.progress {
                            p(&why);
                        }
                        *last = why;
                    }
                }
            }
        }
        s.burst().await;
    }
}

impl Session<'_> {
    /// Starts watchers for newly needed kinds (what the condition `needs`
    /// now); returns them, with CRDs while a kind is unknown. Kinds the server does not serve (yet) may be served once
    /// their CRD is established, so CRDs are watched while any kind is
    /// unknown.
    async fn watch(&mut self, mut needs: BTreeSet<GroupKind>) -> Result<BTreeSet<GroupKind>> {
        let crd = crd_kind();
        for _round in 0..2 {
            let mut wanted = needs.clone();
            if !self.world.unknown.is_empty() {
                wanted.insert(crd.clone());
            }
            let missing: Vec<GroupKind> = wanted.difference(&self.watching).cloned().collect();
            if missing.is_empty() {
                break;
            }
            if self.acting.is_none() {
                self.acting = Some(self.observer.clock().busy());
            }
            let rediscover = missing.iter().any(|gk| self.world.unknown.contains(gk));
            if self.discovery.is_none() || rediscover {
                self.discovery = Some(
                    Discovery::new(self.observer.client().clone())
                        .run()
                        .await
                        .map_err(Error::Discovery)?,
                );
            }
            let disc = self.discovery.as_ref().expect("discovery just ran");
            for gk in missing {
                match resolve(disc, &gk) {
                    Some(ar) => {
                        self.world.unknown.remove(&gk);
                        self.watching.insert(gk.clone());
                        let o = self.observer;
                        self.streams.push(watch_kind(o.client(), &o.times, gk, ar));
                    }
                    None => {
                        tracing::debug!(kind = %gk, "not served (yet)");
                        self.world.unknown.insert(gk);
                    }
                }
            }
        }
        if !self.world.unknown.is_empty() {
            needs.insert(crd);
        }
        Ok(needs)
    }

    /// The moment the condition was met: the time of the write that made it
    /// true, never before `not_before`.
    fn observed(self, opts: &WaitOptions<'_>) -> Observed {
        let rv = self.last_rv.or_else(|| self.world.max_rv());
        let times = &self.observer.times;
        Observed {
            at: times.time_of(rv).max(opts.not_before),
            lag: times.lag_of(rv),
            rv,
            events: self.events,
            world: self.world,
        }
    }

    /// Applies the next event (or waits for the next token expiry), then
    /// every event already waiting, up to [`MAX_BATCH`]: the condition is
    /// judged once per burst, not once per event (a judgement may cost a
    /// pass over every watched object). On the simulator the burst's events
    /// share one simulated instant: their in-flight tokens hold the clock
    /// until they are delivered.
    async fn burst(&mut self) {
        self.judging = None;
        let mut applied = 0usize;
        loop {
            let next = if applied == 0 {
                let expiry = self.in_flight.expire();
                tokio::select! {
                    next = self.streams.next() => next,
                    () = async {
                        match expiry {
                            Some(at) => tokio::time::sleep_until(at.into()).await,
                            None => futures::future::pending().await,
                        }
                    } => return,
                }
            } else if applied >= MAX_BATCH {
                return;
            } else {
                match self.streams.next().now_or_never() {
                    Some(Some(next)) => Some(next),
                    _ => return,
                }
            };
            let Some((gk, item)) = next else {
                // No watcher at all (every needed kind unknown): wait for the
                // timeout; a CRD watcher is normally running in that case.
                futures::future::pending::<()>().await;
                continue;
            };
            let ev = match item {
                Item::Token(rev, busy) => {
                    self.in_flight.token(&gk, rev, busy);
                    continue;
                }
                Item::Watch(ev) => *ev,
            };
            self.events += 1;
            applied += 1;
            if self.judging.is_none() {
                self.judging = Some(self.observer.clock().busy());
            }
            match ev {
                Ok(ev) => self.apply(&gk, ev),
                Err(e) => {
                    // The watcher retries with back-off; the stream goes on.
                    self.acting = None;
                    self.in_flight.disconnect(&gk);
                    tracing::debug!(kind = %gk, error = %e, "watch error");
                }
            }
        }
    }

    /// Applies one watch event to the world.
    fn apply(&mut self, gk: &GroupKind, ev: Event<kube::api::DynamicObject>) {
        tracing::trace!(kind = %gk, event = ?event_summary(&ev), "watch event");
        let done = matches!(ev, Event::InitDone);
        if let Some(rv) = world::apply_event(&mut self.world, gk, ev) {
            self.last_rv = Some(self.last_rv.map_or(rv, |l| l.max(rv)));
            self.in_flight.delivered(gk, rv);
        }
        if done {
            // A fresh list reflects every earlier write.
            self.in_flight.connect(gk);
        }
        if *gk == crd_kind() {
            // A CRD changed: unknown kinds may now be served.
            let newly: Vec<GroupKind> = self.world.unknown.iter().cloned().collect();
            if !newly.is_empty() && world::crd_established_for(&self.world, &newly) {
                self.discovery = None;
                for gk in newly {
                    self.world.unknown.remove(&gk);
                }
            }
        }
    }
}
