//! kube's table columns for PersistentVolumeClaims, PersistentVolumes,
//! HorizontalPodAutoscalers and CronJobs (`pkg/printers/internalversion`).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::age_of;
use super::columns::{Column, col, int, or_none, text};

fn deleting(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp")
        .is_some_and(|d| !d.is_null())
}

/// `GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order.
fn access_modes(v: &Value, ptr: &str) -> Value {
    let modes: Vec<&str> = v
        .pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let order = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let out: Vec<&str> = order
        .iter()
        .filter(|(m, _)| modes.contains(m))
        .map(|(_, s)| *s)
        .collect();
    json!(out.join(","))
}

fn storage_class(v: &Value) -> Value {
    let c = text(v, "/spec/storageClassName");
    if !c.is_empty() {
        return json!(c);
    }
    json!(text(
        v,
        "/metadata/annotations/volume.beta.kubernetes.io~1storage-class"
    ))
}

fn unset(s: String) -> Value {
    json!(if s.is_empty() {
        "<unset>".to_owned()
    } else {
        s
    })
}

pub(super) fn pvc_columns() -> Vec<Column> {
    vec![
        col("Status", "string", 0, |v, _| {
            json!(if deleting(v) {
                "Terminating".to_owned()
            } else {
                text(v, "/status/phase")
            })
        }),
        col("Volume", "string", 0, |v, _| {
            json!(text(v, "/spec/volumeName"))
        }),
        col("Capacity", "string", 0, |v, _| {
            json!(if text(v, "/spec/volumeName").is_empty() {
                String::new()
            } else {
                text(v, "/status/capacity/storage")
            })
        }),
        col("Access Modes", "string", 0, |v, _| {
            access_modes(v, "/status/accessModes")
        }),
        col("StorageClass", "string", 0, |v, _| storage_class(v)),
        col("VolumeAttributesClass", "string", 0, |v, _| {
            unset(text(v, "/spec/volumeAttributesClassName"))
        }),
    ]
}

pub(super) fn pv_columns() -> Vec<Column> {
    vec![
        col("Capacity", "string", 0, |v, _| {
            json!(text(v, "/spec/capacity/storage"))
        }),
        col("Access Modes", "string", 0, |v, _| {
            access_modes(v, "/spec/accessModes")
        }),
        col("Reclaim Policy", "string", 0, |v, _| {
            json!(text(v, "/spec/persistentVolumeReclaimPolicy"))
        }),
        col("Status", "string", 0, |v, _| {
            json!(if deleting(v) {
                "Terminating".to_owned()
            } else {
                text(v, "/status/phase")
            })
        }),
        col("Claim", "string", 0, |v, _| {
            let name = text(v, "/spec/claimRef/name");
            json!(if name.is_empty() {
                String::new()
            } else {
                format!("{}/{name}", text(v, "/spec/claimRef/namespace"))
            })
        }),
        col("StorageClass", "string", 0, |v, _| storage_class(v)),
        col("VolumeAttributesClass", "string", 0, |v, _| {
            unset(text(v, "/spec/volumeAttributesClassName"))
        }),
        col("Reason", "string", 0, |v, _| {
            json!(text(v, "/status/reason"))
        }),
    ]
}

/// One metric of an HPA, as `formatHPAMetrics` prints it.
fn metric(spec: &Value, current: Option<&Value>) -> String {
    let cur = |ptr: &str| {
        current
            .and_then(|c| c.pointer(ptr))
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
    };
    match text(spec, "/type").as_str() {
        "Resource" | "ContainerResource" => {
            let r = if text(spec, "/type") == "Resource" {
                "/resource"
            } else {
                "/containerResource"
            };
            let name = text(spec, &format!("{r}/name"));
            if let Some(u) = spec
                .pointer(&format!("{r}/target/averageUtilization"))
                .and_then(Value::as_i64)
            {
                let c = cur(&format!("{r}/current/averageUtilization"))
                    .map_or_else(|| "<unknown>".to_owned(), |c| format!("{c}%"));
                format!("{name}: {c}/{u}%")
            } else {
                let t = text(spec, &format!("{r}/target/averageValue"));
                let c = cur(&format!("{r}/current/averageValue"))
                    .unwrap_or_else(|| "<unknown>".to_owned());
                format!("{name}: {c}/{t}")
            }
        }
        t @ ("Pods" | "Object" | "External") => {
            let key = match t {
                "Pods" => "pods",
                "Object" => "object",
                _ => "external",
            };
            let target = ["averageValue", "value"]
                .iter()
                .map(|f| text(spec, &format!("/{key}/target/{f}")))
                .find(|s| !s.is_empty())
                .unwrap_or_default();
            let c = ["averageValue", "value"]
                .iter()
                .find_map(|f| cur(&format!("/{key}/current/{f}")))
                .unwrap_or_else(|| "<unknown>".to_owned());
            format!("{c}/{target}")
        }
        _ => "<unknown type>".to_owned(),
    }
}

fn hpa_targets(v: &Value, _: Timestamp) -> Value {
    let specs: Vec<&Value> = v
        .pointer("/spec/metrics")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if specs.is_empty() {
        return json!("<none>");
    }
    let current = v
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array);
    let shown: Vec<String> = specs
        .iter()
        .enumerate()
        .take(2)
        .map(|(i, s)| metric(s, current.and_then(|c| c.get(i))))
        .collect();
    let mut out = shown.join(", ");
    if specs.len() > 2 {
        out.push_str(&format!(" + {} more...", specs.len() - 2));
    }
    json!(out)
}

pub(super) fn hpa_columns() -> Vec<Column> {
    vec![
        col("Reference", "string", 0, |v, _| {
            json!(format!(
                "{}/{}",
                text(v, "/spec/scaleTargetRef/kind"),
                text(v, "/spec/scaleTargetRef/name")
            ))
        }),
        col("Targets", "string", 0, hpa_targets),
        col("MinPods", "string", 0, |v, _| {
            json!(
                v.pointer("/spec/minReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1)
                    .to_string()
            )
        }),
        col("MaxPods", "integer", 0, |v, _| {
            json!(int(v, "/spec/maxReplicas"))
        }),
        col("Replicas", "integer", 0, |v, _| {
            json!(int(v, "/status/currentReplicas"))
        }),
    ]
}

pub(super) fn cronjob_columns() -> Vec<Column> {
    vec![
        col("Schedule", "string", 0, |v, _| {
            json!(text(v, "/spec/schedule"))
        }),
        col("Timezone", "string", 0, |v, _| {
            or_none(text(v, "/spec/timeZone"))
        }),
        col("Suspend", "boolean", 0, |v, _| {
            json!(
                if v.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                    "True"
                } else {
                    "False"
                }
            )
        }),
        col("Active", "integer", 0, |v, _| {
            json!(
                v.pointer("/status/active")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            )
        }),
        col("Last Schedule", "string", 0, |v, now| {
            match v.pointer("/status/lastScheduleTime") {
                Some(t) if !t.is_null() => age_of(Some(t), now),
                _ => json!("<none>"),
            }
        }),
    ]
}
