//! One test's Terraform environment: a temp folder holding `$TMPDIR` (run
//! folders), an empty CLI configuration and a plugin cache, and helpers to
//! find the simulated clusters the fixture module starts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use gameday::cluster::Context;
use gameday::process::Tools;
use gameday::scenario::{self, Scenario};

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("gd-tf")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        std::fs::create_dir_all(dir.path().join("plugin-cache")).unwrap();
        std::fs::write(dir.path().join("terraformrc"), "").unwrap();
        Env { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `$TMPDIR` of the processes started for this test.
    pub fn tmp(&self) -> PathBuf {
        self.root().join("tmp")
    }

    /// What Terraform and gameday need here.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            (
                "TF_CLI_CONFIG_FILE".into(),
                self.root().join("terraformrc").display().to_string(),
            ),
            (
                "TF_PLUGIN_CACHE_DIR".into(),
                self.root().join("plugin-cache").display().to_string(),
            ),
            ("GAMEDAY_BIN".into(), env!("CARGO_BIN_EXE_gameday").into()),
            ("TMPDIR".into(), self.tmp().display().to_string()),
        ]
    }

    pub fn tools(&self) -> Tools {
        self.vars()
            .into_iter()
            .fold(Tools::default(), |t, (k, v)| t.env(k, v))
    }

    /// A provider context for run `run_id`, files under this test's `$TMPDIR`.
    pub fn context(&self, run_id: &str, scenario: &str, tools: Tools) -> Context {
        super::common::context_in(&self.tmp(), run_id, scenario, tools)
    }

    /// `gameday run ARGS…` from the repository root, with this environment.
    pub fn gameday_run(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gameday"));
        cmd.arg("run").args(args).current_dir(super::common::root());
        for (k, v) in self.vars() {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run folders left in `$TMPDIR`.
    pub fn run_dirs(&self) -> Vec<String> {
        std::fs::read_dir(self.tmp())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("gameday-"))
            .collect()
    }
}

impl Drop for Env {
    /// Simulated clusters a failing test left running are stopped.
    fn drop(&mut self) {
        let root = self.root().display().to_string();
        for pid in sim_processes(&root) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// Pids of running `gameday sim serve` processes whose command line
/// contains `needle` (a cluster name, a folder).
pub fn sim_processes(needle: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (text.contains("sim serve") && text.contains(needle)).then_some(pid)
        })
        .collect()
}

/// True while process `pid` exists.
pub fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

/// The pid the fixture module wrote for the cluster of a working copy.
pub fn cluster_pid(workdir: &Path) -> i32 {
    std::fs::read_to_string(workdir.join("cluster/pid"))
        .expect("the module wrote a pid file")
        .trim()
        .parse()
        .expect("a pid")
}

/// A terraform scenario whose paths resolve from `fixtures/scenarios/`.
pub fn scenario(name: &str, terraform_block: &str, disaster: &str) -> Arc<Scenario> {
    let text = format!(
        "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: {name}\nspec:\n  cluster:\n    provider: terraform\n    terraform: {terraform_block}\n  source:\n    fixture: ../repos/podinfo\n    path: clusters/staging\n  disaster:\n{disaster}\n  recovery: {{ method: rebuild }}\n  rto:\n    total: 10m\n"
    );
    let path = super::common::fixtures()
        .join("scenarios")
        .join(format!("{name}.yaml"));
    match scenario::load_one_str(&text, &path) {
        Ok(s) => Arc::new(s),
        Err(d) => panic!("test scenario is invalid:\n{d}\n{text}"),
    }
}

/// An error and its causes, one per line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push('\n');
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// What `terraform state list` says in a working copy (empty when the
/// state holds nothing, or there is no state).
pub async fn state_list(env: &Env, workdir: &Path) -> Vec<String> {
    gameday::terraform::Terraform::new(workdir, workdir, env.tools())
        .state_list()
        .await
        .expect("terraform state list")
}
