//! Waiting for CustomResourceDefinitions to become `Established`.
//!
//! The API server sets `Established` itself, within moments of the create,
//! so this wait runs on **wall** time rather than the cluster's clock: it
//! must end even when the caller holds a `Busy` guard of a virtual clock
//! (as the simulator's controllers do while they apply), and no simulated
//! latency is involved.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::Api;
use kube::runtime::wait::{await_condition, conditions};
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
///
/// # Errors
/// [`Failure::CrdNotEstablished`] on timeout, or the failure of the watch.
pub async fn wait_established(
    client: &Client,
    name: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    match tokio::time::timeout(
        timeout,
        await_condition(api, name, conditions::is_crd_established()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Failure::Request(format!(
            "watching CustomResourceDefinition/{name} failed: {e}"
        ))),
        Err(_) => Err(Failure::CrdNotEstablished { after: timeout }),
    }
}
