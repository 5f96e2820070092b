//! Service IPs: every Service except headless ones (`clusterIP: None`) and
//! `ExternalName` gets a unique cluster IP from kind's service range
//! 10.96.0.0/12, and `NodePort`/`LoadBalancer` ports get a node port in
//! 30000–32767, with the API server's other defaults (`clusterIPs`,
//! `ipFamilies`, `ipFamilyPolicy`, `internalTrafficPolicy`,
//! `sessionAffinity`, `type`). The API server allocates in the create
//! request; here the allocation is an immediate follow-up write (no field
//! manager, like a default). Dynamic addresses start above the first 256
//! (which upstream keeps for static assignment); `10.96.0.1` belongs to the
//! `default/kubernetes` Service created with the cluster.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::engine::Engine;
use super::pods;
use crate::sim::storage::store::{ApiResult, Gvr, ObjectRef, Store, WriteOptions};
use crate::sim::workloads::jitter::fnv32a;

/// Addresses of 10.96.0.0/12.
const RANGE: u32 = 1 << 20;
const STATIC: u32 = 256;
const NODE_PORTS: (u16, u16) = (30000, 32767);

fn gvr() -> Gvr {
    Gvr::core("services")
}

/// The IPs and node ports in use.
#[derive(Debug, Default)]
pub(crate) struct ServiceIps {
    ips: HashSet<String>,
    ports: HashSet<u16>,
    by_key: HashMap<String, (Vec<String>, Vec<u16>)>,
}

fn ip_of(offset: u32) -> String {
    let a = (10u32 << 24) | (96 << 16) | offset;
    format!(
        "{}.{}.{}.{}",
        a >> 24,
        (a >> 16) & 255,
        (a >> 8) & 255,
        a & 255
    )
}

impl ServiceIps {
    /// Records (or releases) what a Service holds.
    pub(crate) fn observe(&mut self, key: &str, svc: &Value, gone: bool) {
        if let Some((ips, ports)) = self.by_key.remove(key) {
            for ip in ips {
                self.ips.remove(&ip);
            }
            for p in ports {
                self.ports.remove(&p);
            }
        }
        if gone {
            return;
        }
        let ips: Vec<String> = svc
            .pointer("/spec/clusterIPs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(|| {
                let ip = pods::str_at(svc, "/spec/clusterIP");
                if ip.is_empty() {
                    vec![]
                } else {
                    vec![ip.to_owned()]
                }
            })
            .into_iter()
            .filter(|ip| ip != "None")
            .collect();
        let ports: Vec<u16> = svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("nodePort").and_then(Value::as_u64))
            .filter_map(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .collect();
        self.ips.extend(ips.iter().cloned());
        self.ports.extend(ports.iter().copied());
        self.by_key.insert(key.to_owned(), (ips, ports));
    }

    fn allocate_ip(&mut self, key: &str) -> Option<String> {
        let span = RANGE - STATIC - 1;
        let start = fnv32a(key.as_bytes()) % span;
        (0..span)
            .map(|i| ip_of(STATIC + (start + i) % span))
            .find(|ip| !self.ips.contains(ip))
            .inspect(|ip| {
                self.ips.insert(ip.clone());
            })
    }

    fn allocate_port(&mut self, key: &str, index: usize) -> Option<u16> {
        let span = u32::from(NODE_PORTS.1 - NODE_PORTS.0) + 1;
        let start = fnv32a(format!("{key}#{index}").as_bytes()) % span;
        (0..span)
            .filter_map(|i| u16::try_from(u32::from(NODE_PORTS.0) + (start + i) % span).ok())
            .find(|p| !self.ports.contains(p))
            .inspect(|p| {
                self.ports.insert(*p);
            })
    }
}

/// Fills in a Service's cluster IP, node ports and defaults.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let r = pods::ref_of(gvr(), key);
    let Ok(svc) = e.store.get(&r) else { return };
    let kind = match pods::str_at(&svc, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    }
    .to_owned();
    let mut spec = svc.get("spec").cloned().unwrap_or_else(|| json!({}));
    if !spec.is_object() {
        return;
    }
    let before = spec.clone();
    spec["type"] = json!(kind);
    if kind == "ExternalName" {
        spec.as_object_mut().map(|m| m.remove("clusterIP"));
    } else {
        spec.as_object_mut()
            .map(|m| m.entry("sessionAffinity").or_insert(json!("None")));
        spec.as_object_mut()
            .map(|m| m.entry("internalTrafficPolicy").or_insert(json!("Cluster")));
        let ip = pods::str_at(&spec, "/clusterIP").to_owned();
        let ip = if ip.is_empty() {
            match e.service_ips.allocate_ip(key) {
                Some(ip) => ip,
                None => return,
            }
        } else {
            ip
        };
        spec["clusterIP"] = json!(ip);
        if spec.get("clusterIPs").is_none() {
            spec["clusterIPs"] = json!([ip]);
        }
        if ip != "None" {
            spec.as_object_mut()
                .map(|m| m.entry("ipFamilies").or_insert(json!(["IPv4"])));
        }
        spec.as_object_mut()
            .map(|m| m.entry("ipFamilyPolicy").or_insert(json!("SingleStack")));
        if kind == "NodePort" || kind == "LoadBalancer" {
            let count = spec
                .get("ports")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                // 0 is unset, as in Go (a protobuf body always carries it).
                if spec["ports"][i].is_object()
                    && spec["ports"][i]
                        .get("nodePort")
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                        == 0
                    && let Some(p) = e.service_ips.allocate_port(key, i)
                {
                    spec["ports"][i]["nodePort"] = json!(p);
                }
            }
            spec.as_object_mut()
                .map(|m| m.entry("externalTrafficPolicy").or_insert(json!("Cluster")));
        }
    }
    for p in spec
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(m) = p.as_object_mut() {
            m.entry("protocol").or_insert(json!("TCP"));
            if !m.contains_key("targetPort")
                && let Some(port) = m.get("port").cloned()
            {
                m.insert("targetPort".into(), port);
            }
        }
    }
    if spec == before {
        return;
    }
    let _ = e.store.mutate(&r, false, &WriteOptions::default(), |o| {
        o["spec"] = spec;
        Ok(())
    });
}

/// Creates the `default/kubernetes` Service every cluster has (10.96.0.1,
/// port 443), unless it exists.
///
/// # Errors
/// The store's errors other than "already exists".
pub fn ensure_kubernetes_service(store: &Store) -> ApiResult<()> {
    if store
        .get(&ObjectRef::namespaced(gvr(), "default", "kubernetes"))
        .is_ok()
    {
        return Ok(());
    }
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": ip_of(1), "clusterIPs": [ip_of(1)],
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"},
    });
    match store.create(
        &gvr(),
        Some("default"),
        body,
        &WriteOptions::manager("kube-apiserver"),
    ) {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("already exists") => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_are_in_the_service_range_and_unique() {
        let mut s = ServiceIps::default();
        let a = s.allocate_ip("default/web").unwrap();
        let b = s.allocate_ip("default/web").unwrap();
        assert_ne!(a, b);
        for ip in [&a, &b] {
            let octets: Vec<u32> = ip.split('.').map(|o| o.parse().unwrap()).collect();
            assert_eq!(octets[0], 10);
            assert!((96..=111).contains(&octets[1]), "{ip}");
        }
        assert_eq!(ip_of(1), "10.96.0.1");
        s.observe("default/web", &json!({"spec": {"clusterIP": a}}), false);
        s.observe("default/web", &json!({}), true);
        assert!(!s.ips.contains(&a));
        let p = s.allocate_port("default/web", 0).unwrap();
        assert!((30000..=32767).contains(&p));
    }
}
