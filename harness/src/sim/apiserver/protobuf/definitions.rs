//! Kubernetes' protobuf definitions: the descriptor set `build.rs` compiles
//! from `harness/third_party/kubernetes-proto/` (Kubernetes' own `generated.proto` files), which
//! message a `{apiVersion, kind}` is, and the few places where the protobuf
//! field names are not the JSON names.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, MessageDescriptor};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(&include_bytes!(concat!(env!("OUT_DIR"), "/kubernetes.binpb"))[..])
        .expect("build.rs wrote a valid descriptor set")
});

/// The package meta/v1 lives in: types every group version registers
/// (`DeleteOptions`, `Status`, `CreateOptions`, …).
const META_V1: &str = "apimachinery.pkg.apis.meta.v1";

/// The envelope `k8s\0` + `runtime.Unknown`.
pub fn unknown() -> MessageDescriptor {
    message("apimachinery.pkg.runtime.Unknown").expect("runtime.Unknown is defined")
}

/// A message by full name.
pub fn message(full_name: &str) -> Option<MessageDescriptor> {
    POOL.get_message_by_name(full_name)
}

/// The package of an API group's version, as the proto tree lays it out
/// (Kubernetes' `k8s.io/api/<short>/<version>`, its prefix `k8s.io.` dropped).
fn package(group: &str, version: &str) -> String {
    match group {
        "" | "core" => format!("api.core.{version}"),
        "apiextensions.k8s.io" => {
            format!("apiextensions_apiserver.pkg.apis.apiextensions.{version}")
        }
        "apiregistration.k8s.io" => format!("kube_aggregator.pkg.apis.apiregistration.{version}"),
        "metrics.k8s.io" => format!("metrics.pkg.apis.metrics.{version}"),
        "internal.apiserver.k8s.io" => format!("api.apiserverinternal.{version}"),
        "meta.k8s.io" => format!("apimachinery.pkg.apis.meta.{version}"),
        g => format!("api.{}.{version}", g.split('.').next().unwrap_or(g)),
    }
}

/// The message of `apiVersion` + `kind` (`apps/v1` `Deployment` →
/// `api.apps.v1.Deployment`); meta/v1's option kinds from any group version.
pub fn kind(api_version: &str, kind: &str) -> Option<MessageDescriptor> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    if kind.is_empty() || version.is_empty() {
        return None;
    }
    message(&format!("{}.{kind}", package(group, version)))
        .or_else(|| message(&format!("{META_V1}.{kind}")))
}

/// Fields Go embeds with `json:",inline"`: their message is a field on the
/// wire, but its fields are the parent's in JSON (a Volume's `configMap`,
/// a probe's `httpGet`, a key selector's `name`). By message name: each
/// holds in every version of its group.
const INLINE: &[(&str, &str)] = &[
    ("Volume", "volumeSource"),
    ("PersistentVolumeSpec", "persistentVolumeSource"),
    ("EphemeralContainer", "ephemeralContainerCommon"),
    ("Probe", "handler"),
    ("ConfigMapEnvSource", "localObjectReference"),
    ("ConfigMapKeySelector", "localObjectReference"),
    ("ConfigMapProjection", "localObjectReference"),
    ("ConfigMapVolumeSource", "localObjectReference"),
    ("SecretEnvSource", "localObjectReference"),
    ("SecretKeySelector", "localObjectReference"),
    ("SecretProjection", "localObjectReference"),
    ("IngressRule", "ingressRuleValue"),
    ("DeviceAllocationConfiguration", "deviceConfiguration"),
    ("DeviceClaimConfiguration", "deviceConfiguration"),
    ("DeviceClassConfiguration", "deviceConfiguration"),
    ("RuleWithOperations", "rule"),
    ("NamedRuleWithOperations", "ruleWithOperations"),
];

/// Whether a field of `parent` is embedded inline in JSON.
pub fn is_inline(parent: &MessageDescriptor, field: &str) -> bool {
    INLINE
        .iter()
        .any(|(m, f)| *f == field && *m == parent.name())
}

/// Fields go-to-protobuf named after their Go field rather than their JSON
/// tag: (message, protobuf name, JSON name), in every version of the group.
const RENAMED: &[(&str, &str, &str)] = &[
    ("IngressClassParametersReference", "aPIGroup", "apiGroup"),
    ("BoundObjectReference", "uID", "uid"),
    ("MutatingWebhookConfiguration", "Webhooks", "webhooks"),
    ("ValidatingWebhookConfiguration", "Webhooks", "webhooks"),
    ("Validation", "Expression", "expression"),
    ("Variable", "Name", "name"),
    ("Variable", "Expression", "expression"),
];

/// The JSON name of a field. Go-to-protobuf names fields after their JSON
/// tags, except the few in [`RENAMED`] and where a tag is not a protobuf
/// identifier: JSONSchemaProps' `$ref`, `$schema` and `x-kubernetes-*`.
pub fn json_name(parent: &MessageDescriptor, field: &str) -> String {
    if let Some((_, _, json)) = RENAMED
        .iter()
        .find(|(m, f, _)| *f == field && *m == parent.name())
    {
        return (*json).to_owned();
    }
    if !parent.name().starts_with("JSONSchemaProps") {
        return field.to_owned();
    }
    match field {
        "ref" => "$ref".to_owned(),
        "schema" if parent.name() == "JSONSchemaProps" => "$schema".to_owned(),
        f if f.starts_with("xKubernetes") => {
            let mut out = String::from("x-kubernetes");
            for c in f["xKubernetes".len()..].chars() {
                if c.is_ascii_uppercase() {
                    out.push('-');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
        f => f.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_resolve_by_group_and_version() {
        let full = |v: &str, k: &str| kind(v, k).map(|m| m.full_name().to_owned());
        assert_eq!(
            full("v1", "Service").as_deref(),
            Some("api.core.v1.Service")
        );
        assert_eq!(
            full("apps/v1", "Deployment").as_deref(),
            Some("api.apps.v1.Deployment")
        );
        assert_eq!(
            full("rbac.authorization.k8s.io/v1", "Role").as_deref(),
            Some("api.rbac.v1.Role")
        );
        assert_eq!(
            full("events.k8s.io/v1", "Event").as_deref(),
            Some("api.events.v1.Event")
        );
        assert_eq!(full("v1", "Event").as_deref(), Some("api.core.v1.Event"));
        assert_eq!(
            full("apiextensions.k8s.io/v1", "CustomResourceDefinition").as_deref(),
            Some("apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")
        );
        assert_eq!(
            full("apps/v1", "DeleteOptions").as_deref(),
            Some("apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(full("source.toolkit.fluxcd.io/v1", "GitRepository"), None);
        assert_eq!(full("apps/v1", ""), None);
    }

    #[test]
    fn json_schema_props_extensions_keep_their_json_names() {
        let props =
            message("apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps").unwrap();
        assert_eq!(json_name(&props, "ref"), "$ref");
        assert_eq!(json_name(&props, "schema"), "$schema");
        assert_eq!(
            json_name(&props, "xKubernetesPreserveUnknownFields"),
            "x-kubernetes-preserve-unknown-fields"
        );
        assert_eq!(json_name(&props, "type"), "type");
        let or_array =
            message("apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray")
                .unwrap();
        assert_eq!(json_name(&or_array, "schema"), "schema");
    }
}
