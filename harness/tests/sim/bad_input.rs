//! Bad input: every malformed request gets the right code, `reason` and a
//! Status body, and the server keeps serving.

use serde_json::{Value, json};

use crate::common::{Fixture, raw_with_token, send};

fn check(got: &(u16, Value), code: u16, reason: &str) {
    assert_eq!(got.0, code, "{}", got.1);
    assert_eq!(got.1["reason"], reason, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let f = Fixture::start().await;
    check(
        &f.raw("POST", CMS, Some("application/json"), b"{not json".to_vec())
            .await,
        400,
        "BadRequest",
    );
    check(
        &f.raw("POST", CMS, Some("application/json"), b"[1,2]".to_vec())
            .await,
        400,
        "BadRequest",
    );
    check(
        &f.raw(
            "PATCH",
            &format!("{CMS}/x?fieldManager=m"),
            Some("application/apply-patch+yaml"),
            b"a: [unclosed".to_vec(),
        )
        .await,
        400,
        "BadRequest",
    );
    check(
        &f.raw(
            "PATCH",
            &format!("{CMS}/x"),
            Some("application/json-patch+json"),
            b"{\"op\":1}".to_vec(),
        )
        .await,
        400,
        "BadRequest",
    );
    let wrong_ns = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "kube-system"}});
    check(
        &f.raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&wrong_ns).unwrap(),
        )
        .await,
        400,
        "BadRequest",
    );
    let wrong_kind = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}});
    check(
        &f.raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&wrong_kind).unwrap(),
        )
        .await,
        400,
        "BadRequest",
    );
}

#[tokio::test]
async fn unknown_resources_are_not_found() {
    let f = Fixture::start().await;
    for path in [
        "/api/v1/foos",
        "/apis/nope.example.com/v1/things",
        "/apis/apps/v9/deployments",
        "/nothing/here",
        "/api/v1/namespaces/default/nodes/x",
    ] {
        let got = f.raw("GET", path, None, Vec::new()).await;
        check(&got, 404, "NotFound");
    }
    let got = f.raw("GET", "/api/v1/foos", None, Vec::new()).await;
    assert_eq!(
        got.1["message"],
        "the server could not find the requested resource"
    );
    let missing = f
        .raw("GET", &format!("{CMS}/absent"), None, Vec::new())
        .await;
    check(&missing, 404, "NotFound");
    assert_eq!(missing.1["message"], "configmaps \"absent\" not found");
}

#[tokio::test]
async fn unsupported_media_types_are_415() {
    let f = Fixture::start().await;
    check(
        &f.raw("POST", CMS, Some("text/plain"), b"hello".to_vec())
            .await,
        415,
        "UnsupportedMediaType",
    );
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}});
    f.raw(
        "POST",
        CMS,
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    check(
        &f.raw(
            "PATCH",
            &format!("{CMS}/p"),
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await,
        415,
        "UnsupportedMediaType",
    );
    // Strategic merge patch is for built-in types only.
    let crd =
        std::fs::read_to_string(crate::common::fixtures().join("kustomization-crd.yaml")).unwrap();
    f.raw(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some("application/yaml"),
        crd.into_bytes(),
    )
    .await;
    let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "k"}, "spec": {}});
    let path = "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/default/kustomizations";
    let created = f
        .raw(
            "POST",
            path,
            Some("application/json"),
            serde_json::to_vec(&ks).unwrap(),
        )
        .await;
    assert_eq!(created.0, 201, "{}", created.1);
    check(
        &f.raw(
            "PATCH",
            &format!("{path}/k"),
            Some("application/strategic-merge-patch+json"),
            b"{}".to_vec(),
        )
        .await,
        415,
        "UnsupportedMediaType",
    );
}

#[tokio::test]
async fn deeply_nested_yaml_is_refused_before_parsing_while_others_are_served() {
    let f = Fixture::start().await;
    let deep = "[".repeat(100_000).into_bytes();
    // A hang guard, not a speed target: parsing this took 83 s before the
    // depth check, with every other client stalled.
    let guard = std::time::Duration::from_secs(30);
    let apply_path = format!("{CMS}/deep?fieldManager=m");
    let apply = f.raw(
        "PATCH",
        &apply_path,
        Some("application/apply-patch+yaml"),
        deep.clone(),
    );
    let post = f.raw("POST", CMS, Some("application/yaml"), deep);
    let other = f.raw("GET", CMS, None, Vec::new());
    let (apply, post, other) =
        tokio::time::timeout(guard, async { tokio::join!(apply, post, other) })
            .await
            .expect("the server answered within the guard");
    for got in [&apply, &post] {
        check(got, 400, "BadRequest");
        let message = got.1["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("nests deeper than 128 levels (line 1, column 129)"),
            "{message}"
        );
    }
    assert_eq!(other.0, 200, "{}", other.1);
}

#[tokio::test]
async fn bodies_over_3_mib_are_413() {
    let f = Fixture::start().await;
    let big = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": "a".repeat(3 * 1024 * 1024 + 10)}});
    check(
        &f.raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&big).unwrap(),
        )
        .await,
        413,
        "RequestEntityTooLarge",
    );
    assert_eq!(
        f.raw("GET", &format!("{CMS}/big"), None, Vec::new())
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn invalid_objects_are_422() {
    let f = Fixture::start().await;
    let upper = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}});
    let got = f
        .raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&upper).unwrap(),
        )
        .await;
    check(&got, 422, "Invalid");
    assert_eq!(got.1["details"]["causes"][0]["field"], "metadata.name");
    let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
    check(
        &f.raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&nameless).unwrap(),
        )
        .await,
        422,
        "Invalid",
    );
    let apply = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
    let got = f
        .raw(
            "PATCH",
            &format!("{CMS}/a"),
            Some("application/apply-patch+yaml"),
            serde_json::to_vec(&apply).unwrap(),
        )
        .await;
    check(&got, 422, "Invalid");
    assert!(
        got.1["message"].as_str().unwrap().contains("fieldManager"),
        "{}",
        got.1
    );
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}});
    check(
        &f.raw(
            "POST",
            "/api/v1/namespaces",
            Some("application/json"),
            serde_json::to_vec(&ns).unwrap(),
        )
        .await,
        422,
        "Invalid",
    );
    let failed_test = json!([{"op": "test", "path": "/data/x", "value": "nope"}]);
    f.raw("POST", CMS, Some("application/json"), serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "data": {"x": "1"}})).unwrap()).await;
    check(
        &f.raw(
            "PATCH",
            &format!("{CMS}/t"),
            Some("application/json-patch+json"),
            serde_json::to_vec(&failed_test).unwrap(),
        )
        .await,
        422,
        "Invalid",
    );
}

#[tokio::test]
async fn wrong_or_missing_tokens_are_401() {
    let f = Fixture::start().await;
    let c = &f.cluster;
    check(
        &raw_with_token(c, "GET", CMS, None, Vec::new(), Some("wrong")).await,
        401,
        "Unauthorized",
    );
    check(
        &raw_with_token(c, "GET", CMS, None, Vec::new(), None).await,
        401,
        "Unauthorized",
    );
    // Anonymous health checks are allowed, as on a real cluster.
    let health = http::Request::builder()
        .uri("/readyz")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        send(c, health, None).await,
        (200, Value::String("ok".into()))
    );
}

#[tokio::test]
async fn other_protocol_errors() {
    let f = Fixture::start().await;
    check(
        &f.raw("PUT", CMS, Some("application/json"), b"{}".to_vec())
            .await,
        405,
        "MethodNotAllowed",
    );
    check(
        &f.raw(
            "GET",
            &format!("{CMS}?labelSelector=a%20in%20b"),
            None,
            Vec::new(),
        )
        .await,
        400,
        "BadRequest",
    );
    let got = f
        .raw(
            "GET",
            &format!("{CMS}?fieldSelector=spec.nodeName%3Dx"),
            None,
            Vec::new(),
        )
        .await;
    check(&got, 400, "BadRequest");
    assert_eq!(got.1["message"], "field label not supported: spec.nodeName");
    check(
        &f.raw(
            "GET",
            &format!("{CMS}?limit=1&continue=garbage"),
            None,
            Vec::new(),
        )
        .await,
        400,
        "BadRequest",
    );
    check(
        &f.raw(
            "GET",
            &format!("{CMS}?watch=1&resourceVersion=abc"),
            None,
            Vec::new(),
        )
        .await,
        400,
        "BadRequest",
    );
    let req = http::Request::builder()
        .uri(CMS)
        .header("accept", "application/vnd.kubernetes.protobuf")
        .body(Vec::new())
        .unwrap();
    check(
        &send(&f.cluster, req, f.cluster.token()).await,
        406,
        "NotAcceptable",
    );
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rv", "resourceVersion": "5"}});
    check(
        &f.raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
        )
        .await,
        500,
        "InternalError",
    );
    // Still serving after all of that.
    assert_eq!(f.raw("GET", CMS, None, Vec::new()).await.0, 200);
}
