//! The composite action .github/actions/gameday: its shell steps run
//! locally as a runner would run them (GITHUB_* files in a temp folder),
//! against the simulator, with a fake `cargo` standing in for the build.

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

/// A `run:` step: name, script, env, `if:`.
type Step = (String, String, Vec<(String, String)>, Option<String>);

/// The action's `run:` steps: (step name, script, env with `${{ inputs.X }}`
/// replaced by `inputs` or the input's default, `${{ runner.tool_cache }}`
/// by `tool_cache`), and the step's `if:`.
fn steps(action: &serde_yaml::Value, inputs: &[(&str, &str)], tool_cache: &Path) -> Vec<Step> {
    let input = |name: &str| -> String {
        inputs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| {
                action["inputs"][name]["default"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("input {name} is declared"))
    };
    let subst = |s: &str| -> String {
        let mut out = s.replace(
            "${{ runner.tool_cache }}",
            &tool_cache.display().to_string(),
        );
        while let Some(start) = out.find("${{ inputs.") {
            let end = start + out[start..].find(" }}").unwrap();
            let name = out[start + "${{ inputs.".len()..end].to_owned();
            out.replace_range(start..end + 3, &input(&name));
        }
        assert!(!out.contains("${{"), "unsubstituted expression in {out}");
        out
    };
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|step| {
            let run = step["run"].as_str()?;
            assert_eq!(step["shell"].as_str(), Some("bash"), "{run}");
            let env = step["env"]
                .as_mapping()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.as_str().unwrap().to_owned(), subst(v.as_str().unwrap())))
                        .collect()
                })
                .unwrap_or_default();
            let cond = step["if"].as_str().map(|c| {
                let mut c = c.to_owned();
                for name in action["inputs"].as_mapping().unwrap().keys() {
                    let name = name.as_str().unwrap();
                    c = c.replace(&format!("inputs.{name}"), &format!("'{}'", input(name)));
                }
                c
            });
            Some((
                step["name"].as_str().unwrap().to_owned(),
                run.to_owned(),
                env,
                cond,
            ))
        })
        .collect()
}

/// A fake `cargo` that "installs" the test's gameday into `--root` and logs
/// its arguments.
fn fake_cargo(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("cargo");
    std::fs::write(
        &p,
        format!(
            "#!/usr/bin/env bash\necho \"cargo $*\" >>\"{log}\"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && cp \"{exe}\" \"$root/bin/gameday\"\n",
            log = dir.join("cargo.log").display(),
            exe = env!("CARGO_BIN_EXE_gameday"),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn the_action_installs_once_runs_the_drills_and_writes_summary_and_outputs() {
    let action: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join(".github/actions/gameday/action.yml")).unwrap(),
    )
    .unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    for input in ["scenarios", "provider", "partition", "format", "baseline"] {
        assert!(action["inputs"][input].is_mapping(), "input {input}");
    }
    let tmp = tempfile::tempdir().unwrap();
    // The user's workspace: one drill of their own.
    let work = tmp.path().join("workspace");
    std::fs::create_dir_all(work.join("dr")).unwrap();
    let scenario = std::fs::read_to_string(root().join("scenarios/controller-loss.yaml"))
        .unwrap()
        .replace("../fixtures", &fixtures().display().to_string());
    std::fs::write(work.join("dr/controller-loss.yaml"), scenario).unwrap();
    let files = tmp.path().join("github");
    std::fs::create_dir_all(&files).unwrap();
    let (summary, output, gh_path) = (
        files.join("summary.md"),
        files.join("output"),
        files.join("path"),
    );
    let cargo = fake_cargo(&files);
    let inputs = [
        ("scenarios", "dr"),
        ("format", "json,junit"),
        ("install-tools", "false"),
        ("upload", "true"),
    ];
    let run_steps = |steps: &[Step]| {
        let mut outs = Vec::new();
        for (name, run, env, cond) in steps {
            if cond.as_deref() == Some("'false' == 'true'") {
                continue;
            }
            // Each step sees the PATH entries earlier steps added.
            let added = std::fs::read_to_string(&gh_path).unwrap_or_default();
            let path = added
                .lines()
                .rev()
                .chain(std::iter::once(std::env::var("PATH").unwrap().as_str()))
                .collect::<Vec<_>>()
                .join(":");
            let o = Command::new("bash")
                .arg("-c")
                .arg(run)
                .current_dir(&work)
                .env("PATH", path)
                .env("TMPDIR", &work)
                .env("CARGO", &cargo)
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", root().join(".github/actions/gameday"))
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_OUTPUT", &output)
                .env("GITHUB_PATH", &gh_path)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap();
            outs.push((name.clone(), o));
        }
        outs
    };
    let all = steps(&action, &inputs, &tmp.path().join("tool-cache"));
    let names: Vec<&str> = all.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "install gameday",
            "install the tools",
            "check what the drills need",
            "run the drills"
        ]
    );
    let outs = run_steps(&all);
    assert_eq!(outs.len(), 3, "install-tools: false skips `make tools`");
    for (name, o) in &outs {
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(o));
    }
    let log = std::fs::read_to_string(files.join("cargo.log")).unwrap();
    assert!(
        log.contains("install --locked --force --path")
            && log.contains(&format!("{}/harness", root().display())),
        "{log}"
    );
    let paths = std::fs::read_to_string(&gh_path).unwrap();
    assert_eq!(
        paths.trim(),
        tmp.path()
            .join("tool-cache/gameday/bin")
            .display()
            .to_string()
    );
    let doctor = String::from_utf8_lossy(&outs[1].1.stdout);
    assert!(doctor.contains("controller-loss  ready"), "{doctor}");
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert_eq!(outputs, "exit-code=0\nreport-dir=gameday-report\n");
    let md = std::fs::read_to_string(&summary).unwrap();
    let written = std::fs::read_to_string(work.join("gameday-report/summary.md")).unwrap();
    assert_eq!(
        md.trim_end(),
        written.trim_end(),
        "the job summary is the report's Markdown"
    );
    assert!(md.contains("controller-loss"), "{md}");
    for f in ["report.json", "junit.xml"] {
        assert!(work.join("gameday-report").join(f).is_file(), "{f}");
    }

    // A second job of the same sources reuses the cached build; a missed
    // objective fails the run step with exit 1 and still writes the outputs.
    std::fs::remove_file(&output).unwrap();
    let yaml = std::fs::read_to_string(work.join("dr/controller-loss.yaml")).unwrap();
    std::fs::write(
        work.join("dr/controller-loss.yaml"),
        yaml.replace("bootstrap: 2m,", "bootstrap: 1s,"),
    )
    .unwrap();
    let outs = run_steps(&all);
    assert!(
        String::from_utf8_lossy(&outs[0].1.stdout).contains("cached build"),
        "{}",
        text(&outs[0].1)
    );
    assert_eq!(
        std::fs::read_to_string(files.join("cargo.log")).unwrap(),
        log,
        "built once"
    );
    assert_eq!(outs[2].1.status.code(), Some(1), "{}", text(&outs[2].1));
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "exit-code=1\nreport-dir=gameday-report\n"
    );
}
