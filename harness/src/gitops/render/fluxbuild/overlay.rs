//! The kustomization file kustomize-controller builds: the path's own (or
//! one generated for a plain folder) with the Kustomization's spec laid
//! over it (fluxcd/pkg `kustomize/kustomize_generator.go`).
//!
//! Pure functions over the file as JSON; reading and writing it is the
//! caller's.

use serde_json::{Map, Value, json};

use super::spec::BuildSpec;

/// The kustomization Flux generates for a folder without one: every
/// manifest and every sub-folder with its own kustomization file, as
/// `./`-relative resources in walk order.
pub(super) fn generated(resources: &[String]) -> Map<String, Value> {
    let mut kus = Map::new();
    kus.insert(
        "apiVersion".into(),
        json!("kustomize.config.k8s.io/v1beta1"),
    );
    kus.insert("kind".into(), json!("Kustomization"));
    kus.insert("resources".into(), json!(resources));
    kus
}

fn list<'a>(kus: &'a mut Map<String, Value>, field: &str) -> &'a mut Vec<Value> {
    let slot = kus
        .entry(field.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        // `patches: null` and the like: kustomize reads them as empty.
        *slot = Value::Array(Vec::new());
    }
    match slot {
        Value::Array(items) => items,
        _ => unreachable!("just made an array"),
    }
}

fn set_str(kus: &mut Map<String, Value>, field: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        kus.insert(field.to_owned(), json!(v));
    }
}

/// Lays `spec` over `kus`, as kustomize-controller does: `targetNamespace`
/// becomes `namespace`, `namePrefix`/`nameSuffix` replace the file's,
/// `patches` and `components` (already filtered by the caller) are
/// appended, `images` replace the file's entry of the same name or are
/// appended. `commonMetadata` is not part of the build.
pub(super) fn apply(kus: &mut Map<String, Value>, spec: &BuildSpec, components: &[String]) {
    set_str(kus, "namespace", spec.target_namespace.as_deref());
    set_str(kus, "namePrefix", spec.name_prefix.as_deref());
    set_str(kus, "nameSuffix", spec.name_suffix.as_deref());
    if !spec.patches.is_empty() {
        let patches = list(kus, "patches");
        for p in &spec.patches {
            patches.push(serde_json::to_value(p).unwrap_or(Value::Null));
        }
    }
    if !spec.images.is_empty() {
        let images = list(kus, "images");
        for image in &spec.images {
            let new = serde_json::to_value(image).unwrap_or(Value::Null);
            let same = images
                .iter()
                .position(|i| i.get("name").and_then(Value::as_str) == Some(&image.name));
            match same {
                Some(i) => images[i] = new,
                None => images.push(new),
            }
        }
    }
    if !components.is_empty() {
        let list = list(kus, "components");
        list.extend(components.iter().map(|c| json!(c)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::{Image, Patch, Selector};
    use super::*;

    #[test]
    fn overlay_replaces_appends_and_merges_like_flux() {
        let mut kus = json!({
            "resources": ["deploy.yaml"], "namespace": "old", "namePrefix": "a-",
            "patches": [{"path": "own.yaml"}],
            "images": [{"name": "nginx", "newTag": "1.0"}, {"name": "redis", "newTag": "7"}],
            "components": ["../c1"]})
        .as_object()
        .unwrap()
        .clone();
        let spec = BuildSpec {
            target_namespace: Some("apps".into()),
            name_prefix: Some("b-".into()),
            patches: vec![Patch {
                patch: "[]".into(),
                target: Some(Selector {
                    kind: Some("Deployment".into()),
                    ..Selector::default()
                }),
            }],
            images: vec![
                Image {
                    name: "nginx".into(),
                    new_name: None,
                    new_tag: None,
                    digest: Some("sha256:abc".into()),
                },
                Image {
                    name: "busybox".into(),
                    new_name: Some("mirror/busybox".into()),
                    new_tag: None,
                    digest: None,
                },
            ],
            ..BuildSpec::default()
        };
        apply(&mut kus, &spec, &["../c2".to_owned()]);
        assert_eq!(
            Value::Object(kus),
            json!({
                "resources": ["deploy.yaml"], "namespace": "apps", "namePrefix": "b-",
                "patches": [{"path": "own.yaml"}, {"patch": "[]", "target": {"kind": "Deployment"}}],
                "images": [{"name": "nginx", "digest": "sha256:abc"}, {"name": "redis", "newTag": "7"},
                    {"name": "busybox", "newName": "mirror/busybox"}],
                "components": ["../c1", "../c2"]})
        );
    }

    #[test]
    fn an_empty_spec_changes_nothing() {
        let before = generated(&["./a.yaml".to_owned()]);
        let mut kus = before.clone();
        apply(&mut kus, &BuildSpec::default(), &[]);
        assert_eq!(kus, before);
    }
}
