//! Apply order: definitions first, then cluster-scoped objects, then
//! namespaced ones; within a stage, kustomize's legacy kind order.
//!
//! Custom resources can only be applied once their CRD is `Established`,
//! and namespaced objects once their Namespace exists, so the engine
//! applies in three [`Stage`]s and waits for CRDs between the first two.
//! Pruning deletes in the reverse order.

use super::object::ObjectId;

/// A stage of an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// CustomResourceDefinitions and Namespaces.
    Definitions,
    /// Every other cluster-scoped object.
    ClusterScoped,
    /// Namespaced objects.
    Namespaced,
}

impl Stage {
    /// All stages, in apply order.
    pub const ALL: [Stage; 3] = [Stage::Definitions, Stage::ClusterScoped, Stage::Namespaced];

    /// A short name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Definitions => "definitions",
            Stage::ClusterScoped => "cluster-scoped",
            Stage::Namespaced => "namespaced",
        }
    }
}

/// The stage an object belongs to, given its scope.
pub fn stage_of(id: &ObjectId, namespaced: bool) -> Stage {
    if id.is_crd() || id.is_namespace() {
        Stage::Definitions
    } else if namespaced {
        Stage::Namespaced
    } else {
        Stage::ClusterScoped
    }
}

/// kustomize's legacy ordering of kinds (what `kustomize build` and Flux's
/// apply order follow); kinds not listed come after these, by name.
const KIND_ORDER: [&str; 27] = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "Job",
    "DaemonSet",
    "HorizontalPodAutoscaler",
];

/// Sort key of an object within a stage.
pub fn sort_key(id: &ObjectId) -> (usize, &str, &str, Option<&str>, &str) {
    let rank = KIND_ORDER
        .iter()
        .position(|k| *k == id.kind)
        .unwrap_or(KIND_ORDER.len());
    (
        rank,
        id.kind.as_str(),
        id.group.as_str(),
        id.namespace.as_deref(),
        id.name.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_then_cluster_then_namespaced() {
        let crd = ObjectId::cluster(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "w.example.com",
        );
        let ns = ObjectId::cluster("", "Namespace", "a");
        let role = ObjectId::cluster("rbac.authorization.k8s.io", "ClusterRole", "r");
        let cm = ObjectId::namespaced("", "ConfigMap", "a", "c");
        assert_eq!(stage_of(&crd, false), Stage::Definitions);
        assert_eq!(stage_of(&ns, false), Stage::Definitions);
        assert_eq!(stage_of(&role, false), Stage::ClusterScoped);
        assert_eq!(stage_of(&cm, true), Stage::Namespaced);
        let mut ids = [
            ObjectId::namespaced("apps", "Deployment", "a", "d"),
            ObjectId::namespaced("example.com", "Widget", "a", "w"),
            cm.clone(),
            ObjectId::namespaced("", "Service", "a", "s"),
        ];
        ids.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let kinds: Vec<&str> = ids.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, ["ConfigMap", "Service", "Deployment", "Widget"]);
    }
}
