//! The outputs Secret (`spec.writeOutputsToSecret`), as the real
//! controller writes it: string outputs as they are, others as JSON; owned
//! by the `Terraform` object.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Value, json};

use super::TofuController;
use super::spec::WriteOutputs;
use crate::gitops::apply::Manifest;
use crate::terraform as tf;

/// Writes the Secret `wots` names with the outputs it lists (all when it
/// lists none).
///
/// # Errors
/// An output the module does not have, or the apply of the Secret failed
/// (the message the status reports).
pub async fn write(
    ctl: &TofuController,
    obj: &Value,
    wots: &WriteOutputs,
    outputs: &tf::Outputs,
) -> Result<(), String> {
    let mut data = BTreeMap::new();
    let names: Vec<&str> = if wots.outputs.is_empty() {
        outputs.names()
    } else {
        wots.outputs.iter().map(String::as_str).collect()
    };
    for n in names {
        let Some(v) = outputs.get(n) else {
            return Err(format!("output {n:?} is not an output of the module"));
        };
        data.insert(
            n.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(v.secret_text()),
        );
    }
    let ns = obj
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(Value::Null);
    let owner = json!({"apiVersion": "infra.contrib.fluxcd.io/v1alpha2", "kind": "Terraform",
        "name": obj.pointer("/metadata/name"), "uid": obj.pointer("/metadata/uid"),
        "controller": true});
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": wots.name, "namespace": ns, "labels": wots.labels,
            "annotations": wots.annotations, "ownerReferences": [owner]},
        "data": data});
    ctl.applier
        .apply(vec![Manifest::new(secret)])
        .await
        .check()
        .map(|_| ())
        .map_err(|e| format!("error writing the outputs Secret {}: {e}", wots.name))
}
