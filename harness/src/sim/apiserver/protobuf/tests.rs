use std::collections::BTreeSet;

use prost_reflect::prost::Message as _;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, Value as Pb};
use serde_json::{Value, json};

use super::definitions::{self, kind, message};
use super::*;

fn ld(field: u32, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![
        u8::try_from((field << 3) | 2).unwrap(),
        u8::try_from(bytes.len()).unwrap(),
    ];
    v.extend_from_slice(bytes);
    v
}

/// The body client-go sends for `obj`: the envelope around its encoding.
fn body(api_version: &str, kind_name: &str, obj: &DynamicMessage) -> Vec<u8> {
    let mut unknown = DynamicMessage::new(definitions::unknown());
    let mut tm = DynamicMessage::new(message("apimachinery.pkg.runtime.TypeMeta").unwrap());
    tm.set_field_by_name("apiVersion", Pb::String(api_version.into()));
    tm.set_field_by_name("kind", Pb::String(kind_name.into()));
    unknown.set_field_by_name("typeMeta", Pb::Message(tm));
    unknown.set_field_by_name("raw", Pb::Bytes(obj.encode_to_vec().into()));
    [MAGIC.to_vec(), unknown.encode_to_vec()].concat()
}

/// A message of `full_name` with `fields` set (messages built by `build`).
fn msg(full_name: &str, fields: Vec<(&str, Pb)>) -> DynamicMessage {
    let mut m = DynamicMessage::new(message(full_name).unwrap_or_else(|| panic!("{full_name}")));
    for (name, v) in fields {
        m.try_set_field_by_name(name, v)
            .unwrap_or_else(|e| panic!("{full_name}.{name}: {e}"));
    }
    m
}

fn s(v: &str) -> Pb {
    Pb::String(v.into())
}

/// Every leaf of `want` is in `got`; every leaf only in `got` is a zero.
fn compare(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    let zero = |v: &Value| match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Object(m) => m.values().all(|v| v.is_null()) || m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Null => true,
    };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                compare(
                    v,
                    g.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
            for (k, v) in g {
                if !w.contains_key(k) && !zero(v) {
                    out.push(format!("{path}.{k}: {v} decoded, not in kubectl's JSON"));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                compare(a, b, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Null, g) if zero(g) => {}
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: kubectl's JSON has {w}, decoded {g}")),
    }
}

/// Bodies kubectl (Go) encoded, captured by `harness/scripts/capture-protobuf.py`:
/// each decodes to kubectl's own JSON of the object, except the zeros Go
/// writes for non-pointer fields (kept, see [`super::json`]).
#[test]
fn bodies_kubectl_sent_decode_to_kubectls_json() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sim/protobuf");
    let mut seen = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "pb") {
            continue;
        }
        let decoded = decode(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
        let want: Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let before = problems.len();
        compare(&want, &decoded, "", &mut problems);
        for p in &mut problems[before..] {
            *p = format!("{}: {p}", path.file_name().unwrap().to_string_lossy());
        }
        seen += 1;
    }
    assert!(
        seen >= 10,
        "only {seen} captured bodies in {}",
        dir.display()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn decodes_a_namespace_as_kubectl_sends_it() {
    let meta = [ld(1, b"t"), ld(11, &[ld(1, b"a"), ld(2, b"b")].concat())].concat();
    let ns = [ld(1, &meta), ld(2, &[]), ld(3, &[])].concat();
    let type_meta = [ld(1, b"v1"), ld(2, b"Namespace")].concat();
    let body = [b"k8s\0".to_vec(), ld(1, &type_meta), ld(2, &ns)].concat();
    let v = decode(&body).unwrap();
    assert_eq!(
        v,
        json!({"metadata": {"name": "t", "labels": {"a": "b"}}, "spec": {}, "status": {}, "apiVersion": "v1", "kind": "Namespace"})
    );
    assert_eq!(decode(b"nope").unwrap_err().code, 400);
    assert_eq!(decode(b"k8s\0\xff\xff").unwrap_err().code, 400);
}

#[test]
fn decodes_delete_options_as_helm_sends_them() {
    let opts = [ld(2, &ld(1, b"u-1")), ld(4, b"Background")].concat();
    let type_meta = [ld(1, b"v1"), ld(2, b"DeleteOptions")].concat();
    let body = [b"k8s\0".to_vec(), ld(1, &type_meta), ld(2, &opts)].concat();
    let v = decode(&body).unwrap();
    assert_eq!(v["propagationPolicy"], "Background");
    assert_eq!(v["preconditions"], json!({"uid": "u-1"}));
}

#[test]
fn kinds_without_a_protobuf_message_answer_415_naming_json() {
    let obj = msg("apimachinery.pkg.apis.meta.v1.ObjectMeta", vec![]);
    let err = decode(&body("source.toolkit.fluxcd.io/v1", "GitRepository", &obj)).unwrap_err();
    assert_eq!(err.code, 415);
    assert!(
        err.message.contains("send application/json"),
        "{}",
        err.message
    );
}

#[test]
fn go_types_decode_to_their_json() {
    let port = msg(
        "api.core.v1.ServicePort",
        vec![
            ("name", s("http")),
            ("port", Pb::I32(80)),
            ("protocol", s("TCP")),
            (
                "targetPort",
                Pb::Message(msg(
                    "apimachinery.pkg.util.intstr.IntOrString",
                    vec![("type", Pb::I64(1)), ("strVal", s("web"))],
                )),
            ),
        ],
    );
    let numeric = msg(
        "apimachinery.pkg.util.intstr.IntOrString",
        vec![
            ("type", Pb::I64(0)),
            ("intVal", Pb::I32(8080)),
            ("strVal", s("")),
        ],
    );
    let port2 = msg(
        "api.core.v1.ServicePort",
        vec![("port", Pb::I32(81)), ("targetPort", Pb::Message(numeric))],
    );
    let created = msg(
        "apimachinery.pkg.apis.meta.v1.Time",
        vec![("seconds", Pb::I64(1_700_000_000))],
    );
    let meta = msg(
        "apimachinery.pkg.apis.meta.v1.ObjectMeta",
        vec![
            ("name", s("web")),
            ("namespace", s("")),
            ("generation", Pb::I64(0)),
            ("creationTimestamp", Pb::Message(created)),
            (
                "deletionTimestamp",
                Pb::Message(msg("apimachinery.pkg.apis.meta.v1.Time", vec![])),
            ),
        ],
    );
    let spec = msg(
        "api.core.v1.ServiceSpec",
        vec![
            (
                "ports",
                Pb::List(vec![Pb::Message(port), Pb::Message(port2)]),
            ),
            ("type", s("ClusterIP")),
            ("clusterIP", s("")),
        ],
    );
    let svc = msg(
        "api.core.v1.Service",
        vec![("metadata", Pb::Message(meta)), ("spec", Pb::Message(spec))],
    );
    let v = decode(&body("v1", "Service", &svc)).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "generation": 0, "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {"ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web"},
                {"port": 81, "targetPort": 8080}],
                "type": "ClusterIP"}}),
        "IntOrString both ways, Time as RFC 3339, the empty Time and strings dropped, a zero kept"
    );
}

#[test]
fn inline_fields_bytes_and_quantities_decode_as_json_has_them() {
    let cm_source = msg(
        "api.core.v1.ConfigMapVolumeSource",
        vec![(
            "localObjectReference",
            Pb::Message(msg(
                "api.core.v1.LocalObjectReference",
                vec![("name", s("settings"))],
            )),
        )],
    );
    let volume = msg(
        "api.core.v1.Volume",
        vec![
            ("name", s("config")),
            (
                "volumeSource",
                Pb::Message(msg(
                    "api.core.v1.VolumeSource",
                    vec![("configMap", Pb::Message(cm_source))],
                )),
            ),
        ],
    );
    let http_get = msg(
        "api.core.v1.HTTPGetAction",
        vec![
            ("path", s("/healthz")),
            (
                "port",
                Pb::Message(msg(
                    "apimachinery.pkg.util.intstr.IntOrString",
                    vec![("intVal", Pb::I32(8080))],
                )),
            ),
        ],
    );
    let probe = msg(
        "api.core.v1.Probe",
        vec![
            (
                "handler",
                Pb::Message(msg(
                    "api.core.v1.ProbeHandler",
                    vec![("httpGet", Pb::Message(http_get))],
                )),
            ),
            ("periodSeconds", Pb::I32(5)),
        ],
    );
    let quantity = |q: &str| {
        Pb::Message(msg(
            "apimachinery.pkg.api.resource.Quantity",
            vec![("string", s(q))],
        ))
    };
    let mut limits = std::collections::HashMap::new();
    limits.insert(
        prost_reflect::MapKey::String("memory".into()),
        quantity("128Mi"),
    );
    limits.insert(
        prost_reflect::MapKey::String("cpu".into()),
        quantity("250m"),
    );
    let container = msg(
        "api.core.v1.Container",
        vec![
            ("name", s("app")),
            ("image", s("app:1")),
            ("livenessProbe", Pb::Message(probe)),
            (
                "resources",
                Pb::Message(msg(
                    "api.core.v1.ResourceRequirements",
                    vec![("limits", Pb::Map(limits))],
                )),
            ),
        ],
    );
    let pod_spec = msg(
        "api.core.v1.PodSpec",
        vec![
            ("volumes", Pb::List(vec![Pb::Message(volume)])),
            ("containers", Pb::List(vec![Pb::Message(container)])),
        ],
    );
    let pod = msg("api.core.v1.Pod", vec![("spec", Pb::Message(pod_spec))]);
    let v = decode(&body("v1", "Pod", &pod)).unwrap();
    assert_eq!(
        v["spec"],
        json!({"volumes": [{"name": "config", "configMap": {"name": "settings"}}],
            "containers": [{"name": "app", "image": "app:1",
                "resources": {"limits": {"cpu": "250m", "memory": "128Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5}}]})
    );

    let mut data = std::collections::HashMap::new();
    data.insert(
        prost_reflect::MapKey::String("token".into()),
        Pb::Bytes(b"s3cr\xff".to_vec().into()),
    );
    let secret = msg(
        "api.core.v1.Secret",
        vec![("data", Pb::Map(data)), ("type", s("Opaque"))],
    );
    let v = decode(&body("v1", "Secret", &secret)).unwrap();
    assert_eq!(v["data"], json!({"token": "czNjcv8="}));
}

#[test]
fn embedded_objects_decode_from_json_or_a_nested_envelope() {
    let inner = msg(
        "api.core.v1.ConfigMap",
        vec![(
            "metadata",
            Pb::Message(msg(
                "apimachinery.pkg.apis.meta.v1.ObjectMeta",
                vec![("name", s("inner"))],
            )),
        )],
    );
    for raw in [
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"inner"}}"#.to_vec(),
        body("v1", "ConfigMap", &inner),
    ] {
        let rev = msg(
            "api.apps.v1.ControllerRevision",
            vec![
                (
                    "data",
                    Pb::Message(msg(
                        "apimachinery.pkg.runtime.RawExtension",
                        vec![("raw", Pb::Bytes(raw.into()))],
                    )),
                ),
                ("revision", Pb::I64(3)),
            ],
        );
        let v = decode(&body("apps/v1", "ControllerRevision", &rev)).unwrap();
        assert_eq!(
            v["data"],
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}})
        );
        assert_eq!(v["revision"], 3);
    }
    let rev = msg(
        "api.apps.v1.ControllerRevision",
        vec![(
            "data",
            Pb::Message(msg(
                "apimachinery.pkg.runtime.RawExtension",
                vec![("raw", Pb::Bytes(b"\x01not json".to_vec().into()))],
            )),
        )],
    );
    let err = decode(&body("apps/v1", "ControllerRevision", &rev)).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("not JSON"), "{}", err.message);
}

#[test]
fn envelopes_nested_in_raw_extensions_are_bounded() {
    let revision = |raw: Vec<u8>| {
        msg(
            "api.apps.v1.ControllerRevision",
            vec![(
                "data",
                Pb::Message(msg(
                    "apimachinery.pkg.runtime.RawExtension",
                    vec![("raw", Pb::Bytes(raw.into()))],
                )),
            )],
        )
    };
    let nest = |levels: usize| {
        let mut raw = br#"{"a":1}"#.to_vec();
        for _ in 0..levels {
            raw = body("apps/v1", "ControllerRevision", &revision(raw));
        }
        raw
    };
    let ok = decode(&nest(20)).unwrap();
    assert_eq!(
        ok.pointer(&format!("{}/a", "/data".repeat(20))),
        Some(&json!(1))
    );
    let err = decode(&nest(60)).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("nested too deeply"), "{}", err.message);
}

#[test]
fn a_crd_schema_keeps_its_json_schema_names() {
    let api = "apiextensions_apiserver.pkg.apis.apiextensions.v1";
    let string_prop = msg(
        &format!("{api}.JSONSchemaProps"),
        vec![("type", s("string"))],
    );
    let mut props = std::collections::HashMap::new();
    props.insert(
        prost_reflect::MapKey::String("name".into()),
        Pb::Message(string_prop),
    );
    let schema = msg(
        &format!("{api}.JSONSchemaProps"),
        vec![
            ("type", s("object")),
            ("properties", Pb::Map(props)),
            ("xKubernetesPreserveUnknownFields", Pb::Bool(true)),
            (
                "additionalProperties",
                Pb::Message(msg(
                    &format!("{api}.JSONSchemaPropsOrBool"),
                    vec![("allows", Pb::Bool(false))],
                )),
            ),
            (
                "items",
                Pb::Message(msg(
                    &format!("{api}.JSONSchemaPropsOrArray"),
                    vec![(
                        "jSONSchemas",
                        Pb::List(vec![
                            Pb::Message(msg(
                                &format!("{api}.JSONSchemaProps"),
                                vec![("type", s("integer"))],
                            )),
                            Pb::Message(msg(
                                &format!("{api}.JSONSchemaProps"),
                                vec![("type", s("string"))],
                            )),
                        ]),
                    )],
                )),
            ),
            (
                "default",
                Pb::Message(msg(
                    &format!("{api}.JSON"),
                    vec![("raw", Pb::Bytes(br#"{"name":"x"}"#.to_vec().into()))],
                )),
            ),
        ],
    );
    let v = decode(&body(
        "apiextensions.k8s.io/v1",
        "CustomResourceValidation",
        &msg(
            &format!("{api}.CustomResourceValidation"),
            vec![("openAPIV3Schema", Pb::Message(schema))],
        ),
    ))
    .unwrap();
    assert_eq!(
        v["openAPIV3Schema"],
        json!({"type": "object", "properties": {"name": {"type": "string"}},
            "items": [{"type": "integer"}, {"type": "string"}],
            "additionalProperties": false, "default": {"name": "x"},
            "x-kubernetes-preserve-unknown-fields": true})
    );
}

/// The JSON names a message decodes to, inline fields flattened.
fn json_names(desc: &MessageDescriptor) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in desc.fields() {
        if definitions::is_inline(desc, f.name()) {
            let Kind::Message(inner) = f.kind() else {
                panic!("inline {}.{} is not a message", desc.full_name(), f.name());
            };
            out.extend(json_names(&inner));
        } else {
            out.insert(definitions::json_name(desc, f.name()));
        }
    }
    out
}

/// The proto message of an OpenAPI definition name, if Kubernetes has one.
fn proto_of(definition: &str) -> Option<MessageDescriptor> {
    let name = definition
        .strip_prefix("io.k8s.")?
        .replace("apiextensions-apiserver", "apiextensions_apiserver")
        .replace("kube-aggregator", "kube_aggregator");
    message(&name)
}

/// The OpenAPI definitions of every kind k8s-openapi has for the
/// simulator's Kubernetes version, and of every type they use.
macro_rules! definitions_of {
    ($($ty:ty),* $(,)?) => {{
        let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
        $( generator.subschema_for::<$ty>(); )*
        generator.take_definitions(true)
    }};
}

fn openapi_definitions() -> serde_json::Map<String, Value> {
    definitions_of![
        k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration,
        k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
        k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration,
        k8s_openapi::api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
        k8s_openapi::api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
        k8s_openapi::api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
        k8s_openapi::api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
        k8s_openapi::api::apiserverinternal::v1alpha1::StorageVersion,
        k8s_openapi::api::apps::v1::ControllerRevision,
        k8s_openapi::api::apps::v1::DaemonSet,
        k8s_openapi::api::apps::v1::Deployment,
        k8s_openapi::api::apps::v1::ReplicaSet,
        k8s_openapi::api::apps::v1::StatefulSet,
        k8s_openapi::api::authentication::v1::SelfSubjectReview,
        k8s_openapi::api::authentication::v1::TokenRequest,
        k8s_openapi::api::authentication::v1::TokenReview,
        k8s_openapi::api::authorization::v1::LocalSubjectAccessReview,
        k8s_openapi::api::authorization::v1::SelfSubjectAccessReview,
        k8s_openapi::api::authorization::v1::SelfSubjectRulesReview,
        k8s_openapi::api::authorization::v1::SubjectAccessReview,
        k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler,
        k8s_openapi::api::autoscaling::v1::Scale,
        k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
        k8s_openapi::api::batch::v1::CronJob,
        k8s_openapi::api::batch::v1::Job,
        k8s_openapi::api::certificates::v1::CertificateSigningRequest,
        k8s_openapi::api::certificates::v1alpha1::ClusterTrustBundle,
        k8s_openapi::api::certificates::v1beta1::ClusterTrustBundle,
        k8s_openapi::api::coordination::v1::Lease,
        k8s_openapi::api::coordination::v1alpha2::LeaseCandidate,
        k8s_openapi::api::coordination::v1beta1::LeaseCandidate,
        k8s_openapi::api::core::v1::Binding,
        k8s_openapi::api::core::v1::ComponentStatus,
        k8s_openapi::api::core::v1::ConfigMap,
        k8s_openapi::api::core::v1::Endpoints,
        k8s_openapi::api::core::v1::Event,
        k8s_openapi::api::core::v1::LimitRange,
        k8s_openapi::api::core::v1::Namespace,
        k8s_openapi::api::core::v1::Node,
        k8s_openapi::api::core::v1::PersistentVolume,
        k8s_openapi::api::core::v1::PersistentVolumeClaim,
        k8s_openapi::api::core::v1::Pod,
        k8s_openapi::api::core::v1::PodTemplate,
        k8s_openapi::api::core::v1::ReplicationController,
        k8s_openapi::api::core::v1::ResourceQuota,
        k8s_openapi::api::core::v1::Secret,
        k8s_openapi::api::core::v1::Service,
        k8s_openapi::api::core::v1::ServiceAccount,
        k8s_openapi::api::discovery::v1::EndpointSlice,
        k8s_openapi::api::events::v1::Event,
        k8s_openapi::api::flowcontrol::v1::FlowSchema,
        k8s_openapi::api::flowcontrol::v1::PriorityLevelConfiguration,
        k8s_openapi::api::networking::v1::Ingress,
        k8s_openapi::api::networking::v1::IngressClass,
        k8s_openapi::api::networking::v1::IPAddress,
        k8s_openapi::api::networking::v1::NetworkPolicy,
        k8s_openapi::api::networking::v1::ServiceCIDR,
        k8s_openapi::api::networking::v1beta1::IPAddress,
        k8s_openapi::api::networking::v1beta1::ServiceCIDR,
        k8s_openapi::api::node::v1::RuntimeClass,
        k8s_openapi::api::policy::v1::Eviction,
        k8s_openapi::api::policy::v1::PodDisruptionBudget,
        k8s_openapi::api::rbac::v1::ClusterRole,
        k8s_openapi::api::rbac::v1::ClusterRoleBinding,
        k8s_openapi::api::rbac::v1::Role,
        k8s_openapi::api::rbac::v1::RoleBinding,
        k8s_openapi::api::resource::v1alpha3::DeviceClass,
        k8s_openapi::api::resource::v1alpha3::DeviceTaintRule,
        k8s_openapi::api::resource::v1alpha3::ResourceClaim,
        k8s_openapi::api::resource::v1alpha3::ResourceClaimTemplate,
        k8s_openapi::api::resource::v1alpha3::ResourceSlice,
        k8s_openapi::api::resource::v1beta1::DeviceClass,
        k8s_openapi::api::resource::v1beta1::ResourceClaim,
        k8s_openapi::api::resource::v1beta1::ResourceClaimTemplate,
        k8s_openapi::api::resource::v1beta1::ResourceSlice,
        k8s_openapi::api::resource::v1beta2::DeviceClass,
        k8s_openapi::api::resource::v1beta2::ResourceClaim,
        k8s_openapi::api::resource::v1beta2::ResourceClaimTemplate,
        k8s_openapi::api::resource::v1beta2::ResourceSlice,
        k8s_openapi::api::scheduling::v1::PriorityClass,
        k8s_openapi::api::storage::v1::CSIDriver,
        k8s_openapi::api::storage::v1::CSINode,
        k8s_openapi::api::storage::v1::CSIStorageCapacity,
        k8s_openapi::api::storage::v1::StorageClass,
        k8s_openapi::api::storage::v1::VolumeAttachment,
        k8s_openapi::api::storage::v1alpha1::VolumeAttributesClass,
        k8s_openapi::api::storage::v1beta1::VolumeAttributesClass,
        k8s_openapi::api::storagemigration::v1alpha1::StorageVersionMigration,
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroup,
        k8s_openapi::apimachinery::pkg::apis::meta::v1::APIVersions,
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Status,
        k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    ]
}

/// Every type of every built-in kind (Kubernetes' OpenAPI, as k8s-openapi
/// publishes it for the same version): the fields decoded from protobuf
/// are exactly the properties JSON has. This is what catches a
/// `json:",inline"` embedding or a renamed field missing from
/// [`definitions`].
#[test]
fn decoded_field_names_are_the_openapi_properties_of_every_builtin_type() {
    let defs = openapi_definitions();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (name, schema) in defs.iter() {
        let Some(desc) = proto_of(name) else { continue };
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        // Objects carry apiVersion and kind in the envelope, not the message.
        let envelope =
            |k: &str| (k == "apiVersion" || k == "kind") && desc.get_field_by_name(k).is_none();
        let want: BTreeSet<String> = props.keys().filter(|k| !envelope(k)).cloned().collect();
        let got = json_names(&desc);
        if got != want {
            mismatches.push(format!(
                "{name}: only in protobuf {:?}, only in OpenAPI {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
        checked += 1;
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        checked > 400,
        "only {checked} definitions had a protobuf message"
    );
}

#[test]
fn every_builtin_kind_the_simulator_serves_has_a_message() {
    let registry = crate::sim::storage::kinds::Registry::with_builtins();
    let mut missing = Vec::new();
    for t in registry.all() {
        for v in &t.versions {
            let api_version = if t.group.is_empty() {
                v.name.clone()
            } else {
                format!("{}/{}", t.group, v.name)
            };
            if kind(&api_version, &t.kind).is_none() {
                missing.push(format!("{api_version} {}", t.kind));
            }
        }
    }
    assert!(missing.is_empty(), "no protobuf message for: {missing:?}");
}
