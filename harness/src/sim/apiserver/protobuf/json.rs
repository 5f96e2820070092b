//! A decoded Kubernetes message as the JSON the API server would store,
//! following Go's types rather than protobuf's JSON mapping: `Time` is an
//! RFC 3339 string, `IntOrString` a number or a string, `Quantity` its
//! string, `RawExtension` the object it carries, bytes base64, inline
//! (`json:",inline"`) fields flattened into their parent.
//!
//! What the wire cannot tell: Go writes every non-pointer field, zero or
//! not, and a pointer field only when it is set, so a `0` or `false` on the
//! wire may be an unset `int32` or a pointer set to zero (`replicas: 0`).
//! Numbers and booleans are kept as sent (the same value to every reader:
//! Go reads an absent `int32` as 0); empty singular strings are dropped,
//! as `omitempty` drops them, and an empty `Time` is an unset one.

use base64::Engine;
use prost_reflect::{DynamicMessage, MapKey, ReflectMessage, Value as Pb};
use serde_json::{Map, Value, json};

use super::definitions;
use crate::sim::storage::status::ApiResult;

/// Nested messages deeper than this are refused (the body-size limit
/// already bounds them; this bounds the stack).
const MAX_DEPTH: usize = 100;

/// `msg` as JSON (an object); `depth` counts the envelopes around it.
///
/// # Errors
/// 400 for a `RawExtension` or `JSON` field that is neither JSON nor a
/// protobuf envelope, or nesting beyond [`MAX_DEPTH`].
pub fn object_at(msg: &DynamicMessage, depth: usize) -> ApiResult<Value> {
    message(msg, depth)
}

fn message(msg: &DynamicMessage, depth: usize) -> ApiResult<Value> {
    if depth > MAX_DEPTH {
        return Err(super::bad("objects nested too deeply"));
    }
    if let Some(special) = special(msg, depth)? {
        return Ok(special);
    }
    let desc = msg.descriptor();
    let mut out = Map::new();
    for (field, value) in msg.fields() {
        let v = field_value(value, depth)?;
        if definitions::is_inline(&desc, field.name()) {
            if let Value::Object(inner) = v {
                out.extend(inner);
            }
            continue;
        }
        let empty = matches!(&v, Value::String(s) if s.is_empty());
        if !empty && !v.is_null() {
            out.insert(definitions::json_name(&desc, field.name()), v);
        }
    }
    Ok(Value::Object(out))
}

fn field_value(value: &Pb, depth: usize) -> ApiResult<Value> {
    match value {
        Pb::List(items) => items
            .iter()
            .map(|v| scalar(v, depth))
            .collect::<ApiResult<Vec<_>>>()
            .map(Value::Array),
        Pb::Map(entries) => {
            let mut keys: Vec<&MapKey> = entries.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let key = match k {
                    MapKey::String(s) => s.clone(),
                    MapKey::Bool(b) => b.to_string(),
                    MapKey::I32(n) => n.to_string(),
                    MapKey::I64(n) => n.to_string(),
                    MapKey::U32(n) => n.to_string(),
                    MapKey::U64(n) => n.to_string(),
                };
                out.insert(key, scalar(&entries[k], depth)?);
            }
            Ok(Value::Object(out))
        }
        v => scalar(v, depth),
    }
}

fn scalar(value: &Pb, depth: usize) -> ApiResult<Value> {
    Ok(match value {
        Pb::Bool(b) => json!(b),
        Pb::I32(n) | Pb::EnumNumber(n) => json!(n),
        Pb::I64(n) => json!(n),
        Pb::U32(n) => json!(n),
        Pb::U64(n) => json!(n),
        Pb::F32(n) => json!(n),
        Pb::F64(n) => json!(n),
        Pb::String(s) => json!(s),
        Pb::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        Pb::Message(m) => message(m, depth + 1)?,
        Pb::List(_) | Pb::Map(_) => return Err(super::bad("a list inside a list")),
    })
}

fn field<'a>(msg: &'a DynamicMessage, name: &str) -> Option<std::borrow::Cow<'a, Pb>> {
    msg.has_field_by_name(name)
        .then(|| msg.get_field_by_name(name))
        .flatten()
}

fn int(msg: &DynamicMessage, name: &str) -> i64 {
    match field(msg, name).as_deref() {
        Some(Pb::I64(n)) => *n,
        Some(Pb::I32(n)) => i64::from(*n),
        _ => 0,
    }
}

fn string(msg: &DynamicMessage, name: &str) -> String {
    match field(msg, name).as_deref() {
        Some(Pb::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn bytes(msg: &DynamicMessage, name: &str) -> Vec<u8> {
    match field(msg, name).as_deref() {
        Some(Pb::Bytes(b)) => b.to_vec(),
        _ => Vec::new(),
    }
}

/// The types whose Go JSON is not their fields: `None` for ordinary ones.
fn special(msg: &DynamicMessage, depth: usize) -> ApiResult<Option<Value>> {
    let desc = msg.descriptor();
    let v = match desc.full_name() {
        "apimachinery.pkg.apis.meta.v1.Time" => time(msg, "%Y-%m-%dT%H:%M:%SZ")?,
        "apimachinery.pkg.apis.meta.v1.MicroTime" => time(msg, "%Y-%m-%dT%H:%M:%S.%6fZ")?,
        "apimachinery.pkg.apis.meta.v1.Duration" => json!(go_duration(int(msg, "duration"))),
        "apimachinery.pkg.util.intstr.IntOrString" => {
            if int(msg, "type") == 1 {
                json!(string(msg, "strVal"))
            } else {
                json!(int(msg, "intVal"))
            }
        }
        "apimachinery.pkg.api.resource.Quantity"
        | "apimachinery.pkg.api.resource.QuantityValue" => {
            json!(string(msg, "string"))
        }
        "apimachinery.pkg.runtime.RawExtension" => embedded(&bytes(msg, "raw"), depth)?,
        "apimachinery.pkg.apis.meta.v1.FieldsV1" => embedded(&bytes(msg, "Raw"), depth)?,
        "apimachinery.pkg.apis.meta.v1.Verbs" => match field(msg, "items").as_deref() {
            Some(Pb::List(items)) => Value::Array(
                items
                    .iter()
                    .map(|v| scalar(v, depth))
                    .collect::<ApiResult<_>>()?,
            ),
            _ => json!([]),
        },
        name if name.starts_with("apiextensions_apiserver.") => match desc.name() {
            "JSON" => embedded(&bytes(msg, "raw"), depth)?,
            "JSONSchemaPropsOrArray" => either(msg, "schema", "jSONSchemas", depth)?,
            "JSONSchemaPropsOrStringArray" => either(msg, "schema", "property", depth)?,
            "JSONSchemaPropsOrBool" => match field(msg, "schema").as_deref() {
                Some(Pb::Message(m)) => message(m, depth + 1)?,
                _ => json!(matches!(
                    field(msg, "allows").as_deref(),
                    Some(Pb::Bool(true))
                )),
            },
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// JSONSchemaPropsOrArray / OrStringArray, as their Go `MarshalJSON`: the
/// list when it has items, else the schema, else `null`.
fn either(msg: &DynamicMessage, schema: &str, list: &str, depth: usize) -> ApiResult<Value> {
    if let Some(Pb::List(items)) = field(msg, list).as_deref()
        && !items.is_empty()
    {
        return items
            .iter()
            .map(|v| scalar(v, depth))
            .collect::<ApiResult<Vec<_>>>()
            .map(Value::Array);
    }
    match field(msg, schema).as_deref() {
        Some(Pb::Message(m)) => message(m, depth + 1),
        _ => Ok(Value::Null),
    }
}

/// A `Time`: Go writes nothing for the zero time (JSON `null`).
fn time(msg: &DynamicMessage, format: &str) -> ApiResult<Value> {
    if msg.fields().next().is_none() {
        return Ok(Value::Null);
    }
    let nanos =
        i32::try_from(int(msg, "nanos")).map_err(|_| super::bad("time nanos out of range"))?;
    let ts = jiff::Timestamp::new(int(msg, "seconds"), nanos)
        .map_err(|_| super::bad("time out of range"))?;
    Ok(json!(ts.strftime(format).to_string()))
}

/// Raw bytes of a `RawExtension`/`JSON`: JSON, or a nested protobuf object.
fn embedded(raw: &[u8], depth: usize) -> ApiResult<Value> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(super::MAGIC) {
        return super::envelope(raw, depth + 1);
    }
    serde_json::from_slice(raw)
        .map_err(|e| super::bad(&format!("embedded object is not JSON: {e}")))
}

/// A `metav1.Duration` (nanoseconds) as Go prints it: `1h2m3s`, `-2s`.
fn go_duration(nanos: i64) -> String {
    let text = crate::flux::duration::format(std::time::Duration::from_nanos(nanos.unsigned_abs()));
    if nanos < 0 { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them_negative_ones_too() {
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(-2_000_000_000), "-2s");
        assert_eq!(go_duration(0), "0s");
    }
}
