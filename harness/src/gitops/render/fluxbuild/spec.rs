//! The fields of a Flux Kustomization's spec that shape its build
//! (`kustomize.toolkit.fluxcd.io/v1`), read with serde so that a
//! malformed field is named by its path (`spec.patches[0].target.kind`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kustomize-controller adds around `spec.path` before building it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BuildSpec {
    /// `targetNamespace`: the generated kustomization's `namespace`.
    pub target_namespace: Option<String>,
    /// `namePrefix`, replacing the path's own.
    pub name_prefix: Option<String>,
    /// `nameSuffix`, replacing the path's own.
    pub name_suffix: Option<String>,
    /// `patches`, appended to the path's own.
    pub patches: Vec<Patch>,
    /// `images`, merged by name into the path's own.
    pub images: Vec<Image>,
    /// `components` (paths relative to `spec.path`), appended.
    pub components: Vec<String>,
    /// `ignoreMissingComponents`: drop components that do not exist.
    pub ignore_missing_components: bool,
    /// `commonMetadata`, set on every object after the build.
    pub common_metadata: Option<CommonMetadata>,
}

/// A `spec.patches` entry: a strategic-merge or JSON6902 patch (kustomize
/// tells them apart by their content) with an optional target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    /// The patch, YAML or JSON.
    pub patch: String,
    /// The objects it applies to (default: the object the patch names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// A patch target, as kustomize's `Selector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Selector {
    /// API group (regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version (regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind (regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name (regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace (regex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Label selector (`app=podinfo,tier!=db`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    /// Annotation selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
}

/// A `spec.images` entry, as kustomize's `images` transformer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    /// The image name to match (`ghcr.io/stefanprodan/podinfo`).
    pub name: String,
    /// A new name for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// A new tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// A digest (`sha256:…`), which wins over the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// `spec.commonMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommonMetadata {
    /// Labels set on every object, replacing the same keys.
    pub labels: BTreeMap<String, String>,
    /// Annotations set on every object, replacing the same keys.
    pub annotations: BTreeMap<String, String>,
}

impl BuildSpec {
    /// Reads the build fields of a Kustomization object (its `spec`).
    ///
    /// # Errors
    /// A message naming the field (`spec.patches[0].patch: missing field`)
    /// when one has the wrong shape.
    pub fn from_kustomization(obj: &Value) -> Result<BuildSpec, String> {
        let Some(spec) = obj.get("spec") else {
            return Ok(BuildSpec::default());
        };
        serde_path_to_error::deserialize::<_, BuildSpec>(spec.clone()).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                format!("spec: {inner}")
            } else {
                format!("spec.{path}: {inner}")
            }
        })
    }

    /// Whether the build needs a kustomization generated around the path
    /// (anything but `commonMetadata`, which is set after the build).
    pub fn overlays(&self) -> bool {
        self.target_namespace
            .as_deref()
            .is_some_and(|s| !s.is_empty())
            || self.name_prefix.as_deref().is_some_and(|s| !s.is_empty())
            || self.name_suffix.as_deref().is_some_and(|s| !s.is_empty())
            || !self.patches.is_empty()
            || !self.images.is_empty()
            || !self.components.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_flux_fields_and_names_bad_ones() {
        let k = json!({"spec": {
            "interval": "10m", "prune": true, "targetNamespace": "apps",
            "patches": [{"patch": "- op: remove\n  path: /spec/replicas", "target": {"kind": "Deployment", "labelSelector": "app=web"}}],
            "images": [{"name": "nginx", "newTag": "1.27"}],
            "components": ["../components/ha"], "ignoreMissingComponents": true,
            "commonMetadata": {"labels": {"team": "a"}}}});
        let s = BuildSpec::from_kustomization(&k).unwrap();
        assert_eq!(s.target_namespace.as_deref(), Some("apps"));
        assert_eq!(
            s.patches[0]
                .target
                .as_ref()
                .unwrap()
                .label_selector
                .as_deref(),
            Some("app=web")
        );
        assert_eq!(s.images[0].new_tag.as_deref(), Some("1.27"));
        assert!(s.ignore_missing_components && s.overlays());
        assert_eq!(s.common_metadata.unwrap().labels["team"], "a");

        let bad = json!({"spec": {"patches": [{"target": {"kind": "Deployment"}}]}});
        let err = BuildSpec::from_kustomization(&bad).unwrap_err();
        assert!(
            err.starts_with("spec.patches[0]: missing field `patch`"),
            "{err}"
        );
        let bad = json!({"spec": {"images": [{"name": "x", "newtag": "1"}]}});
        let err = BuildSpec::from_kustomization(&bad).unwrap_err();
        assert!(
            err.starts_with("spec.images[0].newtag: unknown field"),
            "{err}"
        );
    }

    #[test]
    fn common_metadata_alone_needs_no_overlay() {
        let k = json!({"spec": {"commonMetadata": {"annotations": {"a": "b"}}}});
        assert!(!BuildSpec::from_kustomization(&k).unwrap().overlays());
        assert!(
            !BuildSpec::from_kustomization(&json!({}))
                .unwrap()
                .overlays()
        );
    }
}
