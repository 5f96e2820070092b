//! kube's Event table (`printEvent`), for core/v1 and events.k8s.io/v1
//! alike: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and with `-o wide`
//! SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::age_of;
use super::columns::{Column, col, text};

/// The first of `ptrs` that is set (core/v1 name, then events.k8s.io/v1).
fn field<'a>(v: &'a Value, ptrs: &[&str]) -> Option<&'a Value> {
    ptrs.iter()
        .filter_map(|p| v.pointer(p))
        .find(|x| !x.is_null() && x.as_str() != Some(""))
}

fn field_text(v: &Value, ptrs: &[&str]) -> String {
    match field(v, ptrs) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn first_seen(v: &Value, now: Timestamp) -> Value {
    match field(v, &["/firstTimestamp", "/deprecatedFirstTimestamp"]) {
        Some(t) => age_of(Some(t), now),
        None => age_of(v.get("eventTime"), now),
    }
}

fn last_seen(v: &Value, now: Timestamp) -> Value {
    if let Some(t) = v.pointer("/series/lastObservedTime") {
        return age_of(Some(t), now);
    }
    match field(v, &["/lastTimestamp", "/deprecatedLastTimestamp"]) {
        Some(t) => age_of(Some(t), now),
        None => first_seen(v, now),
    }
}

fn count(v: &Value) -> i64 {
    if let Some(n) = v.pointer("/series/count").and_then(Value::as_i64) {
        return n;
    }
    field(v, &["/count", "/deprecatedCount"])
        .and_then(Value::as_i64)
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

fn object(v: &Value) -> Value {
    let kind = field_text(v, &["/involvedObject/kind", "/regarding/kind"]).to_lowercase();
    let name = field_text(v, &["/involvedObject/name", "/regarding/name"]);
    json!(if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    })
}

/// kube's `formatEventSource`.
fn source(v: &Value) -> Value {
    let (component, host) =
        match field_text(v, &["/source/component", "/deprecatedSource/component"]) {
            c if !c.is_empty() => (
                c,
                field_text(v, &["/source/host", "/deprecatedSource/host"]),
            ),
            _ => (
                field_text(v, &["/reportingComponent", "/reportingController"]),
                text(v, "/reportingInstance"),
            ),
        };
    json!(if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    })
}

pub(super) fn columns() -> Vec<Column> {
    vec![
        col("Last Seen", "string", 0, last_seen),
        col("Type", "string", 0, |v, _| json!(text(v, "/type"))),
        col("Reason", "string", 0, |v, _| json!(text(v, "/reason"))),
        col("Object", "string", 0, |v, _| object(v)),
        col("Subobject", "string", 1, |v, _| {
            json!(field_text(
                v,
                &["/involvedObject/fieldPath", "/regarding/fieldPath"]
            ))
        }),
        col("Source", "string", 1, |v, _| source(v)),
        col("Message", "string", 0, |v, _| {
            json!(field_text(v, &["/message", "/note"]).trim())
        }),
        col("First Seen", "string", 1, first_seen),
        col("Count", "integer", 1, |v, _| json!(count(v))),
        col("Name", "string", 1, |v, _| json!(text(v, "/metadata/name"))),
    ]
}
