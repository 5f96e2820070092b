//! Static recoverability findings: what Git will *not* bring back.
//!
//! A drill measures a recovery; the lint reads the repository for what
//! would make one fail or lie, before any cluster exists. It scans the
//! source path as Flux builds it ([`crate::gitops::tree`]) and runs each
//! rule over the objects; every [`Finding`] names the file and line to
//! edit, how serious it is, why it matters for a recovery, and the fix.
//!
//! The rules, by concern (one file each):
//! - [`secrets`]: Secrets in Git unencrypted; encrypted Secrets whose
//!   decryption key nothing restores.
//! - [`references`]: ConfigMaps, Secrets, ServiceAccounts, claims and
//!   StorageClasses that objects use and nothing in Git creates.
//! - [`state`]: persistent volumes, whose data Git does not hold.
//! - [`crds`]: custom resources whose CRD is not in Git, or is applied by
//!   a Kustomization theirs does not depend on.
//! - [`pinning`]: images without a tag or on `latest`, charts without a
//!   version.
//! - [`flux`]: Kustomizations that do not prune or verify, HelmReleases
//!   without install remediation.
//!
//! Output formats (text, JSON, [`sarif`]) are rendered from the findings.

mod crds;
mod flux;
pub mod locate;
mod pinning;
mod references;
pub mod sarif;
mod secrets;
mod state;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::gitops::render::{Object, RenderOptions};
use crate::gitops::tree::{self, Tree, Unit};

/// The name of the GitRepository a Flux bootstrap creates: the scan
/// follows the Kustomizations of this source.
pub const SOURCE_NAME: &str = "flux-system";

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A recovery from Git would not restore this: the lint exits 1.
    Error,
    /// A recovery may restore something else, or is not verified.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A Secret in Git unencrypted.
    PlainSecret,
    /// An encrypted Secret nothing can decrypt after a disaster.
    UndecryptableSecret,
    /// A ConfigMap/Secret/ServiceAccount/claim/StorageClass nothing in Git creates.
    MissingReference,
    /// A persistent volume: its data is not in Git.
    PersistentData,
    /// A custom resource whose CRD is not in Git.
    CrdMissing,
    /// A custom resource applied by a Kustomization that does not depend on its CRD's.
    CrdNotDependedOn,
    /// An image without a tag, or on `latest`.
    MutableImage,
    /// A Helm chart without a version.
    ChartWithoutVersion,
    /// A Kustomization with `prune: false`.
    NoPrune,
    /// A Kustomization without `wait` or health checks.
    NoHealthCheck,
    /// A HelmRelease without install remediation.
    NoInstallRemediation,
}

impl Rule {
    /// Every rule, in the order they are documented.
    pub const ALL: [Rule; 11] = [
        Rule::PlainSecret,
        Rule::UndecryptableSecret,
        Rule::MissingReference,
        Rule::PersistentData,
        Rule::CrdMissing,
        Rule::CrdNotDependedOn,
        Rule::MutableImage,
        Rule::ChartWithoutVersion,
        Rule::NoPrune,
        Rule::NoHealthCheck,
        Rule::NoInstallRemediation,
    ];

    /// The rule's id, e.g. `plain-secret`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::PlainSecret => "plain-secret",
            Rule::UndecryptableSecret => "undecryptable-secret",
            Rule::MissingReference => "missing-reference",
            Rule::PersistentData => "persistent-data",
            Rule::CrdMissing => "crd-missing",
            Rule::CrdNotDependedOn => "crd-not-depended-on",
            Rule::MutableImage => "mutable-image",
            Rule::ChartWithoutVersion => "chart-without-version",
            Rule::NoPrune => "no-prune",
            Rule::NoHealthCheck => "no-health-check",
            Rule::NoInstallRemediation => "no-install-remediation",
        }
    }

    /// One line: what the rule finds.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::PlainSecret => "A Secret is stored in Git unencrypted.",
            Rule::UndecryptableSecret => {
                "An encrypted Secret's decryption key is restored by no scenario and is not in Git."
            }
            Rule::MissingReference => {
                "An object uses a ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim or StorageClass that nothing in Git creates."
            }
            Rule::PersistentData => "A PersistentVolumeClaim holds data Git does not.",
            Rule::CrdMissing => "A custom resource's CRD comes from nowhere in Git.",
            Rule::CrdNotDependedOn => {
                "A custom resource is applied by a Kustomization that does not depend on the one applying its CRD."
            }
            Rule::MutableImage => "An image has no tag, or the tag `latest`.",
            Rule::ChartWithoutVersion => "A HelmRelease's chart has no version.",
            Rule::NoPrune => "A Flux Kustomization does not prune.",
            Rule::NoHealthCheck => "A Flux Kustomization neither waits nor health-checks.",
            Rule::NoInstallRemediation => "A HelmRelease has no install remediation.",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// How serious.
    pub severity: Severity,
    /// The file to edit, relative to the repository root.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The object, `Kind/namespace/name`.
    pub object: String,
    /// What is wrong and why it matters for a recovery.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// A Secret a scenario restores before reconciliation (`bootstrap.secrets`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Restored {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// What the lint reads.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The checkout.
    pub root: &'a Path,
    /// The path Flux syncs (`clusters/staging`, `.`).
    pub path: &'a str,
    /// The Secrets the scenarios restore.
    pub restored: BTreeSet<Restored>,
}

/// The lint's result: findings ordered by file and line, and the paths
/// that did not render (their objects could not be checked).
#[derive(Debug, Default)]
pub struct Report {
    /// Findings.
    pub findings: Vec<Finding>,
    /// `path: why` of the units that did not render.
    pub unrendered: Vec<String>,
}

impl Report {
    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// What every rule sees.
pub(crate) struct Ctx<'a> {
    pub tree: &'a Tree,
    pub index: &'a locate::Index,
    pub restored: &'a BTreeSet<Restored>,
}

impl Ctx<'_> {
    /// A finding on `object` of `unit`, at the line holding `needle`.
    pub fn finding(
        &self,
        rule: Rule,
        severity: Severity,
        (unit, object): (&Unit, &Object),
        needle: Option<&str>,
        message: String,
        fix: String,
    ) -> Finding {
        let place = self.index.locate(object, &unit.path, needle);
        Finding {
            rule,
            severity,
            file: place.file,
            line: place.line,
            object: object.to_string(),
            message,
            fix,
        }
    }

    /// The Flux Kustomization object that applies `unit`, when it is in the tree.
    pub fn kustomization_of(&self, unit: &Unit) -> Option<&Object> {
        let by = unit.applied_by.as_ref()?;
        self.tree.objects().map(|(_, o)| o).find(|o| {
            is_flux(o, "kustomize")
                && o.name() == by.name
                && o.namespace().unwrap_or_default() == by.namespace
        })
    }
}

/// Whether `o` is of the Flux API group `<group>.toolkit.fluxcd.io`.
pub(crate) fn is_flux(o: &Object, group: &str) -> bool {
    o.group().strip_suffix(".toolkit.fluxcd.io") == Some(group)
}

/// The namespace an object lands in (`default` when it sets none).
pub(crate) fn namespace_of(o: &Object) -> &str {
    o.namespace().unwrap_or("default")
}

/// Lints the source at `input.path` of the checkout (see the module docs).
pub async fn lint(input: &Input<'_>, opts: &RenderOptions) -> Report {
    let tree = tree::scan(input.root, input.path, SOURCE_NAME, opts).await;
    lint_tree(&tree, input)
}

/// Lints a tree already scanned from `input.root`.
pub fn lint_tree(tree: &Tree, input: &Input<'_>) -> Report {
    let index = locate::Index::build(input.root);
    let ctx = Ctx {
        tree,
        index: &index,
        restored: &input.restored,
    };
    let mut findings = Vec::new();
    secrets::check(&ctx, &mut findings);
    references::check(&ctx, &mut findings);
    state::check(&ctx, &mut findings);
    crds::check(&ctx, &mut findings);
    pinning::check(&ctx, &mut findings);
    flux::check(&ctx, &mut findings);
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.rule, &a.object).cmp(&(&b.file, b.line, b.rule, &b.object))
    });
    findings.dedup();
    Report {
        findings,
        unrendered: tree
            .errors()
            .map(|(u, e)| format!("{}: {e}", u.label))
            .collect(),
    }
}
