//! Strategic merge patch for built-in types: a merge patch whose known
//! associative lists merge by key, with the `$patch`, `$retainKeys`,
//! `$deleteFromPrimitiveList` and `$setElementOrder` directives.

use serde_json::{Map, Value};

use crate::sim::storage::ownership::fieldset::{ListKind, element_matches, item_key, list_kind};
use crate::sim::storage::status::{ApiError, ApiResult};

/// Applies a strategic merge patch.
///
/// # Errors
/// 415 for custom resources (which do not support it); 400 for an
/// unknown `$patch` directive.
pub fn patch(target: &Value, patch: &Value, builtin: bool) -> ApiResult<Value> {
    if !builtin {
        return Err(ApiError::unsupported_patch());
    }
    let mut out = target.clone();
    merge_map(&mut out, patch)?;
    Ok(out)
}

fn merge_map(target: &mut Value, patch: &Value) -> ApiResult<()> {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut m = p.clone();
            m.remove("$patch");
            *target = Value::Object(m);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) if other != "merge" => {
            return Err(ApiError::bad_request(format!(
                "unknown patch type: {other}"
            )));
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return Ok(());
    };
    if let Some(Value::Array(keep)) = p.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in p {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(del)) = (t.get_mut(field), v) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v) {
            (Some(Value::Array(existing)), Value::Array(items)) => merge_list(k, existing, items)?,
            (Some(existing), _) => {
                merge_map(existing, v)?;
                if existing.is_null() {
                    t.remove(k);
                }
            }
            (None, _) => {
                let mut fresh = Value::Null;
                merge_map(&mut fresh, v)?;
                if let Value::Array(items) = &mut fresh {
                    strip_directives(items);
                }
                if !fresh.is_null() {
                    t.insert(k.clone(), fresh);
                }
            }
        }
    }
    Ok(())
}

fn strip_directives(items: &mut Vec<Value>) {
    items.retain(|i| i.get("$patch").is_none());
}

fn merge_list(field: &str, existing: &mut Vec<Value>, items: &[Value]) -> ApiResult<()> {
    if items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        *existing = items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .collect();
        return Ok(());
    }
    let plain: Vec<Value> = items
        .iter()
        .filter(|i| i.get("$patch").is_none())
        .cloned()
        .collect();
    match list_kind(field, &plain, true) {
        ListKind::Atomic => *existing = plain,
        ListKind::Set => {
            for i in plain {
                if !existing.contains(&i) {
                    existing.push(i);
                }
            }
        }
        ListKind::Map(keys) => {
            for item in items {
                let key = item_key(item, keys);
                let pos = existing.iter().position(|x| element_matches(x, &key));
                let directive = item.get("$patch").and_then(Value::as_str);
                match (pos, directive) {
                    (Some(i), Some("delete")) => {
                        existing.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => merge_map(&mut existing[i], item)?,
                    (None, _) => {
                        let mut fresh = Value::Null;
                        merge_map(&mut fresh, item)?;
                        existing.push(fresh);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_delete_directive() {
        let t = json!({"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]}});
        let p = json!({"spec": {"containers": [{"name": "a", "image": "9"}, {"name": "b", "$patch": "delete"}, {"name": "c", "image": "3"}]}});
        let out = patch(&t, &p, true).unwrap();
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "a", "image": "9"}, {"name": "c", "image": "3"}]}})
        );
    }

    #[test]
    fn custom_resources_get_415() {
        let e = patch(&json!({}), &json!({}), false).unwrap_err();
        assert_eq!(e.code, 415);
    }

    #[test]
    fn primitive_list_delete_and_null() {
        let t = json!({"metadata": {"finalizers": ["a", "b"], "labels": {"x": "1"}}});
        let p = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "labels": {"x": null}}});
        assert_eq!(
            patch(&t, &p, true).unwrap(),
            json!({"metadata": {"finalizers": ["b"], "labels": {}}})
        );
    }
}
