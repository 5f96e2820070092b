//! Bad input to the apply engine: each object fails on its own, with a
//! message naming it, its file and the fix; the rest of the batch applies.

use gameday::gitops::apply::{Action, ApplyOptions, Error, Failure};

use crate::testbed::{Testbed, manifests};

const MIXED: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: bad}
---
apiVersion: v1
metadata: {name: kindless, namespace: bad}
data: {a: b}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g, namespace: bad}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: homeless}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lost, namespace: nowhere}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: bad}
"#;

fn failure_of<'a>(report: &'a gameday::gitops::apply::ApplyReport, id: &str) -> &'a Failure {
    report
        .outcomes
        .iter()
        .find_map(|o| match &o.action {
            Action::Failed(e) if e.id.to_string() == id => Some(&e.failure),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{id} did not fail: {:?}", report.outcomes))
}

#[tokio::test]
async fn each_bad_object_fails_alone_and_says_why() {
    let tb = Testbed::wall().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let report = applier.apply(manifests(MIXED)).await;
    assert_eq!(report.outcomes.len(), 6);
    assert_eq!(report.failures().len(), 4);
    assert!(
        matches!(failure_of(&report, "<unknown kind>/bad/kindless"), Failure::InvalidManifest(p) if p == "missing `kind`")
    );
    assert_eq!(
        failure_of(&report, "Gadget/bad/g"),
        &Failure::UnknownKind {
            api_version: "example.com/v1".into(),
            kind: "Gadget".into()
        }
    );
    assert_eq!(
        failure_of(&report, "ConfigMap/homeless"),
        &Failure::NamespaceNotSpecified
    );
    assert!(failure_of(&report, "ConfigMap/nowhere/lost").is_not_found());
    assert_eq!(
        report.count("created"),
        2,
        "the namespace and the good ConfigMap apply"
    );

    let err = report.check().unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("4 of 6 object(s) could not be applied:"),
        "{text}"
    );
    assert!(text.contains("Gadget/bad/g (from test.yaml, document 3): no matches for kind \"Gadget\" in version \"example.com/v1\"; install its CustomResourceDefinition first"), "{text}");
    assert!(
        text.contains("ConfigMap/homeless (from test.yaml, document 4): namespace not specified"),
        "{text}"
    );
    assert!(text.contains("ConfigMap/nowhere/lost (from test.yaml, document 5): the API server rejected it (404 NotFound): namespaces \"nowhere\" not found; add the Namespace"), "{text}");
    assert!(
        text.contains("(from test.yaml, document 2): not a Kubernetes object: missing `kind`"),
        "{text}"
    );
    assert!(matches!(err, Error::Apply { total: 6, .. }));
}

#[tokio::test]
async fn the_default_namespace_places_namespaced_objects() {
    let tb = Testbed::wall().await;
    let one = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: placed}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: stays-global, namespace: ignored}
"#;
    let defaulted = tb
        .applier(ApplyOptions {
            default_namespace: Some("default".into()),
            ..ApplyOptions::default()
        })
        .await;
    let r = defaulted.apply(manifests(one)).await.check().unwrap();
    let ids: Vec<String> = r.outcomes.iter().map(|o| o.id().to_string()).collect();
    assert_eq!(
        ids,
        ["ClusterRole/stays-global", "ConfigMap/default/placed"]
    );
    tb.kubectl(&["get", "configmap", "placed", "-n", "default"])
        .await;
}

#[tokio::test]
async fn a_rejected_object_carries_the_api_status() {
    let tb = Testbed::wall().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let bad_name = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: Not_A_Valid_Name, namespace: default}
"#;
    let report = applier.apply(manifests(bad_name)).await;
    match &report.failures()[0].failure {
        Failure::Rejected { code, reason, .. } => {
            assert_eq!((*code, reason.as_str()), (422, "Invalid"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(
        report
            .check()
            .unwrap_err()
            .to_string()
            .contains("; fix the manifest")
    );
}

#[tokio::test]
async fn a_crd_not_established_in_time_fails_naming_it() {
    let tb = Testbed::wall().await;
    let applier = tb
        .applier(ApplyOptions {
            crd_timeout: std::time::Duration::from_secs(1),
            ..ApplyOptions::default()
        })
        .await;
    // The API server cannot list CRDs for now: the CRD is applied, but the
    // engine cannot see it become Established.
    tb.cluster.inject_error(
        gameday::sim::ErrorRule::new(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            503,
        )
        .method(http::Method::GET),
    );
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: slowpokes.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Slowpoke, plural: slowpokes}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
"#;
    let report = applier.apply(manifests(crd)).await;
    let err = report.check().unwrap_err().to_string();
    assert!(
        err.contains("CustomResourceDefinition/slowpokes.example.com (from test.yaml, document 1): not Established after 1s; check `kubectl get crd`"),
        "{err}"
    );
}
