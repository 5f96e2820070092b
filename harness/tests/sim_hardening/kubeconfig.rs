//! `gameday sim serve --kubeconfig FILE` never loses a file it did not
//! create (issue 19, defect 6).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn sim_serve(kc: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gameday"));
    c.args(["sim", "serve", "--profile", "instant", "--kubeconfig"])
        .arg(kc)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Waits (at most 60 s) for the `ready:` line.
fn ready(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(stdout).lines().next();
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("ready within 60 s")
        .expect("a line")
        .unwrap();
    assert!(line.starts_with("ready: "), "{line}");
    line
}

/// SIGTERM, then the exit status (at most 30 s).
fn stop(mut child: Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "did not stop in 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_existing_kubeconfig_is_refused_without_force_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, "my contexts").unwrap();
    let out = sim_serve(&kc, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), "my contexts");
}

#[test]
fn force_replaces_the_kubeconfig_until_exit_then_puts_it_back() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(&kc, "my contexts").unwrap();
    std::fs::set_permissions(&kc, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut child = sim_serve(&kc, &["--force"]).spawn().unwrap();
    ready(&mut child);
    assert!(
        std::fs::read_to_string(&kc)
            .unwrap()
            .contains("sim-gameday")
    );
    let backup = dir.path().join("config.gameday-backup");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), "my contexts");
    assert!(stop(child).success());
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), "my contexts");
    assert_eq!(
        std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(!backup.exists());
}

#[test]
fn a_kubeconfig_changed_while_serving_is_not_removed() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("config");
    let mut child = sim_serve(&kc, &[]).spawn().unwrap();
    ready(&mut child);
    std::fs::write(&kc, "the user's now").unwrap();
    assert!(stop(child).success());
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), "the user's now");
}

#[test]
fn a_missing_kubeconfig_folder_is_an_error_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("missing/config");
    let out = sim_serve(&kc, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mkdir -p"), "{stderr}");
    assert!(!dir.path().join("missing").exists());
}
