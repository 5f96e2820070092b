//! Object metadata helpers: identity, names, timestamps, type meta.

use std::sync::Arc;

use jiff::Timestamp;
use rand::Rng;
use serde_json::{Map, Value, json};

use super::{ApiError, ApiResult, Gvr};
use crate::sim::storage::kinds::ResourceType;
use crate::sim::storage::resource::api_version;

/// RFC 3339, UTC, whole seconds: how Kubernetes writes timestamps.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub(crate) fn namespace_of(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub(crate) fn uid_of(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/uid").and_then(Value::as_str)
}

pub(crate) fn rv_str(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) fn rv_of(obj: &Value) -> u64 {
    rv_str(obj).and_then(|s| s.parse().ok()).unwrap_or(0)
}

pub(crate) fn set_rv(obj: &mut Value, rev: u64) {
    if let Some(m) = meta_mut(obj) {
        m.insert("resourceVersion".into(), json!(rev.to_string()));
    }
}

pub(crate) fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

pub(crate) fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let m = obj.as_object_mut()?;
    m.entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// The stored object as seen at `gvr`'s version (custom resources are
/// served at every version from one stored copy).
pub(crate) fn view(obj: Arc<Value>, gvr: &Gvr, rt: &ResourceType) -> Arc<Value> {
    if crate::sim::storage::event_versions::is_alias(&gvr.group_resource()) {
        return Arc::new(crate::sim::storage::event_versions::to_v1(&obj));
    }
    if !rt.custom {
        return obj;
    }
    let want = gvr.api_version();
    if obj.get("apiVersion").and_then(Value::as_str) == Some(want.as_str()) {
        return obj;
    }
    let mut o = (*obj).clone();
    o["apiVersion"] = json!(want);
    Arc::new(o)
}

/// Checks (and fills in) `apiVersion` and `kind` of a request body.
///
/// # Errors
/// 400 when the body is not an object or names another type.
pub(crate) fn check_type_meta(rt: &ResourceType, gvr: &Gvr, body: &mut Value) -> ApiResult<()> {
    let Some(m) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let want_av = api_version(&rt.group, &gvr.version);
    match m.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {}
        Some(av) if av == want_av => {}
        Some(av)
            if rt.custom
                && av
                    .split_once('/')
                    .is_some_and(|(g, v)| g == rt.group && rt.serves(v)) => {}
        Some(av) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )));
        }
    }
    match m.get("kind").and_then(Value::as_str) {
        None | Some("") => {}
        Some(k) if k == rt.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    let storage_av = api_version(&rt.group, rt.preferred_version());
    m.insert("apiVersion".into(), json!(storage_av));
    m.insert("kind".into(), json!(rt.kind));
    if !m.get("metadata").is_some_and(Value::is_object) {
        m.insert("metadata".into(), Value::Object(Map::new()));
    }
    check_content(rt, body)
}

/// The most a ConfigMap's or Secret's data may hold (the API server's
/// `MaxSecretSize`, also applied to ConfigMaps).
pub(crate) const MAX_DATA_BYTES: usize = 1024 * 1024;

/// What the API server's decoding and validation refuse in the content of
/// the built-in kinds that hold data: ConfigMap and Secret `data` values
/// that are not strings (a decoding error, 400), and more than
/// [`MAX_DATA_BYTES`] in all (422 `Too long`).
fn check_content(rt: &ResourceType, body: &Value) -> ApiResult<()> {
    let secret = match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "configmaps") => false,
        ("", "secrets") => true,
        _ => return Ok(()),
    };
    let mut total = 0usize;
    for field in ["data", "binaryData", "stringData"] {
        let Some(map) = body.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"v1\" cannot be handled as a {kind}: json: cannot unmarshal {} into Go struct field {kind}.{field} of type map[string]string",
                json_type(map),
                kind = rt.kind
            )));
        };
        for (key, v) in map {
            match v {
                // Secret `data` and `binaryData` are base64: their
                // decoded size counts, as the API server's does.
                Value::String(text) if field == "binaryData" || (secret && field == "data") => {
                    total += key.len() + text.len() / 4 * 3;
                }
                Value::String(text) => total += key.len() + text.len(),
                Value::Null => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "{kind} in version \"v1\" cannot be handled as a {kind}: json: cannot unmarshal {} into Go struct field {kind}.{field} of type string",
                        json_type(other),
                        kind = rt.kind
                    )));
                }
            }
        }
    }
    if total > MAX_DATA_BYTES {
        let name = name_of(body);
        let field = if secret { "data" } else { "[]" };
        return Err(ApiError::invalid(
            &rt.kind,
            &rt.group_resource(),
            name,
            field,
            &format!("Too long: must have at most {MAX_DATA_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Go's name for a JSON value's type, as its decoder reports it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Null => "null",
    }
}

/// Which name grammar a type's names follow.
fn name_rule(rt: &ResourceType) -> NameRule {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "namespaces") => NameRule::Label,
        ("", "services") => NameRule::Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

enum NameRule {
    Subdomain,
    Label,
    PathSegment,
}

/// Validates `name` for `rt`; the error detail in Kubernetes' words.
pub(crate) fn validate_name(rt: &ResourceType, name: &str) -> Result<(), String> {
    match name_rule(rt) {
        NameRule::PathSegment => {
            if name == "." || name == ".." || name.contains('/') || name.contains('%') {
                Err(format!(
                    "Invalid value: \"{name}\": may not contain '/' or '%' and may not be '.' or '..'"
                ))
            } else {
                Ok(())
            }
        }
        NameRule::Label => {
            let mut why = Vec::new();
            if name.len() > 63 {
                why.push("must be no more than 63 characters".to_owned());
            }
            if !is_label_chars(name) {
                why.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_owned());
            }
            invalid_name(name, &why)
        }
        NameRule::Subdomain => {
            // Kubernetes' IsDNS1123Subdomain: 253 characters in all; its
            // parts are not limited to a label's 63.
            let mut why = Vec::new();
            if name.len() > 253 {
                why.push("must be no more than 253 characters".to_owned());
            }
            if !name.split('.').all(is_label_chars) {
                why.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned());
            }
            invalid_name(name, &why)
        }
    }
}

/// Kubernetes' field error for a name, with every reason it gives.
fn invalid_name(name: &str, why: &[String]) -> Result<(), String> {
    if why.is_empty() {
        Ok(())
    } else {
        Err(format!("Invalid value: \"{name}\": {}", why.join(", ")))
    }
}

/// A label's characters (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`), any length.
fn is_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

const NAME_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Fills `metadata.name` from `generateName` if needed and validates it.
///
/// # Errors
/// 422 when the name is missing or invalid.
pub(crate) fn name_for_create(
    rt: &ResourceType,
    obj: &mut Value,
    rng: &mut impl Rng,
) -> ApiResult<String> {
    let gr = rt.group_resource();
    let name = name_of(obj).to_owned();
    let name = if name.is_empty() {
        let prefix = obj
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                &rt.kind,
                &gr,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
        let suffix: String = (0..5)
            .map(|_| NAME_CHARS[rng.random_range(0..NAME_CHARS.len())] as char)
            .collect();
        let generated = format!("{prefix}{suffix}");
        if let Some(m) = meta_mut(obj) {
            m.insert("name".into(), json!(generated));
        }
        generated
    } else {
        name
    };
    validate_name(rt, &name)
        .map_err(|d| ApiError::invalid(&rt.kind, &gr, &name, "metadata.name", &d))?;
    Ok(name)
}

/// A random lower-case UUIDv4 from the store's seeded generator.
pub(crate) fn new_uid(rng: &mut impl Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The object without bookkeeping (resourceVersion, managedFields), for
/// no-op detection.
pub(crate) fn same_content(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        v
    }
    strip(a) == strip(b)
}

/// The content outside metadata and status (what bumps generation).
pub(crate) fn spec_part(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    v
}
