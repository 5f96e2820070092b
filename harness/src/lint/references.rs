//! References to objects nothing in Git creates: they live only in the
//! cluster, and a disaster takes them along.
//!
//! Provided are the objects of the tree, those controllers in the tree
//! create from it (a `Terraform`'s outputs Secret, a cert-manager
//! `Certificate`'s Secret, an `ExternalSecret`'s or `SealedSecret`'s
//! Secret), those every namespace has (`default` ServiceAccount,
//! `kube-root-ca.crt`), and the Secrets the scenarios restore.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Ctx, Finding, Rule, Severity, is_flux, namespace_of};
use crate::gitops::render::Object;

/// `(kind, namespace, name)`; cluster-scoped kinds have an empty namespace.
type Key = (String, String, String);

/// One reference an object makes.
struct Ref {
    kind: &'static str,
    name: String,
    /// Where in the object, for the message (`envFrom`, `volumes`).
    field: &'static str,
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
}

fn optional(v: &Value) -> bool {
    v.get("optional").and_then(Value::as_bool) == Some(true)
}

fn list<'a>(v: &'a Value, ptr: &str) -> impl Iterator<Item = &'a Value> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// What Git provides (see the module docs).
fn provided(ctx: &Ctx<'_>) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    let mut add = |kind: &str, ns: &str, name: &str| {
        out.insert((kind.to_owned(), ns.to_owned(), name.to_owned()));
    };
    for (_, o) in ctx.tree.objects() {
        let ns = namespace_of(o);
        let m = &o.manifest;
        match (o.group(), o.kind()) {
            ("" | "storage.k8s.io", kind) => {
                let ns = if kind == "StorageClass" { "" } else { ns };
                add(kind, ns, o.name());
            }
            ("infra.contrib.fluxcd.io", "Terraform") => {
                if let Some(n) = s(m, "/spec/writeOutputsToSecret/name") {
                    add("Secret", ns, n);
                }
            }
            ("cert-manager.io", "Certificate") => {
                if let Some(n) = s(m, "/spec/secretName") {
                    add("Secret", ns, n);
                }
            }
            ("external-secrets.io", "ExternalSecret") => {
                add("Secret", ns, s(m, "/spec/target/name").unwrap_or(o.name()));
            }
            ("bitnami.com", "SealedSecret") => add("Secret", ns, o.name()),
            _ => {}
        }
    }
    for r in ctx.restored {
        add("Secret", &r.namespace, &r.name);
    }
    out
}

/// The pod spec of a workload kind.
fn pod_spec(o: &Object) -> Option<&Value> {
    let m = &o.manifest;
    match (o.group(), o.kind()) {
        ("", "Pod") => m.get("spec"),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => m.pointer("/spec/template/spec"),
        ("batch", "CronJob") => m.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

fn pod_refs(spec: &Value, out: &mut Vec<Ref>) {
    let mut push = |kind, name: Option<&str>, field| {
        if let Some(name) = name {
            out.push(Ref {
                kind,
                name: name.to_owned(),
                field,
            });
        }
    };
    let sa = s(spec, "/serviceAccountName").or_else(|| s(spec, "/serviceAccount"));
    push("ServiceAccount", sa, "serviceAccountName");
    for p in list(spec, "/imagePullSecrets") {
        push("Secret", s(p, "/name"), "imagePullSecrets");
    }
    for v in list(spec, "/volumes") {
        if let Some(cm) = v.get("configMap").filter(|c| !optional(c)) {
            push("ConfigMap", s(cm, "/name"), "volumes");
        }
        if let Some(sec) = v.get("secret").filter(|c| !optional(c)) {
            push("Secret", s(sec, "/secretName"), "volumes");
        }
        push(
            "PersistentVolumeClaim",
            s(v, "/persistentVolumeClaim/claimName"),
            "volumes",
        );
        for src in list(v, "/projected/sources") {
            if let Some(cm) = src.get("configMap").filter(|c| !optional(c)) {
                push("ConfigMap", s(cm, "/name"), "volumes (projected)");
            }
            if let Some(sec) = src.get("secret").filter(|c| !optional(c)) {
                push("Secret", s(sec, "/name"), "volumes (projected)");
            }
        }
    }
    let containers = list(spec, "/containers").chain(list(spec, "/initContainers"));
    for c in containers {
        for e in list(c, "/envFrom") {
            if let Some(r) = e.get("configMapRef").filter(|r| !optional(r)) {
                push("ConfigMap", s(r, "/name"), "envFrom");
            }
            if let Some(r) = e.get("secretRef").filter(|r| !optional(r)) {
                push("Secret", s(r, "/name"), "envFrom");
            }
        }
        for e in list(c, "/env") {
            if let Some(r) = e
                .pointer("/valueFrom/configMapKeyRef")
                .filter(|r| !optional(r))
            {
                push("ConfigMap", s(r, "/name"), "env");
            }
            if let Some(r) = e
                .pointer("/valueFrom/secretKeyRef")
                .filter(|r| !optional(r))
            {
                push("Secret", s(r, "/name"), "env");
            }
        }
    }
}

/// Every reference `o` makes.
fn refs(o: &Object) -> Vec<Ref> {
    let mut out = Vec::new();
    let m = &o.manifest;
    if let Some(spec) = pod_spec(o) {
        pod_refs(spec, &mut out);
    }
    let mut push = |kind, name: Option<&str>, field| {
        if let Some(name) = name {
            out.push(Ref {
                kind,
                name: name.to_owned(),
                field,
            });
        }
    };
    match (o.group(), o.kind()) {
        ("", "PersistentVolumeClaim") => {
            push(
                "StorageClass",
                s(m, "/spec/storageClassName"),
                "storageClassName",
            );
        }
        ("apps", "StatefulSet") => {
            for t in list(m, "/spec/volumeClaimTemplates") {
                push(
                    "StorageClass",
                    s(t, "/spec/storageClassName"),
                    "volumeClaimTemplates",
                );
            }
        }
        ("networking.k8s.io", "Ingress") => {
            // cert-manager's ingress-shim creates the Secrets of annotated Ingresses.
            let shim = m
                .pointer("/metadata/annotations")
                .and_then(Value::as_object)
                .is_some_and(|a| a.keys().any(|k| k.starts_with("cert-manager.io/")));
            if !shim {
                for t in list(m, "/spec/tls") {
                    push("Secret", s(t, "/secretName"), "tls");
                }
            }
        }
        _ => {}
    }
    let from = if is_flux(o, "kustomize") {
        "/spec/postBuild/substituteFrom"
    } else if is_flux(o, "helm") {
        "/spec/valuesFrom"
    } else {
        return out;
    };
    for r in list(m, from).filter(|r| !optional(r)) {
        let kind = match s(r, "/kind") {
            Some("ConfigMap") => "ConfigMap",
            Some("Secret") => "Secret",
            _ => continue,
        };
        push(
            kind,
            s(r, "/name"),
            if is_flux(o, "helm") {
                "valuesFrom"
            } else {
                "substituteFrom"
            },
        );
    }
    out
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let have = provided(ctx);
    for (unit, o) in ctx.tree.objects() {
        for r in refs(o) {
            let cluster_scoped = r.kind == "StorageClass";
            let ns = if cluster_scoped { "" } else { namespace_of(o) };
            let always = (r.kind == "ServiceAccount" && r.name == "default")
                || (r.kind == "ConfigMap" && r.name == "kube-root-ca.crt");
            if always || have.contains(&(r.kind.to_owned(), ns.to_owned(), r.name.clone())) {
                continue;
            }
            let what = if cluster_scoped {
                format!("{} {}", r.kind, r.name)
            } else {
                format!("{} {ns}/{}", r.kind, r.name)
            };
            let (severity, message, fix) = if cluster_scoped {
                (
                    Severity::Warning,
                    format!(
                        "{o} uses {what} ({}), which Git does not define: the cluster provides it, and a rebuilt cluster must provide one of the same name",
                        r.field
                    ),
                    format!(
                        "define {what} in Git, or check that every cluster the drills build has it"
                    ),
                )
            } else {
                (
                    Severity::Error,
                    format!(
                        "{o} uses {what} ({}), which nothing in Git creates: it lives only in the cluster and is lost with it",
                        r.field
                    ),
                    match r.kind {
                        "Secret" => format!(
                            "add {what} to Git encrypted with SOPS, have a controller in Git create it (External Secrets, Sealed Secrets), or restore it with `spec.bootstrap.secrets`"
                        ),
                        _ => format!("add {what} to Git next to {o}"),
                    },
                )
            };
            out.push(ctx.finding(
                Rule::MissingReference,
                severity,
                (unit, o),
                Some(&r.name),
                message,
                fix,
            ));
        }
    }
}
