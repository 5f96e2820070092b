//! What the emulated source-controller puts in an artifact: files left
//! out by `.sourceignore` and `spec.ignore`, another repository copied in
//! by `spec.include`; seen as a user sees them, through the Kustomizations
//! that build the artifact and the GitRepository's status.

use std::time::Duration;

use gameday::gitops::apply::Manifest;
use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;
use serde_json::{Value, json};

use super::world::{World, ready};

fn git_repos() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "gitrepositories")
}

fn git_repository(name: &str, url: &str, extra: Value) -> Manifest {
    let mut spec = json!({"interval": "5m", "url": url, "ref": {"branch": "main"}});
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Manifest::new(
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "flux-system"}, "spec": spec}),
    )
}

fn kustomization(name: &str, source: &str, path: &str) -> Manifest {
    Manifest::new(
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "prune": true, "path": path, "targetNamespace": "apps",
            "sourceRef": {"kind": "GitRepository", "name": source}}}),
    )
}

fn inventory(obj: &Value) -> Vec<String> {
    let mut ids: Vec<String> = obj["status"]["inventory"]["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n")
}

#[tokio::test]
async fn sourceignore_and_spec_ignore_leave_files_out_of_the_artifact() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    for (file, text) in [
        ("apps/worker/debug.yaml", config_map("debug")),
        ("apps/worker/scratch.yaml", config_map("scratch")),
        ("apps/worker/notes/todo.yaml", config_map("todo")),
        (
            "apps/worker/.sourceignore",
            "debug.yaml\nnotes/\n".to_owned(),
        ),
    ] {
        w.repo.write_file(file, text, "add").await.unwrap();
    }
    w.bootstrap("./crds").await.expect("bootstrap");
    w.applier
        .apply(vec![
            Manifest::new(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
            ),
            git_repository(
                "filtered",
                &w.server.url(),
                json!({"ignore": "/apps/worker/scratch.yaml\n"}),
            ),
            kustomization("worker", "filtered", "./apps/worker"),
            git_repository("unfiltered", &w.server.url(), json!({})),
            kustomization("worker-all", "unfiltered", "./apps/worker"),
        ])
        .await
        .check()
        .unwrap();
    w.wait_kustomizations(&["worker", "worker-all"], Duration::from_secs(600))
        .await;
    assert_eq!(
        inventory(&w.kustomization("worker").await),
        [
            "apps_worker-settings__ConfigMap",
            "apps_worker_apps_Deployment"
        ],
        "debug.yaml and notes/ by .sourceignore, scratch.yaml by spec.ignore"
    );
    assert_eq!(
        inventory(&w.kustomization("worker-all").await),
        [
            "apps_scratch__ConfigMap",
            "apps_worker-settings__ConfigMap",
            "apps_worker_apps_Deployment"
        ],
        "without spec.ignore only the .sourceignore rules apply"
    );
    let filtered = w.git_repository("filtered").await;
    assert_eq!(
        filtered["status"]["observedIgnore"],
        "/apps/worker/scratch.yaml\n"
    );
    let unfiltered = w.git_repository("unfiltered").await;
    assert_ne!(
        filtered["status"]["artifact"]["digest"], unfiltered["status"]["artifact"]["digest"],
        "the same revision archived with different rules"
    );
    assert_eq!(
        filtered["status"]["artifact"]["revision"],
        unfiltered["status"]["artifact"]["revision"]
    );
}

#[tokio::test]
async fn include_copies_another_repository_into_the_artifact() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    w.bootstrap("./crds").await.expect("bootstrap");
    let url = w.server.url();
    w.applier
        .apply(vec![
            Manifest::new(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
            ),
            git_repository("shared", &url, json!({})),
            git_repository(
                "combined",
                &url,
                json!({"include": [{"repository": {"name": "shared"}, "fromPath": "apps/worker", "toPath": "vendor/worker"}]}),
            ),
            kustomization("vendored", "combined", "./vendor/worker"),
            git_repository(
                "dangling",
                &url,
                json!({"include": [{"repository": {"name": "nowhere"}}]}),
            ),
        ])
        .await
        .check()
        .unwrap();
    w.wait_kustomizations(&["vendored"], Duration::from_secs(600))
        .await;
    assert_eq!(
        inventory(&w.kustomization("vendored").await),
        [
            "apps_worker-settings__ConfigMap",
            "apps_worker_apps_Deployment"
        ]
    );
    let combined = w.git_repository("combined").await;
    let shared = w.git_repository("shared").await;
    assert_eq!(
        combined["status"]["includedArtifacts"][0]["revision"],
        shared["status"]["artifact"]["revision"]
    );

    let dangling = w
        .wait_reason(
            &git_repos(),
            "dangling",
            "NotFound",
            Duration::from_secs(600),
        )
        .await;
    let (status, _, message) = ready(&dangling);
    assert_eq!(status, "False");
    assert!(
        message.starts_with("could not get resource for include 'nowhere': "),
        "{message}"
    );
    let unavailable = dangling["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "IncludeUnavailable")
        .expect("IncludeUnavailable");
    assert_eq!(unavailable["status"], "True");
}
