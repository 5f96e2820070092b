//! `gameday sim serve --source`: a simulated cluster bootstrapped from a
//! repository, `ready:` only once everything is Ready.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fixtures;

struct Served {
    child: Child,
    ready: String,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Served {
    fn kubectl(&self, args: &[&str]) -> std::process::Output {
        Command::new("kubectl")
            .args(args)
            .arg("--request-timeout=10s")
            .arg("--cache-dir")
            .arg(&self.cache)
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .unwrap()
    }

    fn stop(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap()),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.code(), Some(0));
        assert!(!self.kubeconfig.exists(), "kubeconfig left behind");
    }
}

fn gameday_sim(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gameday"));
    c.args(["sim", "serve", "--profile", "instant", "--kubeconfig"])
        .arg(dir.join("kc"))
        .args(args);
    c
}

/// Starts `gameday sim serve …` and waits for its `ready:` line.
fn serve(dir: &Path, args: &[&str]) -> Served {
    let mut child = gameday_sim(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let ready = lines.next().expect("gameday exited").unwrap();
    assert!(started.elapsed() < Duration::from_secs(120));
    assert!(ready.starts_with("ready: "), "{ready}");
    Served {
        child,
        ready,
        kubeconfig: dir.join("kc"),
        cache: dir.join("cache"),
    }
}

fn podinfo() -> String {
    fixtures().join("repos/podinfo").display().to_string()
}

#[test]
fn flux_from_a_folder_is_ready_when_every_kustomization_is_and_secrets_exist() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("age.agekey");
    std::fs::write(&key, "AGE-SECRET-KEY-1TEST").unwrap();
    let secret = format!("flux-system/sops-age={}", key.display());
    let served = serve(
        dir.path(),
        &[
            "--source",
            &podinfo(),
            "--path",
            "clusters/staging",
            "--secret",
            &secret,
        ],
    );
    assert!(
        served
            .ready
            .contains("3 Kustomization(s) Ready at main@sha1:"),
        "{}",
        served.ready
    );
    let wait = served.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "kustomization",
        "--all",
        "-A",
        "--timeout=1s",
    ]);
    assert!(
        wait.status.success(),
        "{}",
        String::from_utf8_lossy(&wait.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&wait.stdout).lines().count(), 3);
    let data = served.kubectl(&[
        "get",
        "secret",
        "-n",
        "flux-system",
        "sops-age",
        "-o",
        "jsonpath={.data.age\\.agekey}",
    ]);
    assert!(
        data.status.success(),
        "{}",
        String::from_utf8_lossy(&data.stderr)
    );
    let decoded = Command::new("base64")
        .arg("-d")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&data.stdout)?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&decoded.stdout),
        "AGE-SECRET-KEY-1TEST"
    );
    served.stop();
}

#[test]
fn direct_is_ready_once_the_first_apply_succeeded() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(
        dir.path(),
        &[
            "--source",
            &podinfo(),
            "--path",
            "apps/podinfo",
            "--method",
            "direct",
        ],
    );
    assert!(
        served.ready.contains("object(s) applied"),
        "{}",
        served.ready
    );
    let deploy = served.kubectl(&[
        "get",
        "deployment",
        "-n",
        "podinfo",
        "podinfo",
        "-o",
        "name",
    ]);
    assert!(
        deploy.status.success(),
        "{}",
        String::from_utf8_lossy(&deploy.stderr)
    );
    // No Flux: the direct applier did it.
    let flux = served.kubectl(&["get", "ns", "flux-system"]);
    assert!(!flux.status.success());
    served.stop();
}

#[test]
fn a_kustomization_that_cannot_become_ready_exits_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("clusters/staging")).unwrap();
    std::fs::write(
        repo.join("clusters/staging/apps.yaml"),
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/missing\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    )
    .unwrap();
    let out = gameday_sim(
        dir.path(),
        &[
            "--source",
            repo.to_str().unwrap(),
            "--path",
            "clusters/staging",
        ],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("ready:"), "{stdout}");
    assert!(
        stderr.contains("Kustomization flux-system/apps") && stderr.contains("path not found"),
        "{stderr}"
    );
    assert!(!dir.path().join("kc").exists(), "kubeconfig left behind");
}

#[test]
fn a_mirrored_helm_repository_serves_the_release_of_a_source() {
    if gameday::process::Lookup::default().find("helm").is_err() && std::env::var_os("CI").is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mirror = format!(
        "https://charts.gameday.example={}",
        fixtures().join("mirrors/charts.gameday.example").display()
    );
    let served = serve(
        dir.path(),
        &[
            "--source",
            &fixtures().join("repos/helm").display().to_string(),
            "--path",
            "clusters/production",
            "--mirror",
            &mirror,
        ],
    );
    let wait = served.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "helmrelease/edge",
        "-n",
        "flux-system",
        "--timeout=60s",
    ]);
    assert!(
        wait.status.success(),
        "{}",
        String::from_utf8_lossy(&wait.stderr)
    );
    // The object keeps its real URL; the chart came from the folder.
    let url = served.kubectl(&[
        "get",
        "helmrepository/charts",
        "-n",
        "flux-system",
        "-o",
        "jsonpath={.spec.url} {.status.conditions[?(@.type=='Ready')].status}",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&url.stdout),
        "https://charts.gameday.example True"
    );
    let version = served.kubectl(&[
        "get",
        "helmchart/flux-system-edge",
        "-n",
        "flux-system",
        "-o",
        "jsonpath={.status.artifact.revision}",
    ]);
    assert_eq!(String::from_utf8_lossy(&version.stdout), "1.1.0");
    served.stop();
}

#[test]
fn bad_flags_are_exit_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--source", "x"], "--path"),
        (vec!["--path", "clusters/staging"], "--source"),
        (
            vec!["--source", "x", "--path", "y", "--secret", "sops-age=k"],
            "NAMESPACE/NAME=FILE",
        ),
        (
            vec![
                "--source",
                "x",
                "--path",
                "y",
                "--secret",
                "ns/n=/no/such/file",
            ],
            "cannot read",
        ),
        (
            vec!["--source", "x", "--path", "y", "--method", "helm"],
            "flux, direct",
        ),
        (vec!["--flux", "--mirror", "charts"], "is not URL=PATH"),
        (
            vec![
                "--flux",
                "--mirror",
                "https://charts.example.com=/no/such/folder",
            ],
            "does not exist",
        ),
        (
            vec!["--mirror", "https://charts.example.com=/"],
            "--mirror needs --flux or --source",
        ),
    ] {
        let out = gameday_sim(dir.path(), &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // A path the source does not have: invalid input, before serving.
    let out = gameday_sim(
        dir.path(),
        &["--source", &podinfo(), "--path", "clusters/nope"],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("clusters/nope"), "{stderr}");
}
