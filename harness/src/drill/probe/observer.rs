//! Watch-based waiting: every phase boundary of a drill is a condition over
//! a set of objects, observed through kube-runtime watchers — never sleeps
//! or polling loops — and timed on the cluster's clock.
//!
//! An [`Observer::wait`] call starts one watcher per kind the condition
//! needs (resolved through discovery; kinds whose CRD does not exist yet are
//! resolved when a CRD becomes established), keeps every watched object in a
//! [`World`], and re-judges the condition after each event. The moment a
//! condition became true is the time of the write that made it true: on the
//! simulator, the clock time of that event's resourceVersion
//! ([`TimeSource::Stamped`]), so the harness's own reaction time never enters a
//! measured duration; elsewhere, the wall time the event arrived.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::discovery::Discovery;
use kube::runtime::utils::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use super::checks::{Inventory, kustomization_kind, pod_kind, workload_kinds};
use crate::clock::{Clock, TimeSource};
use crate::kstatus::{self as health, Health};

/// Errors of a wait.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The condition did not hold within the timeout.
    #[error("timed out after {} waiting for {what}: {last}", humantime::format_duration(*.after))]
    TimedOut {
        /// What was awaited.
        what: String,
        /// The timeout.
        after: Duration,
        /// The condition's last judgement.
        last: String,
    },
    /// Discovery failed (the API server did not answer).
    #[error("discovering the cluster's API resources failed")]
    Discovery(#[source] kube::Error),
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A kind, without version: what conditions talk about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// API group (empty for core).
    pub group: String,
    /// Kind.
    pub kind: String,
}

impl GroupKind {
    /// A kind in a group (`""` for core).
    pub fn new(group: &str, kind: &str) -> GroupKind {
        GroupKind {
            group: group.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The kind of an `apiVersion` (`apps/v1`) and `kind`.
    pub fn of(api_version: &str, kind: &str) -> GroupKind {
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        GroupKind::new(group, kind)
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// Every watched object, by kind then `(namespace, name)`.
#[derive(Debug, Default, Clone)]
pub struct World {
    objects: BTreeMap<GroupKind, BTreeMap<(String, String), Arc<Value>>>,
    /// Every Kustomization's `status.inventory`, parsed when it changes
    /// (judgements read them after every burst of events).
    inventories: BTreeMap<(String, String), Arc<Inventory>>,
    /// The health of workloads and Pods, judged when they change.
    health: BTreeMap<GroupKind, BTreeMap<(String, String), Health>>,
    synced: BTreeSet<GroupKind>,
    unknown: BTreeSet<GroupKind>,
}

impl World {
    /// Objects of a kind (empty when not watched or not synced).
    pub fn objects(&self, gk: &GroupKind) -> impl Iterator<Item = &Value> {
        self.objects
            .get(gk)
            .into_iter()
            .flat_map(|m| m.values().map(|v| v.as_ref()))
    }

    /// One object.
    pub fn get(&self, gk: &GroupKind, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(gk)?
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|v| v.as_ref())
    }

    /// The parsed inventories of the watched Kustomizations.
    pub fn inventories(&self) -> impl Iterator<Item = &Inventory> {
        self.inventories.values().map(AsRef::as_ref)
    }

    /// Objects of a workload kind or Pods, with their namespace, name and
    /// health (judged once per change). Other kinds give nothing.
    pub fn judged(&self, gk: &GroupKind) -> impl Iterator<Item = (&str, &str, &Value, &Health)> {
        let health = self.health.get(gk);
        self.objects
            .get(gk)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(move |(key, o)| {
                let h = health?.get(key)?;
                Some((key.0.as_str(), key.1.as_str(), o.as_ref(), h))
            })
    }

    fn insert(&mut self, gk: &GroupKind, key: (String, String), value: Value) {
        if is_judged(gk) {
            self.health
                .entry(gk.clone())
                .or_default()
                .insert(key.clone(), health::health(&value));
        }
        if *gk == kustomization_kind() {
            let inventory = Inventory::of(&value);
            match self.inventories.get(&key) {
                Some(old) if **old == inventory => {}
                _ => {
                    self.inventories.insert(key.clone(), Arc::new(inventory));
                }
            }
        }
        self.objects
            .entry(gk.clone())
            .or_default()
            .insert(key, Arc::new(value));
    }

    fn remove(&mut self, gk: &GroupKind, key: &(String, String)) {
        if let Some(h) = self.health.get_mut(gk) {
            h.remove(key);
        }
        if *gk == kustomization_kind() {
            self.inventories.remove(key);
        }
        if let Some(objects) = self.objects.get_mut(gk) {
            objects.remove(key);
        }
    }

    fn clear(&mut self, gk: &GroupKind) {
        self.health.remove(gk);
        if *gk == kustomization_kind() {
            self.inventories.clear();
        }
        self.objects.entry(gk.clone()).or_default().clear();
    }

    /// True once the kind's initial list has been received.
    pub fn is_synced(&self, gk: &GroupKind) -> bool {
        self.synced.contains(gk)
    }

    /// True when the API server does not (yet) serve the kind.
    pub fn is_unknown(&self, gk: &GroupKind) -> bool {
        self.unknown.contains(gk)
    }

    /// A world holding these objects, every kind synced: for judging
    /// conditions offline (tests, reports).
    pub fn from_objects(
        objects: impl IntoIterator<Item = Value>,
        synced: impl IntoIterator<Item = GroupKind>,
    ) -> World {
        let mut w = World::default();
        for gk in synced {
            w.synced.insert(gk.clone());
            w.objects.entry(gk).or_default();
        }
        for o in objects {
            let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("v1");
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            let gk = GroupKind::of(api, kind);
            let key = (
                o.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            );
            w.synced.insert(gk.clone());
            w.insert(&gk, key, o);
        }
        w
    }

    fn max_rv(&self) -> Option<u64> {
        self.objects
            .values()
            .flat_map(|m| m.values())
            .filter_map(|o| rv_of(o))
            .max()
    }
}

/// Kinds whose health the world keeps ([`World::judged`]).
fn is_judged(gk: &GroupKind) -> bool {
    *gk == pod_kind() || workload_kinds().contains(gk)
}

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

/// When and how a condition was met.
#[derive(Debug, Clone)]
pub struct Observed {
    /// When it became true (cluster clock), never before `not_before`.
    pub at: Timestamp,
    /// Wall time between the triggering event's write and the harness
    /// recording it (simulator only).
    pub lag: Option<Duration>,
    /// The resourceVersion of the event that made it true.
    pub rv: Option<u64>,
    /// Events processed while waiting.
    pub events: u64,
    /// Every watched object at that moment.
    pub world: World,
}

/// Options of one wait.
pub struct WaitOptions<'a> {
    /// What is awaited, for messages (`podinfo Kustomizations Ready`).
    pub what: String,
    /// Give up after this long on the cluster's clock.
    pub timeout: Duration,
    /// The condition cannot have become true before this (e.g. the disaster).
    pub not_before: Timestamp,
    /// Called with the condition's judgement when it changes.
    pub progress: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

impl fmt::Debug for WaitOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("what", &self.what)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Waits for conditions on one cluster.
#[derive(Clone)]
pub struct Observer {
    client: kube::Client,
    times: TimeSource,
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer")
            .field("times", &self.times)
            .finish_non_exhaustive()
    }
}

/// What the merged streams deliver: a watch event from the API, or — on
/// the simulator — the token of a write the watch will deliver.
enum Item {
    Watch(Box<std::result::Result<Event<DynamicObject>, watcher::Error>>),
    Token(u64, crate::clock::Busy),
}

type Tagged = (GroupKind, Item);

/// Tokens of writes the simulator made that this observer's watches have
/// not delivered yet. Each holds the virtual clock: simulated time cannot
/// move on while an event is on its way to the harness, however slowly the
/// machine delivers it (without this, a loaded machine could let the clock
/// jump to a timeout with the event that met the condition still in flight).
#[derive(Default)]
struct InFlight {
    tokens: BTreeMap<GroupKind, std::collections::VecDeque<(u64, Instant, crate::clock::Busy)>>,
    /// The highest revision each watch has delivered (a token may arrive
    /// after its event: it is then already done with).
    through: BTreeMap<GroupKind, u64>,
    /// Kinds whose watch is broken (API unreachable): their tokens are
    /// dropped, or an outage would freeze time forever.
    disconnected: BTreeSet<GroupKind>,
}

impl InFlight {
    fn token(&mut self, gk: &GroupKind, rev: u64, busy: crate::clock::Busy) {
        let done = self.through.get(gk).is_some_and(|t| *t >= rev);
        if !done && !self.disconnected.contains(gk) {
            self.tokens
                .entry(gk.clone())
                .or_default()
                .push_back((rev, Instant::now(), busy));
        }
    }

    fn delivered(&mut self, gk: &GroupKind, rev: u64) {
        let t = self.through.entry(gk.clone()).or_insert(0);
        *t = (*t).max(rev);
        if let Some(q) = self.tokens.get_mut(gk) {
            while q.front().is_some_and(|(r, _, _)| *r <= rev) {
                q.pop_front();
            }
        }
    }

    fn clear(&mut self, gk: &GroupKind) {
        self.tokens.remove(gk);
    }

    fn disconnect(&mut self, gk: &GroupKind) {
        self.clear(gk);
        self.disconnected.insert(gk.clone());
    }

    fn connect(&mut self, gk: &GroupKind) {
        self.clear(gk);
        self.disconnected.remove(gk);
    }

    /// Drops tokens older than [`TOKEN_TTL`] (a write whose event the watch
    /// will never deliver, such as a deletion just before a relist); returns
    /// when the next one expires.
    fn expire(&mut self) -> Option<Instant> {
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

/// The most watch events applied to the world between two judgements.
const MAX_BATCH: usize = 4096;

impl Observer {
    /// An observer using `client`, timing events with `times`.
    pub fn new(client: kube::Client, times: TimeSource) -> Observer {
        Observer { client, times }
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        self.times.clock()
    }

    /// The client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Waits until `condition` holds.
    ///
    /// # Errors
    /// [`Error::TimedOut`] (naming what was awaited and the last judgement)
    /// or [`Error::Discovery`].
    pub async fn wait(
        &self,
        condition: &mut dyn Condition,
        opts: WaitOptions<'_>,
    ) -> Result<Observed> {
        let clock = self.clock().clone();
        let mut last = String::from("nothing observed yet");
        let result = clock
            .timeout(opts.timeout, self.watch_until(condition, &opts, &mut last))
            .await;
        match result {
            Ok(r) => r,
            Err(_) => Err(Error::TimedOut {
                what: opts.what.clone(),
                after: opts.timeout,
                last,
            }),
        }
    }

    async fn watch_until(
        &self,
        condition: &mut dyn Condition,
        opts: &WaitOptions<'_>,
        last: &mut String,
    ) -> Result<Observed> {
        let mut world = World::default();
        let mut streams: SelectAll<BoxStream<'static, Tagged>> = SelectAll::new();
        let mut watching: BTreeSet<GroupKind> = BTreeSet::new();
        let mut discovery: Option<Discovery> = None;
        let crd = GroupKind::new("apiextensions.k8s.io", "CustomResourceDefinition");
        let mut events = 0u64;
        let mut last_rv: Option<u64> = None;
        let mut in_flight = InFlight::default();
        // While starting watchers the observer is acting, not waiting: hold
        // the clock so simulated time cannot run ahead between discovery,
        // the initial lists and the first judgement. Dropped once every
        // needed kind is synced, and on a watch error (an unreachable API
        // server must not freeze time, or an outage would never end).
        let mut acting: Option<crate::clock::Busy> = Some(self.clock().busy());
        let mut judging: Option<crate::clock::Busy>;
        loop {
            // Start watchers for newly needed kinds. Kinds the server does
            // not serve (yet) may be served once their CRD is established,
            // so CRDs are watched while any kind is unknown.
            let mut needs = condition.needs(&world);
            for _round in 0..2 {
                let mut wanted = needs.clone();
                if !world.unknown.is_empty() {
                    wanted.insert(crd.clone());
                }
                let missing: Vec<GroupKind> = wanted.difference(&watching).cloned().collect();
                if missing.is_empty() {
                    break;
                }
                if acting.is_none() {
                    acting = Some(self.clock().busy());
                }
                if discovery.is_none() || missing.iter().any(|gk| world.unknown.contains(gk)) {
                    discovery = Some(
                        Discovery::new(self.client.clone())
                            .run()
                            .await
                            .map_err(Error::Discovery)?,
                    );
                }
                let disc = discovery.as_ref().expect("discovery just ran");
                for gk in missing {
                    match resolve(disc, &gk) {
                        Some(ar) => {
                            world.unknown.remove(&gk);
                            watching.insert(gk.clone());
                            streams.push(self.watch_kind(gk, ar));
                        }
                        None => {
                            tracing::debug!(kind = %gk, "not served (yet)");
                            world.unknown.insert(gk);
                        }
                    }
                }
            }
            if !world.unknown.is_empty() {
                needs.insert(crd.clone());
            }
            // Judge once every needed, known kind is synced.
            let ready = needs
                .iter()
                .all(|gk| world.synced.contains(gk) || world.unknown.contains(gk));
            if ready {
                acting = None;
                match condition.judge(&world) {
                    Judgement::Met => {
                        let rv = last_rv.or_else(|| world.max_rv());
                        let at = self.times.time_of(rv).max(opts.not_before);
                        let lag = self.times.lag_of(rv);
                        return Ok(Observed {
                            at,
                            lag,
                            rv,
                            events,
                            world,
                        });
                    }
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
            // The next event (or the next token expiry), then every event
            // already waiting, up to MAX_BATCH: the condition is judged once
            // per burst, not once per event (a judgement may cost a pass over
            // every watched object). On the simulator the burst's events
            // share one simulated instant: their in-flight tokens hold the
            // clock until they are delivered.
            // Held from a burst's first event until it is judged: judging is
            // the observer's work, and simulated time must not run on while
            // it is done (it would, after the quiet period, on a slow judge).
            judging = None;
            let mut applied = 0usize;
            'burst: loop {
                let next = if applied == 0 {
                    let expiry = in_flight.expire();
                    tokio::select! {
                        next = streams.next() => next,
                        () = async {
                            match expiry {
                                Some(at) => tokio::time::sleep_until(at.into()).await,
                                None => futures::future::pending().await,
                            }
                        } => break 'burst,
                    }
                } else if applied >= MAX_BATCH {
                    break 'burst;
                } else {
                    match streams.next().now_or_never() {
                        Some(Some(next)) => Some(next),
                        _ => break 'burst,
                    }
                };
                let Some((gk, ev)) = next else {
                    // No watcher at all (every needed kind unknown): wait for the
                    // timeout; a CRD watcher is normally running in that case.
                    futures::future::pending::<()>().await;
                    continue;
                };
                let ev = match ev {
                    Item::Token(rev, busy) => {
                        in_flight.token(&gk, rev, busy);
                        continue 'burst;
                    }
                    Item::Watch(ev) => *ev,
                };
                events += 1;
                applied += 1;
                if judging.is_none() {
                    judging = Some(self.clock().busy());
                }
                match ev {
                    Ok(ev) => {
                        tracing::trace!(kind = %gk, event = ?event_summary(&ev), "watch event");
                        let done = matches!(ev, Event::InitDone);
                        if let Some(rv) = apply_event(&mut world, &gk, ev) {
                            last_rv = Some(last_rv.map_or(rv, |l| l.max(rv)));
                            in_flight.delivered(&gk, rv);
                        }
                        if done {
                            // A fresh list reflects every earlier write.
                            in_flight.connect(&gk);
                        }
                        if gk == crd {
                            // A CRD changed: unknown kinds may now be served.
                            let newly: Vec<GroupKind> = world.unknown.iter().cloned().collect();
                            if !newly.is_empty() && crd_established_for(&world, &newly) {
                                discovery = None;
                                for gk in newly {
                                    world.unknown.remove(&gk);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        // The watcher retries with back-off; the stream goes on.
                        acting = None;
                        in_flight.disconnect(&gk);
                        tracing::debug!(kind = %gk, error = %e, "watch error");
                    }
                }
            }
        }
    }

    fn watch_kind(&self, gk: GroupKind, ar: ApiResource) -> BoxStream<'static, Tagged> {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        let tag = gk.clone();
        let watch = watcher::watcher(api, watcher::Config::default())
            .backoff(QuickBackoff::default())
            .map(move |ev| (tag.clone(), Item::Watch(Box::new(ev))));
        match self.times.stamps() {
            Some(stamps) => {
                // Subscribed before the watch lists, so no write is missed.
                let tokens = stamps
                    .writes(&ar.group, &ar.plural)
                    .map(move |(rev, busy)| (gk.clone(), Item::Token(rev, busy)));
                futures::stream::select(watch, tokens).boxed()
            }
            None => watch.boxed(),
        }
    }
}

/// Applies a watcher event to the world; returns the event's resourceVersion.
fn apply_event(world: &mut World, gk: &GroupKind, ev: Event<DynamicObject>) -> Option<u64> {
    match ev {
        Event::Init => {
            world.synced.remove(gk);
            world.clear(gk);
            None
        }
        Event::InitApply(obj) | Event::Apply(obj) => {
            let key = (
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            let value = serde_json::to_value(&obj).ok()?;
            let rv = rv_of(&value);
            world.insert(gk, key, value);
            rv
        }
        Event::Delete(obj) => {
            let key = (
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            world.remove(gk, &key);
            obj.metadata
                .resource_version
                .as_deref()
                .and_then(|r| r.parse().ok())
        }
        Event::InitDone => {
            world.objects.entry(gk.clone()).or_default();
            world.synced.insert(gk.clone());
            None
        }
    }
}

fn event_summary(ev: &Event<DynamicObject>) -> String {
    let name = |o: &DynamicObject| {
        format!(
            "{}@{}",
            o.metadata.name.as_deref().unwrap_or("?"),
            o.metadata.resource_version.as_deref().unwrap_or("?")
        )
    };
    match ev {
        Event::Init => "init".into(),
        Event::InitDone => "init-done".into(),
        Event::InitApply(o) => format!("init-apply {}", name(o)),
        Event::Apply(o) => format!("apply {}", name(o)),
        Event::Delete(o) => format!("delete {}", name(o)),
    }
}

fn rv_of(v: &Value) -> Option<u64> {
    v.get("metadata")?
        .get("resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

/// True when some established CRD serves one of `kinds`.
fn crd_established_for(world: &World, kinds: &[GroupKind]) -> bool {
    let crd = GroupKind::new("apiextensions.k8s.io", "CustomResourceDefinition");
    world.objects(&crd).any(|c| {
        let group = c
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = c
            .pointer("/spec/names/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let established = crate::kstatus::condition_status(c, "Established") == Some("True");
        established && kinds.iter().any(|gk| gk.group == group && gk.kind == kind)
    })
}

/// The preferred version's resource for a kind.
fn resolve(discovery: &Discovery, gk: &GroupKind) -> Option<ApiResource> {
    let group = discovery.get(&gk.group)?;
    group.recommended_kind(&gk.kind).map(|(ar, _)| ar)
}

/// Watch back-off: short, because a drill measures recovery and a watcher
/// sleeping 30 s after an API outage would measure itself.
#[derive(Debug, Clone)]
struct QuickBackoff {
    next: Duration,
}

impl Default for QuickBackoff {
    fn default() -> Self {
        QuickBackoff {
            next: Duration::from_millis(20),
        }
    }
}

impl Iterator for QuickBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (self.next * 2).min(Duration::from_millis(500));
        Some(d)
    }
}

impl kube::runtime::utils::Backoff for QuickBackoff {
    fn reset(&mut self) {
        *self = QuickBackoff::default();
    }
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

/// Wall-clock stopwatch for the harness's own overhead figures.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }
    /// Milliseconds since start.
    pub fn ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
