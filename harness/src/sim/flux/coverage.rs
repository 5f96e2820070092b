//! What the simulator emulates of a source, and what it does not.
//!
//! A drill on the simulator is only true for what the simulator does the
//! way a real cluster does it. [`check`] goes over a scanned source tree
//! ([`crate::gitops::tree`]) and returns one [`Finding`] per construct a
//! real cluster would act on and the simulator would not:
//!
//! - an object whose kind a real cluster's controller reconciles and no
//!   emulated controller does ([`KINDS`]: Bucket and image
//!   automation kinds of Flux, the Flux Operator's, Flagger's…) — stored,
//!   it would never do anything, and a drill could pass without it;
//! - a spec field of a Flux `Kustomization` or `GitRepository` the
//!   emulated controllers ignore ([`FIELDS`]: `kubeConfig`,
//!   `serviceAccountName`, `verify`…) — the simulator would apply something
//!   else than Flux applies.
//!
//! Both lists are data: support for a kind or a field lands by deleting its
//! line (the comment at the end of a line names the issue that adds it).
//! Fields the emulation ignores on purpose are not findings: those that
//! only matter to how a controller reaches its source (`secretRef`,
//! `proxySecretRef`, `provider`), or that cannot make a drill pass wrongly
//! (`force`, `timeout` of sources).

use std::fmt;

use serde_json::Value;

use crate::gitops::render::Object;
use crate::gitops::tree::{Tree, Unit};

/// What to do about a finding, whatever it is.
pub const FIX: &str = "drill it on kind with real Flux (provider: kind), or remove it";

/// A kind the simulator stores but no emulated controller reconciles.
#[derive(Debug, Clone, Copy)]
pub struct UnemulatedKind {
    /// API group.
    pub group: &'static str,
    /// Kind (`*`: every kind of the group).
    pub kind: &'static str,
    /// API versions concerned (empty: all).
    pub versions: &'static [&'static str],
    /// Who reconciles it on a real cluster.
    pub controller: &'static str,
}

const fn kind(group: &'static str, kind: &'static str, controller: &'static str) -> UnemulatedKind {
    UnemulatedKind {
        group,
        kind,
        versions: &[],
        controller,
    }
}

/// Kinds a real cluster reconciles and the simulator does not. One line
/// per kind: delete it when its controller is emulated.
pub const KINDS: &[UnemulatedKind] = &[
    kind(
        "source.toolkit.fluxcd.io",
        "Bucket",
        "Flux's source-controller",
    ),
    kind(
        "source.toolkit.fluxcd.io",
        "ExternalArtifact",
        "Flux's source-watcher",
    ),
    kind(
        "source.extensions.fluxcd.io",
        "ArtifactGenerator",
        "Flux's source-watcher",
    ),
    kind(
        "image.toolkit.fluxcd.io",
        "ImageRepository",
        "Flux's image-reflector-controller",
    ),
    kind(
        "image.toolkit.fluxcd.io",
        "ImagePolicy",
        "Flux's image-reflector-controller",
    ),
    kind(
        "image.toolkit.fluxcd.io",
        "ImageUpdateAutomation",
        "Flux's image-automation-controller",
    ),
    kind(
        "notification.toolkit.fluxcd.io",
        "Receiver",
        "Flux's notification-controller",
    ),
    // v1beta3 Alerts and Providers are static (no status); older ones are
    // reconciled and report Ready.
    UnemulatedKind {
        group: "notification.toolkit.fluxcd.io",
        kind: "Alert",
        versions: &["v1beta1", "v1beta2"],
        controller: "Flux's notification-controller",
    },
    UnemulatedKind {
        group: "notification.toolkit.fluxcd.io",
        kind: "Provider",
        versions: &["v1beta1", "v1beta2"],
        controller: "Flux's notification-controller",
    },
    kind("fluxcd.controlplane.io", "*", "the Flux Operator"),
    kind("flagger.app", "*", "Flagger"),
];

/// Which Flux object a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// `kustomize.toolkit.fluxcd.io` `Kustomization`.
    Kustomization,
    /// `source.toolkit.fluxcd.io` `GitRepository`.
    GitRepository,
    /// `helm.toolkit.fluxcd.io` `HelmRelease`.
    HelmRelease,
    /// `source.toolkit.fluxcd.io` `OCIRepository`.
    OciRepository,
}

impl Owner {
    fn matches(self, o: &Object) -> bool {
        match self {
            Owner::Kustomization => {
                o.group() == "kustomize.toolkit.fluxcd.io" && o.kind() == "Kustomization"
            }
            Owner::GitRepository => {
                o.group() == "source.toolkit.fluxcd.io" && o.kind() == "GitRepository"
            }
            Owner::HelmRelease => {
                o.group() == "helm.toolkit.fluxcd.io" && o.kind() == "HelmRelease"
            }
            Owner::OciRepository => {
                o.group() == "source.toolkit.fluxcd.io" && o.kind() == "OCIRepository"
            }
        }
    }
}

/// A spec field the emulated controller ignores.
#[derive(Debug, Clone, Copy)]
pub struct IgnoredField {
    /// Whose field.
    pub owner: Owner,
    /// Its path under `spec` (`install/remediation`: a JSON pointer).
    pub field: &'static str,
    /// What Flux does with it, in a few words.
    pub does: &'static str,
}

const fn field(owner: Owner, field: &'static str, does: &'static str) -> IgnoredField {
    IgnoredField { owner, field, does }
}

use Owner::{GitRepository as Git, HelmRelease as Hr, Kustomization as Ks, OciRepository as Oci};

/// Spec fields a real Flux acts on and the emulation ignores. One line per
/// field: delete it when the emulation implements it.
pub const FIELDS: &[IgnoredField] = &[
    field(Ks, "kubeConfig", "applies to another cluster"),
    field(
        Ks,
        "serviceAccountName",
        "applies as that service account (RBAC)",
    ),
    // Signatures (every `verify`): a scenario may opt out
    // (`spec.cluster.sim.skipVerify`), which the report states.
    field(Git, "verify", "verifies commit signatures"),
    field(Git, "recurseSubmodules", "checks out submodules"),
    field(Git, "sparseCheckout", "checks out only some folders"),
    field(
        Oci,
        "verify",
        "verifies the artifact's cosign or notation signature",
    ),
    // issue 15 (Helm): the emulated helm-controller installs, upgrades,
    // tests, remediates (rollback or uninstall) and corrects drift of a
    // chart of a GitRepository, with the CRD policies, waits and timeouts;
    // not these.
    field(Hr, "chart/spec/verify", "verifies the chart's signature"),
    field(Hr, "kubeConfig", "releases to another cluster"),
    field(
        Hr,
        "serviceAccountName",
        "releases as that service account (RBAC)",
    ),
    field(Hr, "postRenderers", "patches the rendered chart"),
    field(Hr, "test/filters", "runs only the selected tests"),
    field(
        Hr,
        "install/replace",
        "reuses the name of an uninstalled release",
    ),
    field(
        Hr,
        "install/disableHooks",
        "installs without the chart's hooks",
    ),
    field(Hr, "install/disableWaitForJobs", "does not wait for Jobs"),
    field(
        Hr,
        "install/disableOpenAPIValidation",
        "skips OpenAPI validation",
    ),
    field(
        Hr,
        "install/disableSchemaValidation",
        "skips the values schema",
    ),
    field(
        Hr,
        "install/disableTakeOwnership",
        "refuses objects another release owns",
    ),
    field(
        Hr,
        "install/serverSideApply",
        "installs by that apply method",
    ),
    field(Hr, "upgrade/force", "replaces objects instead of patching"),
    field(
        Hr,
        "upgrade/cleanupOnFail",
        "deletes what a failed upgrade created",
    ),
    field(
        Hr,
        "upgrade/preserveValues",
        "keeps the last release's values",
    ),
    field(
        Hr,
        "upgrade/disableHooks",
        "upgrades without the chart's hooks",
    ),
    field(Hr, "upgrade/disableWaitForJobs", "does not wait for Jobs"),
    field(
        Hr,
        "upgrade/disableOpenAPIValidation",
        "skips OpenAPI validation",
    ),
    field(
        Hr,
        "upgrade/disableSchemaValidation",
        "skips the values schema",
    ),
    field(
        Hr,
        "upgrade/disableTakeOwnership",
        "refuses objects another release owns",
    ),
    field(
        Hr,
        "upgrade/chartNameChangeStrategy",
        "upgrades a renamed chart in place",
    ),
    field(
        Hr,
        "upgrade/serverSideApply",
        "upgrades by that apply method",
    ),
    field(Hr, "rollback/disableHooks", "rolls back without hooks"),
    field(Hr, "rollback/disableWaitForJobs", "does not wait for Jobs"),
    field(Hr, "rollback/force", "replaces objects instead of patching"),
    field(
        Hr,
        "rollback/cleanupOnFail",
        "deletes what a failed rollback created",
    ),
    field(
        Hr,
        "rollback/serverSideApply",
        "rolls back by that apply method",
    ),
    field(Hr, "uninstall/keepHistory", "keeps the release's history"),
    field(Hr, "uninstall/disableHooks", "uninstalls without hooks"),
    field(
        Hr,
        "uninstall/deletionPropagation",
        "deletes with that propagation",
    ),
    field(Hr, "commonMetadata", "labels and annotates every object"),
    field(
        Hr,
        "healthCheckExprs",
        "judges custom resources' health by CEL",
    ),
    field(Hr, "waitStrategy", "waits for the release by that strategy"),
];

/// Helm constructs that depend on a field's value: a chart source other
/// than a GitRepository or HelmRepository (of a HelmRelease's template or
/// a HelmChart), a `chartRef` other than an OCIRepository or HelmChart, a
/// HelmChart's `verify`, release storage elsewhere than the release's
/// namespace.
fn helm_release_constructs(o: &Object) -> Vec<(String, String)> {
    let m = &o.manifest;
    let text = |p: &str| {
        m.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let source = o.group() == "source.toolkit.fluxcd.io";
    if source && o.kind() == "HelmChart" {
        let mut out = Vec::new();
        if let Some(kind) = text("/spec/sourceRef/kind")
            .filter(|k| !["GitRepository", "HelmRepository"].contains(k))
        {
            out.push((
                format!("spec.sourceRef.kind {kind}"),
                format!("Flux fetches the chart from a {kind}, the simulator only from a GitRepository or a HelmRepository"),
            ));
        }
        if set(m.pointer("/spec/verify")) {
            out.push((
                "spec.verify".to_owned(),
                "Flux verifies the chart's signature, the simulator ignores it".to_owned(),
            ));
        }
        return out;
    }
    if !Owner::HelmRelease.matches(o) {
        return Vec::new();
    }
    let text = |p: &str| {
        m.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut out = Vec::new();
    if let Some(kind) =
        text("/spec/chartRef/kind").filter(|k| !["OCIRepository", "HelmChart"].contains(k))
    {
        out.push((
            format!("spec.chartRef.kind {kind}"),
            format!(
                "Flux takes the chart from a {kind}, the simulator only from an OCIRepository or a HelmChart"
            ),
        ));
    }
    if let Some(kind) = text("/spec/chart/spec/sourceRef/kind")
        .filter(|k| !["GitRepository", "HelmRepository"].contains(k))
    {
        out.push((
            format!("spec.chart.spec.sourceRef.kind {kind}"),
            format!(
                "Flux fetches the chart from a {kind}, the simulator only from a GitRepository or a HelmRepository"
            ),
        ));
    }
    let own = text("/metadata/namespace").unwrap_or("default");
    let target = text("/spec/targetNamespace").unwrap_or(own);
    if let Some(storage) = text("/spec/storageNamespace").filter(|s| *s != target) {
        out.push((
            "spec.storageNamespace".to_owned(),
            format!("Flux keeps the release in {storage}, the simulator in {target}"),
        ));
    }
    let selectors = m
        .pointer("/spec/driftDetection/ignore")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                r.pointer("/target/labelSelector").is_some()
                    || r.pointer("/target/annotationSelector").is_some()
            })
        });
    if selectors {
        out.push((
            "spec.driftDetection.ignore[].target label/annotation selector".to_owned(),
            "Flux leaves the selected objects' paths out of drift detection, the simulator selects only by kind, name, namespace and group".to_owned(),
        ));
    }
    out
}

/// One construct of the source the simulator does not emulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where it is defined: `file:line`, or the file (kustomize output).
    pub file: String,
    /// The object: `Kind/namespace/name`.
    pub object: String,
    /// The Kustomization that applies it, when not the scanned path itself.
    pub applied_by: Option<String>,
    /// What is not emulated (`kind HelmRelease (helm.toolkit.fluxcd.io)`,
    /// `spec.patches`).
    pub construct: String,
    /// What a real cluster does with it and the simulator does not.
    pub consequence: String,
}

impl Finding {
    /// True for a signature verification (a `verify` field: cosign or
    /// notation signatures of artifacts and charts, OpenPGP signatures of
    /// commits), which `spec.cluster.sim.skipVerify` lets a drill skip.
    pub fn is_signature_verification(&self) -> bool {
        self.construct == "spec.verify" || self.construct.ends_with(".verify")
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} is not emulated: {}; {FIX}",
            self.file, self.object, self.construct, self.consequence
        )
    }
}

fn location(o: &Object) -> String {
    let file = o.source.file.display();
    match o.source.line {
        Some(line) if !o.source.built => format!("{file}:{line}"),
        _ => file.to_string(),
    }
}

fn version(o: &Object) -> &str {
    o.api_version()
        .rsplit_once('/')
        .map_or(o.api_version(), |(_, v)| v)
}

/// The entry of [`KINDS`] for `o`, if any.
pub fn unemulated_kind(o: &Object) -> Option<&'static UnemulatedKind> {
    KINDS.iter().find(|k| {
        k.group == o.group()
            && (k.kind == "*" || k.kind == o.kind())
            && (k.versions.is_empty() || k.versions.contains(&version(o)))
    })
}

fn set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(_) => true,
    }
}

/// The findings of one object of `unit`.
pub fn findings(unit: &Unit, o: &Object) -> Vec<Finding> {
    let found = |construct: String, consequence: String| Finding {
        file: location(o),
        object: o.to_string(),
        applied_by: unit.applied_by.as_ref().map(ToString::to_string),
        construct,
        consequence,
    };
    if let Some(k) = unemulated_kind(o) {
        return vec![found(
            format!("kind {} ({})", o.kind(), o.api_version()),
            format!(
                "{} reconciles it, the simulator only stores it",
                k.controller
            ),
        )];
    }
    let mut out: Vec<Finding> = FIELDS
        .iter()
        .filter(|f| f.owner.matches(o) && set(o.manifest.pointer(&format!("/spec/{}", f.field))))
        .map(|f| {
            found(
                format!("spec.{}", f.field.replace('/', ".")),
                format!("Flux {}, the simulator ignores it", f.does),
            )
        })
        .collect();
    out.extend(
        helm_release_constructs(o)
            .into_iter()
            .map(|(c, why)| found(c, why)),
    );
    out
}

/// Every finding of `tree`, in the tree's order.
pub fn check(tree: &Tree) -> Vec<Finding> {
    tree.objects().flat_map(|(u, o)| findings(u, o)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitops::render::Provenance;
    use serde_json::json;
    use std::path::PathBuf;

    fn unit() -> Unit {
        Unit {
            label: "./".into(),
            path: "./".into(),
            applied_by: None,
            target_namespace: None,
            objects: Vec::new(),
            error: None,
        }
    }

    fn object(manifest: Value) -> Object {
        Object {
            manifest,
            source: Provenance {
                file: PathBuf::from("apps/x.yaml"),
                document: 0,
                line: Some(3),
                built: false,
            },
        }
    }

    #[test]
    fn unemulated_kinds_are_named_with_their_controller() {
        let repo = object(
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "Bucket",
            "metadata": {"name": "podinfo", "namespace": "apps"}}),
        );
        let f = findings(&unit(), &repo);
        assert_eq!(f.len(), 1);
        let line = f[0].to_string();
        assert!(line.starts_with("apps/x.yaml:3: Bucket/apps/podinfo: kind Bucket (source.toolkit.fluxcd.io/v1) is not emulated: Flux's source-controller reconciles it, the simulator only stores it; drill it on kind"), "{line}");
        assert!(line.ends_with(FIX));
        let canary = object(
            json!({"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "c"}}),
        );
        assert_eq!(findings(&unit(), &canary).len(), 1);
        // Static v1beta3 alerts are not reconciled anywhere; v1beta2 ones are.
        let alert = |v: &str| {
            object(
                json!({"apiVersion": format!("notification.toolkit.fluxcd.io/{v}"), "kind": "Alert", "metadata": {"name": "a"}}),
            )
        };
        assert!(findings(&unit(), &alert("v1beta3")).is_empty());
        assert_eq!(findings(&unit(), &alert("v1beta2")).len(), 1);
        let cm =
            object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}));
        assert!(findings(&unit(), &cm).is_empty());
    }

    #[test]
    fn ignored_fields_are_one_finding_each() {
        let ks = object(
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"path": "./apps", "prune": true, "patches": [{"patch": "x"}], "kubeConfig": {"secretRef": {"name": "remote"}},
                "postBuild": {}, "images": [], "serviceAccountName": "deployer"}}),
        );
        let f = findings(&unit(), &ks);
        let constructs: Vec<&str> = f.iter().map(|f| f.construct.as_str()).collect();
        assert_eq!(constructs, ["spec.kubeConfig", "spec.serviceAccountName"]);
        assert!(f[0].to_string().contains("Kustomization/flux-system/apps: spec.kubeConfig is not emulated: Flux applies to another cluster, the simulator ignores it;"));
        let git = object(
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "r"}, "spec": {"url": "https://x", "ignore": "/*\n!/deploy", "verify": {"mode": "HEAD"}, "secretRef": {"name": "auth"}}}),
        );
        let f = findings(&unit(), &git);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].construct, "spec.verify");
    }

    #[test]
    fn helm_releases_are_emulated_only_with_what_the_simulator_implements() {
        let hr = |spec: Value| {
            object(
                json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                "metadata": {"name": "web", "namespace": "flux-system"}, "spec": spec}),
            )
        };
        let git = json!({"spec": {"chart": "./charts/hello", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}});
        let supported = hr(
            json!({"interval": "10m", "chart": git, "releaseName": "web",
            "targetNamespace": "apps", "storageNamespace": "apps",
            "install": {"createNamespace": true, "crds": "Skip", "disableWait": true,
                "strategy": {"name": "RetryOnFailure", "retryInterval": "1m"},
                "remediation": {"retries": 3, "remediateLastFailure": true}},
            "upgrade": {"crds": "CreateReplace", "disableWait": true, "timeout": "2m",
                "remediation": {"retries": -1, "strategy": "uninstall"}},
            "rollback": {"disableWait": true, "timeout": "1m"},
            "test": {"enable": true, "ignoreFailures": true},
            "driftDetection": {"mode": "enabled", "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}]},
            "dependsOn": [{"name": "db"}], "values": {"a": 1}, "suspend": false,
            "valuesFrom": [{"kind": "ConfigMap", "name": "v", "targetPath": "a", "optional": true}]}),
        );
        assert_eq!(findings(&unit(), &supported), []);
        let refused = hr(
            json!({"interval": "10m", "targetNamespace": "apps", "storageNamespace": "flux-system",
            "chart": {"spec": {"chart": "podinfo", "version": "6.x", "reconcileStrategy": "Revision",
                "sourceRef": {"kind": "Bucket", "name": "podinfo"}}},
            "chartRef": {"kind": "ExternalArtifact", "name": "x"},
            "install": {"remediation": {"retries": 3}, "replace": true},
            "upgrade": {"remediation": {"retries": 3}, "force": true},
            "driftDetection": {"mode": "enabled", "ignore": [{"paths": ["/spec/replicas"], "target": {"labelSelector": "a=b"}}]},
            "test": {"enable": true, "filters": [{"name": "t"}]}, "postRenderers": [{"kustomize": {}}],
            "kubeConfig": {"secretRef": {"name": "k"}}}),
        );
        let constructs: Vec<String> = findings(&unit(), &refused)
            .into_iter()
            .map(|f| f.construct)
            .collect();
        assert_eq!(
            constructs,
            [
                "spec.kubeConfig",
                "spec.postRenderers",
                "spec.test.filters",
                "spec.install.replace",
                "spec.upgrade.force",
                "spec.chartRef.kind ExternalArtifact",
                "spec.chart.spec.sourceRef.kind Bucket",
                "spec.storageNamespace",
                "spec.driftDetection.ignore[].target label/annotation selector",
            ]
        );
    }

    #[test]
    fn helm_and_oci_sources_are_emulated_but_buckets_and_verification() {
        let src = |kind: &str, spec: Value| {
            object(
                json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": kind,
                "metadata": {"name": "charts", "namespace": "flux-system"}, "spec": spec}),
            )
        };
        let constructs = |o: &Object| -> Vec<String> {
            findings(&unit(), o)
                .into_iter()
                .map(|f| f.construct)
                .collect()
        };
        let http = src(
            "HelmRepository",
            json!({"url": "https://charts.example.com", "interval": "1h"}),
        );
        assert_eq!(constructs(&http), Vec::<String>::new());
        let oci = src(
            "HelmRepository",
            json!({"url": "oci://ghcr.io/x", "type": "oci"}),
        );
        assert_eq!(constructs(&oci), Vec::<String>::new());
        let oci_repo = src(
            "OCIRepository",
            json!({"url": "oci://ghcr.io/x", "interval": "1h", "ref": {"semver": "1.x"},
            "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"}}),
        );
        assert_eq!(constructs(&oci_repo), Vec::<String>::new());
        let signed = src(
            "OCIRepository",
            json!({"url": "oci://ghcr.io/x", "interval": "1h", "verify": {"provider": "cosign"}}),
        );
        assert_eq!(constructs(&signed), ["spec.verify"]);
        let chart = src(
            "HelmChart",
            json!({"chart": "podinfo", "interval": "1h",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"}}),
        );
        assert_eq!(constructs(&chart), Vec::<String>::new());
        let bucket = src(
            "HelmChart",
            json!({"chart": "podinfo", "valuesFiles": ["a.yaml"], "verify": {"provider": "cosign"},
            "sourceRef": {"kind": "Bucket", "name": "b"}}),
        );
        assert_eq!(
            constructs(&bucket),
            ["spec.sourceRef.kind Bucket", "spec.verify"]
        );
    }
}
