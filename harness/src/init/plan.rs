//! Which drills matter for a repository, read from its scanned tree.
//!
//! A [`Survey`] is what the drills need to know about the source: the
//! namespaces holding the most workloads, one Deployment to lose, one
//! workload whose image a commit can break (written literally in Git,
//! not overridden by kustomize), the decryption keys a rebuild needs, and
//! the reconciliation intervals. [`drill`] turns a fault into one
//! drill with its recovery and a first RTO guess; [`catalogue`] is the
//! small set `gameday init` writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::gitops::render::Object;
use crate::gitops::tree::Tree;
use crate::gitops::yaml::documents;
use crate::lint::{Restored, is_flux, locate, namespace_of};
use crate::scenario::duration::HumanDuration;
use crate::scenario::file::{FaultSpec, RecoveryMethodName};

/// Namespaces given their own namespace-loss drill: the largest few, not all.
pub const NAMESPACE_DRILLS: usize = 2;

/// The tag of the image a bad commit deploys: no registry has it.
pub const MISSING_TAG: &str = "gameday-no-such-tag";

/// `spec.interval` of the sync Kustomization a Flux bootstrap creates
/// (`flux bootstrap`'s and gameday's), which applies the root path.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(600);

/// The field a bad commit sets.
pub const IMAGE_FIELD: &str = "spec.template.spec.containers[0].image";

/// A workload whose image a commit can break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTarget {
    /// `Deployment/ns/name`.
    pub object: String,
    /// The file, relative to the root.
    pub file: PathBuf,
    /// Its document in the file.
    pub document: u32,
    /// The image as written.
    pub image: String,
}

impl ImageTarget {
    /// The same repository with a tag no registry has.
    pub fn broken_image(&self) -> String {
        let base = self.image.split('@').next().unwrap_or(&self.image);
        let last = base.rsplit('/').next().unwrap_or(base);
        let repo = match last.rfind(':') {
            Some(i) => &base[..base.len() - (last.len() - i)],
            None => base,
        };
        format!("{repo}:{MISSING_TAG}")
    }
}

/// What the drills need to know about a source (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// Namespaces holding workloads, with how many, largest first.
    pub namespaces: Vec<(String, usize)>,
    /// A Deployment to lose: `(namespace, name)`.
    pub deployment: Option<(String, String)>,
    /// A workload whose image a commit can break.
    pub image: Option<ImageTarget>,
    /// Whether the source has Flux Kustomizations.
    pub kustomizations: bool,
    /// Secrets the Kustomizations decrypt with (`spec.decryption`).
    pub decryption_keys: BTreeSet<Restored>,
    /// The `spec.interval` of the Kustomization applying each namespace's
    /// workloads (the longest, when several do).
    pub intervals: BTreeMap<String, Duration>,
    /// How many objects the source renders.
    pub objects: usize,
}

fn is_workload(o: &Object) -> bool {
    o.group() == "apps" && matches!(o.kind(), "Deployment" | "StatefulSet" | "DaemonSet")
}

impl Survey {
    /// Surveys the tree scanned from the checkout at `root`.
    pub fn of(tree: &Tree, root: &Path) -> Survey {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut survey = Survey::default();
        let interval_of = |unit: &crate::gitops::tree::Unit| {
            let Some(by) = unit.applied_by.as_ref() else {
                // The root path: the sync Kustomization the bootstrap makes.
                return Some(SYNC_INTERVAL);
            };
            tree.objects()
                .map(|(_, k)| k)
                .find(|k| {
                    is_flux(k, "kustomize")
                        && k.name() == by.name
                        && k.namespace().unwrap_or_default() == by.namespace
                })?
                .manifest
                .pointer("/spec/interval")
                .and_then(Value::as_str)
                .and_then(|i| crate::flux::duration::parse(i).ok())
        };
        for (unit, o) in tree.objects() {
            survey.objects += 1;
            if is_workload(o) && namespace_of(o) != "flux-system" {
                *counts.entry(namespace_of(o).to_owned()).or_default() += 1;
                if let Some(i) = interval_of(unit) {
                    let e = survey
                        .intervals
                        .entry(namespace_of(o).to_owned())
                        .or_default();
                    *e = (*e).max(i);
                }
            }
            if is_flux(o, "kustomize") && o.kind() == "Kustomization" {
                survey.kustomizations = true;
                if let Some(name) = o
                    .manifest
                    .pointer("/spec/decryption/secretRef/name")
                    .and_then(Value::as_str)
                {
                    survey.decryption_keys.insert(Restored {
                        namespace: o.namespace().unwrap_or("flux-system").to_owned(),
                        name: name.to_owned(),
                    });
                }
            }
        }
        let mut namespaces: Vec<(String, usize)> = counts.into_iter().collect();
        namespaces.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        survey.namespaces = namespaces;
        // Deployments of the largest namespaces first.
        let rank = |o: &Object| {
            survey
                .namespaces
                .iter()
                .position(|(n, _)| n == namespace_of(o))
                .unwrap_or(usize::MAX)
        };
        let mut deployments: Vec<(&crate::gitops::tree::Unit, &Object)> = tree
            .objects()
            .filter(|(_, o)| o.group() == "apps" && o.kind() == "Deployment")
            .filter(|(_, o)| namespace_of(o) != "flux-system")
            .collect();
        deployments.sort_by_key(|(_, o)| rank(o));
        survey.deployment = deployments
            .first()
            .map(|(_, o)| (namespace_of(o).to_owned(), o.name().to_owned()));
        let index = locate::Index::build(root);
        survey.image = deployments
            .iter()
            .find_map(|(u, o)| image_target(&index, root, &u.path, o));
        survey
    }
}

/// The Deployment's first container image as written in its own file,
/// when a commit to that file changes what is deployed (the rendered
/// image is the one written: no kustomize `images:` override).
fn image_target(index: &locate::Index, root: &Path, unit: &str, o: &Object) -> Option<ImageTarget> {
    let rendered = o
        .manifest
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()?;
    let place = index.locate(o, unit, None);
    let text = std::fs::read_to_string(root.join(&place.file)).ok()?;
    let doc = documents::parse(&text)
        .ok()?
        .into_iter()
        .find(|d| d.value["kind"] == "Deployment" && d.value["metadata"]["name"] == o.name())?;
    let written = doc
        .value
        .pointer("/spec/template/spec/containers/0/image")?
        .as_str()?;
    (written == rendered).then(|| ImageTarget {
        object: o.to_string(),
        file: place.file,
        document: u32::try_from(doc.index).unwrap_or(0),
        image: written.to_owned(),
    })
}

/// An RTO: a total, phase budgets, and where the figures come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The total.
    pub total: Duration,
    /// Per recovery phase.
    pub phases: BTreeMap<String, Duration>,
    /// One line on where the figures come from (a comment in the file).
    pub note: String,
}

/// One drill: a fault, the recovery it is drilled with, its budget, and
/// why it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`.
    pub description: String,
    /// Why the drill exists (comment lines).
    pub why: Vec<String>,
    /// The fault.
    pub fault: FaultSpec,
    /// The recovery.
    pub method: RecoveryMethodName,
    /// The RTO.
    pub rto: Budget,
}

/// Why a drill cannot be planned for a source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The fault is not one gameday knows.
    #[error("unknown fault {0:?}; choose one of: {list}", list = FAULTS.join(", "))]
    UnknownFault(String),
    /// The fault needs something the source does not have.
    #[error("{fault}: {why}")]
    NotApplicable {
        /// The fault.
        fault: String,
        /// What is missing.
        why: String,
    },
}

/// The faults a drill can be planned for from a source alone.
pub const FAULTS: [&str; 7] = [
    "cluster-loss",
    "namespace-loss",
    "controller-loss",
    "bad-commit",
    "resource-loss",
    "node-loss",
    "api-outage",
];

/// The recovery a fault is drilled with unless told otherwise.
pub fn default_method(fault: &str) -> RecoveryMethodName {
    match fault {
        "cluster-loss" | "controller-loss" => RecoveryMethodName::Rebuild,
        "bad-commit" => RecoveryMethodName::GitRevert,
        _ => RecoveryMethodName::Reconcile,
    }
}

fn minutes(m: u64) -> Duration {
    Duration::from_secs(60 * m)
}

/// A first guess of the RTO, before anything was measured: waiting for
/// the GitOps loop, the interval of the Kustomization that applies
/// `namespace` (1m, the sync's, when none does) plus 5m; a rebuild or a
/// revert (a new revision fetched, applied and rolled out), 15m.
fn guess(method: RecoveryMethodName, s: &Survey, namespace: Option<&str>) -> Budget {
    let interval = namespace
        .and_then(|ns| s.intervals.get(ns).copied())
        .unwrap_or(Duration::from_secs(60));
    let (total, why) = match method {
        RecoveryMethodName::Reconcile => (
            interval + minutes(5),
            format!(
                "the reconciliation interval, {}, and 5m",
                HumanDuration(interval)
            ),
        ),
        _ => (minutes(15), "15m".to_owned()),
    };
    Budget {
        total,
        phases: BTreeMap::new(),
        note: format!(
            "A first guess ({why}), not a measurement: `gameday init --measure --force` sets it from a run."
        ),
    }
}

fn not_applicable(fault: &str, why: &str) -> PlanError {
    PlanError::NotApplicable {
        fault: fault.to_owned(),
        why: why.to_owned(),
    }
}

/// The drill of `fault` (in the namespace `namespace` for
/// namespace-loss; default the largest) with `method` (default: the
/// fault's usual recovery).
///
/// # Errors
/// [`PlanError`] for an unknown fault, or one the source gives nothing to
/// break (no workload namespace, no Deployment, no image written in Git).
pub fn drill(
    fault: &str,
    method: Option<RecoveryMethodName>,
    namespace: Option<&str>,
    s: &Survey,
) -> Result<Drill, PlanError> {
    let method = method.unwrap_or_else(|| default_method(fault));
    let mut affected: Option<String> = None;
    let (name, description, why, spec) = match fault {
        "cluster-loss" => (
            "cluster-loss".to_owned(),
            "The whole cluster is lost; a new one is bootstrapped from Git.".to_owned(),
            vec![
                "The worst case: the cluster is gone and Git is the only backup.".to_owned(),
                "It proves Git alone rebuilds it — whatever does not come back is listed by name —".to_owned(),
                "and measures how long a rebuild takes.".to_owned(),
            ],
            FaultSpec::ClusterLoss {},
        ),
        "namespace-loss" => {
            let (ns, n) = match namespace {
                Some(ns) => (ns.to_owned(), s.namespaces.iter().find(|(x, _)| x == ns).map_or(0, |x| x.1)),
                None => s
                    .namespaces
                    .first()
                    .cloned()
                    .ok_or_else(|| not_applicable(fault, "the source defines no workload (Deployment, StatefulSet, DaemonSet) in any namespace"))?,
            };
            affected = Some(ns.clone());
            (
                dns_name(&format!("namespace-loss-{ns}")),
                format!("The {ns} namespace is deleted; the GitOps loop recreates it."),
                vec![
                    format!("{ns} holds {n} workload(s), among the most of any namespace: deleting it by mistake"),
                    "(a `kubectl delete ns` in the wrong context) is a common incident. It proves".to_owned(),
                    "everything in it is in Git and measures how long the GitOps loop takes to notice.".to_owned(),
                ],
                FaultSpec::NamespaceLoss { namespace: ns },
            )
        }
        "controller-loss" => (
            "controller-loss".to_owned(),
            "The GitOps controller is deleted; bootstrapping again restores it and it resumes.".to_owned(),
            vec![
                "Without its controller, nothing reconciles the cluster: drift and bad commits stay.".to_owned(),
                "It proves the controller can be bootstrapped again and adopts what runs.".to_owned(),
            ],
            FaultSpec::ControllerLoss {},
        ),
        "bad-commit" => bad_commit(s.image.as_ref().ok_or_else(|| {
            not_applicable(fault, "no Deployment of the source has its image written literally in Git (not overridden by kustomize `images:`)")
        })?),
        "resource-loss" => {
            let (ns, name) = s
                .deployment
                .clone()
                .ok_or_else(|| not_applicable(fault, "the source defines no Deployment"))?;
            affected = Some(ns.clone());
            (
                "resource-loss".to_owned(),
                format!("The Deployment {ns}/{name} is deleted; the GitOps loop recreates it."),
                vec![
                    format!("One object deleted by hand (here Deployment {ns}/{name}): Flux recreates what its"),
                    "inventory holds. It measures how long an application is down until then.".to_owned(),
                ],
                FaultSpec::ResourceLoss {
                    api_version: "apps/v1".to_owned(),
                    kind: "Deployment".to_owned(),
                    namespace: Some(ns),
                    name: Some(name),
                    selector: None,
                },
            )
        }
        "node-loss" => (
            "node-loss".to_owned(),
            "A worker node is lost; its pods are evicted and scheduled elsewhere.".to_owned(),
            vec!["A node failure: the workloads must survive on the others.".to_owned()],
            FaultSpec::NodeLoss { count: Some(1) },
        ),
        "api-outage" => (
            "api-outage".to_owned(),
            "The API server is unavailable for 45s.".to_owned(),
            vec!["A control-plane outage: reconciliation resumes when the API is back.".to_owned()],
            FaultSpec::ApiOutage {
                duration: HumanDuration(Duration::from_secs(45)),
            },
        ),
        other => return Err(PlanError::UnknownFault(other.to_owned())),
    };
    Ok(Drill {
        name,
        description,
        why,
        fault: spec,
        method,
        rto: guess(method, s, affected.as_deref()),
    })
}

/// A drill's name, description, why and fault.
type Parts = (String, String, Vec<String>, FaultSpec);

/// A commit that sets the target's image to a tag no registry has.
fn bad_commit(t: &ImageTarget) -> Parts {
    let broken = t.broken_image();
    (
        "bad-commit".to_owned(),
        format!(
            "A commit deploys an image tag no registry has to {}; reverting it in Git is the rollback.",
            t.object
        ),
        vec![
            format!(
                "A bad release is the most frequent outage: this commit sets {} to a tag",
                t.object
            ),
            "nobody pushed, so its pods cannot pull. It proves `git revert` is the rollback and"
                .to_owned(),
            "measures detect (how long until the failure shows) and converge.".to_owned(),
        ],
        FaultSpec::BadCommit {
            file: t.file.to_string_lossy().into_owned(),
            set: BTreeMap::from([(IMAGE_FIELD.to_owned(), json!(broken))]),
            document: (t.document > 0).then_some(t.document),
            content: None,
            delete: None,
            message: Some(format!("gameday: deploy {broken}")),
        },
    )
}

/// A DNS-1123 label of at most 40 characters (scenario names become part
/// of cluster names).
fn dns_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The catalogue `gameday init` writes (see the crate README): a rebuild
/// after cluster loss, namespace loss for the largest workload
/// namespaces, controller loss, a bad commit reverted, one Deployment
/// lost. Drills the source gives nothing to break are left out, with why.
pub fn catalogue(s: &Survey) -> (Vec<Drill>, Vec<PlanError>) {
    let mut wanted: Vec<(&str, Option<String>)> = vec![("cluster-loss", None)];
    if s.namespaces.is_empty() {
        wanted.push(("namespace-loss", None));
    }
    wanted.extend(
        s.namespaces
            .iter()
            .take(NAMESPACE_DRILLS)
            .map(|(ns, _)| ("namespace-loss", Some(ns.clone()))),
    );
    wanted.extend([
        ("controller-loss", None),
        ("bad-commit", None),
        ("resource-loss", None),
    ]);
    let mut drills = Vec::new();
    let mut skipped = Vec::new();
    for (fault, ns) in wanted {
        match drill(fault, None, ns.as_deref(), s) {
            Ok(d) => drills.push(d),
            Err(e) => skipped.push(e),
        }
    }
    (drills, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_image_keeps_the_repository_and_changes_the_tag() {
        let t = |image: &str| ImageTarget {
            object: String::new(),
            file: PathBuf::new(),
            document: 0,
            image: image.to_owned(),
        };
        assert_eq!(
            t("ghcr.io/a/b:1.2").broken_image(),
            "ghcr.io/a/b:gameday-no-such-tag"
        );
        assert_eq!(
            t("reg:5000/b").broken_image(),
            "reg:5000/b:gameday-no-such-tag"
        );
        assert_eq!(t("b@sha256:00").broken_image(), "b:gameday-no-such-tag");
        assert_eq!(
            dns_name("namespace-loss-Shop_Data"),
            "namespace-loss-shop-data"
        );
    }
}
