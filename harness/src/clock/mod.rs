//! The cluster's clock: wall time on real clusters, simulated time in the
//! embedded simulator.
//!
//! Drills are timed on the clock of the cluster they run against. A real
//! cluster (kind, Terraform, existing) runs on wall time. The simulator runs
//! on a **virtual clock** that jumps to the next due timer whenever nothing is
//! happening, so a drill whose simulated recovery takes minutes finishes in
//! a fraction of a second of wall time, and the same seed always gives the
//! same simulated durations.
//!
//! "Nothing is happening" is tracked with [`Busy`] guards. Whoever does work
//! that must complete before time moves on holds one: an API request being
//! served, a controller handling an event, a timer's owner right after it
//! fired (timers hand a guard over, see [`Clock::sleep`]), the drill runner
//! while it acts rather than waits. Time advances only when no guard has been
//! held for a short wall-clock quiet period ([`DEFAULT_QUIET`]), which also
//! covers the hand-off between a watch event leaving the server and its
//! reader reacting to it. A jump of [`FAR_JUMP`] or more (usually to a
//! timeout) waits for the longer [`FAR_QUIET`]: on a loaded machine a
//! hand-off can outlast the short period, and a false jump there would fail
//! a drill that was about to succeed. The quiet period is not trusted
//! alone: time also waits while a worker of the runtime other than the
//! advancer's is running or a task is queued (a hand-off under way on a
//! loaded machine), so the same seed gives the same simulated durations
//! whatever the machine's load.
//!
//! A [`Clock::scaled`] clock runs `factor` times faster than wall time; it is
//! for `gameday sim serve`, where a person or another process drives the
//! cluster and nobody could hold guards.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{Notify, oneshot};

mod source;

pub use source::{Stamps, TimeSource};

tokio::task_local! {
    /// The guard of the task acting as the harness (see [`Clock::act`]).
    static ACTOR: std::cell::RefCell<Option<Busy>>;
}

/// Drops the acting task's guard (it starts waiting); true when it had one.
fn release_actor() -> bool {
    ACTOR
        .try_with(|a| a.borrow_mut().take().is_some())
        .unwrap_or(false)
}

/// Gives the acting task its guard back (it stopped waiting).
fn reacquire_actor(clock: &Clock) {
    let _ = ACTOR.try_with(|a| {
        let mut a = a.borrow_mut();
        if a.is_none() {
            *a = Some(clock.busy());
        }
    });
}

/// How long (wall time) the virtual clock waits with no [`Busy`] guard held
/// before it jumps to the next timer.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(3);

/// A jump at least this far ahead (a timeout, a long interval) waits for
/// [`FAR_QUIET`] of wall-clock quiet instead of the clock's own period.
pub const FAR_JUMP: Duration = Duration::from_secs(60);

/// The quiet period of a far jump (see [`FAR_JUMP`]).
pub const FAR_QUIET: Duration = Duration::from_millis(100);

/// A clock: cheap to clone; clones share the same time.
#[derive(Clone)]
pub struct Clock {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Scaled {
        origin_wall: Instant,
        origin: Timestamp,
        factor: f64,
    },
    Virtual(Arc<Virtual>),
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Scaled { factor, .. } => {
                write!(f, "Clock::Scaled(x{factor}, now {})", self.now())
            }
            Kind::Virtual(_) => write!(f, "Clock::Virtual(now {})", self.now()),
        }
    }
}

/// Which kind of time a clock keeps; reports say which one their durations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeBase {
    /// Wall-clock time (possibly sped up by a factor).
    Wall,
    /// Simulated time of the embedded simulator.
    Simulated,
}

/// The error of [`Clock::timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {}", humantime::format_duration(*.0))]
pub struct Elapsed(pub Duration);

impl Clock {
    /// Real time.
    pub fn wall() -> Clock {
        Clock::scaled(1.0)
    }

    /// Wall time sped up `factor` times (`factor` ≥ 1 makes latencies
    /// shorter in wall time); the clock starts at the current wall time.
    pub fn scaled(factor: f64) -> Clock {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        Clock {
            kind: Kind::Scaled {
                origin_wall: Instant::now(),
                origin: Timestamp::now(),
                factor,
            },
        }
    }

    /// A virtual clock starting at `start`, advanced by a background task on
    /// the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn simulated(start: Timestamp) -> Clock {
        Clock::simulated_with_quiet(start, DEFAULT_QUIET)
    }

    /// [`Clock::simulated`] with an explicit quiet period.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn simulated_with_quiet(start: Timestamp, quiet: Duration) -> Clock {
        let state = Arc::new(Virtual {
            now: Mutex::new(start),
            timers: Mutex::new(BTreeMap::new()),
            next_seq: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            wake: Arc::new(Notify::new()),
            jumps: AtomicU64::new(0),
            paced: Mutex::new(None),
        });
        tokio::spawn(advance(Arc::downgrade(&state), state.wake.clone(), quiet));
        Clock {
            kind: Kind::Virtual(state),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.kind {
            Kind::Scaled {
                origin_wall,
                origin,
                factor,
            } => {
                let elapsed = origin_wall.elapsed().mul_f64(*factor);
                origin
                    .checked_add(
                        jiff::SignedDuration::try_from(elapsed)
                            .unwrap_or(jiff::SignedDuration::MAX),
                    )
                    .unwrap_or(Timestamp::MAX)
            }
            Kind::Virtual(v) => v.current(),
        }
    }

    /// From now on, a virtual clock no longer jumps: it runs at wall pace,
    /// timers firing when their time comes whoever is busy — for a
    /// simulated cluster kept serving after its drill (`--retain`), where
    /// a person with kubectl, not the harness, drives it. No effect on
    /// wall clocks; calling it again changes nothing.
    pub fn follow_wall(&self) {
        if let Kind::Virtual(v) = &self.kind {
            let mut paced = lock(&v.paced);
            if paced.is_none() {
                *paced = Some((Instant::now(), *lock(&v.now)));
            }
            drop(paced);
            v.touch();
        }
    }

    /// Time elapsed on this clock since `earlier` (zero if `earlier` is in
    /// the future).
    pub fn since(&self, earlier: Timestamp) -> Duration {
        duration_between(earlier, self.now())
    }

    /// Which kind of time this clock keeps.
    pub fn time_base(&self) -> TimeBase {
        match self.kind {
            Kind::Scaled { .. } => TimeBase::Wall,
            Kind::Virtual(_) => TimeBase::Simulated,
        }
    }

    /// True for the simulator's virtual clock.
    pub fn is_simulated(&self) -> bool {
        self.time_base() == TimeBase::Simulated
    }

    /// How many times the virtual clock has jumped (0 for wall clocks); for
    /// diagnostics and benchmarks.
    pub fn jumps(&self) -> u64 {
        match &self.kind {
            Kind::Scaled { .. } => 0,
            Kind::Virtual(v) => v.jumps.load(Ordering::Relaxed),
        }
    }

    /// A guard that keeps virtual time from advancing while it is held.
    /// No effect on wall clocks.
    pub fn busy(&self) -> Busy {
        match &self.kind {
            Kind::Scaled { .. } => Busy(None),
            Kind::Virtual(v) => Busy::acquire(v),
        }
    }

    /// Completes after `d` of this clock's time. The output is a [`Busy`]
    /// guard handed over by the timer: hold it while reacting to the timer,
    /// so time cannot move on before the reaction is done.
    pub fn sleep(&self, d: Duration) -> Sleep {
        let deadline = add(self.now(), d);
        self.sleep_until(deadline)
    }

    /// Completes at `deadline` on this clock; see [`Clock::sleep`].
    pub fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        match &self.kind {
            Kind::Scaled { factor, .. } => {
                let left = duration_between(self.now(), deadline).div_f64(*factor);
                Sleep {
                    inner: SleepInner::Wall(Box::pin(tokio::time::sleep(left))),
                    released: None,
                    clock: None,
                }
            }
            Kind::Virtual(v) => {
                if deadline <= v.current() {
                    return Sleep {
                        inner: SleepInner::Ready(Some(Busy::acquire(v))),
                        released: None,
                        clock: None,
                    };
                }
                self.timer(v, deadline)
            }
        }
    }

    /// Completes once everything happening at this instant is done, without
    /// moving time: on a virtual clock, a timer due now, fired as any other
    /// once no guard is held (the cluster finished reacting to what was
    /// just done); on a wall clock, at once. What is observed after it does
    /// not depend on which of the reactions and the observer the machine
    /// ran first.
    pub fn settle(&self) -> Sleep {
        match &self.kind {
            Kind::Scaled { .. } => self.sleep(Duration::ZERO),
            Kind::Virtual(v) => self.timer(v, v.current()),
        }
    }

    fn timer(&self, v: &Arc<Virtual>, deadline: Timestamp) -> Sleep {
        let (tx, rx) = oneshot::channel();
        let seq = v.next_seq.fetch_add(1, Ordering::Relaxed);
        lock(&v.timers).insert((deadline, seq), tx);
        v.touch();
        Sleep {
            inner: SleepInner::Virtual {
                rx,
                key: (deadline, seq),
                clock: Arc::downgrade(v),
            },
            released: None,
            clock: Some(self.clone()),
        }
    }

    /// Runs `fut` with a deadline `d` on this clock. Inside an acting task
    /// ([`Clock::act`]) this is a wait: the task's guard is released
    /// until `fut` completes or the deadline passes.
    ///
    /// # Errors
    /// [`Elapsed`] when `d` passes first; `fut` is dropped.
    pub async fn timeout<F: Future>(&self, d: Duration, fut: F) -> Result<F::Output, Elapsed> {
        let released = release_actor();
        let out = tokio::select! {
            biased;
            out = fut => Ok(out),
            _expired = self.sleep(d) => Err(Elapsed(d)),
        };
        if released {
            reacquire_actor(self);
        }
        out
    }

    /// Runs `fut` as the *actor* of this clock: the task holds a [`Busy`]
    /// guard all the time, except while it waits on the clock
    /// ([`Clock::sleep`], [`Clock::timeout`], and everything built on
    /// them). The drill runner acts this way, so simulated time passes only
    /// while it waits for the cluster — never while it applies, commits or
    /// snapshots, however long that takes in wall time.
    pub async fn act<F: Future>(&self, fut: F) -> F::Output {
        ACTOR
            .scope(std::cell::RefCell::new(Some(self.busy())), fut)
            .await
    }
}

/// While held, virtual time does not advance. Clones count separately.
#[must_use = "virtual time only stays still while the guard is held"]
pub struct Busy(Option<Arc<Virtual>>);

impl Busy {
    fn acquire(v: &Arc<Virtual>) -> Busy {
        v.busy.fetch_add(1, Ordering::SeqCst);
        v.epoch.fetch_add(1, Ordering::SeqCst);
        Busy(Some(v.clone()))
    }

    /// A guard that guards nothing (for wall clocks and tests).
    pub fn none() -> Busy {
        Busy(None)
    }
}

impl Clone for Busy {
    fn clone(&self) -> Self {
        match &self.0 {
            Some(v) => Busy::acquire(v),
            None => Busy(None),
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            v.epoch.fetch_add(1, Ordering::SeqCst);
            if v.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
                v.wake.notify_one();
            }
        }
    }
}

impl fmt::Debug for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Busy"
        } else {
            "Busy(none)"
        })
    }
}

/// The future of [`Clock::sleep`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    inner: SleepInner,
    /// None until first polled; then whether the acting task's guard was
    /// released for this wait.
    released: Option<bool>,
    clock: Option<Clock>,
}

enum SleepInner {
    Ready(Option<Busy>),
    Wall(Pin<Box<tokio::time::Sleep>>),
    Virtual {
        rx: oneshot::Receiver<Busy>,
        key: (Timestamp, u64),
        clock: Weak<Virtual>,
    },
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sleep")
    }
}

impl Future for Sleep {
    type Output = Busy;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Busy> {
        if self.released.is_none() {
            // A real wait: the acting task stops holding the clock.
            let waits = matches!(self.inner, SleepInner::Virtual { .. });
            self.released = Some(waits && release_actor());
        }
        let out = self.poll_inner(cx);
        if out.is_ready()
            && self.released == Some(true)
            && let Some(clock) = &self.clock
        {
            reacquire_actor(clock);
            self.released = Some(false);
        }
        out
    }
}

impl Sleep {
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Busy> {
        match &mut self.inner {
            SleepInner::Ready(b) => Poll::Ready(b.take().unwrap_or_else(Busy::none)),
            SleepInner::Wall(s) => s.as_mut().poll(cx).map(|()| Busy::none()),
            SleepInner::Virtual { rx, .. } => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(busy)) => Poll::Ready(busy),
                // The clock is gone: nothing will ever fire; never complete.
                Poll::Ready(Err(_)) => Poll::Pending,
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // A wait abandoned halfway (a `select!` picked another branch):
        // the acting task acts again.
        if self.released == Some(true)
            && let Some(clock) = &self.clock
        {
            reacquire_actor(clock);
        }
        // A cancelled timer must not make the clock jump to its deadline.
        if let SleepInner::Virtual { key, clock, .. } = &self.inner
            && let Some(v) = clock.upgrade()
            && lock(&v.timers).remove(key).is_some()
        {
            v.touch();
        }
    }
}

struct Virtual {
    now: Mutex<Timestamp>,
    timers: Mutex<BTreeMap<(Timestamp, u64), oneshot::Sender<Busy>>>,
    next_seq: AtomicU64,
    busy: AtomicUsize,
    /// Bumped on every guard change and timer change: the advancer only
    /// jumps when it saw no change during a whole quiet period.
    epoch: AtomicU64,
    wake: Arc<Notify>,
    jumps: AtomicU64,
    /// Set by [`Clock::follow_wall`]: the wall instant and the time then.
    paced: Mutex<Option<(Instant, Timestamp)>>,
}

impl Virtual {
    fn touch(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn is_idle_with_timers(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0 && !lock(&self.timers).is_empty()
    }

    /// The current time: the last jump's, or at wall pace once paced.
    fn current(&self) -> Timestamp {
        let now = *lock(&self.now);
        match *lock(&self.paced) {
            Some((wall, at)) => now.max(add(at, wall.elapsed())),
            None => now,
        }
    }

    /// When paced, the current time and the next deadline (if any).
    fn paced_now(&self) -> Option<(Timestamp, Option<Timestamp>)> {
        lock(&self.paced).as_ref()?;
        let now = self.current();
        let next = lock(&self.timers).keys().next().map(|(d, _)| *d);
        Some((now, next))
    }

    /// How far ahead the earliest deadline is.
    fn next_gap(&self) -> Option<Duration> {
        let next = lock(&self.timers).keys().next().map(|(d, _)| *d)?;
        Some(duration_between(*lock(&self.now), next))
    }

    /// Moves time to the earliest deadline and fires every timer due then.
    fn jump(self: &Arc<Self>) {
        let Some(deadline) = lock(&self.timers).keys().next().map(|(d, _)| *d) else {
            return;
        };
        self.fire_until(deadline);
    }

    /// Moves time to `deadline` (if later) and fires every timer due by then.
    fn fire_until(self: &Arc<Self>, deadline: Timestamp) {
        let due: Vec<oneshot::Sender<Busy>> = {
            let mut timers = lock(&self.timers);
            let mut now = lock(&self.now);
            if deadline > *now {
                *now = deadline;
            }
            let later = timers.split_off(&(deadline, u64::MAX));
            std::mem::replace(&mut *timers, later)
                .into_values()
                .collect()
        };
        self.jumps.fetch_add(1, Ordering::Relaxed);
        for tx in due {
            // Hand a guard to each sleeper so time stays here until it has
            // reacted; a dropped sleeper drops the guard at once.
            let _ = tx.send(Busy::acquire(self));
        }
    }
}

impl Drop for Virtual {
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

async fn advance(state: Weak<Virtual>, wake: Arc<Notify>, quiet: Duration) {
    loop {
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let paced = match state.upgrade() {
            Some(v) => v.paced_now(),
            None => return,
        };
        if let Some((now, next)) = paced {
            // At wall pace: fire what is due, sleep until the next
            // deadline or a new timer.
            if let Some(v) = state.upgrade() {
                v.fire_until(now);
            }
            match next.filter(|d| *d > now) {
                Some(d) => {
                    tokio::select! {
                        () = tokio::time::sleep(duration_between(now, d)) => {}
                        () = notified => {}
                    }
                }
                None if next.is_some() => {}
                None => notified.await,
            }
            continue;
        }
        let epoch = {
            let Some(v) = state.upgrade() else { return };
            if !v.is_idle_with_timers() {
                None
            } else {
                Some(v.epoch.load(Ordering::SeqCst))
            }
        };
        match epoch {
            None => notified.await,
            Some(seen) => {
                tokio::time::sleep(quiet).await;
                if !runtime_settled().await {
                    continue;
                }
                let Some(v) = state.upgrade() else { return };
                if !(v.is_idle_with_timers() && v.epoch.load(Ordering::SeqCst) == seen) {
                    continue;
                }
                // A far jump is usually to a timeout: taken during the
                // hand-off between a request and its answer on a loaded
                // machine, it would fail a drill that was about to
                // succeed. Such jumps wait for a longer quiet period.
                if v.next_gap().is_some_and(|gap| gap >= FAR_JUMP) {
                    drop(v);
                    tokio::time::sleep(FAR_QUIET).await;
                    if !runtime_settled().await {
                        continue;
                    }
                    let Some(v) = state.upgrade() else { return };
                    if !(v.is_idle_with_timers() && v.epoch.load(Ordering::SeqCst) == seen) {
                        continue;
                    }
                    v.jump();
                } else {
                    v.jump();
                }
            }
        }
    }
}

/// Whether the runtime has nothing left to do but the advancer: after a
/// yield (which lets this worker run what it has queued and poll the I/O
/// driver), no task waits in the global queue and every other worker is
/// parked. The quiet period alone is a guess about the machine: on a
/// loaded one, the reader of a watch event just sent can still be running
/// (or queued) when it ends, holding no guard yet, and a jump then would
/// time the reader's observation after the next timer — a drill's
/// simulated durations would depend on the machine's load. A running
/// worker or a queued task means such a hand-off is under way: wait again.
async fn runtime_settled() -> bool {
    tokio::task::yield_now().await;
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return true;
    };
    let m = handle.metrics();
    if m.global_queue_depth() > 0 {
        return false;
    }
    // An odd park/unpark count means the worker is parked; the advancer's
    // own worker is the one running.
    let running = (0..m.num_workers())
        .filter(|w| m.worker_park_unpark_count(*w) % 2 == 0)
        .count();
    running <= 1
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `later - earlier` as a std duration, zero when negative.
pub fn duration_between(earlier: Timestamp, later: Timestamp) -> Duration {
    let d = later.duration_since(earlier);
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests;
