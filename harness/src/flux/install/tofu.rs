//! The emulated Terraform controller's install manifests, applied with
//! Flux's when the controller is enabled: the `Terraform` CRD
//! (`terraforms.infra.contrib.fluxcd.io`, served as `v1alpha2` and
//! `v1alpha1`), the `tf-controller` and `tf-runner` ServiceAccounts, RBAC,
//! and the `tf-controller` Deployment in `flux-system` — the controller
//! reconciles while that Deployment has an available replica.

use serde_json::{Value, json};

use super::crds::FluxKind;
use super::{NAMESPACE, labels};

/// The controller's Deployment name.
pub const CONTROLLER: &str = "tf-controller";

/// The image it stands for.
pub const IMAGE: &str = "ghcr.io/flux-iac/tofu-controller:v0.16.0-rc.5";

/// The `Terraform` kind.
pub const TERRAFORM: FluxKind = FluxKind {
    group: "infra.contrib.fluxcd.io",
    versions: &["v1alpha2", "v1alpha1"],
    kind: "Terraform",
    plural: "terraforms",
    short_names: &["tf"],
    controller: CONTROLLER,
    category: "fluxcd-appliers",
    columns: &[],
};

fn deployment() -> Value {
    let mut l = labels(CONTROLLER);
    l.insert("app".into(), json!(CONTROLLER));
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": CONTROLLER, "namespace": NAMESPACE, "labels": l},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": CONTROLLER}},
            "template": {"metadata": {"labels": {"app": CONTROLLER}},
                "spec": {"serviceAccountName": CONTROLLER,
                    "containers": [{"name": "manager", "image": IMAGE,
                        "args": ["--watch-all-namespaces", "--log-level=info", "--log-encoding=json"],
                        "ports": [{"containerPort": 8080, "name": "http-prom"}]}]}}}})
}

/// The manifests as JSON objects.
pub fn objects() -> Vec<Value> {
    vec![
        TERRAFORM.crd(),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": CONTROLLER, "namespace": NAMESPACE, "labels": labels(CONTROLLER)}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "tf-runner", "namespace": NAMESPACE, "labels": labels(CONTROLLER)}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "tf-controller-flux-system", "labels": labels(CONTROLLER)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": CONTROLLER, "namespace": NAMESPACE},
                {"kind": "ServiceAccount", "name": "tf-runner", "namespace": NAMESPACE}]}),
        deployment(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crd_is_the_real_one() {
        let crd = TERRAFORM.crd();
        assert_eq!(
            crd["metadata"]["name"],
            "terraforms.infra.contrib.fluxcd.io"
        );
        assert_eq!(crd["spec"]["versions"][0]["name"], "v1alpha2");
        assert_eq!(crd["spec"]["versions"][0]["storage"], true);
        assert_eq!(crd["spec"]["names"]["shortNames"][0], "tf");
        assert!(crd["spec"]["versions"][0]["subresources"]["status"].is_object());
        let d = objects()
            .into_iter()
            .find(|o| o["kind"] == "Deployment")
            .unwrap();
        assert_eq!(d["metadata"]["name"], CONTROLLER);
        assert_eq!(d["metadata"]["namespace"], "flux-system");
    }
}
