//! `events.k8s.io/v1` Events are `core/v1` Events read and written at
//! another version, as in kube-apiserver (both REST storages share
//! `/registry/events`): the store keeps one table, `("", "events")`, and
//! converts at its edge.
//!
//! The two versions differ only in the names of top-level fields (and
//! `apiVersion`), so an object, a merge or strategic patch, an apply
//! configuration, a JSON patch's paths and a field selector all convert by
//! renaming ([`RENAMES`], from kube's `pkg/apis/events/v1` conversion).

use serde_json::{Map, Value, json};

use super::patch::Patch;
use super::resource::{GroupResource, Gvr};
use super::status::{ApiError, ApiResult};

/// The group of the aliased version.
pub const GROUP: &str = "events.k8s.io";

/// `(events.k8s.io/v1 field, core/v1 field)`.
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
];

/// True for `events.k8s.io` `events`, stored as core Events.
pub fn is_alias(gr: &GroupResource) -> bool {
    gr.group == GROUP && gr.resource == "events"
}

/// Where objects of `gr` are stored.
pub fn storage_of(gr: &GroupResource) -> GroupResource {
    if is_alias(gr) {
        GroupResource::new("", "events")
    } else {
        gr.clone()
    }
}

/// The core/v1 Gvr that stores `gvr` (itself for every other type).
pub fn storage_gvr(gvr: &Gvr) -> Gvr {
    if is_alias(&gvr.group_resource()) {
        Gvr::core("events")
    } else {
        gvr.clone()
    }
}

fn rename_keys(obj: &mut Map<String, Value>, to_core: bool) {
    for (v1, core) in RENAMES {
        let (from, to) = if to_core { (v1, core) } else { (core, v1) };
        if let Some(v) = obj.remove(*from) {
            obj.insert((*to).to_owned(), v);
        }
    }
}

/// A core/v1 Event as `events.k8s.io/v1` serves it.
pub fn to_v1(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(m) = out.as_object_mut() {
        rename_keys(m, false);
        m.insert("apiVersion".into(), json!(format!("{GROUP}/v1")));
    }
    out
}

/// An `events.k8s.io/v1` Event (or a partial one: a patch, an apply
/// configuration) in core/v1 field names.
pub fn to_core(obj: Value) -> Value {
    let mut out = obj;
    if let Some(m) = out.as_object_mut() {
        rename_keys(m, true);
        if m.contains_key("apiVersion") {
            m.insert("apiVersion".into(), json!("v1"));
        }
    }
    out
}

/// The core field name of an `events.k8s.io/v1` field-selector field.
pub fn core_field(field: &str) -> String {
    let (head, rest) = field.split_once('.').unwrap_or((field, ""));
    let head = RENAMES
        .iter()
        .find(|(v1, _)| *v1 == head)
        .map_or(head, |(_, core)| core);
    if rest.is_empty() {
        head.to_owned()
    } else {
        format!("{head}.{rest}")
    }
}

/// A patch sent to `events.k8s.io/v1`, in core/v1 terms.
///
/// # Errors
/// 400 when a JSON patch does not survive the round trip (cannot happen
/// for a patch that parsed).
pub fn patch_to_core(patch: &Patch) -> ApiResult<Patch> {
    Ok(match patch {
        Patch::Merge(v) => Patch::Merge(to_core(v.clone())),
        Patch::Strategic(v) => Patch::Strategic(to_core(v.clone())),
        Patch::Apply(v) => Patch::Apply(to_core(v.clone())),
        Patch::Json(p) => {
            let mut ops = serde_json::to_value(p)
                .map_err(|e| ApiError::bad_request(format!("error encoding JSON patch: {e}")))?;
            for op in ops.as_array_mut().into_iter().flatten() {
                for key in ["path", "from"] {
                    if let Some(path) = op.get(key).and_then(Value::as_str) {
                        let renamed = pointer_to_core(path);
                        op[key] = json!(renamed);
                    }
                }
            }
            Patch::Json(
                serde_json::from_value(ops).map_err(|e| {
                    ApiError::bad_request(format!("error decoding JSON patch: {e}"))
                })?,
            )
        }
    })
}

fn pointer_to_core(path: &str) -> String {
    let Some(rest) = path.strip_prefix('/') else {
        return path.to_owned();
    };
    let (head, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(h, t)| (h, Some(t)));
    let head = RENAMES
        .iter()
        .find(|(v1, _)| *v1 == head)
        .map_or(head, |(_, core)| core);
    match tail {
        Some(t) => format!("/{head}/{t}"),
        None => format!("/{head}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "a.1"},
            "involvedObject": {"kind": "Pod", "name": "a"}, "message": "m", "count": 2,
            "reportingComponent": "kubelet", "reason": "Pulled", "type": "Normal"});
        let v1 = to_v1(&core);
        assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1["regarding"]["name"], "a");
        assert_eq!(v1["note"], "m");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(v1["reportingController"], "kubelet");
        assert!(v1.get("involvedObject").is_none());
        assert_eq!(to_core(v1), core);
    }

    #[test]
    fn selectors_and_patches() {
        assert_eq!(core_field("regarding.name"), "involvedObject.name");
        assert_eq!(core_field("reportingController"), "reportingComponent");
        assert_eq!(core_field("reason"), "reason");
        let p: json_patch::Patch =
            serde_json::from_value(json!([{"op": "replace", "path": "/note", "value": "x"}]))
                .unwrap();
        let Patch::Json(c) = patch_to_core(&Patch::Json(p)).unwrap() else {
            panic!("kind changed")
        };
        assert_eq!(serde_json::to_value(c).unwrap()[0]["path"], "/message");
    }
}
