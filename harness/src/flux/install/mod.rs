//! Flux's install manifests, generated: what `flux install` applies with
//! the default components, in its order — the `flux-system` Namespace with
//! Flux's labels, a ResourceQuota, the CRDs ([`crds`]), one ServiceAccount
//! per controller, RBAC, Services, the four controller Deployments
//! (`source-controller`, `kustomize-controller`, `helm-controller`,
//! `notification-controller`, labelled `app.kubernetes.io/part-of=flux` and
//! `app=<controller>`) and the NetworkPolicies.
//!
//! Bootstrapping the simulator applies exactly these objects with the apply
//! engine — the same code path as installing real Flux from a manifests
//! file — and the emulated controllers run while their Deployments are
//! available. [`manifests_yaml`] renders them as the multi-document file
//! `flux install --export` prints (checked in as
//! `fixtures/flux/install.yaml`).

pub mod crds;
pub mod tofu;

use serde_json::{Map, Value, json};

/// The Flux release these manifests stand for.
pub const FLUX_VERSION: &str = "v2.6.4";

/// The namespace Flux is installed in.
pub const NAMESPACE: &str = "flux-system";

/// The controllers `flux install` deploys by default, with their images.
pub const CONTROLLERS: [(&str, &str); 4] = [
    (
        "source-controller",
        "ghcr.io/fluxcd/source-controller:v1.6.2",
    ),
    (
        "kustomize-controller",
        "ghcr.io/fluxcd/kustomize-controller:v1.6.1",
    ),
    ("helm-controller", "ghcr.io/fluxcd/helm-controller:v1.3.0"),
    (
        "notification-controller",
        "ghcr.io/fluxcd/notification-controller:v1.6.0",
    ),
];

/// Flux's common labels, with `component` when given.
pub fn labels(component: &str) -> Map<String, Value> {
    let mut m = Map::new();
    if !component.is_empty() {
        m.insert("app.kubernetes.io/component".into(), json!(component));
    }
    m.insert("app.kubernetes.io/instance".into(), json!(NAMESPACE));
    m.insert("app.kubernetes.io/part-of".into(), json!("flux"));
    m.insert("app.kubernetes.io/version".into(), json!(FLUX_VERSION));
    m
}

fn namespace() -> Value {
    let mut l = labels("");
    l.insert(
        "pod-security.kubernetes.io/warn".into(),
        json!("restricted"),
    );
    l.insert(
        "pod-security.kubernetes.io/warn-version".into(),
        json!("latest"),
    );
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": l}})
}

fn resource_quota() -> Value {
    json!({"apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "critical-pods-flux-system", "namespace": NAMESPACE, "labels": labels("")},
        "spec": {"hard": {"pods": "1000"}, "scopeSelector": {"matchExpressions": [
            {"operator": "In", "scopeName": "PriorityClass", "values": ["system-node-critical", "system-cluster-critical"]}]}}})
}

fn service_account(controller: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": controller, "namespace": NAMESPACE, "labels": labels(controller)}})
}

fn rbac() -> Vec<Value> {
    let crd_controller_rules = json!([
        {"apiGroups": ["source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io", "notification.toolkit.fluxcd.io"], "resources": ["*"], "verbs": ["*"]},
        {"apiGroups": [""], "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["configmaps", "configmaps/status"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    ]);
    let mut edit = labels("");
    edit.insert(
        "rbac.authorization.k8s.io/aggregate-to-admin".into(),
        json!("true"),
    );
    edit.insert(
        "rbac.authorization.k8s.io/aggregate-to-edit".into(),
        json!("true"),
    );
    let mut view = labels("");
    view.insert(
        "rbac.authorization.k8s.io/aggregate-to-admin".into(),
        json!("true"),
    );
    view.insert(
        "rbac.authorization.k8s.io/aggregate-to-edit".into(),
        json!("true"),
    );
    view.insert(
        "rbac.authorization.k8s.io/aggregate-to-view".into(),
        json!("true"),
    );
    let groups = json!([
        "notification.toolkit.fluxcd.io",
        "source.toolkit.fluxcd.io",
        "helm.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
        "kustomize.toolkit.fluxcd.io"
    ]);
    let subjects = |names: &[&str]| -> Value {
        Value::Array(
            names
                .iter()
                .map(|n| json!({"kind": "ServiceAccount", "name": n, "namespace": NAMESPACE}))
                .collect(),
        )
    };
    vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "crd-controller-flux-system", "labels": labels("")}, "rules": crd_controller_rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "flux-edit-flux-system", "labels": edit},
            "rules": [{"apiGroups": groups, "resources": ["*"], "verbs": ["create", "delete", "deletecollection", "patch", "update"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "flux-view-flux-system", "labels": view},
            "rules": [{"apiGroups": groups, "resources": ["*"], "verbs": ["get", "list", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "cluster-reconciler-flux-system", "labels": labels("")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": subjects(&["kustomize-controller", "helm-controller"])}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "crd-controller-flux-system", "labels": labels("")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "crd-controller-flux-system"},
            "subjects": subjects(&["kustomize-controller", "helm-controller", "source-controller", "notification-controller"])}),
    ]
}

fn service(name: &str, controller: &str, target_port: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels(controller)},
        "spec": {"type": "ClusterIP", "selector": {"app": controller},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": target_port}]}})
}

fn deployment(controller: &str, image: &str) -> Value {
    let mut ports = vec![
        json!({"containerPort": 8080, "name": "http-prom", "protocol": "TCP"}),
        json!({"containerPort": 9440, "name": "healthz", "protocol": "TCP"}),
    ];
    let mut volumes = vec![json!({"name": "temp", "emptyDir": {}})];
    let mut mounts = vec![json!({"name": "temp", "mountPath": "/tmp"})];
    let mut args = vec![
        json!("--events-addr=http://notification-controller.flux-system.svc.cluster.local./"),
        json!("--watch-all-namespaces=true"),
        json!("--log-level=info"),
        json!("--log-encoding=json"),
        json!("--enable-leader-election"),
    ];
    match controller {
        "source-controller" => {
            ports.insert(
                0,
                json!({"containerPort": 9090, "name": "http", "protocol": "TCP"}),
            );
            volumes.push(json!({"name": "data", "emptyDir": {}}));
            mounts.push(json!({"name": "data", "mountPath": "/data"}));
            args.push(json!("--storage-path=/data"));
            args.push(json!(
                "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
            ));
        }
        "notification-controller" => {
            args.remove(0);
            ports.insert(
                0,
                json!({"containerPort": 9090, "name": "http", "protocol": "TCP"}),
            );
            ports.insert(
                1,
                json!({"containerPort": 9292, "name": "http-webhook", "protocol": "TCP"}),
            );
        }
        _ => {}
    }
    let mut deploy_labels = labels(controller);
    deploy_labels.insert("control-plane".into(), json!("controller"));
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": controller, "namespace": NAMESPACE, "labels": deploy_labels},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": controller}},
        "template": {
            "metadata": {
                "annotations": {"prometheus.io/port": "8080", "prometheus.io/scrape": "true"},
                "labels": {"app": controller},
            },
            "spec": {
                "containers": [{
                    "name": "manager",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "args": args,
                    "env": [
                        {"name": "RUNTIME_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                        {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"containerName": "manager", "resource": "limits.cpu"}}},
                    ],
                    "ports": ports,
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
                    "resources": {"limits": {"cpu": "1000m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": true, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "volumeMounts": mounts,
                }],
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "priorityClassName": "system-cluster-critical",
                "securityContext": {"fsGroup": 1337},
                "serviceAccountName": controller,
                "terminationGracePeriodSeconds": 10,
                "volumes": volumes,
            },
        },
    }})
}

fn network_policies() -> Vec<Value> {
    vec![
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-egress", "namespace": NAMESPACE, "labels": labels("")},
            "spec": {"egress": [{}], "ingress": [{"from": [{"podSelector": {}}]}], "podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-scraping", "namespace": NAMESPACE, "labels": labels("")},
            "spec": {"ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 8080, "protocol": "TCP"}]}],
                "podSelector": {}, "policyTypes": ["Ingress"]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow-webhooks", "namespace": NAMESPACE, "labels": labels("")},
            "spec": {"ingress": [{"from": [{"namespaceSelector": {}}]}],
                "podSelector": {"matchLabels": {"app": "notification-controller"}}, "policyTypes": ["Ingress"]}}),
    ]
}

/// The install manifests as JSON objects, in `flux install`'s order.
pub fn objects() -> Vec<Value> {
    let mut out = vec![namespace(), resource_quota()];
    out.extend(crds::KINDS.iter().map(crds::FluxKind::crd));
    out.extend(CONTROLLERS.iter().map(|(c, _)| service_account(c)));
    out.extend(rbac());
    out.push(service(
        "notification-controller",
        "notification-controller",
        "http",
    ));
    out.push(service("source-controller", "source-controller", "http"));
    out.push(service(
        "webhook-receiver",
        "notification-controller",
        "http-webhook",
    ));
    out.extend(CONTROLLERS.iter().map(|(c, image)| deployment(c, image)));
    out.extend(network_policies());
    out
}

/// The install manifests as one multi-document YAML file.
pub fn manifests_yaml() -> String {
    let mut out = format!(
        "# Flux {FLUX_VERSION} install manifests, as generated by gameday's simulator.\n# Regenerate with GAMEDAY_UPDATE_GOLDEN=1 cargo nextest run --test gitops flux::install.\n"
    );
    for o in objects() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&o).unwrap_or_default());
    }
    out
}

/// The names of the controller Deployments.
pub fn controller_names() -> impl Iterator<Item = &'static str> {
    CONTROLLERS.iter().map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_are_labelled_for_flux_check() {
        let objs = objects();
        let deployments: Vec<&Value> = objs.iter().filter(|o| o["kind"] == "Deployment").collect();
        assert_eq!(deployments.len(), 4);
        for d in deployments {
            let name = d["metadata"]["name"].as_str().unwrap();
            assert_eq!(d["metadata"]["labels"]["app.kubernetes.io/part-of"], "flux");
            assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app"], name);
            assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], name);
        }
        assert_eq!(objs[0]["kind"], "Namespace");
        assert_eq!(
            objs[0]["metadata"]["labels"]["pod-security.kubernetes.io/warn"],
            "restricted"
        );
    }

    #[test]
    fn crds_have_printer_columns_and_status() {
        let ks = crds::KUSTOMIZATION.crd();
        assert_eq!(
            ks["metadata"]["name"],
            "kustomizations.kustomize.toolkit.fluxcd.io"
        );
        let v = &ks["spec"]["versions"][0];
        assert_eq!(v["name"], "v1");
        assert_eq!(v["storage"], true);
        let cols: Vec<&str> = v["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(cols, ["Age", "Ready", "Status"]);
        assert!(v["subresources"]["status"].is_object());
        let git = crds::GIT_REPOSITORY.crd();
        let served: Vec<&str> = git["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(served, ["v1", "v1beta2"]);
        assert_eq!(git["spec"]["names"]["shortNames"][0], "gitrepo");
        assert_eq!(
            git["metadata"]["labels"]["app.kubernetes.io/component"],
            "source-controller"
        );
    }
}
