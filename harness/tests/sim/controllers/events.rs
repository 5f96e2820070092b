//! Events, as `kubectl get events`, `kubectl describe` and the
//! `events.k8s.io/v1` API show them: the simulated controllers, scheduler
//! and kubelets record what real ones record for a rollout and for a
//! missing image.

use gameday::clock::Clock;
use gameday::sim::storage::store::WriteOptions;
use gameday::sim::{Gvr, ObjectRef, Profile};
use serde_json::{Value, json};

use super::*;

const SPEED: f64 = 200.0;

fn write(f: &crate::common::Fixture, name: &str, body: &Value) -> String {
    let path = f.dir.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(body).unwrap()).unwrap();
    path.display().to_string()
}

async fn rolled_out_fixture(image: &str) -> crate::common::Fixture {
    let f = fixture(Profile::kind(), 3, Clock::scaled(SPEED)).await;
    namespace(f.cluster.store(), "app");
    let mut d = deployment("web", 2, image);
    d["metadata"]["namespace"] = json!("app");
    let file = write(&f, "web.json", &d);
    f.kubectl(&["apply", "-f", &file]).await;
    f
}

fn reasons(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rollout_records_the_events_of_real_controllers_and_kubelets() {
    let f = rolled_out_fixture("nginx:1.27").await;
    f.kubectl(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "app",
        "--timeout=60s",
    ])
    .await;
    let table = f.kubectl(&["get", "events", "-n", "app"]).await;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{table}"
    );
    for want in [
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    ] {
        assert!(table.contains(want), "no {want} in:\n{table}");
    }
    assert!(table.contains("Scaled up replica set web-"), "{table}");
    let pods = f
        .kubectl(&[
            "get",
            "pods",
            "-n",
            "app",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .await;
    let pod = pods.split_whitespace().next().unwrap().to_owned();
    let describe = f.kubectl(&["describe", "pod", &pod, "-n", "app"]).await;
    let events = describe
        .split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("{describe}"));
    assert!(events.contains("default-scheduler"), "{events}");
    assert!(
        events.contains(&format!("Successfully assigned app/{pod} to sim-worker")),
        "{events}"
    );
    assert!(events.contains("Pulling image \"nginx:1.27\""), "{events}");
    assert!(events.contains("Started container app"), "{events}");
    let describe = f.kubectl(&["describe", "deploy", "web", "-n", "app"]).await;
    assert!(
        describe.contains("ScalingReplicaSet") && describe.contains("from 0 to 2"),
        "{describe}"
    );

    // The same objects at events.k8s.io/v1.
    let core: Value = serde_json::from_str(
        &f.kubectl(&["get", "events.v1.", "-n", "app", "-o", "json"])
            .await,
    )
    .unwrap();
    let v1: Value = serde_json::from_str(
        &f.kubectl(&["get", "events.v1.events.k8s.io", "-n", "app", "-o", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(reasons(&core), reasons(&v1));
    let first = &v1["items"][0];
    assert_eq!(first["apiVersion"], "events.k8s.io/v1");
    assert!(
        first.get("regarding").is_some() && first.get("note").is_some(),
        "{first}"
    );
    assert!(first.get("involvedObject").is_none(), "{first}");
    // Field selectors in each version's names.
    let by_regarding = f
        .kubectl(&[
            "get",
            "events.v1.events.k8s.io",
            "-n",
            "app",
            "--field-selector",
            "regarding.kind=Deployment,reason=ScalingReplicaSet",
            "-o",
            "jsonpath={.items[*].note}",
        ])
        .await;
    assert!(
        by_regarding
            .trim()
            .starts_with("Scaled up replica set web-")
            && by_regarding.trim().ends_with("from 0 to 2"),
        "{by_regarding}"
    );
}

async fn warnings(f: &crate::common::Fixture) -> String {
    f.kubectl(&[
        "get",
        "events",
        "-n",
        "app",
        "--field-selector",
        "involvedObject.kind=Pod,type=Warning",
        "-o",
        "jsonpath={range .items[*]}{.reason}|{.message}{\"\\n\"}{end}",
    ])
    .await
}

#[tokio::test]
async fn a_missing_image_records_failed_pulls_and_back_off() {
    let f = rolled_out_fixture("nginx:does-not-exist").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = warnings(&f).await;
        if out.contains("Error: ImagePullBackOff") {
            assert!(
                out.contains("Failed|Failed to pull image \"nginx:does-not-exist\": rpc error"),
                "{out}"
            );
            assert!(out.contains("Failed|Error: ErrImagePull"), "{out}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no back-off yet: {out}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let normal = f
        .kubectl(&[
            "get",
            "events",
            "-n",
            "app",
            "--field-selector",
            "reason=BackOff",
            "-o",
            "jsonpath={.items[*].message}",
        ])
        .await;
    assert!(
        normal.contains("Back-off pulling image \"nginx:does-not-exist\""),
        "{normal}"
    );
}

fn hpa(name: &str, target: &str, min: i64, max: i64) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min, "maxReplicas": max}})
}

#[tokio::test]
async fn an_hpa_without_metrics_brings_replicas_within_bounds_and_says_why() {
    let c = virtual_cluster(Profile::instant(), 2, 3).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 1, "nginx:1.27"));
    let hpas = Gvr::new("autoscaling", "v2", "horizontalpodautoscalers");
    create(s, &hpas, "app", hpa("web", "web", 3, 5));
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    let (d, _) = wait_for(s, &d_ref, |d| d["spec"]["replicas"] == 3 && rolled_out(d)).await;
    assert_eq!(d["status"]["readyReplicas"], 3, "raised to minReplicas");
    let h_ref = ObjectRef::namespaced(hpas.clone(), "app", "web");
    let (h, _) = wait_for(s, &h_ref, |h| {
        cond(h, "ScalingActive").is_some_and(|c| c["status"] == "False")
    })
    .await;
    assert_eq!(
        h["spec"]["metrics"][0]["resource"]["name"], "cpu",
        "defaulted"
    );
    assert_eq!(h["status"]["desiredReplicas"], 3);
    let active = cond(&h, "ScalingActive").unwrap();
    assert_eq!(active["reason"], "FailedGetResourceMetric");
    assert!(
        active["message"]
            .as_str()
            .unwrap()
            .contains("no metrics returned from resource metrics API"),
        "{active}"
    );
    let events: Vec<(String, String)> = s
        .list(&Gvr::core("events"), Some("app"), &Default::default())
        .unwrap()
        .items
        .iter()
        .filter(|e| e["involvedObject"]["kind"] == "HorizontalPodAutoscaler")
        .map(|e| {
            (
                e["reason"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        events.contains(&(
            "SuccessfulRescale".into(),
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas".into()
        )),
        "{events:?}"
    );
    // Above the ceiling: down to maxReplicas.
    s.mutate(&d_ref, false, &WriteOptions::manager("test"), |o| {
        o["spec"]["replicas"] = json!(9);
        Ok(())
    })
    .unwrap();
    wait_for(s, &d_ref, |d| d["spec"]["replicas"] == 5).await;
}

fn cronjob(schedule: &str, policy: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup"},
        "spec": {"schedule": schedule, "concurrencyPolicy": policy,
            "successfulJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"labels": {"app": "backup"}},
                "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                    "containers": [{"name": "dump", "image": "busybox:1.36"}]}}}}}})
}

fn names(store: &gameday::sim::Store, gvr: &Gvr) -> Vec<String> {
    store
        .list(gvr, Some("app"), &Default::default())
        .unwrap()
        .items
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_cronjob_creates_jobs_on_the_simulated_clock_and_keeps_its_history() {
    // The virtual clock starts at 09:00:00; every 5 minutes from 09:05.
    let c = virtual_cluster(Profile::instant(), 2, 4).await;
    let s = c.store();
    namespace(s, "app");
    let cronjobs = Gvr::new("batch", "v1", "cronjobs");
    create(s, &cronjobs, "app", cronjob("*/5 * * * *", "Forbid"));
    let cj_ref = ObjectRef::namespaced(cronjobs.clone(), "app", "backup");
    let (cj, at) = wait_for(s, &cj_ref, |c| !c["status"]["lastSuccessfulTime"].is_null()).await;
    assert_eq!(cj["status"]["lastScheduleTime"], "2026-03-01T09:05:00Z");
    assert!(at >= "2026-03-01T09:05:00Z".parse().unwrap());
    let jobs = Gvr::new("batch", "v1", "jobs");
    let first = format!(
        "backup-{}",
        "2026-03-01T09:05:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
            / 60
    );
    let job = s
        .get(&ObjectRef::namespaced(jobs.clone(), "app", &first))
        .expect("the Job of 09:05");
    assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    assert_eq!(job["metadata"]["labels"]["app"], "backup");
    assert_eq!(
        job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
        "2026-03-01T09:05:00Z"
    );
    // The next run replaces the history beyond successfulJobsHistoryLimit 1.
    wait_for(s, &cj_ref, |c| {
        c["status"]["lastScheduleTime"] == "2026-03-01T09:10:00Z"
    })
    .await;
    let (_, _) = wait_for(s, &cj_ref, |c| {
        c["status"]["active"].is_null()
            && c["status"]["lastSuccessfulTime"].as_str() >= Some("2026-03-01T09:10:00Z")
    })
    .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while names(s, &jobs).contains(&first) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            names(s, &jobs)
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reasons: Vec<String> = s
        .list(&Gvr::core("events"), Some("app"), &Default::default())
        .unwrap()
        .items
        .iter()
        .filter(|e| e["involvedObject"]["kind"] == "CronJob")
        .map(|e| {
            format!(
                "{} {}",
                e["reason"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        reasons.contains(&format!("SuccessfulCreate Created job {first}")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("SawCompletedJob Saw completed job: backup-")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&format!("SuccessfulDelete Deleted job {first}")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn services_with_a_selector_get_endpoints_and_an_endpointslice_of_their_pods() {
    let c = virtual_cluster(Profile::instant(), 2, 5).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 2, "nginx:1.27"));
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}});
    create(s, &Gvr::core("services"), "app", svc);
    let ep_ref = ObjectRef::namespaced(Gvr::core("endpoints"), "app", "web");
    let (ep, _) = wait_for(s, &ep_ref, |e| {
        e["subsets"][0]["addresses"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(
        ep["subsets"][0]["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    assert_eq!(ep["subsets"][0]["addresses"][0]["targetRef"]["kind"], "Pod");
    let slices = s
        .list(
            &Gvr::new("discovery.k8s.io", "v1", "endpointslices"),
            Some("app"),
            &gameday::sim::storage::selectors::Selector::labels("kubernetes.io/service-name=web")
                .unwrap(),
        )
        .unwrap()
        .items;
    assert_eq!(slices.len(), 1);
    let eps = slices[0]["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2);
    assert!(
        eps.iter().all(|e| e["conditions"]["ready"] == true),
        "{eps:?}"
    );
    assert_eq!(
        slices[0]["metadata"]["ownerReferences"][0]["kind"],
        "Service"
    );
}
