//! The scenario catalogue in scenarios/ and the committed JSON Schema.

use std::collections::BTreeSet;

use gameday::scenario::{self, model::FaultKind};

use crate::common::root;

fn catalogue() -> Vec<std::path::PathBuf> {
    scenario::discover(&[root().join("scenarios")]).unwrap()
}

#[test]
fn every_catalogue_scenario_is_valid_and_declares_the_schema() {
    let files = catalogue();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=scenario.schema.json\n"),
            "{} must start with the yaml-language-server schema line",
            file.display()
        );
        let s = scenario::load_one(&file).unwrap_or_else(|d| panic!("{d}"));
        assert!(
            !s.description.is_empty(),
            "{} needs a one-line description",
            file.display()
        );
        assert!(
            !s.description.contains('\n'),
            "{}: description must be one line",
            file.display()
        );
        // The catalogue runs on the simulator by default: the embedded one,
        // or — for drills of Terraform itself (the pipeline model) — the
        // simulated clusters the sim-cluster fixture module starts.
        let on_simulator = match s.cluster.provider {
            scenario::model::Provider::Sim => true,
            scenario::model::Provider::Terraform => s.cluster.terraform.as_ref().is_some_and(|t| {
                t.dir.canonicalize().ok()
                    == root()
                        .join("fixtures/terraform/sim-cluster")
                        .canonicalize()
                        .ok()
            }),
            _ => false,
        };
        assert!(
            on_simulator,
            "{}: the catalogue runs on the simulator by default (provider sim, or terraform with fixtures/terraform/sim-cluster)",
            file.display()
        );
    }
}

#[test]
fn the_catalogue_covers_every_fault_recovery_pair_of_the_design() {
    let pairs: BTreeSet<(FaultKind, String)> = catalogue()
        .iter()
        .map(|f| scenario::load_one(f).unwrap())
        .flat_map(|s| {
            let method = s.recovery.method.name().to_owned();
            s.disaster
                .iter()
                .map(move |f| (f.kind(), method.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    for (fault, method) in [
        (FaultKind::ClusterLoss, "rebuild"),
        (FaultKind::NamespaceLoss, "reconcile"),
        (FaultKind::ControllerLoss, "rebuild"),
        (FaultKind::BadCommit, "git-revert"),
        (FaultKind::NodeLoss, "reconcile"),
        (FaultKind::ApiOutage, "reconcile"),
    ] {
        assert!(
            pairs.contains(&(fault, method.to_owned())),
            "no catalogue scenario for {fault}/{method}"
        );
    }
    let drift = catalogue()
        .iter()
        .map(|f| scenario::load_one(f).unwrap())
        .find(|s| !s.expect.lost.is_empty() && !s.setup.is_empty());
    assert!(
        drift.is_some(),
        "the catalogue needs a hand-made drift scenario using expect.lost"
    );
}

#[test]
fn the_committed_schema_is_what_gameday_schema_prints() {
    let committed = std::fs::read_to_string(root().join("scenarios/scenario.schema.json")).unwrap();
    let generated = scenario::schema::json_schema();
    if crate::common::update_golden() {
        std::fs::write(root().join("scenarios/scenario.schema.json"), &generated).unwrap();
        return;
    }
    assert_eq!(
        committed, generated,
        "scenarios/scenario.schema.json is stale: run `gameday schema > scenarios/scenario.schema.json`"
    );
}
