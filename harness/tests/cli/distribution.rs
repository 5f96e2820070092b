//! gameday as users install it: a binary away from the checkout (no file of
//! the repository read), `--version` with the commit, shell completions,
//! man pages and `make install` under a prefix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{fixtures, root};

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The built binary copied into `dir/bin/`, as `cargo install` leaves it.
fn installed(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("gameday");
    std::fs::copy(env!("CARGO_BIN_EXE_gameday"), &exe).unwrap();
    exe
}

#[test]
fn an_installed_binary_validates_and_runs_a_drill_outside_the_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = installed(tmp.path());
    // A user's repository and drill folder, nothing of the checkout.
    copy_dir(&fixtures().join("repos/podinfo"), &tmp.path().join("fleet"));
    let drills = tmp.path().join("dr");
    std::fs::create_dir_all(&drills).unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/controller-loss.yaml"))
        .unwrap()
        .replace("../fixtures/repos/podinfo", "../fleet");
    assert!(!scenario.contains("fixtures"), "{scenario}");
    std::fs::write(drills.join("controller-loss.yaml"), scenario).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let gameday = |args: &[&str]| {
        Command::new(&exe)
            .args(args)
            .current_dir(&work)
            .env("TMPDIR", &work)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap()
    };
    let o = gameday(&["validate", "../dr"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gameday(&["run", "../dr", "--out", "report", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["scenarios"][0]["status"], "passed", "{report:#}");

    // The scenario reference and the schema travel inside the binary.
    let o = gameday(&["reference"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(root().join("scenarios/README.md")).unwrap()
    );
    let o = gameday(&["schema"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        std::fs::read_to_string(root().join("scenarios/scenario.schema.json")).unwrap()
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("--version")
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(commit) => {
            let prefix = format!("gameday {} (commit {commit}, ", env!("CARGO_PKG_VERSION"));
            assert!(line.starts_with(&prefix), "{line} (want {prefix}…)");
            let date = &line[prefix.len()..line.len() - 1];
            assert!(
                date.len() == 10 && date.as_bytes()[4] == b'-' && line.ends_with(')'),
                "{line}"
            );
        }
        None => assert_eq!(
            line,
            format!("gameday {} (commit unknown)", env!("CARGO_PKG_VERSION"))
        ),
    }
}

/// Completes `words` with the bash completion script at `script`.
fn bash_complete(script: &Path, words: &str) -> String {
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p gameday && COMP_WORDS=({words}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && COMP_LINE='{words}' && COMP_POINT=${{#COMP_LINE}} && _gameday gameday \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" && echo \"${{COMPREPLY[*]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completions_load_in_bash_and_complete_commands_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains("doctor") && script.contains("--partition"),
            "{shell}"
        );
        if shell == "bash" {
            std::fs::write(tmp.path().join("gameday.bash"), script.as_bytes()).unwrap();
        }
    }
    let script = tmp.path().join("gameday.bash");
    let out = bash_complete(&script, "gameday do");
    assert!(out.contains("-F _gameday gameday"), "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .split(' ')
            .any(|w| w == "doctor"),
        "{out}"
    );
    let out = bash_complete(&script, "gameday run --parti");
    assert!(out.lines().last().unwrap().contains("--partition"), "{out}");
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `man -l PAGE` as plain text.
fn man(page: &Path) -> String {
    let o = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .expect("`man` is installed (man-db)");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    plain(&String::from_utf8_lossy(&o.stdout))
}

/// Text without the terminal's overstrike (`N\x08N` bold, `_\x08x` underline).
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\x08' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

#[test]
fn man_pages_one_per_command_render() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["man", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for page in [
        "gameday.1",
        "gameday-run.1",
        "gameday-doctor.1",
        "gameday-report-merge.1",
        "gameday-sim-serve.1",
        "gameday-completions.1",
    ] {
        assert!(tmp.path().join(page).is_file(), "{page}: {}", text(&o));
    }
    // Words as a reader sees them (man justifies lines with spaces).
    let run = man(&tmp.path().join("gameday-run.1"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(run.contains("gameday-run"), "{run}");
    assert!(run.contains("--partition"), "{run}");
    assert!(run.contains("SYNOPSIS gameday run [--out]"), "{run}");
    // One page printed: the same as the file.
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["man", "report", "merge"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        o.stdout,
        std::fs::read(tmp.path().join("gameday-report-merge.1")).unwrap()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["man", "explode"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("gameday-run"), "{}", text(&o));
}

#[test]
fn make_install_puts_binary_completions_and_man_pages_under_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("prefix dir");
    let o = Command::new("make")
        .arg("--no-print-directory")
        .arg("install")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("BIN={}", env!("CARGO_BIN_EXE_gameday")))
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let exe = prefix.join("bin/gameday");
    let v = Command::new(&exe).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("gameday "));
    for file in [
        "share/bash-completion/completions/gameday",
        "share/zsh/site-functions/_gameday",
        "share/fish/vendor_completions.d/gameday.fish",
        "share/man/man1/gameday.1",
        "share/man/man1/gameday-doctor.1",
    ] {
        let p = prefix.join(file);
        assert!(
            p.metadata().is_ok_and(|m| m.len() > 0),
            "{file}: {}",
            text(&o)
        );
    }
    let out = bash_complete(
        &prefix.join("share/bash-completion/completions/gameday"),
        "gameday man",
    );
    assert!(out.contains("-F _gameday gameday"), "{out}");
    // `man gameday-doctor` finds the installed page through MANPATH.
    let o = Command::new("man")
        .arg("gameday-doctor")
        .env("MANPATH", prefix.join("share/man"))
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("--format"),
        "{}",
        text(&o)
    );
}
