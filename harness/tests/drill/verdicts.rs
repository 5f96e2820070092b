//! Verdicts: lost objects, reproducible durations, statistics over repeats.

use gameday::report::tree::Status;

use crate::support::{catalogue, run, run_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_made_object_lost_without_expectation_fails_the_drill() {
    let mut s = catalogue("hand-made-drift");
    s.expect.lost.clear();
    let report = run(s).await;
    let sc = &report.scenarios[0];
    let r = &sc.repeats[0];
    assert_eq!(r.status, Status::Failed);
    assert_eq!(r.diff.lost[0].object, "ConfigMap/podinfo/hand-made-config");
    assert!(!r.diff.lost[0].allowed);
    assert!(
        r.verdict
            .failures
            .iter()
            .any(|f| f.contains("lost ConfigMap/podinfo/hand-made-config")),
        "{:?}",
        r.verdict.failures
    );
    assert_eq!(sc.status, Status::Failed);
    assert_eq!(report.status, Status::Failed);
}

fn recovery_phases(report: &gameday::report::tree::RunReport) -> Vec<(String, u64)> {
    crate::support::recovery(report)
        .iter()
        .map(|p| (p.name.clone(), p.duration_ms().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_simulated_durations() {
    let (a, _wa) = run_with(vec![catalogue("cluster-loss")], Some(11)).await;
    let (b, _wb) = run_with(vec![catalogue("cluster-loss")], Some(11)).await;
    let (pa, pb) = (recovery_phases(&a), recovery_phases(&b));
    assert_eq!(pa.len(), pb.len());
    for ((name, x), (_, y)) in pa.iter().zip(&pb) {
        let (x, y) = (*x as f64, *y as f64);
        assert!(
            (x - y).abs() <= 0.02 * x.max(y),
            "{name}: {x} ms vs {y} ms with the same seed"
        );
    }
    let (c, _wc) = run_with(vec![catalogue("cluster-loss")], Some(12)).await;
    assert_ne!(
        recovery_phases(&c),
        pa,
        "another seed draws other latencies"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_give_percentiles_and_a_verdict_on_the_quantile() {
    let mut s = catalogue("cluster-loss");
    s.repeat = 4;
    let report = run(s).await;
    let sc = &report.scenarios[0];
    assert_eq!(sc.repeats.len(), 4);
    let seeds: Vec<u64> = sc.repeats.iter().map(|r| r.seed).collect();
    assert_eq!(
        seeds,
        [7, 8, 9, 10],
        "repeats use consecutive seeds from the scenario's"
    );
    let total = sc
        .stats
        .iter()
        .find(|s| s.phase == "total")
        .expect("total stats");
    assert_eq!(total.samples, 4);
    assert!(total.p50_ms <= total.p95_ms && total.p95_ms <= total.max_ms);
    let recoveries: Vec<u64> = sc.repeats.iter().map(|r| r.recovery_ms.unwrap()).collect();
    assert!(
        recoveries.iter().any(|r| *r != recoveries[0]),
        "different seeds, different times: {recoveries:?}"
    );
    assert_eq!(total.max_ms, *recoveries.iter().max().unwrap());
    for phase in ["provision", "bootstrap", "converge", "healthy"] {
        assert!(
            sc.stats.iter().any(|s| s.phase == phase),
            "stats for {phase}"
        );
    }
    assert_eq!(sc.objective.quantile, "p95");
    assert!(sc.verdict.passed, "{:?}", sc.verdict.failures);
}

/// The sops-secrets drill with its key missing (`key: None`) or wrong.
async fn sops_drill_with_key(key: Option<&str>) -> (Status, String) {
    let mut s = catalogue("sops-secrets");
    match key {
        None => s.bootstrap.secrets.clear(),
        Some(file) => {
            s.bootstrap.secrets[0].from_file = crate::common::fixtures().join("keys").join(file);
        }
    }
    let report = run(s).await;
    let r = &report.scenarios[0].repeats[0];
    let text = format!("{:?} {:?}", r.error, r.verdict.failures);
    (r.status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_age_key_the_drill_fails_naming_the_decryption_error() {
    let (status, text) = sops_drill_with_key(None).await;
    assert_ne!(status, Status::Passed, "{text}");
    assert!(
        text.contains("Kustomization flux-system/web: Ready=False (BuildFailed: secrets \\\"sops-age\\\" not found); its SOPS-encrypted secrets could not be restored: the decryption key Secret flux-system/sops-age does not exist"),
        "{text}"
    );
    let (status, text) = sops_drill_with_key(Some("wrong.agekey")).await;
    assert_ne!(status, Status::Passed, "{text}");
    assert!(text.contains("cannot get sops data key"), "{text}");
    assert!(
        text.contains("its SOPS-encrypted secrets could not be restored: the key in Secret flux-system/sops-age does not decrypt them"),
        "{text}"
    );
}
