//! Fault hooks the drill runner calls (a Rust API, not the Kubernetes
//! API): API outages on the same port, injected errors on routes
//! ([`ErrorRule`]), watch-history compaction, closing watches, destroying
//! the cluster; [`nodes`] loses and restores nodes.

pub mod nodes;

use super::SimCluster;
use crate::sim::apiserver::inject::{ErrorRule, RuleId};

impl SimCluster {
    /// Stops the API listener: new connections are refused and open ones
    /// (watches included) are dropped. State is kept.
    pub async fn stop_api(&self) {
        self.listener().stop().await;
    }

    /// Starts the API listener again on the same port.
    ///
    /// # Errors
    /// When the port cannot be bound again.
    pub async fn start_api(&self) -> crate::sim::Result<()> {
        self.listener().start().await
    }

    /// True while the API listener accepts connections.
    pub fn api_running(&self) -> bool {
        self.listener().is_running()
    }

    /// Injects an error on matching requests (see [`ErrorRule`]).
    pub fn inject_error(&self, rule: ErrorRule) -> RuleId {
        self.faults().add(rule)
    }

    /// Removes one injected error.
    pub fn remove_error(&self, id: RuleId) {
        self.faults().remove(id);
    }

    /// Removes every injected error.
    pub fn clear_errors(&self) {
        self.faults().clear();
    }

    /// Compacts the watch history: running watches get an in-stream 410
    /// `Expired` and clients must relist.
    pub fn compact(&self) {
        self.store().compact();
    }

    /// Closes every open watch, as an API server restart does.
    pub fn close_watches(&self) {
        self.store().close_watches();
    }

    /// Destroys the cluster: every object is gone (including the
    /// namespaces and nodes), watches are closed and the simulated
    /// controllers stop. The listener keeps serving an empty API; use
    /// [`SimCluster::stop_api`] for an unreachable one.
    pub fn destroy(&self) {
        self.abort_controllers();
        self.store().clear();
    }
}
