//! The simulator's emulated Flux Terraform controller, on a virtual clock:
//! `Terraform` objects from a Git repository planned and applied with the
//! real `terraform` CLI, with the real controller's status; outputs in a
//! Secret; drift made by hand against its state restored at the next
//! interval; and its failure reasons.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap, Install};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::scenario::model::FluxSettings;
use gameday::sim::Profile;
use gameday::sim::flux::tofu::TerraformOptions;
use gameday::sim::flux::{FluxEmulation, FluxOptions};
use gameday::sim::{SimCluster, SimOptions};
use gameday::terraform::{Terraform, backend, module};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::env::Env;

fn terraforms() -> ApiResource {
    ApiResource {
        group: "infra.contrib.fluxcd.io".into(),
        version: "v1alpha2".into(),
        api_version: "infra.contrib.fluxcd.io/v1alpha2".into(),
        kind: "Terraform".into(),
        plural: "terraforms".into(),
    }
}

/// A simulated cluster with Flux and its Terraform controller, Flux
/// bootstrapped from `fixture` at `path`.
struct World {
    env: Env,
    cluster: SimCluster,
    _flux: FluxEmulation,
    repo: Repo,
    _server: GitServer,
    revision: String,
}

impl World {
    async fn new(fixture: &Path, path: &str) -> World {
        let env = Env::new();
        let epoch: jiff::Timestamp = "2026-08-01T10:00:00Z".parse().unwrap();
        let cluster = SimCluster::start(SimOptions {
            profile: Profile::instant(),
            ..SimOptions::new("tf", Clock::simulated(epoch))
        })
        .await
        .expect("cluster starts");
        let flux = cluster
            .enable_flux(FluxOptions {
                terraform: Some(TerraformOptions {
                    work_dir: Some(env.root().join("tf-controller")),
                    tools: env.tools(),
                }),
                ..FluxOptions::default()
            })
            .await
            .expect("flux emulation starts");
        let repo = Repo::from_fixture(fixture, &FixtureOptions::default())
            .await
            .expect("fixture repository");
        let server = GitServer::serve(repo.path(), "infra", ServeOptions::default())
            .await
            .expect("git server");
        let revision = repo.head().await.unwrap().to_string();
        let applier = Applier::new(
            cluster.client().await.unwrap(),
            cluster.clock().clone(),
            ApplyOptions::default(),
        );
        let mut cfg = FluxBootstrap::simulated(
            &FluxSettings {
                manifests: None,
                interval: Duration::from_secs(60),
            },
            &[],
        );
        if let Install::Objects(m) = &mut cfg.install {
            m.extend(gameday::gitops::apply::Manifest::generated(
                gameday::flux::install::tofu::objects(),
                "Terraform controller install manifests (simulated)",
            ));
        }
        let source = SyncSource {
            url: server.url(),
            reference: GitRef::branch("main"),
            path: path.to_owned(),
            artifact: None,
        };
        flux::bootstrap(&applier, &cfg, &source, &revision)
            .await
            .expect("Flux bootstraps");
        World {
            env,
            cluster,
            _flux: flux,
            repo,
            _server: server,
            revision,
        }
    }

    async fn api(&self) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.cluster.client().await.unwrap(),
            "flux-system",
            &terraforms(),
        )
    }

    /// Waits until the Terraform object satisfies `done` (wall-time limit;
    /// simulated time moves on its own while nothing happens).
    async fn wait_for(&self, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let api = self.api().await;
        let mut last = Value::Null;
        for _ in 0..600 {
            if let Ok(o) = api.get(name).await {
                last = serde_json::to_value(&o).unwrap();
                if done(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("Terraform {name}: never {what}; last seen:\n{last:#}");
    }

    /// Terraform by hand on the object's module, against the controller's
    /// state (what a person changing the infrastructure does).
    async fn by_hand(&self, module_path: &str, vars: &[(&str, &str)]) -> Terraform {
        let root = self.env.root().join("by-hand");
        let _ = std::fs::remove_dir_all(&root);
        let dir = module::copy(&self.repo.path().join(module_path), &root).unwrap();
        let kubeconfig = self.env.root().join("kubeconfig");
        self.cluster.write_kubeconfig(&kubeconfig).unwrap();
        backend::write_kubernetes_backend(&dir, "network", "flux-system", &kubeconfig).unwrap();
        let vars: BTreeMap<String, Value> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        backend::write_vars(&dir, &vars).unwrap();
        let tf = Terraform::new(&dir, module_path, self.env.tools())
            .lock_timeout(Duration::from_secs(60));
        tf.init().await.expect("terraform init by hand");
        tf
    }
}

fn condition<'a>(o: &'a Value, type_: &str) -> Option<&'a Value> {
    o.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn reason<'a>(o: &'a Value, type_: &str) -> Option<&'a str> {
    condition(o, type_)?.get("reason")?.as_str()
}

fn infra_fixture() -> std::path::PathBuf {
    super::common::fixtures().join("repos/infra")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terraform_object_is_planned_applied_and_its_outputs_written() {
    let w = World::new(&infra_fixture(), "clusters/staging").await;
    let rev = w.revision.clone();
    // Applied and its outputs written — or, once a later interval came
    // (simulated time runs on while the test looks), found without drift.
    let t = w
        .wait_for("network", "Ready", |o| {
            matches!(
                reason(o, "Ready"),
                Some("TerraformOutputsWritten" | "NoDrift")
            )
        })
        .await;
    let ready = condition(&t, "Ready").unwrap();
    assert_eq!(ready["status"], "True");
    let message = ready["message"].as_str().unwrap();
    assert!(
        message == format!("Outputs written: {rev}") || message == format!("No drift: {rev}"),
        "{message}"
    );
    assert_eq!(reason(&t, "Plan"), Some("TerraformPlannedWithChanges"));
    assert_eq!(reason(&t, "Apply"), Some("TerraformAppliedSucceed"));
    assert_eq!(
        condition(&t, "Apply").unwrap()["message"],
        "Applied successfully"
    );
    assert_eq!(reason(&t, "Output"), Some("TerraformOutputsWritten"));
    let status = &t["status"];
    for field in [
        "lastAppliedRevision",
        "lastPlannedRevision",
        "lastAttemptedRevision",
    ] {
        assert_eq!(status[field], rev.as_str(), "{field}");
    }
    assert_eq!(status["plan"]["lastApplied"], format!("plan-{rev}"));
    assert_eq!(status["plan"]["pending"], "");
    assert_eq!(status["availableOutputs"], json!(["cidr", "network_id"]));
    assert_eq!(status["observedGeneration"], t["metadata"]["generation"]);
    assert_eq!(
        t["metadata"]["finalizers"],
        json!(["finalizers.tf.contrib.fluxcd.io"])
    );

    // The outputs Secret, owned by the object; the state, in the cluster.
    let secrets: Api<Secret> = Api::namespaced(w.cluster.client().await.unwrap(), "flux-system");
    let outputs = secrets
        .get("network-outputs")
        .await
        .expect("outputs Secret");
    let data = outputs.data.unwrap();
    assert_eq!(data["cidr"].0, b"10.0.0.0/16");
    assert!(data.contains_key("network_id"));
    let owner = &outputs.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Terraform", "network")
    );
    assert!(secrets.get("tfstate-default-network").await.is_ok());

    // The application waited for it the Flux way (health check, dependsOn).
    let ks: Api<DynamicObject> = Api::namespaced_with(
        w.cluster.client().await.unwrap(),
        "flux-system",
        &ApiResource {
            group: "kustomize.toolkit.fluxcd.io".into(),
            version: "v1".into(),
            api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
            kind: "Kustomization".into(),
            plural: "kustomizations".into(),
        },
    );
    let mut apps = Value::Null;
    for _ in 0..600 {
        apps = serde_json::to_value(ks.get("apps").await.unwrap()).unwrap();
        if reason(&apps, "Ready") == Some("ReconciliationSucceeded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        reason(&apps, "Ready"),
        Some("ReconciliationSucceeded"),
        "{apps:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_made_by_hand_is_detected_and_applied_away_at_the_next_interval() {
    let w = World::new(&infra_fixture(), "clusters/staging").await;
    w.wait_for("network", "applied", |o| {
        o.pointer("/status/lastAppliedRevision").is_some()
            && condition(o, "Ready").is_some_and(|c| c["status"] == "True")
    })
    .await;
    let before = w.cluster.clock().now();

    // Someone changes the network by hand (simulated time stands still
    // meanwhile, as it does while the drill acts).
    let tf = {
        let _acting = w.cluster.clock().busy();
        let tf = w
            .by_hand("terraform/network", &[("cidr", "10.99.0.0/16")])
            .await;
        tf.apply(&BTreeMap::new(), &[], Duration::from_secs(120))
            .await
            .expect("terraform apply by hand");
        tf
    };
    let drifted = tf.outputs().await.unwrap();
    assert_eq!(drifted.get("cidr").unwrap().value, "10.99.0.0/16");

    let t = w
        .wait_for("network", "applied away the drift", |o| {
            o.pointer("/status/lastAppliedByDriftDetectionAt").is_some()
                && condition(o, "Ready").is_some_and(|c| c["status"] == "True")
        })
        .await;
    let at = |field: &str| -> jiff::Timestamp {
        t.pointer(&format!("/status/{field}"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{field} set: {t:#}"))
            .parse()
            .unwrap()
    };
    assert!(at("lastDriftDetectedAt") <= at("lastAppliedByDriftDetectionAt"));
    assert_eq!(t["status"]["plan"]["isDriftDetectionPlan"], false);
    // At the next interval (1m) of the Terraform object, on the cluster's
    // clock (the status has whole seconds).
    let took = at("lastAppliedByDriftDetectionAt").duration_since(before);
    assert!(
        took > jiff::SignedDuration::ZERO && took <= jiff::SignedDuration::from_secs(61),
        "{took:?}"
    );

    // The state holds Git's value again.
    let restored = tf.outputs().await.unwrap();
    assert_eq!(restored.get("cidr").unwrap().value, "10.0.0.0/16");
    let secrets: Api<Secret> = Api::namespaced(w.cluster.client().await.unwrap(), "flux-system");
    let data = secrets.get("network-outputs").await.unwrap().data.unwrap();
    assert_eq!(data["cidr"].0, b"10.0.0.0/16");

    // And with nothing changed since, the next reconcile finds no drift
    // (simulated time held still, so no interval comes in between).
    let _still = w.cluster.clock().busy();
    let api = w.api().await;
    let now = w.cluster.clock().now().to_string();
    api.patch(
        "network",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}}),
        ),
    )
    .await
    .unwrap();
    let t = w
        .wait_for("network", "reconciled without drift", |o| {
            o.pointer("/status/lastHandledReconcileAt")
                .and_then(Value::as_str)
                == Some(now.as_str())
        })
        .await;
    assert_eq!(reason(&t, "Ready"), Some("NoDrift"));
    assert_eq!(
        condition(&t, "Ready").unwrap()["message"],
        format!("No drift: {}", w.revision)
    );
}

/// A repository with Terraform objects whose modules fail in each way.
fn failing_repo(dir: &Path) {
    let write = |p: &str, text: &str| {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    };
    let object = |name: &str, path: &str, extra: &str| {
        format!(
            "apiVersion: infra.contrib.fluxcd.io/v1alpha2\nkind: Terraform\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  approvePlan: auto\n  path: {path}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
        )
    };
    write(
        "clusters/test/terraforms.yaml",
        &[
            object("syntax", "./terraform/syntax", ""),
            object("plan-fails", "./terraform/plan-fails", ""),
            object("apply-fails", "./terraform/apply-fails", ""),
            object(
                "after",
                "./terraform/apply-fails",
                "  dependsOn:\n    - name: apply-fails\n",
            ),
            object("missing", "./terraform/nowhere", ""),
        ]
        .join("---\n"),
    );
    write(
        "terraform/syntax/main.tf",
        "resource \"terraform_data\" \"x\" {\n  input = \"unterminated\n}\n",
    );
    write(
        "terraform/plan-fails/main.tf",
        "resource \"terraform_data\" \"x\" {\n  input = var.not_declared\n}\n",
    );
    write(
        "terraform/apply-fails/main.tf",
        "resource \"terraform_data\" \"x\" {\n  provisioner \"local-exec\" {\n    command = \"echo 'Error: AccessDenied: not authorized to create network' >&2; exit 1\"\n  }\n}\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_report_the_real_controller_reasons_and_terraform_lines() {
    let src = tempfile::tempdir().unwrap();
    failing_repo(src.path());
    let w = World::new(src.path(), "clusters/test").await;
    // Simulated time held still: each object shows its first attempt's
    // outcome (retries would come every 15 s).
    let _still = w.cluster.clock().busy();
    let not_ready = |o: &Value| condition(o, "Ready").is_some_and(|c| c["status"] == "False");

    let t = w.wait_for("syntax", "failed", not_ready).await;
    assert_eq!(reason(&t, "Ready"), Some("TFExecInitFailed"));
    let msg = condition(&t, "Ready").unwrap()["message"].as_str().unwrap();
    assert!(msg.starts_with("error running Init: "), "{msg}");
    assert!(msg.contains("Invalid multi-line string"), "{msg}");

    let t = w.wait_for("plan-fails", "failed", not_ready).await;
    assert_eq!(reason(&t, "Ready"), Some("TFExecPlanFailed"));
    let msg = condition(&t, "Ready").unwrap()["message"].as_str().unwrap();
    assert!(
        msg.contains("Reference to undeclared input variable"),
        "{msg}"
    );
    assert_eq!(t["status"]["lastAttemptedRevision"], w.revision.as_str());
    assert!(t.pointer("/status/lastAppliedRevision").is_none());

    let t = w.wait_for("apply-fails", "failed", not_ready).await;
    assert_eq!(reason(&t, "Ready"), Some("TFExecApplyFailed"));
    assert_eq!(reason(&t, "Apply"), Some("TerraformAppliedFail"));
    let msg = condition(&t, "Ready").unwrap()["message"].as_str().unwrap();
    assert!(msg.contains("AccessDenied: not authorized"), "{msg}");
    assert_eq!(
        t["status"]["plan"]["pending"], "",
        "a failed apply drops its plan"
    );

    let t = w.wait_for("after", "waiting", not_ready).await;
    assert_eq!(reason(&t, "Ready"), Some("DependencyNotReady"));
    assert_eq!(
        condition(&t, "Ready").unwrap()["message"],
        "dependency 'flux-system/apply-fails' is not ready"
    );

    let t = w.wait_for("missing", "failed", not_ready).await;
    assert_eq!(reason(&t, "Ready"), Some("ArtifactFailed"));
}
