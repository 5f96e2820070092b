//! RFC 7386 JSON merge patch.

use serde_json::Value;

/// `target` with `patch` merged in: objects merge recursively, `null`
/// deletes a key, anything else (arrays included) replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let mut out = target.clone();
    apply(&mut out, patch);
    out
}

fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            apply(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_examples() {
        let t = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        let p = json!({"a": "z", "c": {"f": null}, "l": [3]});
        assert_eq!(
            merge_patch(&t, &p),
            json!({"a": "z", "c": {"d": "e"}, "l": [3]})
        );
        assert_eq!(merge_patch(&json!({"a": 1}), &json!(["x"])), json!(["x"]));
    }
}
