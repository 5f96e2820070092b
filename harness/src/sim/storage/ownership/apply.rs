//! Server-side apply: merge an applied configuration into the live object
//! as a named field manager, with conflicts and removal of fields the
//! manager stopped applying.

use serde_json::Value;

use super::fieldset::{
    FieldSet, ListKind, element_matches, item_key, list_kind, remove_at, set_key, value_at,
};
use super::managed::{self, Entry, Operation, Scope, fields_of};

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field.
    pub manager: String,
    /// Field path in the `.spec.replicas` form.
    pub field: String,
}

/// Inputs of one apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    /// Field manager (non-empty).
    pub manager: &'a str,
    /// Take ownership of conflicting fields.
    pub force: bool,
    /// Part of the object this apply touches.
    pub scope: Scope,
    /// apiVersion recorded in managedFields.
    pub api_version: &'a str,
    /// Time recorded in managedFields.
    pub time: &'a str,
    /// Built-in type (keyed lists known).
    pub builtin: bool,
}

/// Applies `cfg` onto `live` (the current object, or a skeleton holding
/// only the identity for a create). Returns the merged object with its
/// managedFields updated.
///
/// # Errors
/// The conflicts, when some exist and `force` is false.
pub fn apply(live: &Value, cfg: &Value, req: &ApplyRequest<'_>) -> Result<Value, Vec<Conflict>> {
    let mut entries = managed::read(live);
    let sub = (req.scope == Scope::Status).then_some("status");
    let is_mine = |e: &Entry| e.manager == req.manager;
    let cfg_set = fields_of(cfg, req.scope, req.builtin);

    // Conflicts: leaves this config sets to a value that differs from the
    // live one, owned by someone else.
    let mut conflicts = Vec::new();
    let mut forced = FieldSet::default();
    for path in cfg_set.paths() {
        let node_has_children = node(&cfg_set, &path).is_some_and(|n| !n.children.is_empty());
        if node_has_children {
            continue;
        }
        let live_v = value_at(live, &path);
        if live_v.is_none() || live_v == value_at(cfg, &path) {
            continue;
        }
        for e in entries
            .iter()
            .filter(|e| !is_mine(e) && e.fields.contains(&path))
        {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                field: dotted(&path),
            });
            managed::insert_path(&mut forced, &path);
        }
    }
    if !conflicts.is_empty() && !req.force {
        return Err(conflicts);
    }
    for e in entries.iter_mut().filter(|e| !is_mine(e)) {
        e.fields.subtract(&forced);
    }

    // Fields this manager applied before and no longer applies are removed,
    // unless someone else still owns them.
    let mut obj = live.clone();
    let previous = entries
        .iter()
        .find(|e| is_mine(e) && e.operation == Operation::Apply && e.subresource.as_deref() == sub)
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut removed = previous;
    removed.subtract(&cfg_set);
    let mut paths = removed.paths();
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in paths {
        let owned_elsewhere = entries
            .iter()
            .filter(|e| !(is_mine(e) && e.operation == Operation::Apply))
            .any(|e| node(&e.fields, &path).is_some_and(|n| !n.is_empty()));
        if !owned_elsewhere && !path.is_empty() {
            remove_at(&mut obj, &path);
        }
    }

    merge_scoped(&mut obj, cfg, req.scope, req.builtin);

    let mine = managed::entry_mut(
        &mut entries,
        req.manager,
        Operation::Apply,
        sub,
        req.api_version,
        req.time,
    );
    mine.fields = cfg_set;
    managed::prune(&mut entries, &obj, req.builtin);
    managed::write(&mut obj, &entries);
    Ok(obj)
}

fn node<'a>(fs: &'a FieldSet, path: &[String]) -> Option<&'a FieldSet> {
    match path.split_first() {
        None => Some(fs),
        Some((h, rest)) => node(fs.children.get(h)?, rest),
    }
}

/// `.spec.containers[name="c"].image` style rendering of a path.
pub fn dotted(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            s.push('[');
            s.push_str(k);
            s.push(']');
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push('[');
            s.push_str(v);
            s.push(']');
        }
    }
    s
}

/// Deep-merges the part of `cfg` within `scope` into `obj`.
fn merge_scoped(obj: &mut Value, cfg: &Value, scope: Scope, builtin: bool) {
    let (Some(dst), Some(src)) = (obj.as_object_mut(), cfg.as_object()) else {
        return;
    };
    for (k, v) in src {
        let take = match (k.as_str(), scope) {
            ("apiVersion" | "kind", _) => true,
            ("status", Scope::NoStatus) => false,
            ("status", _) => true,
            (_, Scope::Status) => false,
            _ => true,
        };
        if !take {
            continue;
        }
        if k == "metadata" {
            let mut meta = v.clone();
            if let Some(m) = meta.as_object_mut() {
                for server in [
                    "managedFields",
                    "resourceVersion",
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                    "selfLink",
                ] {
                    m.remove(server);
                }
            }
            merge_field(
                dst.entry("metadata")
                    .or_insert(Value::Object(Default::default())),
                &meta,
                "metadata",
                builtin,
            );
        } else {
            match dst.get_mut(k) {
                Some(existing) => merge_field(existing, v, k, builtin),
                None => {
                    dst.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// Merges `src` into `dst` for a field named `name`.
pub fn merge_field(dst: &mut Value, src: &Value, name: &str, builtin: bool) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(existing) if !v.is_null() => merge_field(existing, v, k, builtin),
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (dst @ Value::Array(_), Value::Array(s)) => {
            let kind = list_kind(name, s, builtin);
            let Value::Array(d) = dst else { return };
            match kind {
                ListKind::Atomic => *d = s.clone(),
                ListKind::Set => {
                    for item in s {
                        if !d.iter().any(|x| element_matches(x, &set_key(item))) {
                            d.push(item.clone());
                        }
                    }
                }
                ListKind::Map(keys) => {
                    if list_kind(name, d, builtin) != ListKind::Map(keys) {
                        *d = s.clone();
                        return;
                    }
                    for item in s {
                        let key = item_key(item, keys);
                        match d.iter_mut().find(|x| element_matches(x, &key)) {
                            Some(existing) => merge_field(existing, item, "", builtin),
                            None => d.push(item.clone()),
                        }
                    }
                }
            }
        }
        (dst, src) => *dst = src.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(manager: &'a str, force: bool) -> ApplyRequest<'a> {
        ApplyRequest {
            manager,
            force,
            scope: Scope::NoStatus,
            api_version: "v1",
            time: "t",
            builtin: true,
        }
    }

    #[test]
    fn a_key_no_longer_applied_is_removed() {
        let base = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let cfg1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let live = apply(&base, &cfg1, &req("kubectl", false)).unwrap();
        assert_eq!(live["data"], json!({"a": "1", "b": "2"}));
        let cfg2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        let live = apply(&live, &cfg2, &req("kubectl", false)).unwrap();
        assert_eq!(live["data"], json!({"a": "1"}));
        assert_eq!(
            live["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:a": {}}})
        );
    }

    #[test]
    fn conflicts_unless_forced_and_shared_fields_stay() {
        let base = json!({"metadata": {"name": "d"}});
        let one = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1, "x": "same"}});
        let live = apply(&base, &one, &req("a", false)).unwrap();
        let two = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3, "x": "same"}});
        let err = apply(&live, &two, &req("b", false)).unwrap_err();
        assert_eq!(
            err,
            vec![Conflict {
                manager: "a".into(),
                field: ".spec.replicas".into()
            }]
        );
        let live = apply(&live, &two, &req("b", true)).unwrap();
        assert_eq!(live["spec"]["replicas"], 3);
        // "a" stops applying x, but "b" still owns it: it stays.
        let live = apply(&live, &json!({"metadata": {"name": "d"}}), &req("a", false)).unwrap();
        assert_eq!(live["spec"], json!({"replicas": 3, "x": "same"}));
    }

    #[test]
    fn keyed_lists_merge_by_name() {
        let base = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "1"}]}});
        let live = apply(&base, &base, &req("m", false)).unwrap();
        let cfg = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "b", "image": "2"}]}});
        let live = apply(&live, &cfg, &req("n", false)).unwrap();
        assert_eq!(live["spec"]["containers"].as_array().unwrap().len(), 2);
    }
}
