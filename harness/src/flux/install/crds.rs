//! The Flux CustomResourceDefinitions, as `flux install` creates them:
//! real groups, versions and kinds, short names, categories, printer
//! columns, a status subresource and Flux's labels. Schemas keep unknown
//! fields (the simulator does not validate custom resources).

use serde_json::{Value, json};

use super::labels;

/// One custom resource kind of Flux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FluxKind {
    /// API group.
    pub group: &'static str,
    /// Served versions, storage version first.
    pub versions: &'static [&'static str],
    /// Kind.
    pub kind: &'static str,
    /// Plural resource name.
    pub plural: &'static str,
    /// Short names.
    pub short_names: &'static [&'static str],
    /// The controller that owns it (the CRD's `app.kubernetes.io/component`).
    pub controller: &'static str,
    /// `fluxcd-sources`, `fluxcd-appliers` or `fluxcd-notifications`.
    pub category: &'static str,
    /// Extra printer columns before Age/Ready/Status: (name, JSONPath).
    pub columns: &'static [(&'static str, &'static str)],
}

/// GitRepository.
pub const GIT_REPOSITORY: FluxKind = FluxKind {
    group: "source.toolkit.fluxcd.io",
    versions: &["v1", "v1beta2"],
    kind: "GitRepository",
    plural: "gitrepositories",
    short_names: &["gitrepo"],
    controller: "source-controller",
    category: "fluxcd-sources",
    columns: &[("URL", ".spec.url")],
};

/// Kustomization.
pub const KUSTOMIZATION: FluxKind = FluxKind {
    group: "kustomize.toolkit.fluxcd.io",
    versions: &["v1"],
    kind: "Kustomization",
    plural: "kustomizations",
    short_names: &["ks"],
    controller: "kustomize-controller",
    category: "fluxcd-appliers",
    columns: &[],
};

/// Every Flux kind `flux install` defines with the default components.
pub const KINDS: [FluxKind; 10] = [
    FluxKind {
        group: "notification.toolkit.fluxcd.io",
        versions: &["v1beta3"],
        kind: "Alert",
        plural: "alerts",
        short_names: &[],
        controller: "notification-controller",
        category: "fluxcd-notifications",
        columns: &[],
    },
    FluxKind {
        group: "source.toolkit.fluxcd.io",
        versions: &["v1"],
        kind: "Bucket",
        plural: "buckets",
        short_names: &[],
        controller: "source-controller",
        category: "fluxcd-sources",
        columns: &[("Endpoint", ".spec.endpoint")],
    },
    GIT_REPOSITORY,
    FluxKind {
        group: "source.toolkit.fluxcd.io",
        versions: &["v1"],
        kind: "HelmChart",
        plural: "helmcharts",
        short_names: &["hc"],
        controller: "source-controller",
        category: "fluxcd-sources",
        columns: &[
            ("Chart", ".spec.chart"),
            ("Version", ".spec.version"),
            ("Source Kind", ".spec.sourceRef.kind"),
            ("Source Name", ".spec.sourceRef.name"),
        ],
    },
    FluxKind {
        group: "helm.toolkit.fluxcd.io",
        versions: &["v2"],
        kind: "HelmRelease",
        plural: "helmreleases",
        short_names: &["hr"],
        controller: "helm-controller",
        category: "fluxcd-appliers",
        columns: &[],
    },
    FluxKind {
        group: "source.toolkit.fluxcd.io",
        versions: &["v1"],
        kind: "HelmRepository",
        plural: "helmrepositories",
        short_names: &["helmrepo"],
        controller: "source-controller",
        category: "fluxcd-sources",
        columns: &[("URL", ".spec.url")],
    },
    KUSTOMIZATION,
    FluxKind {
        group: "source.toolkit.fluxcd.io",
        versions: &["v1", "v1beta2"],
        kind: "OCIRepository",
        plural: "ocirepositories",
        short_names: &["ocirepo"],
        controller: "source-controller",
        category: "fluxcd-sources",
        columns: &[("URL", ".spec.url")],
    },
    FluxKind {
        group: "notification.toolkit.fluxcd.io",
        versions: &["v1beta3"],
        kind: "Provider",
        plural: "providers",
        short_names: &[],
        controller: "notification-controller",
        category: "fluxcd-notifications",
        columns: &[],
    },
    FluxKind {
        group: "notification.toolkit.fluxcd.io",
        versions: &["v1"],
        kind: "Receiver",
        plural: "receivers",
        short_names: &[],
        controller: "notification-controller",
        category: "fluxcd-notifications",
        columns: &[],
    },
];

impl FluxKind {
    /// The CRD's name, `<plural>.<group>`.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// `group/version` of the storage version.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.versions[0])
    }

    fn printer_columns(&self) -> Value {
        let mut cols: Vec<Value> = self
            .columns
            .iter()
            .map(|(name, path)| json!({"jsonPath": path, "name": name, "type": "string"}))
            .collect();
        let age = json!({"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"});
        // source-controller's OCIRepository CRD lists Age last.
        let age_last = self.kind == "OCIRepository";
        if !age_last {
            cols.push(age.clone());
        }
        cols.push(json!({"jsonPath": ".status.conditions[?(@.type==\"Ready\")].status", "name": "Ready", "type": "string"}));
        cols.push(json!({"jsonPath": ".status.conditions[?(@.type==\"Ready\")].message", "name": "Status", "type": "string"}));
        if age_last {
            cols.push(age);
        }
        Value::Array(cols)
    }

    /// The CustomResourceDefinition manifest.
    pub fn crd(&self) -> Value {
        let versions: Vec<Value> = self
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut version = json!({
                    "name": v,
                    "served": true,
                    "storage": i == 0,
                    "additionalPrinterColumns": self.printer_columns(),
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    "subresources": {"status": {}},
                });
                if i > 0 {
                    version["deprecated"] = json!(true);
                    version["deprecationWarning"] =
                        json!(format!("{}/{v} {} is deprecated, upgrade to {}", self.group, self.kind, self.versions[0]));
                }
                version
            })
            .collect();
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": self.crd_name(),
                "labels": labels(self.controller),
                "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.1"},
            },
            "spec": {
                "group": self.group,
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": self.plural,
                    "singular": self.kind.to_lowercase(),
                    "shortNames": self.short_names,
                    "categories": ["all", "fluxcd", self.category],
                },
                "scope": "Namespaced",
                "versions": versions,
            },
        })
    }
}
