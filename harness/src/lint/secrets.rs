//! Secrets: restored from Git only if encrypted properly — and only if
//! the key that decrypts them survives the disaster.

use base64::Engine as _;
use serde_json::Value;

use super::{Ctx, Finding, Restored, Rule, Severity, namespace_of};
use crate::gitops::render::Object;
use crate::gitops::tree::Unit;

/// Whether a Secret as written in Git is SOPS-encrypted: the `sops`
/// metadata of a YAML file, `ENC[…]` values, or the `sops_*` keys of an
/// encrypted dotenv file turned into a Secret by a generator.
pub(crate) fn is_encrypted(secret: &Value) -> bool {
    if secret.get("sops").is_some_and(Value::is_object) {
        return true;
    }
    let enc = |s: &str| s.starts_with("ENC[");
    let string_data = secret
        .get("stringData")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .any(|(_, v)| v.as_str().is_some_and(enc));
    let data = secret
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .any(|(k, v)| {
            k.starts_with("sops_")
                || v.as_str()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .is_some_and(|d| d.starts_with(b"ENC["))
        });
    string_data || data
}

fn has_data(secret: &Value) -> bool {
    ["data", "stringData"].iter().any(|k| {
        secret
            .get(*k)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
    })
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (unit, o) in ctx.tree.objects() {
        if o.kind() != "Secret" || !o.group().is_empty() || !has_data(&o.manifest) {
            continue;
        }
        if is_encrypted(&o.manifest) {
            if let Some(f) = undecryptable(ctx, unit, o) {
                out.push(f);
            }
        } else {
            out.push(ctx.finding(
                Rule::PlainSecret,
                Severity::Error,
                (unit, o),
                Some("kind: Secret"),
                format!(
                    "{o} is stored in Git unencrypted: anyone who reads the repository reads it, and a Secret belongs in Git only encrypted"
                ),
                "encrypt the file with SOPS (`sops --encrypt --in-place <file>`, age or a KMS key) and set `spec.decryption` on the Flux Kustomization that applies it, or keep the Secret in an external store (External Secrets, Sealed Secrets)".to_owned(),
            ));
        }
    }
}

/// The decryption key of an encrypted Secret: the `spec.decryption` of
/// the Kustomization applying it must name a Secret a scenario restores
/// (`bootstrap.secrets`) or Git holds.
fn undecryptable(ctx: &Ctx<'_>, unit: &Unit, o: &Object) -> Option<Finding> {
    let ks = ctx.kustomization_of(unit);
    let applier = unit
        .applied_by
        .as_ref()
        .map_or_else(|| "the sync Kustomization".to_owned(), ToString::to_string);
    let key = ks.and_then(|k| {
        let name = k
            .manifest
            .pointer("/spec/decryption/secretRef/name")?
            .as_str()?;
        Some(Restored {
            namespace: k.namespace().unwrap_or("flux-system").to_owned(),
            name: name.to_owned(),
        })
    });
    let Some(key) = key else {
        return Some(ctx.finding(
            Rule::UndecryptableSecret,
            Severity::Error,
            (unit, o),
            Some("kind: Secret"),
            format!(
                "{o} is SOPS-encrypted but {applier} has no `spec.decryption`: Flux would apply the ciphertext, or fail to"
            ),
            format!(
                "set `spec.decryption: {{provider: sops, secretRef: {{name: sops-age}}}}` on {applier} and restore that key Secret in `spec.bootstrap.secrets` of the scenarios"
            ),
        ));
    };
    let in_git = ctx.tree.objects().any(|(_, s)| {
        s.kind() == "Secret"
            && s.group().is_empty()
            && s.name() == key.name
            && namespace_of(s) == key.namespace
            // A key encrypted with itself decrypts nothing.
            && !is_encrypted(&s.manifest)
    });
    if ctx.restored.contains(&key) || in_git {
        return None;
    }
    Some(ctx.finding(
        Rule::UndecryptableSecret,
        Severity::Error,
        (unit, o),
        Some("kind: Secret"),
        format!(
            "{o} is SOPS-encrypted with the key in Secret {}/{}, which no scenario restores (`bootstrap.secrets`) and Git does not hold: after a cluster loss nothing can decrypt it",
            key.namespace, key.name
        ),
        format!(
            "add `{{ namespace: {}, name: {}, fromFile: <the private key file> }}` to `spec.bootstrap.secrets` of the scenarios, and keep that key where a rebuild can reach it (a password manager, a KMS)",
            key.namespace, key.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sops_files_values_and_dotenv_keys_are_encrypted() {
        assert!(is_encrypted(
            &json!({"kind": "Secret", "stringData": {"a": "x"}, "sops": {"age": []}})
        ));
        assert!(is_encrypted(
            &json!({"kind": "Secret", "stringData": {"a": "ENC[AES256_GCM,data:x]"}})
        ));
        assert!(is_encrypted(
            &json!({"kind": "Secret", "data": {"sops_version": "My4xMA=="}})
        ));
        // base64 of "ENC[AES256_GCM,data:x]"
        assert!(is_encrypted(
            &json!({"kind": "Secret", "data": {"k": "RU5DW0FFUzI1Nl9HQ00sZGF0YTp4XQ=="}})
        ));
        assert!(!is_encrypted(
            &json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}})
        ));
    }
}
