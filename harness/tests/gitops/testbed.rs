//! A simulated cluster for GitOps tests, with a kubeconfig, kubectl and an
//! applier.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions, Manifest};
use gameday::process::Cmd;
use gameday::sim::{SimCluster, SimOptions};
use serde_json::Value;
use tempfile::TempDir;

/// The top-level fixtures folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// A running simulated cluster and a temp dir for its kubeconfig.
pub struct Testbed {
    pub cluster: SimCluster,
    pub dir: TempDir,
}

/// The start of simulated time in tests.
pub fn epoch() -> jiff::Timestamp {
    "2026-08-01T10:00:00Z".parse().unwrap()
}

impl Testbed {
    /// A cluster on wall time.
    pub async fn wall() -> Testbed {
        Testbed::with(SimOptions::new("gitops", Clock::wall())).await
    }

    /// A cluster on a virtual clock.
    pub async fn simulated() -> Testbed {
        Testbed::with(SimOptions::new("gitops", Clock::simulated(epoch()))).await
    }

    pub async fn with(opts: SimOptions) -> Testbed {
        let cluster = SimCluster::start(opts).await.expect("cluster starts");
        let dir = tempfile::tempdir().expect("tempdir");
        cluster
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        Testbed { cluster, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn clock(&self) -> Clock {
        self.cluster.clock().clone()
    }

    pub async fn client(&self) -> kube::Client {
        self.cluster.client().await.expect("client")
    }

    pub async fn applier(&self, options: ApplyOptions) -> Applier {
        Applier::new(self.client().await, self.clock(), options)
    }

    /// Runs kubectl against the cluster; panics with stderr on failure.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        let cache = self.dir.path().join("kube-cache");
        let out = Cmd::new("kubectl")
            .args(args)
            .arg("--cache-dir")
            .arg(&cache)
            .env("KUBECONFIG", self.kubeconfig())
            .env("KUBECACHEDIR", &cache)
            .timeout(Duration::from_secs(60))
            .output()
            .await;
        match out {
            Ok(o) => o.stdout,
            Err(e) => panic!("kubectl {args:?} failed: {e}"),
        }
    }
}

/// Manifests from a YAML text (multi-document).
pub fn manifests(yaml: &str) -> Vec<Manifest> {
    serde_yaml::Deserializer::from_str(yaml)
        .enumerate()
        .filter_map(|(i, d)| {
            let v: Value = serde::Deserialize::deserialize(d).expect("valid YAML");
            (!v.is_null())
                .then(|| Manifest::new(v).with_origin(format!("test.yaml, document {}", i + 1)))
        })
        .collect()
}

/// `n` ConfigMaps in namespace `ns`.
pub fn config_maps(ns: &str, n: usize) -> Vec<Manifest> {
    (0..n)
        .map(|i| {
            Manifest::new(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i:05}"), "namespace": ns},
                "data": {"index": i.to_string()}}))
        })
        .collect()
}

/// A Namespace manifest.
pub fn namespace(name: &str) -> Manifest {
    Manifest::new(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
}
