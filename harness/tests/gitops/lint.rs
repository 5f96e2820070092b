//! `gameday lint`'s rules on their fixtures (`fixtures/lint/<rule>/`):
//! `bad/` triggers the rule, `good/` does not; findings point at the line
//! to edit; the SARIF output validates against the SARIF 2.1.0 schema.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gameday::init::layout;
use gameday::lint::{self, Restored, Rule, Severity};

fn dir(rule: &str, variant: &str) -> PathBuf {
    crate::common::fixtures()
        .join("lint")
        .join(rule)
        .join(variant)
}

async fn lint_at(root: &Path, restored: BTreeSet<Restored>) -> lint::Report {
    let path = layout::detect(root).path;
    let input = lint::Input {
        root,
        path: &path,
        restored,
    };
    lint::lint(&input, &Default::default()).await
}

fn sops_age() -> BTreeSet<Restored> {
    BTreeSet::from([Restored {
        namespace: "flux-system".to_owned(),
        name: "sops-age".to_owned(),
    }])
}

#[tokio::test]
async fn every_rule_triggers_on_its_bad_fixture_and_not_on_its_good_one() {
    for rule in Rule::ALL {
        let id = rule.id();
        let bad = lint_at(&dir(id, "bad"), BTreeSet::new()).await;
        assert!(bad.unrendered.is_empty(), "{id}: {:?}", bad.unrendered);
        let hits: Vec<_> = bad.findings.iter().filter(|f| f.rule == rule).collect();
        assert!(
            !hits.is_empty(),
            "{id}: not found in bad/: {:#?}",
            bad.findings
        );
        for f in &hits {
            assert!(!f.message.is_empty() && !f.fix.is_empty(), "{f:?}");
            assert!(f.line >= 1, "{f:?}");
            assert!(dir(id, "bad").join(&f.file).is_file(), "{f:?}");
        }
        let restored = if rule == Rule::UndecryptableSecret {
            sops_age()
        } else {
            BTreeSet::new()
        };
        let good = lint_at(&dir(id, "good"), restored).await;
        assert!(good.unrendered.is_empty(), "{id}: {:?}", good.unrendered);
        assert!(
            good.findings.iter().all(|f| f.rule != rule),
            "{id}: found in good/: {:#?}",
            good.findings
        );
    }
}

#[tokio::test]
async fn findings_name_the_file_and_line_to_edit() {
    let bad = lint_at(&dir("mutable-image", "bad"), BTreeSet::new()).await;
    let f = bad
        .findings
        .iter()
        .find(|f| f.rule == Rule::MutableImage)
        .unwrap();
    assert_eq!(f.file, PathBuf::from("deployment.yaml"));
    let text =
        std::fs::read_to_string(dir("mutable-image", "bad").join("deployment.yaml")).unwrap();
    let line = text.lines().nth(f.line - 1).unwrap();
    assert!(
        line.contains("image: ghcr.io/acme/web:latest"),
        "line {}: {line}",
        f.line
    );
    assert_eq!(f.object, "Deployment/web/web");
    assert_eq!(f.severity, Severity::Warning);

    // A Kustomization's own file, at its `prune:` line.
    let bad = lint_at(&dir("no-prune", "bad"), BTreeSet::new()).await;
    let f = bad
        .findings
        .iter()
        .find(|f| f.rule == Rule::NoPrune)
        .unwrap();
    assert_eq!(f.file, PathBuf::from("clusters/test/web.yaml"));
    let text = std::fs::read_to_string(dir("no-prune", "bad").join(&f.file)).unwrap();
    assert_eq!(text.lines().nth(f.line - 1).unwrap().trim(), "prune: false");
}

#[tokio::test]
async fn the_fixture_repositories_findings() {
    // podinfo keeps its key out of Git and restores it in the catalogue.
    let podinfo = lint_at(&crate::fixture("podinfo"), BTreeSet::new()).await;
    assert!(podinfo.unrendered.is_empty(), "{:?}", podinfo.unrendered);
    // shop stores its Secrets in Git unencrypted.
    let shop = lint_at(&crate::fixture("shop"), BTreeSet::new()).await;
    assert!(
        shop.findings
            .iter()
            .any(|f| f.rule == Rule::PlainSecret && f.severity == Severity::Error),
        "{:#?}",
        shop.findings
    );
    assert!(shop.findings.iter().any(|f| f.rule == Rule::PersistentData));
    // secrets: encrypted, decrypted with flux-system/sops-age — an error
    // until a scenario restores the key.
    let secrets = lint_at(&crate::fixture("secrets"), BTreeSet::new()).await;
    let undecryptable = |r: &lint::Report| {
        r.findings
            .iter()
            .filter(|f| f.rule == Rule::UndecryptableSecret)
            .count()
    };
    assert!(undecryptable(&secrets) > 0, "{:#?}", secrets.findings);
    let restored = lint_at(&crate::fixture("secrets"), sops_age()).await;
    assert_eq!(undecryptable(&restored), 0, "{:#?}", restored.findings);
    assert!(
        restored
            .findings
            .iter()
            .all(|f| f.rule != Rule::PlainSecret),
        "{:#?}",
        restored.findings
    );
}

#[tokio::test]
async fn the_sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let mut findings = Vec::new();
    for rule in Rule::ALL {
        findings.extend(
            lint_at(&dir(rule.id(), "bad"), BTreeSet::new())
                .await
                .findings,
        );
    }
    let sarif = serde_json::to_value(lint::sarif::to_sarif(&findings)).unwrap();
    // The OASIS schema as published (vendored verbatim), but for one
    // pattern: its `language` pattern has a stray `]`, which strict
    // ECMA-262 regex parsers (the validator's meta-schema check) reject;
    // it is given as intended. gameday's output sets no `language`.
    let text =
        std::fs::read_to_string(crate::common::fixtures().join("sarif/sarif-schema-2.1.0.json"))
            .unwrap();
    let buggy = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(buggy).count(), 2);
    let text = text.replace(buggy, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), Rule::ALL.len());
    // Every result points at its rule and a line of a file.
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(!loc["artifactLocation"]["uri"].as_str().unwrap().is_empty());
    }
    // And the validator does catch a broken document.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}
