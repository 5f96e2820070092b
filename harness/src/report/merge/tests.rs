use super::*;
use crate::report::testing;
use crate::report::tree::PartitionInfo;
use crate::scenario::partition::Partition;

/// `full` cut into its `total` partitions by scenario name, as `run
/// --partition` would have run them: partition k started k seconds after
/// the full run and took `wall_ms` 1000·k.
fn partitions(full: &RunReport, total: u32) -> Vec<(String, RunReport)> {
    let catalogue: Vec<String> = full.scenarios.iter().map(|s| s.name.clone()).collect();
    (1..=total)
        .map(|k| {
            let p = Partition::new(k, total).unwrap();
            let scenarios: Vec<ScenarioReport> = full
                .scenarios
                .iter()
                .filter(|s| p.contains(&s.name))
                .cloned()
                .collect();
            let start: jiff::Timestamp = full.started_at.parse().unwrap();
            let start = start + jiff::SignedDuration::from_secs(i64::from(k));
            let report = RunReport {
                run_id: format!("p{k}"),
                started_at: start.to_string(),
                wall_ms: 1_000 * u64::from(k),
                status: crate::report::stats::run_status(&scenarios),
                scenarios,
                partition: Some(PartitionInfo {
                    index: k,
                    total,
                    catalogue: catalogue.clone(),
                }),
                ..full.clone()
            };
            (format!("out-{k}"), report)
        })
        .collect()
}

#[test]
fn merging_n_partitions_gives_the_full_report_back() {
    let full = testing::run_report();
    for total in 1..=5 {
        let parts = partitions(&full, total);
        // Given in any order: the catalogue's order comes back.
        let merged = merge(parts.into_iter().rev().collect()).unwrap();
        assert_eq!(merged.scenarios, full.scenarios, "N = {total}");
        assert_eq!(merged.status, full.status);
        assert_eq!(merged.partition, None);
        // Recomputed: the earliest start, the span to the latest end.
        assert_eq!(merged.started_at, "2025-06-02T09:30:01Z");
        // Partition k runs from k s to 2k s: N partitions span 1 s → 2N s.
        assert_eq!(merged.wall_ms, 1_000 * (2 * u64::from(total) - 1));
        let ids: Vec<String> = (1..=total).rev().map(|k| format!("p{k}")).collect();
        assert_eq!(merged.run_id, ids.join("+"));
    }
}

#[test]
fn a_missing_partition_is_refused_and_names_its_scenarios() {
    let full = testing::run_report();
    let mut parts = partitions(&full, 3);
    let gone = parts.remove(1).1;
    let err = merge(parts).unwrap_err();
    let MergeError::Missing {
        missing, scenarios, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(missing, &[2]);
    let expected: Vec<String> = gone.scenarios.iter().map(|s| s.name.clone()).collect();
    assert_eq!(scenarios, &expected);
    assert!(
        err.to_string().contains("partition(s) 2 of 3 missing"),
        "{err}"
    );
}

#[test]
fn overlapping_duplicate_or_foreign_partitions_are_refused() {
    let full = testing::run_report();
    let parts = partitions(&full, 2);

    let twice = vec![parts[0].clone(), parts[1].clone(), parts[0].clone()];
    assert!(matches!(
        merge(twice).unwrap_err(),
        MergeError::DuplicatePartition { index: 1, .. }
    ));

    let mut other_n = parts.clone();
    other_n[1].1.partition.as_mut().unwrap().total = 3;
    assert!(matches!(
        merge(other_n).unwrap_err(),
        MergeError::Catalogue { .. }
    ));

    let mut whole = full.clone();
    whole.run_id = "whole".into();
    let mixed = vec![parts[0].clone(), ("whole".to_owned(), whole.clone())];
    assert!(matches!(
        merge(mixed).unwrap_err(),
        MergeError::Mixed { .. }
    ));

    // Two whole runs that share a scenario overlap.
    let err = merge(vec![("a".into(), full.clone()), ("b".into(), whole)]).unwrap_err();
    assert!(matches!(err, MergeError::Overlap { .. }), "{err}");
    assert!(err.to_string().contains("in both a and b"), "{err}");

    let mut newer = parts.clone();
    newer[1].1.gameday_version = "9.9.9".into();
    assert!(matches!(
        merge(newer).unwrap_err(),
        MergeError::Version { .. }
    ));
    assert_eq!(merge(Vec::new()).unwrap_err(), MergeError::Empty);
}

#[test]
fn a_report_cut_short_is_refused_unless_its_run_was_interrupted() {
    let full = testing::run_report();
    let mut parts = partitions(&full, 1);
    let last = parts[0].1.scenarios.pop().unwrap();
    assert_eq!(
        merge(parts).unwrap_err(),
        MergeError::Absent(vec![last.name])
    );
}

#[test]
fn an_aborted_partition_keeps_the_merge_aborted() {
    let full = testing::run_report();
    let mut parts = partitions(&full, 2);
    // The runner of partition 2 was interrupted before its last scenario.
    parts[1].1.scenarios.pop();
    parts[1].1.status = Status::Aborted;
    let merged = merge(parts).unwrap();
    assert_eq!(merged.status, Status::Aborted);
    assert_eq!(merged.scenarios.len(), full.scenarios.len() - 1);
}

#[test]
fn whole_reports_without_partitions_are_concatenated_in_the_order_given() {
    let full = testing::run_report();
    let (a, b) = full.scenarios.split_at(2);
    let ra = RunReport {
        scenarios: a.to_vec(),
        ..full.clone()
    };
    let rb = RunReport {
        scenarios: b.to_vec(),
        ..full.clone()
    };
    let merged = merge(vec![("b".into(), rb), ("a".into(), ra)]).unwrap();
    let names: Vec<&str> = merged.scenarios.iter().map(|s| s.name.as_str()).collect();
    let expected: Vec<&str> = b.iter().chain(a).map(|s| s.name.as_str()).collect();
    assert_eq!(names, expected);
}
