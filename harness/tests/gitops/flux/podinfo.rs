//! The podinfo repository bootstrapped with Flux on the simulator.

use std::time::Duration;

use gameday::sim::Profile;

use super::world::{World, ready};

#[tokio::test]
async fn podinfo_bootstraps_with_both_kustomizations_ready_at_head() {
    let w = World::new("podinfo", Profile::instant()).await;
    let report = w.bootstrap("clusters/staging").await.expect("bootstrap");
    let head = w.head().await;
    assert_eq!(report.revision, head);
    assert_eq!(report.install, "simulated");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
    let root = w.kustomization("flux-system").await;
    assert_eq!(
        ready(&root),
        (
            "True".into(),
            "ReconciliationSucceeded".into(),
            format!("Applied revision: {head}")
        )
    );
    let src = w.git_repository("flux-system").await;
    assert_eq!(src["status"]["artifact"]["revision"], head.as_str());
}

#[tokio::test]
async fn apps_is_applied_only_after_infrastructure_is_ready() {
    use gameday::sim::storage::store::EventFilter;
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(&["infrastructure", "apps"], Duration::from_secs(600))
        .await;
    let events =
        w.tb.cluster
            .store()
            .events_since(0, &EventFilter::all())
            .expect("history kept");
    let infra_ready = events
        .iter()
        .find(|e| {
            e.object["kind"] == "Kustomization"
                && e.object["metadata"]["name"] == "infrastructure"
                && ready(&e.object).0 == "True"
        })
        .expect("infrastructure became ready")
        .revision;
    let first_app_write = events
        .iter()
        .find(|e| e.object["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "apps")
        .expect("apps applied objects")
        .revision;
    assert!(
        infra_ready < first_app_write,
        "apps wrote at {first_app_write}, infrastructure ready at {infra_ready}"
    );
    // infrastructure waited for its objects (wait: true) before it was Ready.
    let infra = w.kustomization("infrastructure").await;
    let healthy = infra["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Healthy")
        .cloned()
        .unwrap();
    assert_eq!(healthy["status"], "True");
    assert!(
        healthy["message"]
            .as_str()
            .unwrap()
            .starts_with("Health check passed in "),
        "{healthy}"
    );
}

#[tokio::test]
async fn kubectl_shows_ready_and_status_columns() {
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
    let head = w.head().await;
    let out = w.tb.kubectl(&["get", "kustomizations", "-A"]).await;
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"],
        "{out}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "{out}");
    for (row, name) in rows.iter().zip(["apps", "flux-system", "infrastructure"]) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[0], "flux-system", "{row}");
        assert_eq!(cols[1], name, "{row}");
        assert_eq!(cols[3], "True", "{row}");
        assert!(row.ends_with(&format!("Applied revision: {head}")), "{row}");
    }
    let sources =
        w.tb.kubectl(&["get", "gitrepositories", "-n", "flux-system"])
            .await;
    assert!(sources.starts_with("NAME"), "{sources}");
    assert!(sources.contains(&w.server.url()), "{sources}");
    assert!(
        sources.contains(&format!("stored artifact for revision '{head}'")),
        "{sources}"
    );
}
