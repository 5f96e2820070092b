//! `metadata.managedFields`: who owns which fields, recorded on every write.

use serde_json::{Map, Value, json};

use super::fieldset::{FieldSet, value_at};

/// `operation` of a managedFields entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write (create, update, patch).
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// apiVersion the manager wrote with.
    pub api_version: String,
    /// Time of the manager's last change (RFC 3339).
    pub time: String,
    /// `status` for entries written through the status subresource.
    pub subresource: Option<String>,
    /// Owned fields.
    pub fields: FieldSet,
}

/// Which part of an object a write may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything but server-owned metadata.
    All,
    /// Everything but server-owned metadata and `.status`.
    NoStatus,
    /// Only `.status`.
    Status,
}

const SERVER_META: &[&str] = &[
    "f:name",
    "f:namespace",
    "f:uid",
    "f:resourceVersion",
    "f:generation",
    "f:creationTimestamp",
    "f:deletionTimestamp",
    "f:deletionGracePeriodSeconds",
    "f:managedFields",
    "f:selfLink",
    "f:generateName",
];

/// The manageable fields of `obj` within `scope`.
pub fn fields_of(obj: &Value, scope: Scope, builtin: bool) -> FieldSet {
    let mut fs = FieldSet::of(obj, builtin);
    fs.children.remove("f:apiVersion");
    fs.children.remove("f:kind");
    if let Some(meta) = fs.children.get_mut("f:metadata") {
        for k in SERVER_META {
            meta.children.remove(*k);
        }
        if meta.is_empty() {
            fs.children.remove("f:metadata");
        }
    }
    match scope {
        Scope::All => {}
        Scope::NoStatus => {
            fs.children.remove("f:status");
        }
        Scope::Status => fs.children.retain(|k, _| k == "f:status"),
    }
    fs
}

/// Reads the entries of `obj` (malformed entries are skipped).
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_owned(),
                operation: match e.get("operation")?.as_str()? {
                    "Apply" => Operation::Apply,
                    _ => Operation::Update,
                },
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("v1")
                    .to_owned(),
                time: e
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
            })
        })
        .collect()
}

/// Writes `entries` into `obj.metadata.managedFields` (removed when empty).
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation.as_str()));
            m.insert("apiVersion".into(), json!(e.api_version));
            m.insert("time".into(), json!(e.time));
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), e.fields.to_fields_v1());
            if let Some(s) = &e.subresource {
                m.insert("subresource".into(), json!(s));
            }
            Value::Object(m)
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// The entry of `(manager, operation, subresource)`, created if absent.
pub fn entry_mut<'a>(
    entries: &'a mut Vec<Entry>,
    manager: &str,
    operation: Operation,
    subresource: Option<&str>,
    api_version: &str,
    time: &str,
) -> &'a mut Entry {
    let idx = entries.iter().position(|e| {
        e.manager == manager && e.operation == operation && e.subresource.as_deref() == subresource
    });
    let idx = match idx {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_owned(),
                operation,
                api_version: api_version.to_owned(),
                time: time.to_owned(),
                subresource: subresource.map(str::to_owned),
                fields: FieldSet::default(),
            });
            entries.len() - 1
        }
    };
    let e = &mut entries[idx];
    e.api_version = api_version.to_owned();
    e.time = time.to_owned();
    e
}

/// Records a non-apply write by `manager`: it takes ownership of every
/// field it added or changed (other managers lose those), removed fields
/// leave every set, and sets are pruned to what still exists.
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    entries: &mut Vec<Entry>,
    manager: &str,
    scope: Scope,
    api_version: &str,
    time: &str,
    old: Option<&Value>,
    new: &Value,
    builtin: bool,
) {
    let new_set = fields_of(new, scope, builtin);
    let changed = match old {
        // A create owns everything it wrote, and nothing else exists yet.
        None => {
            if !manager.is_empty() && !new_set.is_empty() {
                let sub = (scope == Scope::Status).then_some("status");
                entry_mut(entries, manager, Operation::Update, sub, api_version, time)
                    .fields
                    .union(&new_set);
            }
            return;
        }
        Some(old) => {
            let mut changed = FieldSet::default();
            for path in new_set.paths() {
                if value_at(old, &path) != value_at(new, &path) {
                    insert_path(&mut changed, &path);
                }
            }
            changed
        }
    };
    for e in entries.iter_mut() {
        if e.manager != manager || e.operation != Operation::Update {
            e.fields.subtract(&changed);
        }
    }
    if !manager.is_empty() && !changed.is_empty() {
        let sub = (scope == Scope::Status).then_some("status");
        entry_mut(entries, manager, Operation::Update, sub, api_version, time)
            .fields
            .union(&changed);
    }
    prune(entries, new, builtin);
}

/// Drops owned paths that no longer exist in `obj`, and empty entries.
pub fn prune(entries: &mut Vec<Entry>, obj: &Value, builtin: bool) {
    let all = fields_of(obj, Scope::All, builtin);
    for e in entries.iter_mut() {
        e.fields.intersect(&all);
    }
    entries.retain(|e| !e.fields.is_empty());
}

/// Adds one path (marking its last node owned).
pub fn insert_path(fs: &mut FieldSet, path: &[String]) {
    let mut cur = fs;
    for el in path {
        cur = cur.children.entry(el.clone()).or_default();
    }
    cur.owned = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_takes_changed_fields_from_others() {
        let old = json!({"metadata": {"name": "a"}, "data": {"x": "1", "y": "2"}});
        let mut entries = Vec::new();
        record_update(&mut entries, "one", Scope::All, "v1", "t", None, &old, true);
        assert_eq!(
            entries[0].fields.to_fields_v1(),
            json!({"f:data": {"f:x": {}, "f:y": {}}})
        );
        let new = json!({"metadata": {"name": "a"}, "data": {"x": "9", "y": "2"}});
        record_update(
            &mut entries,
            "two",
            Scope::All,
            "v1",
            "t",
            Some(&old),
            &new,
            true,
        );
        assert_eq!(
            entries[0].fields.to_fields_v1(),
            json!({"f:data": {"f:y": {}}})
        );
        assert_eq!(
            entries[1].fields.to_fields_v1(),
            json!({"f:data": {"f:x": {}}})
        );
        let mut obj = new.clone();
        write(&mut obj, &entries);
        assert_eq!(read(&obj), entries);
    }
}
