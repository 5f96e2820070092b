//! Label and field selectors: parsing (the full label grammar) and matching.

use serde_json::Value;

use super::resource::GroupResource;
use super::status::{ApiError, ApiResult};
use crate::sim::storage::kinds::fields;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelReq {
    /// `k=v` / `k==v`.
    Eq(String, String),
    /// `k!=v` (also matches when `k` is absent).
    NotEq(String, String),
    /// `k in (a,b)`.
    In(String, Vec<String>),
    /// `k notin (a,b)` (also matches when `k` is absent).
    NotIn(String, Vec<String>),
    /// `k`.
    Exists(String),
    /// `!k`.
    NotExists(String),
}

/// One requirement of a field selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReq {
    /// Field path, e.g. `metadata.name`.
    pub field: String,
    /// Value compared against.
    pub value: String,
    /// `!=` rather than `=`.
    pub negated: bool,
}

/// Parsed `labelSelector` + `fieldSelector`; the default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Label requirements, ANDed.
    pub labels: Vec<LabelReq>,
    /// Field requirements, ANDed.
    pub fields: Vec<FieldReq>,
}

impl Selector {
    /// Parses both selectors (either may be empty) for resource `gr`.
    ///
    /// # Errors
    /// 400 BadRequest on a syntax error or an unsupported field.
    pub fn parse(
        gr: &GroupResource,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> ApiResult<Self> {
        Ok(Selector {
            labels: parse_labels(labels.unwrap_or(""))?,
            fields: parse_fields(gr, fields.unwrap_or(""))?,
        })
    }

    /// A selector of labels only.
    ///
    /// # Errors
    /// 400 BadRequest on a syntax error.
    pub fn labels(s: &str) -> ApiResult<Self> {
        Ok(Selector {
            labels: parse_labels(s)?,
            fields: Vec::new(),
        })
    }

    /// The selector of a `metav1.LabelSelector` object (`matchLabels` and
    /// `matchExpressions` with In/NotIn/Exists/DoesNotExist), as workload
    /// specs carry it (`spec.selector` of a Deployment).
    ///
    /// # Errors
    /// 400 BadRequest on an unknown operator or a malformed object.
    pub fn from_label_selector(sel: &Value) -> ApiResult<Self> {
        let mut labels = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                labels.push(LabelReq::Eq(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("matchExpressions entry without key".into()))?
                .to_owned();
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            labels.push(match e.get("operator").and_then(Value::as_str) {
                Some("In") => LabelReq::In(key, values),
                Some("NotIn") => LabelReq::NotIn(key, values),
                Some("Exists") => LabelReq::Exists(key),
                Some("DoesNotExist") => LabelReq::NotExists(key),
                other => {
                    return Err(bad(format!(
                        "{other:?} is not a valid label selector operator"
                    )));
                }
            });
        }
        Ok(Selector {
            labels,
            fields: Vec::new(),
        })
    }

    /// True when the selector has no requirement.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// The name this selector pins with `metadata.name=x`, if any.
    pub fn pinned_name(&self) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == "metadata.name" && !f.negated)
            .map(|f| f.value.as_str())
    }

    /// The `(label, value)` pairs every selected object carries (`k=v`,
    /// and `k in (v)` of one value).
    pub fn equalities(&self) -> impl Iterator<Item = (&str, &str)> {
        self.labels.iter().filter_map(|r| match r {
            LabelReq::Eq(k, v) => Some((k.as_str(), v.as_str())),
            LabelReq::In(k, vs) if vs.len() == 1 => Some((k.as_str(), vs[0].as_str())),
            _ => None,
        })
    }

    /// True when `obj` satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|r| match r {
            LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => label(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => label(k).is_none_or(|l| !vs.iter().any(|v| v == l)),
            LabelReq::Exists(k) => label(k).is_some(),
            LabelReq::NotExists(k) => label(k).is_none(),
        });
        labels_ok
            && self
                .fields
                .iter()
                .all(|f| (fields::value(obj, &f.field) == f.value) != f.negated)
    }
}

fn bad(msg: String) -> ApiError {
    ApiError::bad_request(msg)
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn check_key(k: &str, whole: &str) -> ApiResult<String> {
    let valid = !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(k.to_owned())
    } else {
        Err(bad(format!(
            "unable to parse requirement: invalid label key \"{k}\" in selector \"{whole}\""
        )))
    }
}

fn check_value(v: &str, whole: &str) -> ApiResult<String> {
    let valid = v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(v.to_owned())
    } else {
        Err(bad(format!(
            "unable to parse requirement: invalid label value \"{v}\" in selector \"{whole}\""
        )))
    }
}

fn parse_set(rest: &str, whole: &str) -> ApiResult<Vec<String>> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            bad(format!(
                "unable to parse label selector \"{whole}\": expected a parenthesised set"
            ))
        })?;
    inner
        .split(',')
        .map(|v| check_value(v.trim(), whole))
        .collect()
}

/// Parses a label selector.
///
/// # Errors
/// 400 BadRequest on a syntax error.
pub fn parse_labels(s: &str) -> ApiResult<Vec<LabelReq>> {
    let mut out = Vec::new();
    if s.trim().is_empty() {
        return Ok(out);
    }
    for term in split_top(s) {
        let t = term.trim();
        if t.is_empty() {
            return Err(bad(format!(
                "unable to parse label selector \"{s}\": empty requirement"
            )));
        }
        if let Some(k) = t.strip_prefix('!') {
            out.push(LabelReq::NotExists(check_key(k.trim(), s)?));
        } else if let Some((k, v)) = t.split_once("!=") {
            out.push(LabelReq::NotEq(
                check_key(k.trim(), s)?,
                check_value(v.trim(), s)?,
            ));
        } else if let Some((k, v)) = t.split_once("==") {
            out.push(LabelReq::Eq(
                check_key(k.trim(), s)?,
                check_value(v.trim(), s)?,
            ));
        } else if let Some((k, v)) = t.split_once('=') {
            out.push(LabelReq::Eq(
                check_key(k.trim(), s)?,
                check_value(v.trim(), s)?,
            ));
        } else if let Some(idx) = t.find(" notin ").or_else(|| t.find(" notin(")) {
            let set = parse_set(&t[idx + 6..], s)?;
            out.push(LabelReq::NotIn(check_key(t[..idx].trim(), s)?, set));
        } else if let Some(idx) = t.find(" in ").or_else(|| t.find(" in(")) {
            let set = parse_set(&t[idx + 3..], s)?;
            out.push(LabelReq::In(check_key(t[..idx].trim(), s)?, set));
        } else {
            out.push(LabelReq::Exists(check_key(t, s)?));
        }
    }
    Ok(out)
}

/// Parses a field selector for resource `gr`.
///
/// # Errors
/// 400 BadRequest on a syntax error or a field `gr` does not support.
pub fn parse_fields(gr: &GroupResource, s: &str) -> ApiResult<Vec<FieldReq>> {
    let mut out = Vec::new();
    if s.trim().is_empty() {
        return Ok(out);
    }
    for term in s.split(',') {
        let t = term.trim();
        let (field, value, negated) = if let Some((f, v)) = t.split_once("!=") {
            (f, v, true)
        } else if let Some((f, v)) = t.split_once("==") {
            (f, v, false)
        } else if let Some((f, v)) = t.split_once('=') {
            (f, v, false)
        } else {
            return Err(bad(format!(
                "invalid selector: '{s}'; can't understand '{t}'"
            )));
        };
        let field = field.trim();
        if !fields::supports(gr, field) {
            return Err(bad(format!("field label not supported: {field}")));
        }
        // events.k8s.io Events are matched as the core Events they are
        // stored as.
        let field = if crate::sim::storage::event_versions::is_alias(gr) {
            crate::sim::storage::event_versions::core_field(field)
        } else {
            field.to_owned()
        };
        out.push(FieldReq {
            field,
            value: value.trim().to_owned(),
            negated,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "n", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_grammar() {
        let s = Selector::labels("app=web,tier!=db,env in (prod, stage),!legacy,team").unwrap();
        assert!(s.matches(&obj(json!({"app": "web", "env": "prod", "team": "x"}))));
        assert!(!s.matches(&obj(json!({"app": "web", "env": "dev", "team": "x"}))));
        assert!(!s.matches(&obj(
            json!({"app": "web", "env": "prod", "team": "x", "legacy": "1"})
        )));
        let s = Selector::labels("env notin (prod),app==web").unwrap();
        assert!(s.matches(&obj(json!({"app": "web"}))));
        assert!(!s.matches(&obj(json!({"app": "web", "env": "prod"}))));
    }

    #[test]
    fn label_syntax_errors_are_bad_requests() {
        for bad in ["a=b,,c", "a in b", "a b=c", "=x"] {
            let e = Selector::labels(bad).unwrap_err();
            assert_eq!(e.code, 400, "{bad}");
        }
    }

    #[test]
    fn label_selector_objects() {
        let s = Selector::from_label_selector(&json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "x", "operator": "DoesNotExist"}]})).unwrap();
        assert!(s.matches(&obj(json!({"app": "web", "tier": "a"}))));
        assert!(!s.matches(&obj(json!({"app": "web", "tier": "c"}))));
        assert!(
            Selector::from_label_selector(
                &json!({"matchExpressions": [{"key": "k", "operator": "Near"}]})
            )
            .is_err()
        );
    }

    #[test]
    fn field_selectors_per_type() {
        let pods = GroupResource::new("", "pods");
        let s =
            Selector::parse(&pods, None, Some("status.phase=Running,metadata.name!=b")).unwrap();
        assert!(s.matches(&obj(json!({}))));
        let cms = GroupResource::new("", "configmaps");
        let e = Selector::parse(&cms, None, Some("status.phase=Running")).unwrap_err();
        assert_eq!(e.message, "field label not supported: status.phase");
        let s = Selector::parse(&cms, None, Some("metadata.name=a")).unwrap();
        assert_eq!(s.pinned_name(), Some("a"));
    }
}
