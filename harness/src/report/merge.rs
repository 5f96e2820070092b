//! `gameday report merge`: the reports of a catalogue's partitions (`run
//! --partition K/N` on N CI runners) made into one report, with one
//! verdict, as if one process had run the whole catalogue.
//!
//! Every scenario is kept as its partition reported it, byte for byte, in
//! the catalogue's order, so with the same seeds a merge equals a full
//! run's report on every simulated figure. The run-level fields are
//! recomputed: `run_id` (the partitions' ids joined by `+`), `started_at`
//! (the earliest), `wall_ms` (from the earliest start to the latest end:
//! the wall time of the partitions run side by side), `status` (the worst
//! of the partitions'), and `partition` (absent: the merge is whole).
//!
//! Partitioned reports are checked before merging: one catalogue, one N,
//! each K once, and every scenario of the catalogue present, so a runner
//! that died without uploading its report cannot pass for a green run.

use std::collections::BTreeMap;

use super::tree::{RunReport, ScenarioReport, Status};

/// Why reports cannot be merged. `source` names a report as it was given
/// (its path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no report to merge: give the report folders of the partitions")]
    Empty,
    /// Reports of different gameday versions.
    #[error(
        "{a} was written by gameday {va} and {b} by gameday {vb}: merge reports of one version (run every partition with the same build)"
    )]
    Version {
        /// First report.
        a: String,
        /// Its version.
        va: String,
        /// Other report.
        b: String,
        /// Its version.
        vb: String,
    },
    /// Partitioned and whole reports mixed.
    #[error(
        "{partitioned} is a partition (--partition) but {whole} is not: merge the partitions of one run only"
    )]
    Mixed {
        /// A partitioned report.
        partitioned: String,
        /// A whole one.
        whole: String,
    },
    /// Partitions of different catalogues or partition counts.
    #[error(
        "{a} and {b} are partitions of different runs (another catalogue, provider or N): merge the partitions of one run only"
    )]
    Catalogue {
        /// First report.
        a: String,
        /// Other report.
        b: String,
    },
    /// The same partition twice.
    #[error("partition {index}/{total} is given twice ({a} and {b}): give each partition once")]
    DuplicatePartition {
        /// K.
        index: u32,
        /// N.
        total: u32,
        /// First report.
        a: String,
        /// Other report.
        b: String,
    },
    /// The same scenario in two reports.
    #[error(
        "scenario {scenario} is in both {a} and {b}: the reports overlap; merge disjoint partitions"
    )]
    Overlap {
        /// The scenario.
        scenario: String,
        /// First report.
        a: String,
        /// Other report.
        b: String,
    },
    /// Every partition is there, but scenarios of the catalogue are in
    /// none of them (a partition's report was cut short).
    #[error("scenarios {} of the catalogue are in no partition's report, and no partition was interrupted: give the complete reports", .0.join(", "))]
    Absent(Vec<String>),
    /// Partitions missing: their scenarios would be silently absent.
    #[error("partition(s) {} of {total} missing: scenarios {} have no report; give every partition's report (a CI runner may have failed before uploading it)", .missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", "), .scenarios.join(", "))]
    Missing {
        /// The K that are missing.
        missing: Vec<u32>,
        /// N.
        total: u32,
        /// Scenarios of the catalogue found in no report.
        scenarios: Vec<String>,
    },
}

/// Merges `reports` (each with the name of where it came from).
///
/// # Errors
/// [`MergeError`]: see the module documentation for the checks.
pub fn merge(reports: Vec<(String, RunReport)>) -> Result<RunReport, MergeError> {
    let Some((first_source, first)) = reports.first() else {
        return Err(MergeError::Empty);
    };
    for (source, r) in &reports {
        if r.gameday_version != first.gameday_version {
            return Err(MergeError::Version {
                a: first_source.clone(),
                va: first.gameday_version.clone(),
                b: source.clone(),
                vb: r.gameday_version.clone(),
            });
        }
    }
    let order = check_partitions(&reports)?;
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (source, r) in &reports {
        for s in &r.scenarios {
            if let Some(a) = owner.insert(&s.name, source) {
                return Err(MergeError::Overlap {
                    scenario: s.name.clone(),
                    a: a.to_owned(),
                    b: source.clone(),
                });
            }
        }
    }
    let (started_at, wall_ms) = span(&reports);
    let status = reports
        .iter()
        .map(|(_, r)| r.status)
        .fold(Status::Passed, Status::worst);
    let run_id = reports
        .iter()
        .map(|(_, r)| r.run_id.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let format = first.format.clone();
    let gameday_version = first.gameday_version.clone();
    let mut scenarios: Vec<ScenarioReport> =
        reports.into_iter().flat_map(|(_, r)| r.scenarios).collect();
    if let Some(order) = order {
        scenarios.sort_by_key(|s| order.get(s.name.as_str()).copied().unwrap_or(usize::MAX));
    }
    Ok(RunReport {
        format,
        run_id,
        gameday_version,
        started_at,
        wall_ms,
        status,
        scenarios,
        partition: None,
    })
}

/// Checks partitioned reports (see [`MergeError`]) and returns the
/// catalogue order (scenario → position); None when no report is a
/// partition (they are concatenated in the order given).
fn check_partitions(
    reports: &[(String, RunReport)],
) -> Result<Option<BTreeMap<String, usize>>, MergeError> {
    let partitioned = reports.iter().find(|(_, r)| r.partition.is_some());
    let whole = reports.iter().find(|(_, r)| r.partition.is_none());
    let (p_source, p_info) = match (partitioned, whole) {
        (None, _) => return Ok(None),
        (Some((p, _)), Some((w, _))) => {
            return Err(MergeError::Mixed {
                partitioned: p.clone(),
                whole: w.clone(),
            });
        }
        (Some((source, r)), None) => (source, r.partition.as_ref().expect("partitioned")),
    };
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    for (source, r) in reports {
        let info = r.partition.as_ref().expect("every report is partitioned");
        if info.total != p_info.total || info.catalogue != p_info.catalogue {
            return Err(MergeError::Catalogue {
                a: p_source.clone(),
                b: source.clone(),
            });
        }
        if let Some(a) = seen.insert(info.index, source) {
            return Err(MergeError::DuplicatePartition {
                index: info.index,
                total: info.total,
                a: a.to_owned(),
                b: source.clone(),
            });
        }
    }
    let missing: Vec<u32> = (1..=p_info.total)
        .filter(|k| !seen.contains_key(k))
        .collect();
    let present: Vec<&str> = reports
        .iter()
        .flat_map(|(_, r)| r.scenarios.iter().map(|s| s.name.as_str()))
        .collect();
    let absent: Vec<String> = p_info
        .catalogue
        .iter()
        .filter(|n| !present.contains(&n.as_str()))
        .cloned()
        .collect();
    // An interrupted partition legitimately lacks the scenarios it never
    // reached; it says so with its aborted status, which the merge keeps.
    let aborted = reports.iter().any(|(_, r)| r.status == Status::Aborted);
    if missing.is_empty() && !absent.is_empty() && !aborted {
        return Err(MergeError::Absent(absent));
    }
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            total: p_info.total,
            scenarios: absent,
        });
    }
    Ok(Some(
        p_info
            .catalogue
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
    ))
}

/// The earliest start (RFC 3339, as written) and the wall time from it to
/// the latest end. A start that does not parse counts as the first
/// report's.
fn span(reports: &[(String, RunReport)]) -> (String, u64) {
    let parse = |r: &RunReport| r.started_at.parse::<jiff::Timestamp>().ok();
    let Some(base) = parse(&reports[0].1) else {
        return (
            reports[0].1.started_at.clone(),
            reports.iter().map(|(_, r)| r.wall_ms).max().unwrap_or(0),
        );
    };
    let mut earliest = (base, reports[0].1.started_at.clone());
    let mut latest_end_ms: i64 = 0;
    for (_, r) in reports {
        let start = parse(r).unwrap_or(base);
        if start < earliest.0 {
            earliest = (start, r.started_at.clone());
        }
        let offset = start.as_millisecond() - base.as_millisecond();
        let end = offset + i64::try_from(r.wall_ms).unwrap_or(i64::MAX);
        latest_end_ms = latest_end_ms.max(end);
    }
    let first_offset = earliest.0.as_millisecond() - base.as_millisecond();
    let wall = u64::try_from(latest_end_ms - first_offset).unwrap_or(0);
    (earliest.1, wall)
}

#[cfg(test)]
mod tests;
