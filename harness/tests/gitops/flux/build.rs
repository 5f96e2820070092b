//! The emulated kustomize-controller builds Kustomizations the way Flux
//! does (patches, images, components, namePrefix/Suffix, targetNamespace,
//! commonMetadata) and judges custom resources by `healthCheckExprs`;
//! every outcome read through the API, as `kubectl` shows it.

use std::time::Duration;

use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

use super::world::{World, deployments, kustomizations, ready};

fn ks() -> Gvr {
    Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
}

fn condition(obj: &Value, type_: &str) -> Option<(String, String, String)> {
    let c = obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?;
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    Some((s("status"), s("reason"), s("message")))
}

fn inventory(obj: &Value) -> Vec<String> {
    obj["status"]["inventory"]["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn kubectl_json(w: &World, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let _busy = w.tb.clock().busy();
    serde_json::from_str(&w.tb.kubectl(&all).await).expect("kubectl prints JSON")
}

#[tokio::test]
async fn kustomizations_are_built_with_their_build_fields() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    w.bootstrap("./clusters/test").await.expect("bootstrap");
    w.wait_kustomizations(&["flux-system", "web", "worker"], Duration::from_secs(600))
        .await;

    let web = w.kustomization("web").await;
    assert_eq!(ready(&web).1, "ReconciliationSucceeded");
    let mut ids = inventory(&web);
    ids.sort();
    assert_eq!(
        ids,
        ["apps_prod-web__Service", "apps_prod-web_apps_Deployment"]
    );

    let deploy = kubectl_json(&w, &["get", "deployment", "prod-web", "-n", "apps"]).await;
    assert_eq!(deploy["spec"]["replicas"], 3, "the ha component");
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let labels = &deploy["metadata"]["labels"];
    assert_eq!(labels["team"], "storefront", "commonMetadata");
    assert_eq!(labels["kustomize.toolkit.fluxcd.io/name"], "web");
    assert_eq!(
        deploy["metadata"]["annotations"]["example.com/patched"],
        "strategic-merge"
    );
    let svc = kubectl_json(&w, &["get", "service", "prod-web", "-n", "apps"]).await;
    assert_eq!(
        svc["metadata"]["annotations"]["example.com/patched"],
        "json6902"
    );

    let worker = w.kustomization("worker").await;
    let mut ids = inventory(&worker);
    ids.sort();
    assert_eq!(
        ids,
        [
            "apps_worker-settings-v2__ConfigMap",
            "apps_worker-v2_apps_Deployment"
        ]
    );
    let cm = kubectl_json(
        &w,
        &["get", "configmap", "worker-settings-v2", "-n", "apps"],
    )
    .await;
    assert_eq!(cm["data"]["queue"], "urgent");
    assert_eq!(cm["metadata"]["annotations"]["example.com/owner"], "sre");
}

/// Creates a Kustomization of the `flux-system` source through the API.
async fn create(w: &World, name: &str, spec: Value) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(w.tb.client().await, "flux-system", &kustomizations());
    let mut full = json!({"interval": "10m", "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"}});
    full.as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"}, "spec": full}))
    .unwrap();
    let _busy = w.tb.clock().busy();
    api.create(&PostParams::default(), &obj).await.unwrap();
}

#[tokio::test]
async fn a_broken_patch_fails_the_build() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    w.bootstrap("./crds").await.expect("bootstrap");
    create(
        &w,
        "broken",
        json!({"path": "./apps/web", "patches": [{"target": {"kind": "Deployment"},
            "patch": "- op: replace\n  path: /spec/nope/deeper\n  value: 1"}]}),
    )
    .await;
    let k = w
        .wait_reason(&ks(), "broken", "BuildFailed", Duration::from_secs(600))
        .await;
    let (status, _, message) = ready(&k);
    assert_eq!(status, "False");
    assert!(message.starts_with("kustomize build failed: "), "{message}");
    assert!(inventory(&k).is_empty());
    assert!(!w.exists(&deployments(), "apps", "web"), "nothing applied");
}

#[tokio::test]
async fn an_invalid_health_expression_stalls() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    w.bootstrap("./crds").await.expect("bootstrap");
    create(
        &w,
        "bad-cel",
        json!({"path": "./widgets", "wait": true, "healthCheckExprs": [
            {"apiVersion": "example.com/v1", "kind": "Widget", "current": "status.phase ==", "failed": "false"}]}),
    )
    .await;
    let k = w
        .wait_reason(
            &ks(),
            "bad-cel",
            "InvalidCELExpression",
            Duration::from_secs(600),
        )
        .await;
    let (status, _, message) = ready(&k);
    assert_eq!(status, "False");
    assert!(
        message.starts_with("Reconciliation failed terminally due to configuration error: failed to create custom status reader for healthchecks[0]: failed to parse the expression Current: failed to parse the CEL expression 'status.phase =='"),
        "{message}"
    );
    let (stalled, reason, _) = condition(&k, "Stalled").expect("Stalled");
    assert_eq!(
        (stalled.as_str(), reason.as_str()),
        ("True", "InvalidCELExpression")
    );
    assert_eq!(
        k["status"]["observedGeneration"],
        k["metadata"]["generation"]
    );
}

/// Sets the Widget's status, as its operator would.
async fn set_widget_status(w: &World, status: Value) {
    let patch = json!({"status": status}).to_string();
    let _busy = w.tb.clock().busy();
    w.tb.kubectl(&[
        "patch",
        "widgets.example.com",
        "gizmo",
        "-n",
        "widgets",
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ])
    .await;
}

async fn widgets_health_running(w: &World) -> Value {
    w.bootstrap("./clusters/test").await.expect("bootstrap");
    w.wait_until(
        &ks(),
        "widgets",
        "health checks running",
        Duration::from_secs(600),
        |k| condition(k, "Healthy").is_some(),
    )
    .await
}

#[tokio::test]
async fn health_expressions_decide_when_a_custom_resource_is_current() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    widgets_health_running(&w).await;
    // kstatus alone calls a custom resource without conditions Current;
    // the expressions keep it in progress until the timeout (2m).
    let k = w
        .wait_reason(
            &ks(),
            "widgets",
            "HealthCheckFailed",
            Duration::from_secs(600),
        )
        .await;
    let message = ready(&k).2;
    assert!(
        message.contains("timeout waiting for") && message.contains("Widget/widgets/gizmo"),
        "{message}"
    );
    set_widget_status(
        &w,
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
    )
    .await;
    w.wait_kustomizations(&["widgets"], Duration::from_secs(3600))
        .await;
    let k = w.kustomization("widgets").await;
    let (healthy, reason, message) = condition(&k, "Healthy").unwrap();
    assert_eq!((healthy.as_str(), reason.as_str()), ("True", "Succeeded"));
    assert!(message.starts_with("Health check passed in "), "{message}");
    assert!(inventory(&k).contains(&"widgets_gizmo_example.com_Widget".to_owned()));
}

#[tokio::test]
async fn health_expressions_decide_when_a_custom_resource_failed() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    widgets_health_running(&w).await;
    // No conditions (kstatus would call it Current): only the `failed`
    // expression sees the failure.
    set_widget_status(&w, json!({"phase": "Failed"})).await;
    let k = w
        .wait_reason(
            &ks(),
            "widgets",
            "HealthCheckFailed",
            Duration::from_secs(3600),
        )
        .await;
    let (status, _, message) = ready(&k);
    assert_eq!(status, "False");
    assert!(
        message.contains("failed early") && message.contains("Widget/widgets/gizmo"),
        "{message}"
    );
    let (healthy, reason, _) = condition(&k, "Healthy").unwrap();
    assert_eq!(
        (healthy.as_str(), reason.as_str()),
        ("False", "HealthCheckFailed")
    );
}
