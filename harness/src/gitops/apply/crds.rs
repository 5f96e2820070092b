//! Waiting for CustomResourceDefinitions to become `Established`.
//!
//! The API server sets `Established` itself, within moments of the create,
//! so this wait runs on **wall** time rather than the cluster's clock: it
//! must end even when the caller holds a `Busy` guard of a virtual clock
//! (as the simulator's controllers do while they apply), and no simulated
//! latency is involved.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::Api;
use kube::runtime::wait::{Condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use super::error::Failure;

/// The group versions a CRD manifest serves (`group/version`), so their
/// cached discovery can be dropped once it is established.
pub fn served_group_versions(crd: &Value) -> Vec<String> {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .map(|v| format!("{group}/{v}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the CRD `name` is `Established`, at most `timeout` (wall).
/// Watch errors are retried with backoff until then (an API server that
/// answers 503 for a moment does not fail the apply).
///
/// # Errors
/// [`Failure::CrdNotEstablished`] on timeout.
pub async fn wait_established(
    client: &Client,
    name: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let established = conditions::is_crd_established();
    let mut events = watcher(api, config).default_backoff().boxed();
    let waited = tokio::time::timeout(timeout, async {
        while let Some(ev) = events.next().await {
            match ev {
                Ok(watcher::Event::Apply(crd) | watcher::Event::InitApply(crd)) => {
                    if established.matches_object(Some(&crd)) {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(crd = name, error = %e, "watching a CRD failed; retrying")
                }
            }
        }
    })
    .await;
    waited.map_err(|_| Failure::CrdNotEstablished { after: timeout })
}
