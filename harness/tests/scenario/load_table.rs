//! Table-driven loading of every file under fixtures/scenarios/{valid,invalid}.

use std::path::{Path, PathBuf};

use gameday::scenario;

use crate::common::{assert_golden, fixtures, redact_paths};

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_valid_fixture_loads() {
    let files = yaml_files(&fixtures().join("scenarios/valid"));
    assert!(
        files.len() >= 6,
        "expected the valid fixtures, found {files:?}"
    );
    for file in files {
        if let Err(d) = scenario::load(&file) {
            panic!("{} should be valid:\n{d}", file.display());
        }
    }
}

#[test]
fn every_invalid_fixture_fails_with_its_golden_message() {
    let dir = fixtures().join("scenarios/invalid");
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 20,
        "the issue asks for at least 20 invalid files, found {}",
        files.len()
    );
    for file in files {
        let diags = match scenario::load(&file) {
            Ok(_) => panic!("{} should be invalid", file.display()),
            Err(d) => d,
        };
        assert!(!diags.items.is_empty());
        let golden = file.with_extension("expected");
        assert_golden(&golden, &redact_paths(&format!("{diags}\n")));
    }
}

#[test]
fn defaults_are_applied() {
    let s = scenario::load_one(&fixtures().join("scenarios/valid/minimal.yaml")).unwrap();
    use scenario::model::*;
    assert_eq!(s.cluster.provider, Provider::Sim);
    assert_eq!(
        s.cluster.sim,
        SimSettings {
            profile: SimProfile::Kind,
            nodes: 3,
            seed: 1,
            images: Vec::new(),
            skip_verify: false,
        }
    );
    assert_eq!(s.source.reference.branch.as_deref(), Some("main"));
    assert_eq!(s.source.path, ".");
    assert!(
        matches!(s.bootstrap.method, BootstrapMethod::Flux(FluxSettings { interval, .. }) if interval.as_secs() == 60)
    );
    assert_eq!(s.steady_state.timeout.as_secs(), 600);
    assert_eq!(
        s.steady_state.checks,
        [Check::Kustomizations(None), Check::Workloads(None)]
    );
    assert_eq!(s.recovery.timeout.as_secs(), 900, "3 x 5m");
    assert_eq!(s.rto.quantile, Quantile::P95);
    assert_eq!(s.repeat, 1);
    // Relative paths resolve against the file's folder.
    let SourceLocation::Fixture(repo) = &s.source.location else {
        panic!("fixture expected")
    };
    assert_eq!(repo, &fixtures().join("scenarios/repo"));
}

#[test]
fn all_semantic_problems_are_reported_at_once() {
    let d =
        scenario::load_one(&fixtures().join("scenarios/invalid/many-problems.yaml")).unwrap_err();
    let text = d.to_string();
    for needle in [
        "metadata.name",
        "spec.source",
        "spec.steadyState.checks[0].kustomizations",
        "spec.recovery.method",
        "spec.rto.phases.detect",
        "spec.repeat",
        "spec.disaster",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    assert!(d.items.len() >= 7, "{text}");
}

#[test]
fn syntax_and_type_errors_have_line_and_column() {
    let file = fixtures().join("scenarios/invalid/wrong-type.yaml");
    let d = scenario::load_one(&file).unwrap_err();
    let line = &d.lines()[0];
    assert!(
        line.contains("wrong-type.yaml:11:11: spec.repeat:"),
        "{line}"
    );
    assert!(line.contains("expected a whole number"), "{line}");
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    let mut text = String::from(
        "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: huge\n  description: \"",
    );
    text.push_str(&"x".repeat(10 * 1024 * 1024));
    text.push_str("\"\n");
    std::fs::write(&file, text).unwrap();
    let d = scenario::load_one(&file).unwrap_err();
    let msg = d.to_string();
    assert!(
        msg.contains("is 10.0 MiB; scenario files are limited to 1024 KiB"),
        "{msg}"
    );
}

#[test]
fn a_folder_or_missing_path_is_reported() {
    let d = scenario::load_one(&fixtures().join("scenarios")).unwrap_err();
    assert!(d.to_string().contains("is a folder"), "{d}");
    let d = scenario::load_one(&fixtures().join("scenarios/nope.yaml")).unwrap_err();
    assert!(d.to_string().contains("cannot read"), "{d}");
}

#[test]
fn overriding_the_provider_revalidates() {
    let s = scenario::load_one(&fixtures().join("scenarios/valid/minimal.yaml")).unwrap();
    assert!(scenario::with_provider(&s, scenario::model::Provider::Kind).is_ok());
    let d = scenario::with_provider(&s, scenario::model::Provider::Existing).unwrap_err();
    let text = d.to_string();
    assert!(
        text.contains("provider existing cannot inject cluster-loss"),
        "{text}"
    );
    assert!(text.contains("no `existing` block"), "{text}");
}

#[test]
fn discover_expands_folders_in_name_order() {
    let files = scenario::discover(&[fixtures().join("scenarios/valid")]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"minimal.yaml".to_owned()));
    let err = scenario::discover(&[fixtures().join("no-such-dir")]).unwrap_err();
    assert!(err.to_string().contains("no such file or folder"));
    let err = scenario::discover(&[fixtures().join("keys")]).unwrap_err();
    assert!(err.to_string().contains("no scenario files"), "{err}");
}

#[test]
fn sim_images_are_listed_references() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("images.yaml");
    let repo = fixtures().join("scenarios/repo");
    let text = |images: &str| {
        format!(
            "apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n  name: images\nspec:\n  cluster:\n    sim:\n      images: {images}\n  source:\n    fixture: {}\n  disaster:\n    - fault: cluster-loss\n  recovery:\n    method: rebuild\n  rto:\n    total: 5m\n",
            repo.display()
        )
    };
    std::fs::write(&file, text("[\"ghcr.io/acme/web:2.0.0\", nginx]")).unwrap();
    let s = scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.cluster.sim.images, ["ghcr.io/acme/web:2.0.0", "nginx"]);
    std::fs::write(&file, text("[\"ghcr.io/acme/web:2.0.0\", \"\"]")).unwrap();
    let msg = scenario::load_one(&file).unwrap_err().to_string();
    assert!(
        msg.contains("spec.cluster.sim.images[1]") && msg.contains("is not an image reference"),
        "{msg}"
    );
}

#[test]
fn alternatives_expand_into_one_drill_each_with_their_overrides() {
    let file = fixtures().join("scenarios/valid/fault-matrix.yaml");
    let drills = scenario::load(&file).unwrap_or_else(|d| panic!("{d}"));
    let summary: Vec<(String, String, String, u64)> = drills
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.disaster
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join("+"),
                s.recovery.method.name().to_owned(),
                s.rto.total.as_secs(),
            )
        })
        .collect();
    let expect = |n: &str, f: &str, m: &str, t: u64| (n.to_owned(), f.to_owned(), m.to_owned(), t);
    assert_eq!(
        summary,
        vec![
            expect("fault-matrix-cluster-loss", "cluster-loss", "rebuild", 600),
            expect(
                "fault-matrix-podinfo-lost",
                "namespace-loss",
                "reconcile",
                900
            ),
            expect("fault-matrix-flux-lost", "controller-loss", "rebuild", 600),
        ]
    );
    // The shared sections are the same for every drill.
    assert!(
        drills
            .iter()
            .all(|s| s.source == drills[0].source && s.file == file)
    );
    // Where one drill is expected (ad-hoc, init), a matrix is refused.
    let err = scenario::load_one(&file).unwrap_err().to_string();
    assert!(err.contains("declares 3 drills; one was expected"), "{err}");
}
