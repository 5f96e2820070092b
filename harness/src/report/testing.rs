//! Test support: realistic, fixed report trees for the sinks' tests, golden
//! files and the sample `report.html` (`make report-screenshot`).
//!
//! Not for production use. The trees are built the way the runner builds
//! them (stats and verdicts through [`super::stats`]), with fixed numbers, so
//! rendered output is reproducible byte for byte.

use std::collections::BTreeMap;

use super::stats;
use super::tree::{
    DiffEntry, Objective, Operation, PhaseGroup, PhaseReport, REPORT_FORMAT, RepeatReport,
    RunReport, ScenarioReport, StateDiff, Status, TimeBase,
};

use PhaseGroup::{Disaster, Preparation, Recovery, Verification};

/// A run of five scenarios:
/// - `cluster-loss`: passes (rebuild, every budget met);
/// - `cluster-loss-slow`: fails, `converge 3m40s > budget 3m`;
/// - `namespace-loss`: 5 repeats, passes on p95 (stats);
/// - `hand-made-drift`: fails, `lost ConfigMap/podinfo/hand-made-config`
///   (plus an allowed loss, a changed and an extra object);
/// - `controller-loss`: errors (the provider could not create the cluster).
pub fn run_report() -> RunReport {
    run(vec![
        cluster_loss(),
        cluster_loss_slow(),
        namespace_loss(),
        hand_made_drift(),
        controller_loss_error(),
    ])
}

/// A run where every scenario passes.
pub fn passing_run_report() -> RunReport {
    run(vec![cluster_loss(), namespace_loss()])
}

/// A run interrupted by Ctrl-C: `bad-commit` was in its `converge` phase
/// (which never ended), `node-loss` never started.
pub fn aborted_run_report() -> RunReport {
    let objective = objective(600, &[("detect", 60), ("converge", 300)], "p95");
    let mut repeat = repeat(
        1,
        7,
        &objective,
        &[
            ("provision", Preparation, 20_400),
            ("bootstrap", Preparation, 46_900),
            ("steady-state", Preparation, 31_200),
            ("snapshot", Preparation, 700),
            ("disaster", Disaster, 1_100),
            ("detect", Recovery, 24_800),
            ("converge", Recovery, 41_300),
        ],
        StateDiff::default(),
    );
    let converge = repeat.phases.last_mut().expect("converge phase");
    converge.end_ms = None;
    converge.status = Status::Aborted;
    converge.message = Some("interrupted".into());
    repeat.recovery_ms = None;
    repeat.status = Status::Aborted;
    repeat.error = Some("interrupted (Ctrl-C) during converge".into());
    repeat.verdict = stats::repeat_verdict(&objective, &repeat.phases, None, &repeat.diff);
    let bad_commit = scenario(
        "bad-commit",
        "A commit deploys an image the registry lacks; the team reverts it.",
        &["bad-commit"],
        "git-revert",
        objective.clone(),
        vec![repeat],
    );
    let mut node_loss = scenario(
        "node-loss",
        "A worker node is lost; its pods are rescheduled.",
        &["node-loss"],
        "reconcile",
        objective,
        vec![],
    );
    node_loss.status = Status::Aborted;
    let mut run = run(vec![bad_commit, node_loss]);
    run.status = Status::Aborted;
    run
}

fn run(scenarios: Vec<ScenarioReport>) -> RunReport {
    RunReport {
        format: REPORT_FORMAT.to_owned(),
        run_id: "7f3a".to_owned(),
        gameday_version: "0.1.0".to_owned(),
        started_at: "2025-06-02T09:30:00Z".to_owned(),
        wall_ms: scenarios
            .iter()
            .flat_map(|s| &s.repeats)
            .map(|r| r.wall_ms)
            .sum::<u64>()
            + 120,
        status: stats::run_status(&scenarios),
        scenarios,
        partition: None,
    }
}

/// Preparation common to the rebuild scenarios (cluster, Flux, steady state).
const PREPARE: [(&str, PhaseGroup, u64); 4] = [
    ("provision", Preparation, 21_400),
    ("bootstrap", Preparation, 48_200),
    ("steady-state", Preparation, 36_900),
    ("snapshot", Preparation, 800),
];

fn cluster_loss() -> ScenarioReport {
    let objective = objective(
        300,
        &[("provision", 60), ("bootstrap", 120), ("converge", 180)],
        "p95",
    );
    let steps = with_prepare(&[
        ("disaster", Disaster, 1_200),
        ("provision", Recovery, 19_600),
        ("bootstrap", Recovery, 51_300),
        ("converge", Recovery, 94_200),
        ("healthy", Recovery, 22_500),
        ("diff", Verification, 600),
        ("teardown", Verification, 2_100),
    ]);
    let repeats = vec![repeat(1, 7, &objective, &steps, clean())];
    scenario(
        "cluster-loss",
        "The whole cluster is lost; a new one is bootstrapped from Git.",
        &["cluster-loss"],
        "rebuild",
        objective,
        repeats,
    )
}

fn cluster_loss_slow() -> ScenarioReport {
    let objective = objective(
        480,
        &[("provision", 60), ("bootstrap", 120), ("converge", 180)],
        "p95",
    );
    let steps = with_prepare(&[
        ("disaster", Disaster, 1_300),
        ("provision", Recovery, 52_000),
        ("bootstrap", Recovery, 65_000),
        ("converge", Recovery, 220_000),
        ("healthy", Recovery, 18_000),
        ("diff", Verification, 700),
        ("teardown", Verification, 2_300),
    ]);
    let repeats = vec![repeat(1, 11, &objective, &steps, clean())];
    scenario(
        "cluster-loss-slow",
        "Cluster loss on the eks latency profile: slow image pulls & a big fleet.",
        &["cluster-loss"],
        "rebuild",
        objective,
        repeats,
    )
}

fn namespace_loss() -> ScenarioReport {
    let objective = objective(120, &[("converge", 60), ("healthy", 30)], "p95");
    let repeats = [
        (38_200, 17_100),
        (44_900, 21_400),
        (41_000, 15_800),
        (52_300, 24_600),
        (39_700, 19_900),
    ]
    .iter()
    .zip(1u32..)
    .map(|(&(converge, healthy), index)| {
        let steps = with_prepare(&[
            ("disaster", Disaster, 400),
            ("converge", Recovery, converge),
            ("healthy", Recovery, healthy),
            ("diff", Verification, 500),
            ("teardown", Verification, 1_900),
        ]);
        repeat(index, 100 + u64::from(index), &objective, &steps, clean())
    })
    .collect();
    scenario(
        "namespace-loss",
        "The podinfo namespace is deleted; Flux recreates it.",
        &["namespace-loss"],
        "reconcile",
        objective,
        repeats,
    )
}

fn hand_made_drift() -> ScenarioReport {
    let objective = objective(180, &[("converge", 90)], "p95");
    let mut steps = with_prepare(&[
        ("disaster", Disaster, 300),
        ("converge", Recovery, 47_600),
        ("healthy", Recovery, 12_800),
        ("diff", Verification, 500),
        ("teardown", Verification, 2_000),
    ]);
    steps.insert(3, ("setup", Preparation, 1_500));
    let diff = StateDiff {
        compared: 42,
        lost: vec![
            entry("ConfigMap/podinfo/hand-made-config", false, &[]),
            entry("Secret/podinfo/cluster-only-token", true, &[]),
        ],
        changed: vec![entry(
            "Deployment/podinfo/podinfo",
            false,
            &["spec.replicas", "spec.template.metadata.annotations"],
        )],
        extra: vec![entry("Service/podinfo/podinfo-canary", false, &[])],
    };
    let repeats = vec![repeat(1, 7, &objective, &steps, diff)];
    scenario(
        "hand-made-drift",
        "A ConfigMap made by hand (kubectl apply, not Git) does not survive the loss of its namespace.",
        &["namespace-loss"],
        "reconcile",
        objective,
        repeats,
    )
}

fn controller_loss_error() -> ScenarioReport {
    let objective = objective(180, &[("converge", 120)], "p95");
    let mut repeat = repeat(
        1,
        7,
        &objective,
        &[("provision", Preparation, 3_200)],
        StateDiff::default(),
    );
    let error = "provider kind: `kind create cluster --name gameday-controller-loss-7f3a` exited 1: \
                 ERROR: failed to create cluster: Cannot connect to the Docker daemon";
    repeat.phases[0].status = Status::Error;
    repeat.phases[0].message = Some(error.to_owned());
    repeat.recovery_ms = None;
    repeat.status = Status::Error;
    repeat.error = Some(error.to_owned());
    repeat.verdict = stats::repeat_verdict(&objective, &repeat.phases, None, &repeat.diff);
    let mut s = scenario(
        "controller-loss",
        "The flux-system namespace is deleted; flux is re-bootstrapped.",
        &["controller-loss"],
        "rebuild",
        objective,
        vec![repeat],
    );
    s.provider = "kind".into();
    s.time_base = TimeBase::Wall;
    s
}

/// A diff that found nothing: every object came back.
fn clean() -> StateDiff {
    StateDiff {
        compared: 38,
        ..StateDiff::default()
    }
}

fn with_prepare(rest: &[(&'static str, PhaseGroup, u64)]) -> Vec<(&'static str, PhaseGroup, u64)> {
    PREPARE.iter().chain(rest).copied().collect()
}

fn objective(total_s: u64, phases: &[(&str, u64)], quantile: &str) -> Objective {
    Objective {
        total_ms: total_s * 1_000,
        phases_ms: phases
            .iter()
            .map(|(n, s)| ((*n).to_owned(), s * 1_000))
            .collect::<BTreeMap<_, _>>(),
        quantile: quantile.to_owned(),
    }
}

fn entry(object: &str, allowed: bool, fields: &[&str]) -> DiffEntry {
    DiffEntry {
        object: object.to_owned(),
        allowed,
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
    }
}

/// A repeat whose phases run back to back with the given durations (ms).
/// Recovery time is the sum of the recovery phases; budgets come from the
/// objective; the status follows the verdict.
fn repeat(
    index: u32,
    seed: u64,
    objective: &Objective,
    steps: &[(&str, PhaseGroup, u64)],
    diff: StateDiff,
) -> RepeatReport {
    let mut at = 0;
    let phases: Vec<PhaseReport> = steps
        .iter()
        .map(|&(name, group, ms)| {
            let budget_ms = (group == Recovery)
                .then(|| objective.phases_ms.get(name).copied())
                .flatten();
            let over = budget_ms.is_some_and(|b| ms > b);
            let phase = PhaseReport {
                name: name.to_owned(),
                group,
                start_ms: at,
                end_ms: Some(at + ms),
                budget_ms,
                status: if over { Status::Failed } else { Status::Passed },
                wall_ms: 3 + ms / 2_000,
                observe_lag_ms: (group == Recovery).then_some(0.4),
                operations: operations(name, group, at),
                message: budget_ms
                    .filter(|_| over)
                    .map(|b| super::human::over_budget(name, ms, b)),
            };
            at += ms;
            phase
        })
        .collect();
    let recovery_ms = phases
        .iter()
        .filter(|p| p.group == Recovery)
        .map(PhaseReport::duration_ms)
        .sum::<Option<u64>>()
        .filter(|ms| *ms > 0);
    let verdict = stats::repeat_verdict(objective, &phases, recovery_ms, &diff);
    RepeatReport {
        index,
        seed,
        status: if verdict.passed {
            Status::Passed
        } else {
            Status::Failed
        },
        wall_ms: phases.iter().map(|p| p.wall_ms).sum(),
        phases,
        recovery_ms,
        verdict,
        diff,
        error: None,
        reasons: Vec::new(),
        coverage: None,
    }
}

fn operations(name: &str, group: PhaseGroup, at: u64) -> Vec<Operation> {
    let what = match (group, name) {
        (Preparation, "provision") => "cluster gameday-sample-7f3a created (3 nodes)",
        (Preparation, "setup") => "applied fixtures/manual/hand-made-configmap.yaml",
        (Disaster, _) => "fault injected",
        (Recovery, "provision") => "cluster gameday-sample-7f3a-r created (3 nodes)",
        (Recovery, "bootstrap") => "flux installed; GitRepository flux-system Ready",
        _ => return Vec::new(),
    };
    vec![Operation {
        at_ms: at + 200,
        what: what.to_owned(),
    }]
}

fn scenario(
    name: &str,
    description: &str,
    disaster: &[&str],
    recovery: &str,
    objective: Objective,
    repeats: Vec<RepeatReport>,
) -> ScenarioReport {
    let verdict = stats::scenario_verdict(&objective, &repeats);
    ScenarioReport {
        name: name.to_owned(),
        file: format!("scenarios/{name}.yaml"),
        description: description.to_owned(),
        provider: "sim".to_owned(),
        time_base: TimeBase::Simulated,
        disaster: disaster.iter().map(|d| (*d).to_owned()).collect(),
        recovery: recovery.to_owned(),
        stats: stats::scenario_stats(&repeats),
        status: stats::scenario_status(&repeats, &verdict),
        verdict,
        objective,
        repeats,
        baseline: None,
    }
}
