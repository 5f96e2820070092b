//! Shared fixtures: a started cluster, a kubectl runner, raw HTTP calls.

use std::path::PathBuf;
use std::time::Duration;

use gameday::clock::Clock;
use gameday::process::{Cmd, Output};
use gameday::sim::{SimCluster, SimOptions};
use tempfile::TempDir;

/// A running cluster with its kubeconfig and a kubectl cache dir.
pub struct Fixture {
    pub cluster: SimCluster,
    pub dir: TempDir,
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/sim"))
}

impl Fixture {
    pub async fn start() -> Fixture {
        Fixture::with(SimOptions {
            bookmark_interval: Duration::from_millis(500),
            ..SimOptions::new("test", Clock::wall())
        })
        .await
    }

    pub async fn with(opts: SimOptions) -> Fixture {
        let cluster = SimCluster::start(opts).await.expect("cluster starts");
        let dir = tempfile::tempdir().expect("tempdir");
        cluster
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .expect("kubeconfig");
        Fixture { cluster, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn kubectl_cmd(&self, args: &[&str]) -> Cmd {
        Cmd::new("kubectl")
            .args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .env("KUBECONFIG", self.kubeconfig())
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .cwd(fixtures())
            .timeout(Duration::from_secs(60))
    }

    /// Runs kubectl; panics with its stderr on failure.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        match self.kubectl_cmd(args).output().await {
            Ok(out) => out.stdout,
            Err(e) => panic!("kubectl {args:?} failed: {e}"),
        }
    }

    /// Runs kubectl whatever its exit status.
    pub async fn kubectl_unchecked(&self, args: &[&str]) -> Output {
        self.kubectl_cmd(args)
            .output_unchecked()
            .await
            .expect("kubectl runs")
    }

    pub async fn client(&self) -> kube::Client {
        self.cluster.client().await.expect("client")
    }

    /// A raw HTTPS request with the cluster's token; returns (status, body).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        raw_with_token(
            &self.cluster,
            method,
            path,
            content_type,
            body,
            self.cluster.token(),
        )
        .await
    }
}

pub async fn raw_with_token(
    cluster: &SimCluster,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = http::Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    send(cluster, req.body(body).expect("request"), token).await
}

/// Sends a request with `token` (None: no Authorization header) and
/// returns the status code and the decoded body.
pub async fn send(
    cluster: &SimCluster,
    req: http::Request<Vec<u8>>,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let kc = kube::config::Kubeconfig::from_yaml(&cluster.kubeconfig_yaml()).unwrap();
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    cfg.auth_info.token = token.map(|t| t.to_owned().into());
    // Raw requests see raw answers: no client-side retries of 429/503/504.
    cfg.default_retry = false;
    let client = kube::Client::try_from(cfg).unwrap();
    let resp = client
        .send(req.map(kube::client::Body::from))
        .await
        .expect("request sent");
    let code = resp.status().as_u16();
    let bytes = resp.into_body().collect_bytes().await.expect("body read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (
        code,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
