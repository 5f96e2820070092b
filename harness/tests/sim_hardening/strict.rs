//! `fieldValidation` (issue 19, defect 10): unknown and duplicate fields
//! refused under Strict — what `kubectl` ≥ 1.27 sends on create and apply —
//! warned about under Warn, ignored under Ignore; for built-ins and for
//! custom resources.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::Fixture;

const TYPO: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
  namespace: default
spec:
  replicas: 1
  foo: bar
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        imagePullPolice: Always
";

fn write(f: &Fixture, name: &str, yaml: &str) -> PathBuf {
    let p = f.dir.path().join(name);
    std::fs::write(&p, yaml).unwrap();
    p
}

#[tokio::test]
async fn kubectl_create_and_apply_refuse_unknown_fields_and_store_nothing() {
    let f = Fixture::start().await;
    let _ = f
        .kubectl_unchecked(&["create", "namespace", "default"])
        .await;
    let file = write(&f, "typo.yaml", TYPO);
    let file = file.to_str().unwrap();
    for args in [
        vec!["create", "-f", file],
        vec!["apply", "-f", file],
        vec!["apply", "--server-side", "-f", file],
    ] {
        let out = f.kubectl_unchecked(&args).await;
        assert!(!out.status.success(), "{args:?}: {}", out.stdout);
        assert!(
            out.stderr.contains(r#"strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].imagePullPolice""#),
            "{args:?}: {}",
            out.stderr
        );
    }
    let got = f
        .kubectl_unchecked(&["get", "deployment", "typo", "-n", "default"])
        .await;
    assert!(got.stderr.contains("NotFound"), "{}", got.stderr);
}

#[tokio::test]
async fn validate_warn_stores_with_a_warning_and_validate_false_is_silent() {
    let f = Fixture::start().await;
    let _ = f
        .kubectl_unchecked(&["create", "namespace", "default"])
        .await;
    let file = write(&f, "typo.yaml", TYPO);
    let out = f
        .kubectl_unchecked(&["apply", "--validate=warn", "-f", file.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains(r#"Warning: unknown field "spec.foo""#),
        "{}",
        out.stderr
    );
    let other = write(
        &f,
        "typo2.yaml",
        &TYPO.replace("name: typo\n", "name: typo2\n"),
    );
    let out = f
        .kubectl_unchecked(&["create", "--validate=false", "-f", other.to_str().unwrap()])
        .await;
    assert!(out.status.success(), "{}", out.stderr);
    assert!(!out.stderr.contains("unknown field"), "{}", out.stderr);
}

#[tokio::test]
async fn valid_objects_pass_strict_including_patches_and_status() {
    let f = Fixture::start().await;
    let _ = f
        .kubectl_unchecked(&["create", "namespace", "default"])
        .await;
    let ok = TYPO
        .replace("  foo: bar\n", "")
        .replace("imagePullPolice", "imagePullPolicy");
    let file = write(&f, "ok.yaml", &ok);
    f.kubectl(&["apply", "-f", file.to_str().unwrap()]).await;
    f.kubectl(&["apply", "--server-side", "-f", file.to_str().unwrap()])
        .await;
    // A strategic-merge patch with its directives passes…
    f.kubectl(&[
        "patch",
        "deployment",
        "typo",
        "-n",
        "default",
        "-p",
        r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"name":"app","image":"nginx:1.28"}]}}}}"#,
    ])
    .await;
    // …and one with an unknown field is refused when Strict is asked.
    let (code, body) = f
        .raw(
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/typo?fieldValidation=Strict",
            Some("application/merge-patch+json"),
            br#"{"spec":{"replicaz":3}}"#.to_vec(),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(r#"unknown field "spec.replicaz""#),
        "{body}"
    );
}

#[tokio::test]
async fn duplicate_json_fields_are_refused_under_strict() {
    let f = Fixture::start().await;
    let _ = f
        .kubectl_unchecked(&["create", "namespace", "default"])
        .await;
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"},"data":{"k":"1"}}"#;
    let (code, out) = f
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    assert_eq!(code, 400, "{out}");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains(r#"duplicate field "metadata.name""#),
        "{out}"
    );
    let (code, out) = f
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore",
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    assert_eq!(code, 201, "{out}");
    let (code, out) = f
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps?fieldValidation=Sometimes",
            Some("application/json"),
            body.to_vec(),
        )
        .await;
    assert_eq!(code, 400, "{out}");
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
";

#[tokio::test]
async fn custom_resources_are_checked_against_their_structural_schema() {
    let f = Fixture::start().await;
    let _ = f
        .kubectl_unchecked(&["create", "namespace", "default"])
        .await;
    let crd = write(&f, "crd.yaml", CRD);
    f.kubectl(&["apply", "-f", crd.to_str().unwrap()]).await;
    f.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=30s",
    ])
    .await;
    let bad = write(
        &f,
        "bad.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default, labelz: {}}\nspec: {size: 1, colour: red, extra: {anything: goes}}\n",
    );
    let out = f
        .kubectl_unchecked(&["apply", "-f", bad.to_str().unwrap()])
        .await;
    assert!(!out.status.success());
    assert!(
        out.stderr
            .contains(r#"unknown field "metadata.labelz", unknown field "spec.colour""#),
        "{}",
        out.stderr
    );
    let good = write(
        &f,
        "good.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {size: 1, extra: {anything: goes}}\n",
    );
    f.kubectl(&["apply", "-f", good.to_str().unwrap()]).await;
    let got: Value = serde_json::from_str(
        &f.kubectl(&["get", "widget", "w", "-n", "default", "-o", "json"])
            .await,
    )
    .unwrap();
    assert_eq!(got["spec"]["extra"]["anything"], "goes");
}
