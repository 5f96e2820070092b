//! Flux Kustomization builds with the real `kubectl kustomize`: each
//! build field of `fixtures/repos/fluxbuild` against golden output
//! (`fixtures/fluxbuild/*.yaml`, `GAMEDAY_UPDATE_GOLDEN=1` rewrites them),
//! and the behaviour each field promises checked on the objects.

use std::path::{Path, PathBuf};

use gameday::gitops::render::fluxbuild::{self, BuildError, BuildSpec};
use gameday::gitops::render::{Method, Object, Rendered, render};
use serde_json::{Value, json};

use super::{chain, fixture};
use crate::common::{assert_golden, fixtures};

fn golden(name: &str) -> PathBuf {
    fixtures().join("fluxbuild").join(format!("{name}.yaml"))
}

/// The build spec of Kustomization `name` in `clusters/test`.
async fn spec_of(name: &str) -> BuildSpec {
    let cluster = render(&fixture("fluxbuild"), "./clusters/test")
        .await
        .unwrap();
    let k = cluster
        .objects
        .iter()
        .find(|o| o.kind() == "Kustomization" && o.name() == name)
        .unwrap_or_else(|| panic!("Kustomization {name} in clusters/test"));
    BuildSpec::from_kustomization(&k.manifest).unwrap()
}

/// Builds like kustomize-controller, `commonMetadata` included.
async fn build(path: &str, spec: &BuildSpec) -> Rendered {
    let mut r = fluxbuild::build(&fixture("fluxbuild"), path, spec, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("build of {path}: {}", chain(&e)));
    if let Some(md) = &spec.common_metadata {
        fluxbuild::set_common_metadata(&mut r.objects, md);
    }
    r
}

fn yaml(objects: &[Object]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(&o.manifest).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn find<'a>(r: &'a Rendered, kind: &str, name: &str) -> &'a Value {
    &r.objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| {
            let all: Vec<String> = r.objects.iter().map(ToString::to_string).collect();
            panic!("{kind}/{name} not built; got {all:?}")
        })
        .manifest
}

fn tree_snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_kustomization_path_gets_every_field_laid_over_it() {
    let before = tree_snapshot(&fixture("fluxbuild"));
    let spec = spec_of("web").await;
    let r = build("./apps/web", &spec).await;
    assert_golden(&golden("web"), &yaml(&r.objects));
    assert_eq!(r.method, Method::Kustomize);

    let deploy = find(&r, "Deployment", "prod-web");
    // targetNamespace, namePrefix.
    assert_eq!(deploy["metadata"]["namespace"], "apps");
    // spec.images wins over the path's own `images` entry for nginx.
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    // The component's JSON6902 patch; the missing component is dropped.
    assert_eq!(deploy["spec"]["replicas"], 3);
    // A strategic-merge patch naming its object.
    assert_eq!(
        deploy["metadata"]["annotations"]["example.com/patched"],
        "strategic-merge"
    );
    // A JSON6902 patch with a kind and label selector target.
    let service = find(&r, "Service", "prod-web");
    assert_eq!(
        service["metadata"]["annotations"]["example.com/patched"],
        "json6902"
    );
    assert!(
        deploy["metadata"]["annotations"]
            .get("example.com/patched")
            .is_some_and(|v| v != "json6902"),
        "the Service-only patch left the Deployment alone"
    );
    // commonMetadata on every object, after the build.
    for o in &r.objects {
        assert_eq!(
            o.manifest["metadata"]["labels"]["team"], "storefront",
            "{o}"
        );
    }
    // The artifact was not written to.
    assert_eq!(tree_snapshot(&fixture("fluxbuild")), before);
}

#[tokio::test]
async fn a_plain_folder_gets_a_generated_kustomization() {
    let spec = spec_of("worker").await;
    let r = build("./apps/worker", &spec).await;
    assert_golden(&golden("worker"), &yaml(&r.objects));
    // Generated kustomization: both files, nameSuffix, targetNamespace.
    let cm = find(&r, "ConfigMap", "worker-settings-v2");
    assert_eq!(cm["metadata"]["namespace"], "apps");
    // JSON6902 with a kind and name target.
    assert_eq!(cm["data"]["queue"], "urgent");
    let deploy = find(&r, "Deployment", "worker-v2");
    assert_eq!(
        deploy["metadata"]["annotations"]["example.com/owner"],
        "sre"
    );
    assert_eq!(cm["metadata"]["annotations"]["example.com/owner"], "sre");
}

#[tokio::test]
async fn images_set_a_digest_and_a_new_name() {
    let spec: BuildSpec = BuildSpec::from_kustomization(&json!({"spec": {"images": [
        {"name": "nginx", "newName": "mirror.example.com/nginx", "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"name": "busybox", "newTag": "1.37"}]}}))
    .unwrap();
    let web = build("./apps/web", &spec).await;
    assert_eq!(
        find(&web, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"],
        "mirror.example.com/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );
    let worker = build("./apps/worker", &spec).await;
    assert_eq!(
        find(&worker, "Deployment", "worker")["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox:1.37"
    );
}

#[tokio::test]
async fn without_build_fields_the_path_is_rendered_as_is() {
    let spec = BuildSpec::from_kustomization(
        &json!({"spec": {"commonMetadata": {"labels": {"team": "a"}}}}),
    )
    .unwrap();
    let built = build("./apps/worker", &spec).await;
    let plain = render(&fixture("fluxbuild"), "./apps/worker")
        .await
        .unwrap();
    assert_eq!(built.method, Method::Plain, "no copy, file provenance kept");
    assert_eq!(built.objects.len(), plain.objects.len());
    assert_eq!(built.objects[0].source, plain.objects[0].source);
    assert_eq!(built.objects[0].manifest["metadata"]["labels"]["team"], "a");
}

#[tokio::test]
async fn bad_build_fields_fail_with_the_reason() {
    let root = fixture("fluxbuild");
    let missing = BuildSpec::from_kustomization(
        &json!({"spec": {"components": ["../../components/missing"]}}),
    )
    .unwrap();
    let err = fluxbuild::build(&root, "./apps/web", &missing, &Default::default())
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, BuildError::Render(_)), "{text}");
    assert!(text.contains("components/missing"), "{text}");

    let outside =
        BuildSpec::from_kustomization(&json!({"spec": {"components": ["../../../elsewhere"]}}))
            .unwrap();
    let err = fluxbuild::build(&root, "./apps/web", &outside, &Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, BuildError::Component { .. }), "{err}");
    assert!(err.to_string().contains("fix spec.components"), "{err}");

    let bad_patch = BuildSpec::from_kustomization(
        &json!({"spec": {"patches": [{"patch": "- op: replace\n  path: /spec/nope/deeper\n  value: 1", "target": {"kind": "Deployment"}}]}}),
    )
    .unwrap();
    let err = fluxbuild::build(&root, "./apps/web", &bad_patch, &Default::default())
        .await
        .unwrap_err();
    assert!(
        chain(&err).contains("kustomize build of `apps/web` failed"),
        "{}",
        chain(&err)
    );
}
