//! Rendering fixtures and bad input, with the real `kubectl kustomize`.

use std::collections::BTreeMap;
use std::path::Path;

use gameday::gitops::render::{Error, Method, Rendered, render};
use serde_json::json;

use super::{chain, fixture};

fn kinds(r: &Rendered) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for o in &r.objects {
        *m.entry(o.kind().to_owned()).or_default() += 1;
    }
    m
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

#[tokio::test]
async fn podinfo_renders_with_kustomize_and_plain() {
    let root = fixture("podinfo");
    let cluster = render(&root, "./clusters/staging").await.unwrap();
    assert_eq!(cluster.method, Method::Plain);
    let names: Vec<&str> = cluster.objects.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["apps", "infrastructure"], "file order");
    let apps = &cluster.objects[0];
    assert_eq!(apps.api_version(), "kustomize.toolkit.fluxcd.io/v1");
    assert_eq!(
        apps.manifest["spec"]["dependsOn"],
        json!([{"name": "infrastructure"}])
    );
    assert_eq!(apps.manifest["spec"]["path"], "./apps/podinfo");
    for ks in &cluster.objects {
        assert_eq!(
            ks.manifest["spec"]["sourceRef"],
            json!({"kind": "GitRepository", "name": "flux-system"})
        );
        assert_eq!(ks.manifest["spec"]["prune"], true);
        assert_eq!(ks.manifest["spec"]["wait"], true);
        assert_eq!(ks.namespace(), Some("flux-system"));
    }
    assert_eq!(apps.source.file, Path::new("clusters/staging/apps.yaml"));

    let infra = render(&root, "./infrastructure").await.unwrap();
    assert_eq!(infra.method, Method::Kustomize);
    assert_eq!(
        kinds(&infra),
        counts(&[
            ("BackupPolicy", 1),
            ("CustomResourceDefinition", 1),
            ("Namespace", 2)
        ])
    );

    let app = render(&root, "apps/podinfo").await.unwrap();
    assert_eq!(app.method, Method::Kustomize);
    assert_eq!(
        kinds(&app),
        counts(&[
            ("ConfigMap", 1),
            ("Deployment", 1),
            ("HorizontalPodAutoscaler", 1),
            ("Namespace", 1),
            ("Service", 1)
        ])
    );
    let deploy = app
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .unwrap();
    assert_eq!(
        deploy.namespace(),
        Some("podinfo"),
        "kustomize set the namespace"
    );
    assert_eq!(deploy.inventory_id(), "podinfo_podinfo_apps_Deployment");
    let container = &deploy.manifest["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "ghcr.io/stefanprodan/podinfo:6.7.1");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(
        deploy.manifest["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "podinfo"
    );
    assert!(deploy.source.built);
    assert_eq!(
        deploy.source.file,
        Path::new("apps/podinfo/kustomization.yaml")
    );
}

#[tokio::test]
async fn shop_renders_as_plain_yaml() {
    let shop = render(&fixture("shop"), ".").await.unwrap();
    assert_eq!(shop.method, Method::Plain);
    assert_eq!(
        kinds(&shop),
        counts(&[
            ("ConfigMap", 3),
            ("Deployment", 11),
            ("Ingress", 1),
            ("Job", 1),
            ("Namespace", 2),
            ("Secret", 3),
            ("Service", 12),
            ("StatefulSet", 1),
        ])
    );
    assert_eq!(shop.objects.len(), 34);
    // The CI workflow under .github/ is not a manifest and is skipped.
    assert!(
        shop.objects
            .iter()
            .all(|o| !o.source.file.starts_with(".github"))
    );
    // Walk order: config/ < data/ < namespaces.yaml < services/.
    assert_eq!(shop.objects[0].to_string(), "ConfigMap/shop/shop-config");
    let ns = shop
        .objects
        .iter()
        .find(|o| o.name() == "shop-data")
        .unwrap();
    assert_eq!(ns.source.file, Path::new("namespaces.yaml"));
    assert_eq!(
        ns.source.document, 1,
        "the leading comment block is not a document"
    );
    assert_eq!(ns.source.line, Some(9));
    // `defaultMode: 0440` is octal, as kubectl and Flux read it.
    let payment = shop
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment" && o.name() == "payment")
        .unwrap();
    assert_eq!(
        payment.manifest["spec"]["template"]["spec"]["volumes"][0]["secret"]["defaultMode"],
        288
    );
    // Quoted YAML 1.1 booleans stay strings.
    let config = &shop.objects[0];
    assert_eq!(config.manifest["data"]["FEATURE_RECOMMENDATIONS"], "on");
}

/// A source root holding `files` (path → content).
fn source(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

#[tokio::test]
async fn invalid_yaml_names_file_document_and_line() {
    let dir = source(&[(
        "apps/bad.yaml",
        &format!("{CM}---\nkind: ConfigMap\ndata: [1,\n"),
    )]);
    let err = render(dir.path(), "apps").await.unwrap_err();
    assert!(matches!(err, Error::Yaml { .. }), "{err}");
    let msg = err.to_string();
    assert_eq!(
        msg,
        "apps/bad.yaml, document 2 (line 8, column 1): invalid YAML"
    );
    let full = chain(&err);
    assert!(
        full.contains("caused by: did not find expected node content"),
        "{full}"
    );
}

#[tokio::test]
async fn documents_missing_kind_api_version_or_name_are_named() {
    let cases = [
        ("apiVersion: v1\nmetadata:\n  name: x\n", "missing `kind`"),
        (
            "kind: ConfigMap\nmetadata:\n  name: x\n",
            "`ConfigMap` has no `apiVersion`",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
            "`ConfigMap` has no `metadata.name`",
        ),
        ("- just\n- a list\n", "found a sequence, not a mapping"),
    ];
    for (doc, problem) in cases {
        let dir = source(&[("x/objects.yaml", &format!("{CM}---\n---\n{doc}"))]);
        let err = render(dir.path(), "./x").await.unwrap_err();
        assert!(matches!(err, Error::NotAnObject { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("x/objects.yaml, document 3 (line 6): {problem}")),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn kustomize_errors_carry_its_stderr() {
    let dir = source(&[(
        "app/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n",
    )]);
    let err = render(dir.path(), "app").await.unwrap_err();
    assert!(matches!(err, Error::Kustomize { .. }), "{err}");
    let msg = chain(&err);
    assert!(msg.starts_with("kustomize build of `app` failed"), "{msg}");
    assert!(msg.contains("kubectl kustomize"), "{msg}");
    assert!(msg.contains("missing.yaml"), "stderr tail expected: {msg}");
}

#[tokio::test]
async fn missing_and_escaping_paths_are_refused() {
    let dir = source(&[("a/cm.yaml", CM)]);
    let err = render(dir.path(), "./nope").await.unwrap_err();
    assert!(matches!(err, Error::PathNotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("path `./nope` does not exist in the source"),
        "{err}"
    );
    let err = render(dir.path(), "../../etc").await.unwrap_err();
    assert!(matches!(err, Error::OutsideSource { .. }), "{err}");
    let err = render(dir.path(), "a/cm.yaml").await.unwrap_err();
    assert!(matches!(err, Error::NotADirectory { .. }), "{err}");
}

#[tokio::test]
async fn duplicates_are_refused() {
    let dir = source(&[("a/one.yaml", CM), ("a/two.yaml", CM)]);
    let err = render(dir.path(), "a").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "ConfigMap/a is defined twice: in a/one.yaml, document 1 (line 1) and in a/two.yaml"
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn plain_folders_follow_flux_file_rules() {
    let dir = source(&[
        (
            "root/b.yml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        ),
        (
            "root/a.yaml",
            "# only a comment\n---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a1\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a2\n",
        ),
        ("root/notes.txt", "not yaml: ["),
        ("root/.sops.yaml", "creation_rules: []\n"),
        ("root/.github/ci.yaml", "on: push\n"),
        (
            "root/.hidden/c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hidden\n",
        ),
        (
            "root/sub/kustomization.yaml",
            "namePrefix: k-\nresources:\n  - cm.yaml\n",
        ),
        (
            "root/sub/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
        ),
        (
            "root/sub/ignored.yaml",
            "not: listed by the kustomization\n",
        ),
        ("root/z/empty.yaml", ""),
    ]);
    let r = render(dir.path(), "root").await.unwrap();
    let names: Vec<&str> = r.objects.iter().map(|o| o.name()).collect();
    // `.hidden/` is read (Flux reads hidden folders other than its default
    // exclusions); `sub/` is built by kustomize, not walked.
    assert_eq!(names, ["hidden", "a1", "a2", "b", "k-sub"]);
    assert!(r.objects[4].source.built);
}
