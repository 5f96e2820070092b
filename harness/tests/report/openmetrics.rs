//! `metrics.txt` read back by an independent, strict OpenMetrics parser
//! (openmetrics-parser): every family typed and unit-suffixed as the
//! format requires, and the figures the report holds.

use gameday::report::{Format, openmetrics, testing, write_all};
use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

fn parse(text: &str) -> Exposition {
    parse_openmetrics(text).unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{text}"))
}

/// The value of `family` at `labels` (every label of the family given).
fn value(exp: &Exposition, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let fam = exp
        .families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family}"));
    fam.iter_samples()
        .find(|s| {
            let set = s.get_labelset().unwrap();
            labels
                .iter()
                .all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| match &s.value {
            OpenMetricsValue::Gauge(n) => n.as_f64(),
            other => panic!("{family}: not a gauge: {other:?}"),
        })
}

#[test]
fn metrics_txt_parses_back_with_the_report_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let report = testing::run_report();
    let files = write_all(&report, tmp.path(), &[Format::OpenMetrics]).unwrap();
    assert_eq!(files, [tmp.path().join(openmetrics::FILE_NAME)]);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let exp = parse(&text);

    let dur = exp.families.get("gameday_phase_duration_seconds").unwrap();
    assert_eq!(dur.unit, "seconds");
    assert_eq!(dur.family_type, OpenMetricsType::Gauge);
    assert_eq!(
        dur.get_label_names(),
        ["phase", "provider", "scenario", "time_base"]
    );
    let converge = [
        ("scenario", "cluster-loss-slow"),
        ("phase", "converge"),
        ("provider", "sim"),
        ("time_base", "simulated"),
    ];
    // converge 3m40s > budget 3m: the margin is -40 s.
    assert_eq!(
        value(&exp, "gameday_phase_duration_seconds", &converge),
        Some(220.0)
    );
    assert_eq!(
        value(&exp, "gameday_phase_budget_seconds", &converge),
        Some(180.0)
    );
    assert_eq!(
        value(&exp, "gameday_phase_margin_seconds", &converge),
        Some(-40.0)
    );
    // The whole recovery is the phase `total`.
    let total = [("scenario", "cluster-loss"), ("phase", "total")];
    assert_eq!(
        value(&exp, "gameday_phase_budget_seconds", &total),
        Some(300.0)
    );
    // The error drill was timed on the wall clock.
    let wall = [("scenario", "controller-loss"), ("phase", "total")];
    assert_eq!(
        value(
            &exp,
            "gameday_phase_budget_seconds",
            &[("time_base", "wall"), wall[0], wall[1]]
        ),
        Some(180.0)
    );
    assert_eq!(
        value(&exp, "gameday_phase_duration_seconds", &wall),
        None,
        "it never recovered"
    );

    // hand-made-drift lost one object it was not allowed to (and one it was).
    let drift = [("scenario", "hand-made-drift")];
    assert_eq!(value(&exp, "gameday_objects_lost", &drift), Some(1.0));
    assert_eq!(value(&exp, "gameday_objects_changed", &drift), Some(1.0));
    assert_eq!(value(&exp, "gameday_objects_extra", &drift), Some(1.0));
    assert_eq!(value(&exp, "gameday_drill_passed", &drift), Some(0.0));
    assert_eq!(
        value(
            &exp,
            "gameday_drill_passed",
            &[("scenario", "cluster-loss")]
        ),
        Some(1.0)
    );
    // The status enum: one 1 per drill.
    for s in &report.scenarios {
        for st in gameday::report::tree::Status::ALL {
            let v = value(
                &exp,
                "gameday_drill_status",
                &[("scenario", &s.name), ("status", st.name())],
            );
            assert_eq!(
                v,
                Some(if st == s.status { 1.0 } else { 0.0 }),
                "{} {}",
                s.name,
                st.name()
            );
        }
    }
    // 2025-06-02T09:30:00Z
    assert_eq!(
        value(&exp, "gameday_run_timestamp_seconds", &[]),
        Some(1_748_856_600.0)
    );
    let info = exp.families.get("gameday_run").unwrap();
    assert_eq!(info.family_type, OpenMetricsType::Info);
}

#[test]
fn metrics_txt_is_reproducible() {
    let report = testing::run_report();
    let a = openmetrics::to_string(&report).unwrap();
    assert_eq!(a, openmetrics::to_string(&report).unwrap());
    // Labels with quotes and backslashes are escaped, and still parse.
    let mut odd = report.clone();
    odd.scenarios[0].name = "a \"quoted\" \\ name".to_owned();
    let exp = parse(&openmetrics::to_string(&odd).unwrap());
    assert_eq!(
        value(
            &exp,
            "gameday_drill_passed",
            &[("scenario", "a \"quoted\" \\ name")]
        ),
        Some(1.0)
    );
}
