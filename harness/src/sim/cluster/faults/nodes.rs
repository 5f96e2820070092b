//! Node fault hooks: lose a node (its kubelet stops), restore it, lose N
//! workers. They act through the simulated controllers
//! ([`crate::sim::workloads::controllers::ControllerHandle`]).
//!
//! What follows a loss, on the cluster's clock and with the profile's
//! Kubernetes defaults: the node turns `Ready=Unknown`
//! (`NodeStatusUnknown`) and gets the `node.kubernetes.io/unreachable`
//! taints 40–55 s later (`node_monitor_grace` 50 s, minus the age of the
//! kubelet's last report, up to 10 s, plus the controller's next look, up
//! to 5 s); its pods turn `Ready=False` at once and are deleted when their
//! toleration of the taint runs out, 300 s after the taint by default; their
//! ReplicaSets, StatefulSets and Jobs recreate them on other nodes. A
//! restored node is `Ready` again after the profile's `node_ready` latency.

use crate::sim::cluster::SimCluster;
use crate::sim::workloads::controllers::NodeFaultError;

impl SimCluster {
    /// Loses node `name` (see the module docs).
    ///
    /// # Errors
    /// No such node, already lost, or the cluster was destroyed.
    pub async fn lose_node(&self, name: &str) -> Result<(), NodeFaultError> {
        self.controllers().lose_node(name).await
    }

    /// Restores a lost node.
    ///
    /// # Errors
    /// No such node, not lost, or the cluster was destroyed.
    pub async fn restore_node(&self, name: &str) -> Result<(), NodeFaultError> {
        self.controllers().restore_node(name).await
    }

    /// Loses `count` workers, picked deterministically (highest-numbered
    /// first: `<cluster>-worker3`, `-worker2`, `-worker`); returns their names.
    ///
    /// # Errors
    /// Fewer running workers than `count`, or the cluster was destroyed.
    pub async fn lose_workers(&self, count: usize) -> Result<Vec<String>, NodeFaultError> {
        self.controllers().lose_workers(count).await
    }
}
