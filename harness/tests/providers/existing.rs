//! The `existing` provider's guard rails, against an in-process simulated
//! cluster standing in for someone else's staging cluster.

use gameday::clock::Clock;
use gameday::cluster::providers::existing;
use gameday::cluster::{self, Cluster};
use gameday::scenario::model::{Fault, ResourceTarget};
use gameday::sim::storage::store::{EventFilter, conditions};
use gameday::sim::{GroupResource, Gvr, SimCluster, SimOptions};

use super::fakes::{Fakes, scenario};

struct Staging {
    sim: SimCluster,
    kubeconfig: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn staging() -> Staging {
    let sim = SimCluster::start(SimOptions::new("staging", Clock::wall()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    nodes_ready(&sim).await;
    Staging {
        sim,
        kubeconfig,
        _dir: dir,
    }
}

/// Waits until the cluster has settled (every node Ready): tests compare
/// the store's revision before and after a refused run.
async fn nodes_ready(sim: &SimCluster) {
    let store = sim.store();
    let ready = || {
        store
            .list(&Gvr::core("nodes"), None, &Default::default())
            .is_ok_and(|l| {
                !l.items.is_empty()
                    && l.items
                        .iter()
                        .all(|n| conditions::condition_status(n, "Ready") == Some("True"))
            })
    };
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("", "nodes")));
    while !ready() {
        drop(sub.recv().await.expect("store alive").busy);
    }
}

fn block(kubeconfig: &std::path::Path, contexts: &str) -> String {
    format!(
        "    provider: existing\n    existing:\n      kubeconfig: {}\n      allowContexts: [{contexts}]\n      allowNamespaces: [podinfo]",
        kubeconfig.display()
    )
}

const NAMESPACE_LOSS: &str = "    - fault: namespace-loss\n      namespace: podinfo";

#[tokio::test(flavor = "multi_thread")]
async fn a_context_not_allowed_is_refused_before_any_write() {
    let st = staging().await;
    let fakes = Fakes::new();
    let s = scenario(
        "not-allowed",
        &block(&st.kubeconfig, "prod-eu"),
        NAMESPACE_LOSS,
        "{ method: reconcile }",
    );
    let cx = fakes.context("abc123", "not-allowed");
    let before = st.sim.store().revision();
    let e = Cluster::create(&s, &cx, 0).await.unwrap_err();
    assert!(
        matches!(
            e,
            cluster::Error::Existing(existing::Error::ContextNotAllowed { .. })
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("refusing to touch context \"sim-staging\""),
        "{e}"
    );
    assert!(
        e.to_string().contains("allowContexts lists only [prod-eu]"),
        "{e}"
    );
    assert_eq!(st.sim.store().revision(), before, "nothing was written");
    assert!(
        !cx.dir.join("existing.kubeconfig").exists(),
        "not even a local file"
    );

    // Refused before any connection: an unreachable server changes nothing.
    let dead = fakes.root().join("dead.kubeconfig");
    let text = std::fs::read_to_string(&st.kubeconfig).unwrap();
    let port = st.sim.port().to_string();
    std::fs::write(&dead, text.replace(&port, "1")).unwrap();
    let s = scenario(
        "not-allowed",
        &block(&dead, "prod-eu"),
        NAMESPACE_LOSS,
        "{ method: reconcile }",
    );
    let e = Cluster::create(&s, &cx, 0).await.unwrap_err();
    assert!(
        matches!(
            e,
            cluster::Error::Existing(existing::Error::ContextNotAllowed { .. })
        ),
        "{e}"
    );
    st.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_are_checked_again_before_injection() {
    let st = staging().await;
    let fakes = Fakes::new();
    let s = scenario(
        "guarded",
        &block(&st.kubeconfig, "sim-staging"),
        NAMESPACE_LOSS,
        "{ method: reconcile }",
    );
    let cx = fakes.context("abc123", "guarded");
    let c = Cluster::create(&s, &cx, 0)
        .await
        .expect("an allowed context connects");
    assert_eq!(
        c.name(),
        "sim-staging",
        "the current context is the default"
    );
    assert_eq!(c.provider(), "existing");
    let scoped = std::fs::read_to_string(c.kubeconfig()).unwrap();
    assert_eq!(
        scoped.matches("name: sim-staging").count(),
        3,
        "one context, cluster and user: {scoped}"
    );

    let refused = |f: Fault| c.check_fault(&f).unwrap_err().to_string();
    let e = refused(Fault::NamespaceLoss {
        namespace: "kube-system".into(),
    });
    assert!(e.contains("namespace \"kube-system\", which spec.cluster.existing.allowNamespaces does not list ([podinfo])"), "{e}");
    let e = refused(Fault::ResourceLoss {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: None,
        target: ResourceTarget::Selector("app=x".into()),
    });
    assert!(e.contains("without a namespace"), "{e}");
    let e = refused(Fault::NodeLoss { count: 1 });
    assert!(
        e.contains("refusing node-loss on an existing cluster"),
        "{e}"
    );
    let e = refused(Fault::NamespaceLoss {
        namespace: "podinfo".into(),
    });
    assert!(
        e.contains("need confirmation") && e.contains("--yes"),
        "{e}"
    );

    let confirmed = cluster::Context {
        confirmed: true,
        ..cx.clone()
    };
    let c2 = Cluster::create(&s, &confirmed, 0).await.unwrap();
    c2.check_fault(&Fault::NamespaceLoss {
        namespace: "podinfo".into(),
    })
    .expect("an allowed, confirmed fault");

    let namespaces = st.sim.store().revision();
    let e = c.destroy(&cx.cleanup).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("existing cannot destroy the cluster"),
        "{e}"
    );
    assert_eq!(st.sim.store().revision(), namespaces, "nothing was deleted");
    assert!(
        cx.cleanup.is_empty(),
        "nothing of an existing cluster is registered for deletion"
    );
    st.sim.shutdown().await;
}

#[test]
fn destructive_faults_are_refused_or_checked_at_validation() {
    let kubeconfig = std::path::Path::new("/nonexistent/kubeconfig");
    for (disaster, message) in [
        (
            "    - fault: cluster-loss",
            "provider existing cannot inject cluster-loss",
        ),
        (
            "    - fault: node-loss",
            "provider existing cannot inject node-loss",
        ),
        (
            "    - fault: namespace-loss\n      namespace: kube-system",
            "would touch namespace \"kube-system\"",
        ),
        (
            "    - fault: resource-loss\n      apiVersion: v1\n      kind: ConfigMap\n      selector: app=x",
            "without a namespace would touch every namespace",
        ),
    ] {
        let text = format!(
            "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: guard\nspec:\n  cluster:\n{}\n  source:\n    url: https://git.example/fleet.git\n  disaster:\n{disaster}\n  recovery: {{ method: {} }}\n  rto:\n    total: 10m\n",
            block(kubeconfig, "staging"),
            if disaster.contains("cluster-loss") {
                "rebuild"
            } else {
                "reconcile"
            }
        );
        let path = super::common::fixtures().join("scenarios/guard.yaml");
        let e = gameday::scenario::load_one_str(&text, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains(message), "{disaster}: {e}");
    }
}

/// A scenario file on the existing provider, against `kubeconfig`.
fn scenario_file(
    dir: &std::path::Path,
    kubeconfig: &std::path::Path,
    contexts: &str,
) -> std::path::PathBuf {
    let path = dir.join("staging.yaml");
    let text = format!(
        "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: staging\nspec:\n  cluster:\n{}\n  source:\n    fixture: {}\n    path: clusters/staging\n  disaster:\n{NAMESPACE_LOSS}\n  recovery: {{ method: reconcile }}\n  rto:\n    total: 10m\n",
        block(kubeconfig, contexts),
        super::common::fixtures().join("repos/podinfo").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run(fakes: &Fakes, args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("run")
        .args(args)
        .env("TMPDIR", fakes.tmp())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn gameday_run_needs_yes_off_a_terminal_and_then_checks_the_context_first() {
    let st = staging().await;
    let fakes = Fakes::new();
    let out = fakes.root().join("report");
    let out = out.display().to_string();
    let before = st.sim.store().revision();

    let allowed = scenario_file(fakes.root(), &st.kubeconfig, "sim-staging");
    let (code, err) = run(&fakes, &["--out", &out, allowed.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("staging: delete namespace podinfo"),
        "the plan is shown: {err}"
    );
    assert!(
        err.contains("pass --yes to go ahead; nothing was run"),
        "{err}"
    );

    let refused = scenario_file(fakes.root(), &st.kubeconfig, "prod-eu");
    let (code, err) = run(&fakes, &["--yes", "--out", &out, refused.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{err}");
    let report = std::fs::read_to_string(fakes.root().join("report/report.json")).unwrap();
    assert!(
        report.contains("refusing to touch context \\\"sim-staging\\\""),
        "{report}"
    );
    assert_eq!(
        st.sim.store().revision(),
        before,
        "nothing was written to the cluster"
    );
    st.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flux_is_never_installed_on_an_existing_cluster_that_has_none() {
    let st = staging().await;
    let fakes = Fakes::new();
    let out = fakes.root().join("report");
    // A real repository (a fixture would need serving, which an existing
    // cluster cannot be trusted to reach).
    let repo = fakes.root().join("fleet");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    copy_dir(&super::common::fixtures().join("repos/podinfo"), &repo);
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "fleet"]);
    let file = scenario_file(fakes.root(), &st.kubeconfig, "sim-staging");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        &format!(
            "fixture: {}",
            super::common::fixtures().join("repos/podinfo").display()
        ),
        &format!("url: {}", repo.display()),
    );
    std::fs::write(&file, text).unwrap();
    let before = st.sim.store().revision();
    let (code, err) = run(
        &fakes,
        &[
            "--yes",
            "--out",
            out.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(3), "{err}");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        report.contains("gameday does not install Flux on a cluster it did not create"),
        "{report}"
    );
    assert_eq!(
        st.sim.store().revision(),
        before,
        "nothing was written to the cluster"
    );
    st.sim.shutdown().await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
