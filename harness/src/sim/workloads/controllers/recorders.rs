//! The Event recorders of the simulated control plane and kubelets, one
//! per component as on a real cluster (the `source.component` and
//! `reportingComponent` of their Events).

use crate::sim::recorder::Recorder;
use crate::sim::storage::store::Store;

/// kube-controller-manager's field manager.
const KCM: &str = "kube-controller-manager";

/// One recorder per simulated component.
#[derive(Debug)]
pub(crate) struct Recorders {
    pub(crate) kubelet: Recorder,
    pub(crate) scheduler: Recorder,
    pub(crate) deployment: Recorder,
    pub(crate) replicaset: Recorder,
    pub(crate) statefulset: Recorder,
    pub(crate) daemonset: Recorder,
    pub(crate) job: Recorder,
    pub(crate) hpa: Recorder,
    pub(crate) cronjob: Recorder,
}

impl Recorders {
    pub(crate) fn new(store: &Store) -> Recorders {
        let r = |component: &str, manager: &str| Recorder::new(store.clone(), component, manager);
        Recorders {
            kubelet: r("kubelet", "kubelet"),
            scheduler: r("default-scheduler", "kube-scheduler"),
            deployment: r("deployment-controller", KCM),
            replicaset: r("replicaset-controller", KCM),
            statefulset: r("statefulset-controller", KCM),
            daemonset: r("daemonset-controller", KCM),
            job: r("job-controller", KCM),
            hpa: r("horizontal-pod-autoscaler", KCM),
            cronjob: r("cronjob-controller", KCM),
        }
    }
}
