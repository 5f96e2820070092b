//! The fake `kind` and `docker` of `fixtures/bin/`, set up for one test:
//! their own state folder and call log, found first on `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use gameday::cluster::Context;
use gameday::process::Tools;
use gameday::scenario::{self, Scenario};

/// One test's fake tools.
pub struct Fakes {
    pub dir: tempfile::TempDir,
    pub extra_env: Vec<(String, String)>,
}

impl Fakes {
    pub fn new() -> Fakes {
        let dir = tempfile::Builder::new()
            .prefix("gd-fakes")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        Fakes {
            dir,
            extra_env: Vec::new(),
        }
    }

    /// Adds a variable for every fake (e.g. `FAKE_KIND_CREATE_DELAY`).
    pub fn with(mut self, key: &str, value: &str) -> Fakes {
        self.extra_env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn state(&self) -> PathBuf {
        self.root().join("state")
    }

    pub fn log(&self) -> PathBuf {
        self.root().join("calls.log")
    }

    /// `$TMPDIR` of the processes started for this test (run folders).
    pub fn tmp(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// The environment the fakes need, fixtures/bin first on PATH.
    pub fn env(&self) -> Vec<(String, String)> {
        let bin = super::common::fixtures().join("bin");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut env = vec![
            ("PATH".to_owned(), path),
            (
                "FAKE_KIND_STATE".to_owned(),
                self.state().display().to_string(),
            ),
            ("FAKE_KIND_LOG".to_owned(), self.log().display().to_string()),
            (
                "FAKE_DOCKER_LOG".to_owned(),
                self.log().display().to_string(),
            ),
            (
                "GAMEDAY_BIN".to_owned(),
                env!("CARGO_BIN_EXE_gameday").to_owned(),
            ),
            ("TMPDIR".to_owned(), self.tmp().display().to_string()),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// The overlay for in-process provider calls.
    pub fn tools(&self) -> Tools {
        self.env()
            .into_iter()
            .fold(Tools::default(), |t, (k, v)| t.env(k, v))
    }

    /// A provider context for run `run_id`, files under this test's folder.
    pub fn context(&self, run_id: &str, scenario: &str) -> Context {
        context_in(&self.tmp(), run_id, scenario, self.tools())
    }

    /// Runs a program (the fake kind, gameday…) with the fakes' environment.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(program);
        cmd.args(args).env_remove("KIND_EXPERIMENTAL_PROVIDER");
        for (k, v) in self.env() {
            cmd.env(k, v);
        }
        cmd.output().expect("run")
    }

    /// `kind …` through the fake, which must succeed (test set-up).
    pub fn kind(&self, args: &[&str]) -> String {
        let out = self.run(
            &super::common::fixtures()
                .join("bin/kind")
                .display()
                .to_string(),
            args,
        );
        assert!(
            out.status.success(),
            "kind {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `gameday …` with the fakes' environment.
    pub fn gameday(&self, args: &[&str]) -> Output {
        self.run(env!("CARGO_BIN_EXE_gameday"), args)
    }

    /// The clusters in the fake kind's state.
    pub fn clusters(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.state().join("clusters"))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// True once a fake cluster's simulated API serves.
    pub fn sim_ready(&self, cluster: &str) -> bool {
        std::fs::read_to_string(self.state().join("clusters").join(cluster).join("sim.log"))
            .is_ok_and(|log| log.contains("ready:"))
    }

    /// The control socket of a fake cluster.
    pub fn control_socket(&self, cluster: &str) -> PathBuf {
        self.state().join("clusters").join(cluster).join("c.sock")
    }

    /// `gameday sim control … nodes` of a fake cluster: `NAME up|down` lines.
    pub fn node_states(&self, cluster: &str) -> Vec<String> {
        let sock = self.control_socket(cluster).display().to_string();
        let out = self.gameday(&["sim", "control", "--socket", &sock, "nodes"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The calls recorded so far, paths and the run id redacted, and
    /// forgets them.
    pub fn take_transcript(&self, run_id: &str) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let _ = std::fs::remove_file(self.log());
        let text = text.replace(&self.root().display().to_string(), "<tmp>");
        let text = super::common::redact_paths(&text);
        if run_id.is_empty() {
            text
        } else {
            text.replace(run_id, "<run>")
        }
    }
}

impl Drop for Fakes {
    /// Simulated clusters a failing test left running are stopped.
    fn drop(&mut self) {
        for name in self.clusters() {
            let pid =
                std::fs::read_to_string(self.state().join("clusters").join(&name).join("pid"));
            if let Some(pid) = pid.ok().and_then(|p| p.trim().parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
    }
}

pub use super::common::context_in;

/// Waits (polling, no timing assertion) until `ready`, failing the test
/// after `limit`.
pub async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: std::time::Duration,
    mut ready: impl FnMut() -> F,
) {
    let step = std::time::Duration::from_millis(100);
    let mut waited = std::time::Duration::ZERO;
    while !ready().await {
        assert!(waited < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(step).await;
        waited += step;
    }
}

/// A scenario for `provider`, its paths resolved from `fixtures/scenarios/`.
pub fn scenario(name: &str, cluster_block: &str, disaster: &str, recovery: &str) -> Arc<Scenario> {
    let text = format!(
        "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: {name}\nspec:\n  cluster:\n{cluster_block}\n  source:\n    fixture: ../repos/podinfo\n    path: clusters/staging\n  disaster:\n{disaster}\n  recovery: {recovery}\n  rto:\n    total: 10m\n"
    );
    let path = super::common::fixtures()
        .join("scenarios")
        .join(format!("{name}.yaml"));
    match scenario::load_one_str(&text, &path) {
        Ok(s) => Arc::new(s),
        Err(d) => panic!("test scenario is invalid:\n{d}\n{text}"),
    }
}

/// A kind scenario on the three-node fixture config.
pub fn kind_scenario(name: &str, disaster: &str, recovery: &str) -> Arc<Scenario> {
    scenario(
        name,
        "    provider: kind\n    kind: { config: ../kind/three-nodes.yaml, wait: 60s }",
        disaster,
        recovery,
    )
}
