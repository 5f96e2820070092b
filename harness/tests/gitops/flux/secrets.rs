//! The secrets fixture on the emulated Flux: a Kustomization with
//! `decryption` (age, through the real `sops`) and `postBuild`
//! substitution, checked through the API as a user would with kubectl.

use std::time::Duration;

use base64::Engine as _;
use gameday::gitops::apply::Manifest;
use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::discovery::ApiResource;
use serde_json::{Value, json};

use super::world::{World, ready};

const TIMEOUT: Duration = Duration::from_secs(600);

fn kustomizations() -> Gvr {
    Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
}

/// The fixture served, with the Secret `flux-system/sops-age` holding
/// `key` (a file of `fixtures/keys/`), as `bootstrap.secrets` restores it.
async fn world(key: Option<&str>) -> World {
    let w = World::new("secrets", Profile::instant()).await;
    let mut manifests = vec![Manifest::new(
        json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "flux-system"}}),
    )];
    if let Some(key) = key {
        let bytes = std::fs::read(crate::common::fixtures().join("keys").join(key)).unwrap();
        manifests.push(Manifest::new(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "sops-age", "namespace": "flux-system"},
            "data": {"age.agekey": base64::engine::general_purpose::STANDARD.encode(bytes)}})));
    }
    assert!(w.applier.apply(manifests).await.is_ok());
    w
}

async fn get(w: &World, api_version: &str, kind: &str, plural: &str, ns: &str) -> Vec<Value> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let ar = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(w.tb.client().await, ns, &ar);
    let list = api.list(&ListParams::default()).await.expect("list");
    list.items
        .into_iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect()
}

fn decoded(obj: &Value, key: &str) -> String {
    let b64 = obj["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no data.{key}: {obj}"));
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn encrypted_secrets_are_applied_in_plaintext_and_variables_substituted() {
    let w = world(Some("age.agekey")).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(&["flux-system", "web"], TIMEOUT)
        .await;
    let secrets = get(&w, "v1", "Secret", "secrets", "web").await;
    let by_name = |prefix: &str| {
        secrets
            .iter()
            .find(|s| s["metadata"]["name"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no Secret {prefix}*: {secrets:?}"))
    };
    let creds = by_name("web-credentials");
    assert_eq!(
        decoded(creds, "DB_PASSWORD"),
        "correct-horse-battery-staple"
    );
    assert_eq!(decoded(creds, "DB_USER"), "web");
    assert!(creds.get("sops").is_none(), "no sops metadata: {creds}");
    let env = by_name("web-env-");
    assert_eq!(decoded(env, "API_TOKEN"), "tok-3f9a7c21");
    assert!(env["data"].get("sops_mac").is_none(), "{env}");
    let deploy = &get(&w, "apps/v1", "Deployment", "deployments", "web").await[0];
    assert_eq!(
        deploy["spec"]["replicas"], 2,
        "${{REPLICAS:=1}} from the ConfigMap"
    );
    assert_eq!(deploy["metadata"]["labels"]["env"], "staging");
    // The Kustomization's patch, built by kustomize as Flux builds it.
    assert_eq!(
        deploy["metadata"]["annotations"]["example.com/tier"],
        "staging"
    );
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"],
        "50m"
    );
    let refs = &deploy["spec"]["template"]["spec"]["containers"][0]["envFrom"];
    assert_eq!(
        refs[1]["secretRef"]["name"], env["metadata"]["name"],
        "kustomize's hash suffix"
    );
    let page = &get(&w, "v1", "ConfigMap", "configmaps", "web").await;
    let page = page
        .iter()
        .find(|c| c["metadata"]["name"] == "web-page")
        .unwrap();
    assert_eq!(
        page["data"]["title"], "web (STAGING)",
        "inline substitute and ^^"
    );
    assert_eq!(
        page["data"]["banner"], "served by ${HOSTNAME}",
        "$${{…}} escapes"
    );
    let web = w.kustomization("web").await;
    let inventory = web["status"]["inventory"]["entries"].to_string();
    assert!(
        inventory.contains("web_web-credentials__Secret"),
        "{inventory}"
    );
}

#[tokio::test]
async fn without_the_key_secret_the_build_fails_as_flux_reports_it() {
    let w = world(None).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w
        .wait_reason(&kustomizations(), "web", "BuildFailed", TIMEOUT)
        .await;
    assert_eq!(
        ready(&web),
        (
            "False".into(),
            "BuildFailed".into(),
            "secrets \"sops-age\" not found".into()
        )
    );
    assert!(
        get(&w, "v1", "Secret", "secrets", "web").await.is_empty(),
        "nothing applied"
    );
}

#[tokio::test]
async fn with_the_wrong_key_the_build_fails_with_the_decryption_error() {
    let w = world(Some("wrong.agekey")).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let web = w
        .wait_reason(&kustomizations(), "web", "BuildFailed", TIMEOUT)
        .await;
    let (status, _, msg) = ready(&web);
    assert_eq!(status, "False");
    assert!(
        msg.starts_with("error decrypting sources: apps/web/web.enc.env: cannot get sops data key: Failed to get the data key required to decrypt the SOPS file."),
        "{msg}"
    );
    assert!(
        get(&w, "v1", "Secret", "secrets", "web").await.is_empty(),
        "nothing applied"
    );
}

#[tokio::test]
async fn a_missing_substitute_from_source_fails_the_build_unless_optional() {
    let w = world(Some("age.agekey")).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(&["flux-system", "web"], TIMEOUT)
        .await;
    // A second Kustomization of the same source, outside Git, whose
    // variables come from a ConfigMap nobody created.
    let broken = |optional: bool| {
        Manifest::new(
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "vars", "namespace": "flux-system"},
            "spec": {"interval": "10m", "prune": false, "path": "./clusters/staging",
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                "postBuild": {"substitute": {"A": "a"},
                    "substituteFrom": [{"kind": "ConfigMap", "name": "absent", "optional": optional}]}}}),
        )
    };
    assert!(w.applier.apply(vec![broken(false)]).await.is_ok());
    let ks = w
        .wait_reason(&kustomizations(), "vars", "BuildFailed", TIMEOUT)
        .await;
    assert_eq!(
        ready(&ks).2,
        "post build failed for '~G_v1_ConfigMap/cluster-vars': substitute from 'ConfigMap/absent' error: configmaps \"absent\" not found"
    );
    assert!(w.applier.apply(vec![broken(true)]).await.is_ok());
    let ks = w
        .wait_reason(
            &kustomizations(),
            "vars",
            "ReconciliationSucceeded",
            TIMEOUT,
        )
        .await;
    assert_eq!(ready(&ks).0, "True");
}
