//! The live reporter in line mode (stderr not a terminal, e.g. CI logs):
//! a scripted event sequence gives exactly the expected lines, parallel
//! scenarios stay told apart, and the view is driven from a channel.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gameday::clock::Clock;
use gameday::report::events::Event;
use gameday::report::terminal::LiveReporter;
use gameday::report::testing;
use gameday::report::tree::{PhaseGroup, Status};

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn started(
    scenario: &str,
    repeat: u32,
    phase: &str,
    group: PhaseGroup,
    budget: Option<u64>,
) -> Event {
    Event::PhaseStarted {
        scenario: scenario.into(),
        repeat,
        phase: phase.into(),
        group,
        budget: budget.map(Duration::from_secs),
    }
}

fn finished(
    scenario: &str,
    repeat: u32,
    phase: &str,
    status: Status,
    ms: u64,
    budget: Option<u64>,
) -> Event {
    Event::PhaseFinished {
        scenario: scenario.into(),
        repeat,
        phase: phase.into(),
        status,
        duration: Duration::from_millis(ms),
        budget: budget.map(Duration::from_secs),
    }
}

fn progress(scenario: &str, phase: &str, detail: &str) -> Event {
    Event::PhaseProgress {
        scenario: scenario.into(),
        repeat: 1,
        phase: phase.into(),
        detail: detail.into(),
    }
}

#[tokio::test]
async fn scripted_run_prints_the_expected_lines() {
    let clock = Clock::simulated(jiff::Timestamp::UNIX_EPOCH);
    let sample = testing::run_report();
    let slow = &sample.scenarios[1];
    let events = vec![
        Event::RunStarted {
            run_id: "7f3a".into(),
            scenarios: 2,
            parallel: 2,
        },
        Event::ScenarioStarted {
            scenario: "cluster-loss-slow".into(),
            repeats: 1,
        },
        Event::ScenarioStarted {
            scenario: "namespace-loss".into(),
            repeats: 5,
        },
        Event::RepeatStarted {
            scenario: "cluster-loss-slow".into(),
            repeat: 1,
            clock: clock.clone(),
        },
        Event::RepeatStarted {
            scenario: "namespace-loss".into(),
            repeat: 1,
            clock: clock.clone(),
        },
        started(
            "cluster-loss-slow",
            1,
            "provision",
            PhaseGroup::Recovery,
            Some(60),
        ),
        started(
            "namespace-loss",
            1,
            "converge",
            PhaseGroup::Recovery,
            Some(60),
        ),
        progress(
            "namespace-loss",
            "converge",
            "waiting for 1/2 Kustomizations Ready",
        ),
        progress(
            "namespace-loss",
            "converge",
            "waiting for 1/2 Kustomizations Ready",
        ),
        Event::Operation {
            scenario: "cluster-loss-slow".into(),
            repeat: 1,
            what: "cluster gameday-x created".into(),
        },
        finished(
            "cluster-loss-slow",
            1,
            "provision",
            Status::Passed,
            52_000,
            Some(60),
        ),
        finished(
            "namespace-loss",
            1,
            "converge",
            Status::Passed,
            38_200,
            Some(60),
        ),
        started(
            "cluster-loss-slow",
            1,
            "converge",
            PhaseGroup::Recovery,
            Some(180),
        ),
        finished(
            "cluster-loss-slow",
            1,
            "converge",
            Status::Failed,
            220_000,
            Some(180),
        ),
        started(
            "cluster-loss-slow",
            1,
            "steady-state",
            PhaseGroup::Preparation,
            None,
        ),
        finished(
            "cluster-loss-slow",
            1,
            "steady-state",
            Status::Failed,
            600_000,
            None,
        ),
        Event::Notice {
            scenario: None,
            text: "cluster kept for inspection:\n  export KUBECONFIG=/tmp/x".into(),
        },
        Event::RepeatFinished {
            scenario: "cluster-loss-slow".into(),
            report: Box::new(slow.repeats[0].clone()),
        },
        Event::ScenarioFinished {
            report: Box::new(slow.clone()),
        },
        Event::ScenarioFinished {
            report: Box::new(sample.scenarios[2].clone()),
        },
        Event::RunFinished {
            report: Box::new(sample.clone()),
        },
    ];
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let buf = Buf::default();
    let task = tokio::spawn(LiveReporter::lines(Box::new(buf.clone())).drive_channel(rx));
    for e in events {
        tx.send(e).await.unwrap();
    }
    drop(tx);
    task.await.unwrap();
    let expected = "\
gameday run 7f3a: 2 scenarios, 2 at a time
cluster-loss-slow: started (1 repeat)
namespace-loss: started (5 repeats)
cluster-loss-slow #1: started (simulated time)
namespace-loss #1: started (simulated time)
cluster-loss-slow #1: provision started (budget 1m)
namespace-loss #1: converge started (budget 1m)
namespace-loss #1: converge: waiting for 1/2 Kustomizations Ready
cluster-loss-slow #1: · cluster gameday-x created
cluster-loss-slow #1: provision passed in 52s (budget 1m, margin +8s)
namespace-loss #1: converge passed in 38.2s (budget 1m, margin +21.8s)
cluster-loss-slow #1: converge started (budget 3m)
cluster-loss-slow #1: converge FAILED: converge 3m40s > budget 3m
cluster-loss-slow #1: steady-state started
cluster-loss-slow #1: steady-state failed after 10m
cluster kept for inspection:
  export KUBECONFIG=/tmp/x
cluster-loss-slow #1: FAILED: converge 3m40s > budget 3m
cluster-loss-slow: failed: converge 3m40s > budget 3m
namespace-loss: passed (5 repeats; p95 recovery 1m16s sim)
gameday run 7f3a: error (2 of 5 scenarios missed an objective, 1 infrastructure error)
";
    assert_eq!(buf.text(), expected);
}

#[tokio::test]
async fn errors_and_aborts_are_reported_per_repeat() {
    let sample = testing::run_report();
    let aborted = testing::aborted_run_report();
    let buf = Buf::default();
    let mut live = LiveReporter::lines(Box::new(buf.clone()));
    live.handle(&Event::RepeatFinished {
        scenario: "controller-loss".into(),
        report: Box::new(sample.scenarios[4].repeats[0].clone()),
    });
    live.handle(&Event::RepeatFinished {
        scenario: "bad-commit".into(),
        report: Box::new(aborted.scenarios[0].repeats[0].clone()),
    });
    live.handle(&Event::RepeatFinished {
        scenario: "cluster-loss".into(),
        report: Box::new(sample.scenarios[0].repeats[0].clone()),
    });
    let text = buf.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("controller-loss #1: ERROR: provider kind:"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "bad-commit #1: aborted: interrupted (Ctrl-C) during converge"
    );
    assert_eq!(
        lines[2],
        "cluster-loss #1: passed, recovery 3m7s (budget 5m, margin +1m52s)"
    );
}
