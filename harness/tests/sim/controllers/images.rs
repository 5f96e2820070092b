//! The simulated image registry: a missing image fails to pull, backs off
//! like the kubelet, and stalls its rollout until the progress deadline; a
//! fixed template recovers.

use std::time::Duration;

use gameday::sim::Profile;
use gameday::sim::storage::store::{EventType, WriteOptions};
use gameday::sim::{GroupResource, ObjectRef};
use serde_json::json;

use super::*;

fn waiting_reason(p: &serde_json::Value) -> Option<&str> {
    p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"].as_str()
}

#[tokio::test]
async fn a_missing_image_backs_off_times_out_the_rollout_and_a_fix_recovers() {
    let c = virtual_cluster(Profile::kind(), 3, 11).await;
    let s = c.store();
    namespace(s, "app");
    let events = record(s, GroupResource::new("", "pods"));
    let mut d = deployment("web", 2, "ghcr.io/acme/web:broken");
    d["spec"]["progressDeadlineSeconds"] = json!(300);
    create(s, &deployments(), "app", d);
    let created = s.clock().now();
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    let (d, timed_out) = wait_for(s, &d_ref, |d| {
        cond(d, "Progressing").is_some_and(|c| c["status"] == "False")
    })
    .await;
    let p = cond(&d, "Progressing").unwrap();
    assert_eq!(p["reason"], "ProgressDeadlineExceeded");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    let after = between(created, timed_out);
    assert!(
        after >= Duration::from_secs(300) && after <= Duration::from_secs(340),
        "timed out {after:?} after creation"
    );
    assert_eq!(cond(&d, "Available").unwrap()["status"], "False");
    assert_eq!(d["status"]["unavailableReplicas"], 2);

    // One pod's history: ErrImagePull, ImagePullBackOff, retried with growing gaps.
    let history: Vec<(String, jiff::Timestamp)> = {
        let ev = events.lock().unwrap();
        let first = ev
            .iter()
            .find(|(k, _, _)| *k == EventType::Added)
            .map(|(_, p, _)| p["metadata"]["name"].clone())
            .unwrap();
        ev.iter()
            .filter(|(_, p, _)| p["metadata"]["name"] == first)
            .filter_map(|(_, p, rev)| Some((waiting_reason(p)?.to_owned(), s.revision_time(*rev)?)))
            .collect()
    };
    let pulls: Vec<jiff::Timestamp> = history
        .windows(2)
        .filter(|w| w[1].0 == "ErrImagePull" && w[0].0 != "ErrImagePull")
        .map(|w| w[1].1)
        .collect();
    assert!(
        history.iter().any(|(r, _)| r == "ImagePullBackOff"),
        "{history:?}"
    );
    assert!(pulls.len() >= 3, "retries: {history:?}");
    let gaps: Vec<Duration> = pulls.windows(2).map(|w| between(w[0], w[1])).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] > g[0]),
        "back-off must grow: {gaps:?}"
    );
    let pods = s
        .list(&pods(), Some("app"), &Default::default())
        .unwrap()
        .items;
    for p in &pods {
        assert_ne!(cond(p, "Ready").unwrap()["status"], "True");
        let msg = p["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
            .as_str()
            .unwrap();
        assert!(msg.contains("ghcr.io/acme/web:broken"), "{msg}");
    }

    // The fix: a new template with an image the registry has.
    s.mutate(&d_ref, false, &WriteOptions::manager("test"), |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("ghcr.io/acme/web:1.0");
        Ok(())
    })
    .unwrap();
    let (d, _) = wait_for(s, &d_ref, |d| {
        d["metadata"]["generation"] == 2 && rolled_out(d) && d["status"]["availableReplicas"] == 2
    })
    .await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let (pods, _) = wait_pods(s, "app", |p| {
        p.len() == 2
            && p.iter()
                .all(|p| p["spec"]["containers"][0]["image"] == "ghcr.io/acme/web:1.0")
    })
    .await;
    assert!(
        pods.iter()
            .all(|p| cond(p, "Ready").unwrap()["status"] == "True")
    );
}

#[tokio::test]
async fn profile_patterns_decide_what_is_missing() {
    let profile = Profile::instant()
        .to_builder()
        .missing_images(["registry.invalid/*"])
        .build();
    let c = virtual_cluster(profile, 2, 12).await;
    let s = c.store();
    namespace(s, "x");
    for (name, image) in [("gone", "registry.invalid/app:1"), ("fine", "nginx:broken")] {
        create(
            s,
            &pods(),
            "x",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": image}]}}),
        );
    }
    let (gone, _) = wait_for(s, &ObjectRef::namespaced(pods(), "x", "gone"), |p| {
        waiting_reason(p) == Some("ImagePullBackOff")
    })
    .await;
    assert_eq!(gone["status"]["phase"], "Pending");
    let (fine, _) = wait_for(s, &ObjectRef::namespaced(pods(), "x", "fine"), |p| {
        cond(p, "Ready").is_some_and(|c| c["status"] == "True")
    })
    .await;
    assert_eq!(fine["status"]["phase"], "Running");
}

#[tokio::test]
async fn a_crashing_container_loops_with_back_off() {
    let c = virtual_cluster(Profile::instant(), 2, 13).await;
    let s = c.store();
    namespace(s, "x");
    create(
        s,
        &pods(),
        "x",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crash"},
        "spec": {"containers": [{"name": "c", "image": "busybox:crashloop"}]}}),
    );
    let (p, _) = wait_for(s, &ObjectRef::namespaced(pods(), "x", "crash"), |p| {
        p["status"]["containerStatuses"][0]["restartCount"].as_u64() >= Some(3)
            && waiting_reason(p) == Some("CrashLoopBackOff")
    })
    .await;
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
    assert!(
        cs["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .starts_with("back-off 40s restarting failed container=c")
    );
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(cond(&p, "Ready").unwrap()["status"], "False");
}

/// After the seal (a drill seals at the disaster), the registry holds what
/// was pulled before and what the scenario lists (`sim.images`); any other
/// reference fails to pull, as a tag nobody pushed fails on a real
/// registry, with kubelet's reasons and messages.
#[tokio::test]
async fn a_sealed_registry_pulls_only_listed_and_already_pulled_images() {
    use gameday::sim::workloads::images::Contents;
    let contents = Contents::with_images(["ghcr.io/acme/web:2.0.0"]);
    let c = SimCluster::start(SimOptions {
        tls: false,
        profile: Profile::instant(),
        nodes: 2,
        seed: 14,
        images: contents.clone(),
        ..SimOptions::new("sim", Clock::simulated(epoch()))
    })
    .await
    .expect("cluster starts");
    let s = c.store();
    namespace(s, "x");
    let pod = |name: &str, image: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": image}]}})
    };
    let ready = |p: &serde_json::Value| cond(p, "Ready").is_some_and(|c| c["status"] == "True");
    // Before the seal, a reference the source uses pulls (and is kept).
    create(s, &pods(), "x", pod("before", "ghcr.io/acme/web:1.0.0"));
    wait_for(s, &ObjectRef::namespaced(pods(), "x", "before"), ready).await;
    contents.seal();
    for (name, image) in [
        ("again", "ghcr.io/acme/web:1.0.0"),
        ("listed", "ghcr.io/acme/web:2.0.0"),
        ("unknown", "ghcr.io/acme/web:v9.9.9-doesnotexist"),
    ] {
        create(s, &pods(), "x", pod(name, image));
    }
    for name in ["again", "listed"] {
        let (p, _) = wait_for(s, &ObjectRef::namespaced(pods(), "x", name), ready).await;
        assert_eq!(p["status"]["phase"], "Running", "{name}");
    }
    let unknown = ObjectRef::namespaced(pods(), "x", "unknown");
    let (p, _) = wait_for(s, &unknown, |p| waiting_reason(p) == Some("ErrImagePull")).await;
    let msg = p["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("failed to resolve reference \"ghcr.io/acme/web:v9.9.9-doesnotexist\"")
            && msg.ends_with(": not found"),
        "{msg}"
    );
    let (p, _) = wait_for(s, &unknown, |p| {
        waiting_reason(p) == Some("ImagePullBackOff")
    })
    .await;
    assert_eq!(
        p["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "Back-off pulling image \"ghcr.io/acme/web:v9.9.9-doesnotexist\""
    );
    assert_eq!(p["status"]["phase"], "Pending");
}
