//! Tests of the clock.
use super::*;

fn start() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn virtual_sleep_jumps_without_waiting() {
    let clock = Clock::simulated(start());
    let wall = Instant::now();
    let _b = clock.sleep(Duration::from_secs(3600)).await;
    assert_eq!(clock.since(start()), Duration::from_secs(3600));
    assert!(wall.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_clock_following_the_wall_stops_jumping() {
    let clock = Clock::simulated(start());
    let _b = clock.sleep(Duration::from_secs(3600)).await;
    drop(_b);
    clock.follow_wall();
    // A held guard no longer stops time: it flows with the wall.
    let guard = clock.busy();
    let before = clock.now();
    std::thread::sleep(Duration::from_millis(30));
    assert!(clock.now() > before);
    drop(guard);
    // A timer fires after its time in wall terms, not at once.
    let wall = Instant::now();
    let _b = clock.sleep(Duration::from_millis(300)).await;
    let waited = wall.elapsed();
    assert!(waited >= Duration::from_millis(290), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(clock.since(start()) >= Duration::from_millis(3_600_300));
    assert!(clock.since(start()) < Duration::from_secs(3700));
}

#[tokio::test]
async fn busy_guard_holds_time_still() {
    let clock = Clock::simulated(start());
    let guard = clock.busy();
    let sleeper = tokio::spawn({
        let clock = clock.clone();
        async move {
            drop(clock.sleep(Duration::from_secs(10)).await);
            clock.now()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(clock.now(), start(), "time moved while a guard was held");
    drop(guard);
    let woke = sleeper.await.unwrap();
    assert_eq!(duration_between(start(), woke), Duration::from_secs(10));
}

#[tokio::test]
async fn timers_fire_in_deadline_order() {
    let clock = Clock::simulated(start());
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for secs in [30u64, 10, 20] {
        let (clock, order) = (clock.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let _b = clock.sleep(Duration::from_secs(secs)).await;
            lock(&order).push((secs, clock.since(start()).as_secs()));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*lock(&order), vec![(10, 10), (20, 20), (30, 30)]);
}

#[tokio::test]
async fn a_fired_timer_hands_over_a_guard() {
    let clock = Clock::simulated(start());
    let first = clock.sleep(Duration::from_secs(1));
    let second = tokio::spawn({
        let clock = clock.clone();
        async move {
            drop(clock.sleep(Duration::from_secs(2)).await);
            clock.now()
        }
    });
    let guard = first.await;
    // While the first sleeper holds its guard, the 2 s timer cannot fire.
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(clock.since(start()), Duration::from_secs(1));
    drop(guard);
    assert_eq!(
        duration_between(start(), second.await.unwrap()),
        Duration::from_secs(2)
    );
}

#[tokio::test]
async fn cancelled_timers_do_not_move_time() {
    let clock = Clock::simulated(start());
    let long = clock.sleep(Duration::from_secs(600));
    drop(long);
    let _b = clock.sleep(Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(clock.since(start()), Duration::from_secs(5));
}

#[tokio::test]
async fn timeout_on_virtual_time() {
    let clock = Clock::simulated(start());
    let never = futures::future::pending::<()>();
    let err = clock
        .timeout(Duration::from_secs(300), never)
        .await
        .unwrap_err();
    assert_eq!(err, Elapsed(Duration::from_secs(300)));
    assert_eq!(clock.since(start()), Duration::from_secs(300));
    let ok = clock.timeout(Duration::from_secs(300), async { 7 }).await;
    assert_eq!(ok, Ok(7));
}

#[tokio::test]
async fn an_actor_holds_the_clock_except_while_it_waits() {
    let clock = Clock::simulated(start());
    // Something else would like time to move on.
    let other = tokio::spawn({
        let clock = clock.clone();
        async move {
            drop(clock.sleep(Duration::from_secs(5)).await);
            clock.now()
        }
    });
    let actor = clock.clone();
    clock
        .act(async move {
            // Acting (not waiting on the clock) for a while of wall time:
            // time stays still.
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(actor.now(), start());
            // Waiting: time moves, and the other task's timer fires first.
            drop(actor.sleep(Duration::from_secs(60)).await);
            assert_eq!(actor.since(start()), Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(
                actor.since(start()),
                Duration::from_secs(60),
                "acting again"
            );
            let r = actor
                .timeout(Duration::from_secs(30), futures::future::pending::<()>())
                .await;
            assert!(r.is_err());
            assert_eq!(actor.since(start()), Duration::from_secs(90));
        })
        .await;
    assert_eq!(
        duration_between(start(), other.await.unwrap()),
        Duration::from_secs(5)
    );
}

#[tokio::test]
async fn scaled_clock_runs_faster_than_wall() {
    let clock = Clock::scaled(1000.0);
    let t0 = clock.now();
    let _ = clock.sleep(Duration::from_secs(2)).await;
    assert!(clock.since(t0) >= Duration::from_secs(2));
    assert_eq!(clock.time_base(), TimeBase::Wall);
}

/// A task still running on another worker, holding no guard (the reader of
/// a watch event on a loaded machine), keeps time still: the quiet period
/// alone would have jumped to the pending timer after 3 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_still_running_without_a_guard_holds_time_still() {
    let clock = Clock::simulated(start());
    let timer = tokio::spawn({
        let clock = clock.clone();
        async move { drop(clock.sleep(Duration::from_secs(60)).await) }
    });
    // Let the timer register, then hand work to a task that holds no
    // guard and keeps its worker busy far longer than the quiet period.
    tokio::task::yield_now().await;
    let seen = tokio::spawn({
        let clock = clock.clone();
        async move {
            let first = clock.now();
            std::thread::sleep(Duration::from_millis(200));
            (first, clock.now())
        }
    })
    .await
    .unwrap();
    assert_eq!(seen, (start(), start()), "time jumped under a running task");
    timer.await.unwrap();
    assert_eq!(clock.since(start()), Duration::from_secs(60));
}

/// `settle` waits for what happens at this instant (a guard holder's work)
/// and never moves time, even with a later timer pending.
#[tokio::test]
async fn settle_waits_for_the_work_of_this_instant_without_moving_time() {
    let clock = Clock::simulated(start());
    let later = tokio::spawn({
        let clock = clock.clone();
        async move { drop(clock.sleep(Duration::from_secs(60)).await) }
    });
    tokio::task::yield_now().await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let guard = clock.busy();
    let worker = tokio::spawn({
        let done = done.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            done.store(true, Ordering::SeqCst);
            drop(guard);
        }
    });
    drop(clock.settle().await);
    assert!(done.load(Ordering::SeqCst), "settled before the work ended");
    assert_eq!(clock.now(), start());
    worker.await.unwrap();
    later.await.unwrap();
    assert_eq!(clock.since(start()), Duration::from_secs(60));
}
