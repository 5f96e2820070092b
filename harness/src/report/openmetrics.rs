//! `metrics.txt`: the run's figures in the OpenMetrics text format
//! (`--format openmetrics`), for the monitoring systems teams already watch
//! (a Prometheus textfile collector, a Pushgateway, an OTel collector).
//!
//! Written through `prometheus-client`, the Prometheus project's Rust
//! client: the report is a snapshot, so it is registered as a
//! [`Collector`] that encodes gauges in the report's order (output is
//! reproducible). Names follow the OpenMetrics conventions (a `gameday_`
//! prefix, base units as a `_seconds` suffix with a `# UNIT` line, no
//! `_total` on gauges):
//!
//! | metric | labels | value |
//! | --- | --- | --- |
//! | `gameday_phase_duration_seconds` | scenario, phase, provider, time_base | the judged quantile of the phase (`total`: the whole recovery) |
//! | `gameday_phase_budget_seconds` | same | its RTO budget, when it has one |
//! | `gameday_phase_margin_seconds` | same | budget − duration (negative: over budget) |
//! | `gameday_objects_lost` / `_changed` / `_extra` | scenario, provider | objects the snapshot diff found, most of any repeat (lost: not allowed by `expect.lost`) |
//! | `gameday_drill_passed` | scenario, provider | 1 when the drill passed, else 0 |
//! | `gameday_drill_status` | scenario, provider, status | 1 for the drill's status, 0 for each other (the enum idiom) |
//! | `gameday_run_timestamp_seconds` | – | the run's start, Unix time |
//! | `gameday_run` (info) | run_id, gameday_version | 1 |
//!
//! `time_base` is `simulated` (the simulator's virtual clock) or `wall`:
//! never add or compare series across it.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::compare::judged;
use super::tree::{RunReport, ScenarioReport, Status, TimeBase};
use super::{Error, Result};
use crate::report::stats::TOTAL;

/// The file name.
pub const FILE_NAME: &str = "metrics.txt";

type Labels = Vec<(&'static str, String)>;

/// One gauge family: name (without the unit), help, unit, samples.
#[derive(Debug)]
struct Gauge {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    samples: Vec<(Labels, f64)>,
}

impl Gauge {
    fn new(name: &'static str, help: &'static str, unit: Option<Unit>) -> Gauge {
        Gauge {
            name,
            help,
            unit,
            samples: Vec::new(),
        }
    }
}

/// The report's figures, encoded on each scrape (once here).
#[derive(Debug)]
struct Snapshot {
    gauges: Vec<Gauge>,
    info: Vec<(&'static str, String)>,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        for g in self.gauges.iter().filter(|g| !g.samples.is_empty()) {
            let mut metric =
                encoder.encode_descriptor(g.name, g.help, g.unit.as_ref(), MetricType::Gauge)?;
            for (labels, value) in &g.samples {
                metric.encode_family(labels)?.encode_gauge(value)?;
            }
        }
        let info = Info::new(self.info.clone());
        let metric = encoder.encode_descriptor(
            "gameday_run",
            "The gameday run these figures come from.",
            None,
            info.metric_type(),
        )?;
        info.encode(metric)
    }
}

/// The OpenMetrics text of a run, ending with `# EOF`.
///
/// # Errors
/// [`Error::OpenMetrics`]; not expected (the encoder writes to a string).
pub fn to_string(report: &RunReport) -> Result<String> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snapshot(report)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .map_err(|_| Error::OpenMetrics)?;
    Ok(text)
}

fn snapshot(report: &RunReport) -> Snapshot {
    let mut duration = Gauge::new(
        "gameday_phase_duration",
        "Recovery phase duration (the objective's quantile over repeats); phase total is the whole recovery.",
        Some(Unit::Seconds),
    );
    let mut budget = Gauge::new(
        "gameday_phase_budget",
        "RTO budget of the phase.",
        Some(Unit::Seconds),
    );
    let mut margin = Gauge::new(
        "gameday_phase_margin",
        "Budget minus duration; negative when over budget.",
        Some(Unit::Seconds),
    );
    let mut lost = Gauge::new(
        "gameday_objects_lost",
        "Objects lost and not allowed by expect.lost (most of any repeat).",
        None,
    );
    let mut changed = Gauge::new(
        "gameday_objects_changed",
        "Objects whose spec or data changed (most of any repeat).",
        None,
    );
    let mut extra = Gauge::new(
        "gameday_objects_extra",
        "Objects present after recovery only (most of any repeat).",
        None,
    );
    let mut passed = Gauge::new(
        "gameday_drill_passed",
        "1 when the drill met every objective, else 0.",
        None,
    );
    let mut status = Gauge::new(
        "gameday_drill_status",
        "1 for the drill's status, 0 for the others.",
        None,
    );
    for s in &report.scenarios {
        for (phase, ms) in judged(s) {
            let labels = phase_labels(s, &phase);
            let budget_ms = if phase == TOTAL {
                Some(s.objective.total_ms)
            } else {
                s.objective.phases_ms.get(&phase).copied()
            };
            if let Some(ms) = ms {
                duration.samples.push((labels.clone(), seconds(ms)));
            }
            if let Some(b) = budget_ms {
                budget.samples.push((labels.clone(), seconds(b)));
            }
            if let (Some(ms), Some(b)) = (ms, budget_ms) {
                margin.samples.push((labels, seconds(b) - seconds(ms)));
            }
        }
        let most = |count: &dyn Fn(&super::tree::StateDiff) -> usize| {
            s.repeats.iter().map(|r| count(&r.diff)).max().unwrap_or(0) as f64
        };
        lost.samples.push((
            drill_labels(s),
            most(&|d| d.lost.iter().filter(|e| !e.allowed).count()),
        ));
        changed
            .samples
            .push((drill_labels(s), most(&|d| d.changed.len())));
        extra
            .samples
            .push((drill_labels(s), most(&|d| d.extra.len())));
        passed.samples.push((
            drill_labels(s),
            if s.status == Status::Passed { 1.0 } else { 0.0 },
        ));
        for st in Status::ALL {
            let mut labels = drill_labels(s);
            labels.push(("status", st.name().to_owned()));
            status
                .samples
                .push((labels, if st == s.status { 1.0 } else { 0.0 }));
        }
    }
    let mut started = Gauge::new(
        "gameday_run_timestamp",
        "Start of the run, Unix time.",
        Some(Unit::Seconds),
    );
    if let Ok(t) = report.started_at.parse::<jiff::Timestamp>() {
        #[allow(clippy::cast_precision_loss)]
        started
            .samples
            .push((Vec::new(), t.as_millisecond() as f64 / 1000.0));
    }
    Snapshot {
        gauges: vec![
            duration, budget, margin, lost, changed, extra, passed, status, started,
        ],
        info: vec![
            ("run_id", report.run_id.clone()),
            ("gameday_version", report.gameday_version.clone()),
        ],
    }
}

#[allow(clippy::cast_precision_loss)]
fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn drill_labels(s: &ScenarioReport) -> Labels {
    vec![
        ("scenario", s.name.clone()),
        ("provider", s.provider.clone()),
    ]
}

fn phase_labels(s: &ScenarioReport, phase: &str) -> Labels {
    vec![
        ("scenario", s.name.clone()),
        ("phase", phase.to_owned()),
        ("provider", s.provider.clone()),
        (
            "time_base",
            match s.time_base {
                TimeBase::Simulated => "simulated",
                TimeBase::Wall => "wall",
            }
            .to_owned(),
        ),
    ]
}
