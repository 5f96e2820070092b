//! Wire-protocol details: watch semantics, list metadata, discovery
//! content types, defaulting, dry runs, `gameday sim serve`.

use std::time::Duration;

use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::common::{Fixture, send};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

/// An open watch: yields one decoded event per line.
struct Watch {
    body: kube::client::Body,
    buf: Vec<u8>,
}

impl Watch {
    async fn open(f: &Fixture, path: &str) -> Watch {
        let kc = kube::config::Kubeconfig::from_yaml(&f.cluster.kubeconfig_yaml()).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(cfg).unwrap();
        let req = http::Request::builder()
            .uri(path)
            .body(kube::client::Body::from(Vec::new()))
            .unwrap();
        // Headers must arrive before any event exists (early flush).
        let resp = tokio::time::timeout(Duration::from_secs(10), client.send(req))
            .await
            .expect("headers in time")
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/json");
        Watch {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    /// The next event, or None when the stream ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = std::str::from_utf8(&line).unwrap().trim_end();
                assert!(
                    !text.contains('\n') && !text.is_empty(),
                    "one compact JSON document per line"
                );
                return Some(serde_json::from_str(text).unwrap());
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame())
                .await
                .expect("event in time")?;
            if let Ok(data) = frame.unwrap().into_data() {
                self.buf.extend_from_slice(&data);
            }
        }
    }

    async fn expect(&mut self, kind: &str, name: &str) -> Value {
        let ev = self.next().await.expect("an event");
        assert_eq!(
            (
                ev["type"].as_str(),
                ev["object"]["metadata"]["name"].as_str()
            ),
            (Some(kind), Some(name)),
            "{ev}"
        );
        assert!(
            !ev["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        ev
    }
}

async fn create_cm(f: &Fixture, name: &str, labels: Value) -> Value {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}});
    let (code, obj) = f
        .raw(
            "POST",
            CMS,
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(code, 201, "{obj}");
    obj
}

fn rv(v: &Value) -> u64 {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn watch_without_rv_sends_synthetic_added_then_live_events() {
    let f = Fixture::start().await;
    create_cm(&f, "a", json!({})).await;
    let mut w = Watch::open(&f, &format!("{CMS}?watch=true")).await;
    w.expect("ADDED", "a").await;
    create_cm(&f, "b", json!({})).await;
    w.expect("ADDED", "b").await;
    f.raw(
        "PATCH",
        &format!("{CMS}/b"),
        Some("application/merge-patch+json"),
        br#"{"data":{"k":"v"}}"#.to_vec(),
    )
    .await;
    w.expect("MODIFIED", "b").await;
    let (code, _) = f
        .raw(
            "DELETE",
            &format!("{CMS}/b"),
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(code, 200);
    let del = w.expect("DELETED", "b").await;
    assert_eq!(
        rv(&del["object"]),
        f.cluster.store().revision(),
        "DELETED carries the deletion's revision"
    );
}

#[tokio::test]
async fn watch_from_a_revision_replays_history_in_order() {
    let f = Fixture::start().await;
    let a = create_cm(&f, "a", json!({})).await;
    create_cm(&f, "b", json!({})).await;
    create_cm(&f, "c", json!({})).await;
    let mut w = Watch::open(&f, &format!("{CMS}?watch=1&resourceVersion={}", rv(&a))).await;
    let b = w.expect("ADDED", "b").await;
    let c = w.expect("ADDED", "c").await;
    assert!(rv(&c["object"]) > rv(&b["object"]));
}

#[tokio::test]
async fn watch_from_a_compacted_revision_gets_an_in_stream_410() {
    let f = Fixture::start().await;
    let a = create_cm(&f, "a", json!({})).await;
    f.cluster.compact();
    let mut w = Watch::open(&f, &format!("{CMS}?watch=true&resourceVersion={}", rv(&a))).await;
    let ev = w.next().await.unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(
        ev["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version")
    );
    assert!(
        w.next().await.is_none(),
        "the stream closes after the error"
    );
}

#[tokio::test]
async fn bookmarks_carry_type_meta_and_timeouts_end_the_stream() {
    let f = Fixture::start().await;
    let mut w = Watch::open(
        &f,
        &format!("{CMS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=0"),
    )
    .await;
    let ev = w.next().await.unwrap();
    assert_eq!(ev["type"], "BOOKMARK");
    assert_eq!(
        (
            ev["object"]["apiVersion"].as_str(),
            ev["object"]["kind"].as_str()
        ),
        (Some("v1"), Some("ConfigMap"))
    );
    assert_eq!(rv(&ev["object"]), f.cluster.store().revision());
    while let Some(ev) = w.next().await {
        assert_eq!(ev["type"], "BOOKMARK");
    }
}

#[tokio::test]
async fn selector_transitions_become_added_and_deleted() {
    let f = Fixture::start().await;
    create_cm(&f, "x", json!({"app": "no"})).await;
    let mut w = Watch::open(&f, &format!("{CMS}?watch=true&labelSelector=app%3Dyes")).await;
    f.raw(
        "PATCH",
        &format!("{CMS}/x"),
        Some("application/merge-patch+json"),
        br#"{"metadata":{"labels":{"app":"yes"}}}"#.to_vec(),
    )
    .await;
    w.expect("ADDED", "x").await;
    f.raw(
        "PATCH",
        &format!("{CMS}/x"),
        Some("application/merge-patch+json"),
        br#"{"metadata":{"labels":{"app":"no"}}}"#.to_vec(),
    )
    .await;
    let gone = w.expect("DELETED", "x").await;
    assert_eq!(
        gone["object"]["metadata"]["labels"]["app"], "no",
        "DELETED carries the new state"
    );
}

#[tokio::test]
async fn lists_always_carry_a_revision_and_sort_by_namespace_and_name() {
    let f = Fixture::start().await;
    for name in ["c", "a", "b"] {
        create_cm(&f, name, json!({})).await;
    }
    let (_, list) = f.raw("GET", "/api/v1/configmaps?", None, Vec::new()).await;
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(
        list["metadata"]["resourceVersion"],
        f.cluster.store().revision().to_string()
    );
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "ConfigMap" && i["apiVersion"] == "v1")
    );
    let (_, empty) = f
        .raw(
            "GET",
            "/api/v1/namespaces/kube-public/secrets",
            None,
            Vec::new(),
        )
        .await;
    assert!(
        !empty["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn noop_writes_keep_the_revision() {
    let f = Fixture::start().await;
    let obj = create_cm(&f, "n", json!({"a": "b"})).await;
    let (code, again) = f
        .raw(
            "PUT",
            &format!("{CMS}/n"),
            Some("application/json"),
            serde_json::to_vec(&obj).unwrap(),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        obj["metadata"]["resourceVersion"]
    );
    let (_, patched) = f
        .raw(
            "PATCH",
            &format!("{CMS}/n"),
            Some("application/merge-patch+json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        patched["metadata"]["resourceVersion"],
        obj["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn defaulting_generate_name_dry_run_and_delete_collection() {
    let f = Fixture::start().await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"generateName": "tok-"}, "stringData": {"user": "admin"}});
    let (code, s) = f
        .raw(
            "POST",
            "/api/v1/namespaces/default/secrets",
            Some("application/json"),
            serde_json::to_vec(&secret).unwrap(),
        )
        .await;
    assert_eq!(code, 201);
    let name = s["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("tok-") && name.len() == 9, "{name}");
    assert_eq!(s["data"]["user"], "YWRtaW4=");
    assert!(s.get("stringData").is_none());
    let dry = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}});
    let before = f.cluster.store().revision();
    let (code, _) = f
        .raw(
            "POST",
            &format!("{CMS}?dryRun=All"),
            Some("application/json"),
            serde_json::to_vec(&dry).unwrap(),
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(
        f.cluster.store().revision(),
        before,
        "a dry run writes nothing"
    );
    assert_eq!(
        f.raw("GET", &format!("{CMS}/dry"), None, Vec::new())
            .await
            .0,
        404
    );
    create_cm(&f, "l1", json!({"del": "yes"})).await;
    create_cm(&f, "l2", json!({"del": "yes"})).await;
    create_cm(&f, "keep", json!({})).await;
    let (code, gone) = f
        .raw(
            "DELETE",
            &format!("{CMS}?labelSelector=del%3Dyes"),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(gone["items"].as_array().unwrap().len(), 2);
    let (_, left) = f.raw("GET", CMS, None, Vec::new()).await;
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn finalizers_keep_an_object_until_they_are_removed() {
    let f = Fixture::start().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fin", "finalizers": ["example.com/hold"]}});
    f.raw(
        "POST",
        CMS,
        Some("application/json"),
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    let (code, pending) = f
        .raw(
            "DELETE",
            &format!("{CMS}/fin"),
            Some("application/json"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(code, 200);
    assert!(
        pending["metadata"]["deletionTimestamp"].is_string(),
        "{pending}"
    );
    assert_eq!(
        f.raw("GET", &format!("{CMS}/fin"), None, Vec::new())
            .await
            .0,
        200
    );
    let (code, _) = f
        .raw(
            "PATCH",
            &format!("{CMS}/fin"),
            Some("application/merge-patch+json"),
            br#"{"metadata":{"finalizers":null}}"#.to_vec(),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        f.raw("GET", &format!("{CMS}/fin"), None, Vec::new())
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn aggregated_discovery_uses_the_exact_content_type() {
    let f = Fixture::start().await;
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    for path in ["/api", "/apis"] {
        let kc = kube::config::Kubeconfig::from_yaml(&f.cluster.kubeconfig_yaml()).unwrap();
        let client = kube::Client::try_from(
            kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .unwrap(),
        )
        .unwrap();
        let req = http::Request::builder()
            .uri(path)
            .header("accept", accept)
            .body(kube::client::Body::from(Vec::new()))
            .unwrap();
        let resp = client.send(req).await.unwrap();
        assert_eq!(
            resp.headers()["content-type"],
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
        assert_eq!(resp.headers()["vary"], "Accept");
    }
    let plain = http::Request::builder()
        .uri("/apis")
        .body(Vec::new())
        .unwrap();
    let (_, groups) = send(&f.cluster, plain, f.cluster.token()).await;
    assert_eq!(groups["kind"], "APIGroupList");
}

#[tokio::test]
async fn sim_serve_prints_ready_and_removes_its_kubeconfig() {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(["sim", "serve", "--name", "t", "--kubeconfig"])
        .arg(&kc)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        line,
        format!("ready: kubeconfig written to {}", kc.display())
    );
    assert_eq!(
        std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let yaml = std::fs::read_to_string(&kc).unwrap();
    assert!(yaml.contains("current-context: sim-t") && yaml.contains("certificate-authority-data"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert!(
        lines.next_line().await.unwrap().is_none(),
        "exactly one line on stdout"
    );
    assert!(!kc.exists(), "kubeconfig removed on exit");
}

#[tokio::test]
async fn many_watches_share_one_cluster() {
    let f = Fixture::start().await;
    let mut watches = Vec::new();
    for _ in 0..20 {
        watches.push(Watch::open(&f, &format!("{CMS}?watch=true")).await);
    }
    create_cm(&f, "fan", json!({})).await;
    let names = futures::stream::iter(watches.iter_mut())
        .then(|w| async move { w.next().await.unwrap()["object"]["metadata"]["name"].clone() })
        .collect::<Vec<_>>()
        .await;
    assert!(names.iter().all(|n| n == "fan"));
}
