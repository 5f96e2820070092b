//! A HelmRelease's values as helm-controller composes them (fluxcd/pkg
//! `chartutil`): the `valuesFrom` documents merged in list order (maps
//! merged key by key, anything else replaced), the inline `values` over
//! them, then every `targetPath` entry set at its path — a `targetPath`
//! beats earlier entries and the inline values at that path. A
//! `targetPath` value is typed as Helm's `--set` types it (`true`,
//! `false`, `null`, integers; anything else a string).

use base64::Engine;
use serde_json::{Map, Value};

use super::spec::{Spec, ValuesRef};
use crate::sim::storage::store::{Gvr, ObjectRef, Store};

/// The values of a HelmRelease in `namespace`.
///
/// # Errors
/// helm-controller's message for the first reference that cannot be
/// used (`could not find ConfigMap 'apps/web-values'`).
pub fn compose(store: &Store, namespace: &str, spec: &Spec) -> Result<Value, String> {
    let mut result = Value::Object(Map::new());
    let mut targeted = Vec::new();
    for r in &spec.values_from {
        let Some(text) = lookup(store, namespace, r)? else {
            continue;
        };
        if r.target_path.is_empty() {
            let doc: Value = serde_yaml::from_str::<Option<Value>>(&text)
                .map_err(|e| {
                    format!(
                        "unable to read values from key '{}' in {} '{namespace}/{}': {e}",
                        r.key, r.kind, r.name
                    )
                })?
                .unwrap_or(Value::Null);
            if let Value::Object(_) = doc {
                merge(&mut result, doc);
            } else if !doc.is_null() {
                return Err(format!(
                    "unable to read values from key '{}' in {} '{namespace}/{}': not a map",
                    r.key, r.kind, r.name
                ));
            }
        } else {
            targeted.push((r, text));
        }
    }
    merge(&mut result, spec.values.clone());
    for (r, text) in targeted {
        set_path(&mut result, &r.target_path, typed(text.trim_end_matches('\n'))).map_err(
            |e| {
                format!(
                    "unable to merge value from key '{}' in {} '{namespace}/{}' into target path '{}': {e}",
                    r.key, r.kind, r.name, r.target_path
                )
            },
        )?;
    }
    Ok(result)
}

/// The text at the reference's key; None when optional and missing.
fn lookup(store: &Store, namespace: &str, r: &ValuesRef) -> Result<Option<String>, String> {
    let resource = if r.kind == "Secret" {
        "secrets"
    } else {
        "configmaps"
    };
    let id = format!("{namespace}/{}", r.name);
    let Ok(obj) = store.get(&ObjectRef::namespaced(
        Gvr::core(resource),
        namespace,
        &r.name,
    )) else {
        return match r.optional {
            true => Ok(None),
            false => Err(format!("could not find {} '{id}'", r.kind)),
        };
    };
    let text = if r.kind == "Secret" {
        obj.pointer(&format!("/data/{}", pointer_key(&r.key)))
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .or_else(|| string_at(&obj, "stringData", &r.key))
    } else {
        string_at(&obj, "data", &r.key)
    };
    match (text, r.optional) {
        (Some(t), _) => Ok(Some(t)),
        (None, true) => Ok(None),
        (None, false) => Err(format!("missing key '{}' in {} '{id}'", r.key, r.kind)),
    }
}

fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn string_at(obj: &Value, field: &str, key: &str) -> Option<String> {
    obj.pointer(&format!("/{field}/{}", pointer_key(key)))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Helm's `MergeMaps`: `over`'s keys into `base`, maps merged recursively.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing @ Value::Object(_)) if v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// `--set`'s typing of a single value.
fn typed(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        t if t.parse::<i64>().is_ok() && !(t.len() > 1 && t.starts_with('0')) => {
            Value::from(t.parse::<i64>().unwrap_or_default())
        }
        t => Value::String(t.to_owned()),
    }
}

/// Sets `value` at the dotted `path` (`\.` escapes a dot), creating maps
/// on the way.
fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            '.' => keys.push(std::mem::take(&mut cur)),
            '[' | ']' => return Err("list indexes in a target path are not emulated".into()),
            c => cur.push(c),
        }
    }
    keys.push(cur);
    if keys.iter().any(String::is_empty) {
        return Err("empty key in path".into());
    }
    let mut node = root;
    let last = keys.pop().unwrap_or_default();
    for k in keys {
        let Value::Object(map) = node else {
            return Err(format!("'{k}' is not under a map"));
        };
        let next = map.entry(k).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        node = next;
    }
    match node {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        _ => Err(format!("'{last}' is not under a map")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_merge_and_target_paths_are_typed() {
        let mut base = json!({"a": {"b": 1, "c": [1]}, "d": "x"});
        merge(
            &mut base,
            json!({"a": {"c": [2], "e": true}, "d": {"f": 1}}),
        );
        assert_eq!(
            base,
            json!({"a": {"b": 1, "c": [2], "e": true}, "d": {"f": 1}})
        );
        let mut v = json!({"image": {"tag": "1"}});
        set_path(&mut v, "image.tag", typed("2")).unwrap();
        set_path(&mut v, r"labels.app\.io/x", typed("web")).unwrap();
        set_path(&mut v, "flag", typed("true")).unwrap();
        set_path(&mut v, "zip", typed("0123")).unwrap();
        assert_eq!(
            v,
            json!({"image": {"tag": 2}, "labels": {"app.io/x": "web"}, "flag": true, "zip": "0123"})
        );
        assert!(set_path(&mut v, "a[0]", typed("1")).is_err());
    }
}
