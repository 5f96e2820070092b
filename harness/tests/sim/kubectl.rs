//! The real `kubectl` against the simulator: the conformance smoke tests
//! of the reference (§23) and the everyday commands.

use gameday::sim::{Gvr, ObjectRef};
use serde_json::json;

use crate::common::Fixture;

async fn with_namespace(f: &Fixture, ns: &str) {
    let out = f.kubectl(&["create", "namespace", ns]).await;
    assert_eq!(out.trim(), format!("namespace/{ns} created"));
}

#[tokio::test]
async fn create_namespace_is_active() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    let yaml = f.kubectl(&["get", "ns", "t", "-o", "yaml"]).await;
    assert!(yaml.contains("phase: Active"), "{yaml}");
    let dup = f.kubectl_unchecked(&["create", "namespace", "t"]).await;
    assert!(!dup.status.success());
    assert!(
        dup.stderr.contains("AlreadyExists")
            && dup.stderr.contains("namespaces \"t\" already exists"),
        "{}",
        dup.stderr
    );
}

#[tokio::test]
async fn server_side_apply_twice_removes_a_dropped_key() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    let out = f
        .kubectl(&["apply", "--server-side", "-f", "cm.yaml"])
        .await;
    assert_eq!(out.trim(), "configmap/settings serverside-applied");
    f.kubectl(&["apply", "--server-side", "-f", "cm-less.yaml"])
        .await;
    let data = f
        .kubectl(&["get", "cm", "settings", "-n", "t", "-o", "jsonpath={.data}"])
        .await;
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data, json!({"keep": "1"}));
}

#[tokio::test]
async fn client_side_apply_with_default_validation() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    let out = f.kubectl(&["apply", "-f", "cm.yaml"]).await;
    assert_eq!(out.trim(), "configmap/settings created");
    let out = f.kubectl(&["apply", "-f", "cm-less.yaml"]).await;
    assert_eq!(out.trim(), "configmap/settings configured");
    let data = f
        .kubectl(&["get", "cm", "settings", "-n", "t", "-o", "jsonpath={.data}"])
        .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&data).unwrap(),
        json!({"keep": "1"})
    );
}

#[tokio::test]
async fn crd_established_then_custom_resource_with_printer_columns() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    f.kubectl(&["apply", "--server-side", "-f", "kustomization-crd.yaml"])
        .await;
    let out = f
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/kustomizations.kustomize.toolkit.fluxcd.io",
            "--timeout=30s",
        ])
        .await;
    assert!(out.contains("condition met"), "{out}");
    let out = f
        .kubectl(&["apply", "--server-side", "-f", "kustomization.yaml"])
        .await;
    assert_eq!(
        out.trim(),
        "kustomization.kustomize.toolkit.fluxcd.io/apps serverside-applied"
    );
    // A controller (here: the test, in-process) reports Ready.
    let store = f.cluster.store();
    let r = ObjectRef::namespaced(
        Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        "t",
        "apps",
    );
    let now = store.now_rfc3339();
    store
        .mutate(&r, true, &Default::default(), |o| {
            gameday::sim::storage::store::conditions::set_condition(
                o,
                "Ready",
                "True",
                "ReconciliationSucceeded",
                "Applied revision: main@sha1:abc",
                &now,
                Some(1),
            );
            Ok(())
        })
        .unwrap();
    let table = f.kubectl(&["get", "kustomization", "-n", "t"]).await;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "AGE", "READY", "STATUS"]);
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("apps")
            && row.contains("True")
            && row.contains("Applied revision: main@sha1:abc"),
        "{row}"
    );
    let out = f
        .kubectl(&[
            "wait",
            "--for=condition=Ready",
            "kustomization/apps",
            "-n",
            "t",
            "--timeout=30s",
        ])
        .await;
    assert!(out.contains("condition met"), "{out}");
}

#[tokio::test]
async fn delete_namespace_returns_when_it_is_gone() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    f.kubectl(&["apply", "--server-side", "-f", "cm.yaml"])
        .await;
    f.kubectl(&["apply", "--server-side", "-f", "deployment.yaml"])
        .await;
    let out = f.kubectl(&["delete", "ns", "t", "--timeout=60s"]).await;
    assert_eq!(out.trim(), "namespace \"t\" deleted");
    let store = f.cluster.store();
    assert!(
        store
            .get(&ObjectRef::cluster(Gvr::core("namespaces"), "t"))
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .get(&ObjectRef::namespaced(
                Gvr::core("configmaps"),
                "t",
                "settings"
            ))
            .unwrap_err()
            .is_not_found()
    );
    let denied = f.kubectl_unchecked(&["delete", "ns", "default"]).await;
    assert!(
        denied.stderr.contains("this namespace may not be deleted"),
        "{}",
        denied.stderr
    );
}

#[tokio::test]
async fn get_deployments_prints_the_usual_columns() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    f.kubectl(&["apply", "--server-side", "-f", "deployment.yaml"])
        .await;
    // The simulated controllers roll it out (instant profile).
    f.kubectl(&[
        "rollout",
        "status",
        "deploy/web",
        "-n",
        "t",
        "--timeout=30s",
    ])
    .await;
    let out = f.kubectl(&["get", "deploy", "-n", "t"]).await;
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["web", "2/2", "2", "2"]);
    let wide = f.kubectl(&["get", "deploy", "-n", "t", "-o", "wide"]).await;
    assert!(
        wide.contains("ghcr.io/stefanprodan/podinfo:6.7.0"),
        "{wide}"
    );
}

#[tokio::test]
async fn api_resources_lists_builtins_and_crds() {
    let f = Fixture::start().await;
    f.kubectl(&["apply", "--server-side", "-f", "kustomization-crd.yaml"])
        .await;
    let out = f.kubectl(&["api-resources"]).await;
    for needle in [
        "configmaps",
        "deployments",
        "customresourcedefinitions",
        "kustomizations",
        "leases",
        "horizontalpodautoscalers",
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(needle)),
            "{needle} missing:\n{out}"
        );
    }
    assert!(out.contains("kustomize.toolkit.fluxcd.io/v1"), "{out}");
}

#[tokio::test]
async fn everyday_commands() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    f.kubectl(&["apply", "-f", "deployment.yaml"]).await;
    // Strategic merge patch (kubectl patch default), label, annotate, scale.
    f.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "t",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1"}]}}}}"#,
    ])
    .await;
    f.kubectl(&["label", "deploy", "web", "-n", "t", "tier=front"])
        .await;
    f.kubectl(&["annotate", "deploy", "web", "-n", "t", "note=x"])
        .await;
    f.kubectl(&["scale", "deploy", "web", "-n", "t", "--replicas=5"])
        .await;
    let d = f
        .kubectl(&["get", "deploy", "web", "-n", "t", "-o", "json"])
        .await;
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        9898
    );
    assert_eq!(d["metadata"]["labels"]["tier"], "front");
    assert_eq!(d["metadata"]["annotations"]["note"], "x");
    assert_eq!(d["spec"]["replicas"], 5);
    assert_eq!(d["metadata"]["generation"], 3);
    let out = f
        .kubectl(&["get", "deploy", "-n", "t", "-l", "tier=front", "-o", "name"])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web");
    let out = f.kubectl(&["get", "all", "-A"]).await;
    assert!(out.contains("deployment.apps/web"), "{out}");
    let out = f.kubectl(&["delete", "deploy", "web", "-n", "t"]).await;
    assert_eq!(out.trim(), "deployment.apps \"web\" deleted");
    let gone = f
        .kubectl_unchecked(&["get", "deploy", "web", "-n", "t"])
        .await;
    assert!(gone.stderr.contains("NotFound"), "{}", gone.stderr);
    let none = f
        .kubectl_unchecked(&["get", "cm", "-n", "t", "-l", "nothing=here"])
        .await;
    assert!(
        none.stderr.contains("No resources found in t namespace."),
        "{}",
        none.stderr
    );
}

#[tokio::test]
async fn version_and_health() {
    let f = Fixture::start().await;
    let out = f.kubectl(&["version", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.33.0");
    let out = f.kubectl(&["get", "--raw", "/readyz"]).await;
    assert_eq!(out.trim(), "ok");
}

#[tokio::test]
async fn create_subcommands_with_protobuf_bodies() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    f.kubectl(&["create", "configmap", "c", "-n", "t", "--from-literal=a=b"])
        .await;
    f.kubectl(&[
        "create",
        "secret",
        "generic",
        "s",
        "-n",
        "t",
        "--from-literal=x=y",
    ])
    .await;
    f.kubectl(&["create", "serviceaccount", "bot", "-n", "t"])
        .await;
    f.kubectl(&[
        "create",
        "deployment",
        "web",
        "-n",
        "t",
        "--image=nginx",
        "--port=80",
        "--replicas=0",
    ])
    .await;
    let store = f.cluster.store();
    let get = |gvr: Gvr, name: &str| store.get(&ObjectRef::namespaced(gvr, "t", name)).unwrap();
    assert_eq!(get(Gvr::core("configmaps"), "c")["data"], json!({"a": "b"}));
    assert_eq!(get(Gvr::core("secrets"), "s")["data"], json!({"x": "eQ=="}));
    assert!(get(Gvr::core("serviceaccounts"), "bot")["metadata"]["uid"].is_string());
    let d = get(Gvr::new("apps", "v1", "deployments"), "web");
    assert_eq!(
        d["spec"]["replicas"], 0,
        "an explicit zero survives the protobuf decoding"
    );
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        (
            &c["terminationMessagePath"],
            &c["imagePullPolicy"],
            &c["ports"][0]["protocol"]
        ),
        (
            &json!("/dev/termination-log"),
            &json!("Always"),
            &json!("TCP")
        ),
        "decoded, then defaulted as the API server defaults a container: {c}"
    );
}

/// Whether every value of `want` (kubectl's own JSON of the object it
/// built) is in `got` (what the simulator stored): the server may only add
/// (defaults, uid, status). Returns the paths that differ.
fn missing(want: &serde_json::Value, got: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (want, got) {
        (Value::Null, _) => {}
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                match g.get(k) {
                    Some(gv) => missing(v, gv, &format!("{path}.{k}"), out),
                    None if v.is_null() || *v == json!({}) => {}
                    None => out.push(format!("{path}.{k}: want {v}, absent")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                missing(a, b, &format!("{path}[{i}]"), out);
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: want {w}, got {g}")),
    }
}

/// client-go's typed clients send protobuf: every `kubectl create`
/// subcommand's object, of every kind they make, is stored as kubectl built
/// it (its own `--dry-run=client -o json` is the reference), then defaulted.
#[tokio::test]
async fn every_create_subcommand_stores_the_object_kubectl_built() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    let commands: &[&[&str]] = &[
        &["create", "serviceaccount", "bot"],
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--port=80",
            "--replicas=0",
        ],
        &[
            "create",
            "job",
            "once",
            "--image=busybox",
            "--",
            "echo",
            "hi",
        ],
        &[
            "create",
            "cronjob",
            "nightly",
            "--image=busybox",
            "--schedule=*/5 * * * *",
            "--restart=OnFailure",
            "--",
            "date",
        ],
        &[
            "create",
            "service",
            "clusterip",
            "api",
            "--tcp=80:8080",
            "--tcp=443:8443",
        ],
        &[
            "create",
            "service",
            "nodeport",
            "edge",
            "--tcp=81:8081",
            "--node-port=30081",
        ],
        &["create", "service", "nodeport", "auto", "--tcp=82:8082"],
        &[
            "create",
            "service",
            "externalname",
            "ext",
            "--external-name=example.com",
        ],
        &[
            "create",
            "role",
            "reader",
            "--verb=get,list",
            "--resource=pods,configmaps",
            "--resource-name=a",
        ],
        &[
            "create",
            "rolebinding",
            "readers",
            "--role=reader",
            "--serviceaccount=t:bot",
            "--user=alice",
        ],
        &[
            "create",
            "clusterrole",
            "nodes",
            "--verb=get",
            "--resource=nodes",
            "--non-resource-url=/healthz",
        ],
        &[
            "create",
            "clusterrolebinding",
            "nodes",
            "--clusterrole=nodes",
            "--group=devs",
        ],
        &[
            "create",
            "quota",
            "small",
            "--hard=cpu=1,memory=1G,pods=2",
            "--scopes=NotTerminating",
        ],
        &[
            "create",
            "priorityclass",
            "batch",
            "--value=1000",
            "--description=low",
            "--preemption-policy=Never",
        ],
        &[
            "create",
            "poddisruptionbudget",
            "one",
            "--selector=app=web",
            "--min-available=1",
        ],
        &[
            "create",
            "poddisruptionbudget",
            "half",
            "--selector=app=web",
            "--max-unavailable=50%",
        ],
        &[
            "create",
            "ingress",
            "site",
            "--class=nginx",
            "--rule=example.com/api*=api:80,tls=site-tls",
        ],
        &[
            "create",
            "secret",
            "docker-registry",
            "pull",
            "--docker-server=r.example",
            "--docker-username=u",
            "--docker-password=p",
        ],
        &[
            "create",
            "secret",
            "generic",
            "bytes",
            "--from-literal=x=y",
            "--type=Opaque",
        ],
        &[
            "create",
            "configmap",
            "settings",
            "--from-literal=a=b",
            "--from-literal=empty=",
        ],
        &[
            "autoscale",
            "deployment",
            "web",
            "--min=2",
            "--max=5",
            "--cpu-percent=80",
        ],
    ];
    let mut problems = Vec::new();
    for args in commands {
        // The flags go before a command's `--`.
        let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        let with = |extra: &[&'static str]| {
            [
                &args[..split],
                &["-n", "t", "-o", "json"],
                extra,
                &args[split..],
            ]
            .concat()
        };
        let dry = f.kubectl_unchecked(&with(&["--dry-run=client"])).await;
        let client: serde_json::Value = serde_json::from_str(&dry.stdout)
            .unwrap_or_else(|e| panic!("kubectl {args:?} --dry-run=client: {e}: {}", dry.stderr));
        let out = f.kubectl_unchecked(&with(&[])).await;
        assert!(out.status.success(), "kubectl {args:?}: {}", out.stderr);
        let stored: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let before = problems.len();
        missing(&client, &stored, "", &mut problems);
        for p in &mut problems[before..] {
            *p = format!("kubectl {}: {p}", args.join(" "));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // What the decoding had to get right, as the store holds it.
    let store = f.cluster.store();
    let get = |gvr: Gvr, name: &str| store.get(&ObjectRef::namespaced(gvr, "t", name)).unwrap();
    let d = get(Gvr::new("apps", "v1", "deployments"), "web");
    assert_eq!(
        d["spec"]["replicas"], 0,
        "an explicit zero survives the protobuf decoding"
    );
    let pdb = get(Gvr::new("policy", "v1", "poddisruptionbudgets"), "half");
    assert_eq!(
        pdb["spec"]["maxUnavailable"], "50%",
        "IntOrString as a string"
    );
    let auto = get(Gvr::core("services"), "auto");
    let node_port = auto["spec"]["ports"][0]["nodePort"].as_u64().unwrap_or(0);
    assert!(
        (30000..=32767).contains(&node_port),
        "the nodePort 0 a protobuf body carries is unset, so one is allocated: {auto}"
    );
    let ports = f
        .kubectl(&["get", "service", "api", "-n", "t", "--no-headers"])
        .await;
    assert!(
        ports.contains("80/TCP,443/TCP"),
        "a ClusterIP service's ports: {ports}"
    );
}

#[tokio::test]
async fn get_watch_prints_rows_as_they_change() {
    let f = Fixture::start().await;
    with_namespace(&f, "t").await;
    let watch = f.kubectl_unchecked(&["get", "cm", "-n", "t", "-w", "--request-timeout=8s"]);
    let create = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        f.kubectl(&["create", "configmap", "late", "-n", "t"]).await;
    };
    let (out, ()) = tokio::join!(watch, create);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("late")),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}
