//! Field sets: which leaf paths of an object a manager owns, in the
//! `FieldsV1` shape (`{"f:data":{"f:key":{}}}`).
//!
//! Lists are atomic (one leaf) unless they are one of the associative
//! lists of the built-in types (containers by `name`, conditions by
//! `type`, ...), whose items are addressed as `k:{"name":"x"}`, or a set
//! (`finalizers`), whose items are `v:"x"`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A tree of owned paths. `owned` marks the node itself (the `"."`
/// member of FieldsV1; always true for leaves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Children by path element (`f:name`, `k:{..}`, `v:..`).
    pub children: BTreeMap<String, FieldSet>,
    /// The node itself is owned.
    pub owned: bool,
}

/// How a list field is merged and addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced wholesale; one leaf.
    Atomic,
    /// Associative by these key fields.
    Map(&'static [&'static str]),
    /// A set of scalars.
    Set,
}

/// The kind of the list stored under `field` (built-in knowledge).
pub fn list_kind(field: &str, items: &[Value], builtin: bool) -> ListKind {
    if field == "finalizers" {
        return ListKind::Set;
    }
    if field == "ownerReferences" {
        return ListKind::Map(&["uid"]);
    }
    if !builtin && field != "conditions" {
        return ListKind::Atomic;
    }
    let keys: &'static [&'static str] = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => &["name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "hostAliases" => &["ip"],
        "conditions" => &["type"],
        "ports" if items.iter().all(|i| i.get("containerPort").is_some()) => &["containerPort"],
        "ports" if items.iter().all(|i| i.get("port").is_some()) => &["port"],
        _ => return ListKind::Atomic,
    };
    if items
        .iter()
        .all(|i| keys.iter().all(|k| i.get(*k).is_some()))
    {
        ListKind::Map(keys)
    } else {
        ListKind::Atomic
    }
}

/// The `k:{...}` element of an associative list item.
pub fn item_key(item: &Value, keys: &[&str]) -> String {
    let mut m = Map::new();
    for k in keys {
        m.insert(
            (*k).to_owned(),
            item.get(*k).cloned().unwrap_or(Value::Null),
        );
    }
    format!("k:{}", Value::Object(m))
}

/// The `v:...` element of a set item.
pub fn set_key(item: &Value) -> String {
    format!("v:{item}")
}

impl FieldSet {
    /// The leaf paths of `v` (a map's content; empty maps are leaves).
    pub fn of(v: &Value, builtin: bool) -> FieldSet {
        let mut fs = FieldSet::default();
        if let Value::Object(m) = v {
            for (k, child) in m {
                fs.children
                    .insert(format!("f:{k}"), Self::of_field(k, child, builtin));
            }
        }
        fs
    }

    fn of_field(name: &str, v: &Value, builtin: bool) -> FieldSet {
        match v {
            Value::Object(m) if !m.is_empty() => Self::of(v, builtin),
            Value::Array(items) => match list_kind(name, items, builtin) {
                ListKind::Atomic => FieldSet::leaf(),
                ListKind::Set => {
                    let mut fs = FieldSet::default();
                    for i in items {
                        fs.children.insert(set_key(i), FieldSet::leaf());
                    }
                    fs
                }
                ListKind::Map(keys) => {
                    let mut fs = FieldSet::default();
                    for i in items {
                        let mut item = Self::of(i, builtin);
                        item.owned = true;
                        fs.children.insert(item_key(i, keys), item);
                    }
                    fs
                }
            },
            _ => FieldSet::leaf(),
        }
    }

    /// A single owned leaf.
    pub fn leaf() -> FieldSet {
        FieldSet {
            children: BTreeMap::new(),
            owned: true,
        }
    }

    /// True when nothing is owned.
    pub fn is_empty(&self) -> bool {
        !self.owned && self.children.values().all(FieldSet::is_empty)
    }

    /// The FieldsV1 JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.owned && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            if !c.is_empty() {
                m.insert(k.clone(), c.to_fields_v1());
            }
        }
        Value::Object(m)
    }

    /// Parses the FieldsV1 JSON form (unknown shapes are skipped).
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        let mut fs = FieldSet::default();
        let Value::Object(m) = v else { return fs };
        if m.is_empty() {
            fs.owned = true;
            return fs;
        }
        for (k, c) in m {
            if k == "." {
                fs.owned = true;
            } else {
                fs.children.insert(k.clone(), FieldSet::from_fields_v1(c));
            }
        }
        fs
    }

    /// Adds every path of `other`.
    pub fn union(&mut self, other: &FieldSet) {
        self.owned |= other.owned;
        for (k, c) in &other.children {
            self.children.entry(k.clone()).or_default().union(c);
        }
    }

    /// Removes every path of `other` (a removed node takes its subtree
    /// only when `other` owns it as a leaf).
    pub fn subtract(&mut self, other: &FieldSet) {
        if other.owned && other.children.is_empty() {
            *self = FieldSet::default();
            return;
        }
        if other.owned {
            self.owned = false;
        }
        for (k, c) in &other.children {
            if let Some(mine) = self.children.get_mut(k) {
                mine.subtract(c);
                if mine.is_empty() {
                    self.children.remove(k);
                }
            }
        }
    }

    /// Keeps only paths also in `other`.
    pub fn intersect(&mut self, other: &FieldSet) {
        self.owned &= other.owned;
        self.children.retain(|k, c| match other.children.get(k) {
            Some(o) => {
                c.intersect(o);
                !c.is_empty()
            }
            None => false,
        });
    }

    /// Every owned path, as element lists.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.owned {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// True when `path` is owned.
    pub fn contains(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => self.owned,
            Some((h, rest)) => self.children.get(h).is_some_and(|c| c.contains(rest)),
        }
    }
}

/// The value at a field path inside `v` (None when absent).
pub fn value_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((head, rest)) = path.split_first() else {
        return Some(v);
    };
    if let Some(name) = head.strip_prefix("f:") {
        return value_at(v.get(name)?, rest);
    }
    let items = v.as_array()?;
    let item = items.iter().find(|i| element_matches(i, head))?;
    value_at(item, rest)
}

/// True when list item `item` is addressed by element `el` (`k:` or `v:`).
pub fn element_matches(item: &Value, el: &str) -> bool {
    if let Some(k) = el.strip_prefix("k:") {
        let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(k) else {
            return false;
        };
        keys.iter().all(|(kk, kv)| item.get(kk) == Some(kv))
    } else if let Some(s) = el.strip_prefix("v:") {
        serde_json::from_str::<Value>(s).is_ok_and(|x| &x == item)
    } else {
        false
    }
}

/// Removes the value at `path` from `v` (list items by key). Empty maps
/// left behind are removed too, so a dropped last label drops `labels`.
pub fn remove_at(v: &mut Value, path: &[String]) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    if let Some(name) = head.strip_prefix("f:") {
        let Some(m) = v.as_object_mut() else { return };
        if rest.is_empty() {
            m.remove(name);
        } else if let Some(child) = m.get_mut(name) {
            remove_at(child, rest);
            if child.as_object().is_some_and(Map::is_empty)
                || child.as_array().is_some_and(Vec::is_empty)
            {
                m.remove(name);
            }
        }
        return;
    }
    let Some(items) = v.as_array_mut() else {
        return;
    };
    if rest.is_empty() {
        items.retain(|i| !element_matches(i, head));
    } else if let Some(item) = items.iter_mut().find(|i| element_matches(i, head)) {
        remove_at(item, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trip_with_keyed_lists() {
        let obj = json!({"metadata": {"labels": {"app": "x"}, "finalizers": ["a"]},
            "spec": {"containers": [{"name": "c", "image": "i"}], "args": ["x"]}});
        let fs = FieldSet::of(&obj, true);
        let v1 = fs.to_fields_v1();
        assert_eq!(
            v1,
            json!({"f:metadata": {"f:finalizers": {"v:\"a\"": {}}, "f:labels": {"f:app": {}}},
            "f:spec": {"f:args": {}, "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&v1), fs);
    }

    #[test]
    fn subtract_and_remove() {
        let obj = json!({"data": {"a": "1", "b": "2"}});
        let mut all = FieldSet::of(&obj, true);
        let only_a = FieldSet::of(&json!({"data": {"a": "1"}}), true);
        all.subtract(&only_a);
        assert_eq!(
            all.paths(),
            vec![vec!["f:data".to_owned(), "f:b".to_owned()]]
        );
        let mut o = obj.clone();
        remove_at(&mut o, &["f:data".into(), "f:b".into()]);
        assert_eq!(o, json!({"data": {"a": "1"}}));
        remove_at(&mut o, &["f:data".into(), "f:a".into()]);
        assert_eq!(o, json!({}));
    }
}
