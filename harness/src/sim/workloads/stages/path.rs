//! Field paths of stage selectors: `status.phase`,
//! `status.containerStatuses[].state.waiting.reason` (`[]`: any element),
//! `status.conditions[type=Ready].status` (elements whose `type` is
//! `Ready`), `metadata.labels['app.kubernetes.io/name']` (a quoted key).

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// An object key.
    Key(String),
    /// Every element of an array.
    Each,
    /// The elements whose `field` equals `value`.
    Where(String, String),
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl FieldPath {
    /// Parses a path.
    ///
    /// # Errors
    /// A message naming what is wrong (empty segment, unclosed bracket).
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let mut steps = Vec::new();
        let mut chars = text.chars().peekable();
        let mut key = String::new();
        let flush = |key: &mut String, steps: &mut Vec<Step>| {
            if !key.is_empty() {
                steps.push(Step::Key(std::mem::take(key)));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    if key.is_empty() && !matches!(steps.last(), Some(Step::Each | Step::Where(..)))
                    {
                        return Err(format!("empty segment in field path {text:?}"));
                    }
                    flush(&mut key, &mut steps);
                }
                '[' => {
                    flush(&mut key, &mut steps);
                    let mut inner = String::new();
                    let mut closed = false;
                    let mut quote: Option<char> = None;
                    for c in chars.by_ref() {
                        match (c, quote) {
                            ('\'' | '"', None) => quote = Some(c),
                            (q, Some(open)) if q == open => quote = None,
                            (']', None) => {
                                closed = true;
                                break;
                            }
                            _ => inner.push(c),
                        }
                    }
                    if !closed {
                        return Err(format!("unclosed '[' in field path {text:?}"));
                    }
                    steps.push(match inner.split_once('=') {
                        None if inner.is_empty() => Step::Each,
                        None => Step::Key(inner),
                        Some((f, v)) => Step::Where(f.trim().to_owned(), v.trim().to_owned()),
                    });
                }
                _ => key.push(c),
            }
        }
        flush(&mut key, &mut steps);
        if steps.is_empty() {
            return Err("empty field path".into());
        }
        Ok(FieldPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first key (e.g. `sim` for the simulator's virtual facts).
    pub fn root(&self) -> Option<&str> {
        match self.steps.first() {
            Some(Step::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The path without its first step, as text (`sim.kubelet` → `kubelet`).
    pub fn rest(&self) -> String {
        self.text
            .split_once('.')
            .map(|(_, r)| r.to_owned())
            .unwrap_or_default()
    }

    /// Every non-null value the path reaches in `obj`, as strings (numbers
    /// and booleans printed, objects and arrays as JSON).
    pub fn values(&self, obj: &Value) -> Vec<String> {
        let mut cur: Vec<&Value> = vec![obj];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in cur {
                match step {
                    Step::Key(k) => next.extend(v.get(k.as_str())),
                    Step::Each => next.extend(v.as_array().into_iter().flatten()),
                    Step::Where(f, want) => next.extend(
                        v.as_array()
                            .into_iter()
                            .flatten()
                            .filter(|e| e.get(f.as_str()).and_then(Value::as_str) == Some(want)),
                    ),
                }
            }
            cur = next;
        }
        cur.into_iter()
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod() -> Value {
        json!({
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"nodeName": "n1", "restartPolicy": "Always"},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "state": {"running": {"startedAt": "t"}}, "restartCount": 0},
                    {"name": "b", "state": {"waiting": {"reason": "ErrImagePull"}}},
                ],
            },
        })
    }

    fn at(p: &str) -> Vec<String> {
        FieldPath::parse(p).unwrap().values(&pod())
    }

    #[test]
    fn keys_filters_and_each() {
        assert_eq!(at("spec.nodeName"), vec!["n1"]);
        assert_eq!(at("status.conditions[type=Ready].status"), vec!["False"]);
        assert_eq!(
            at("status.containerStatuses[].state.waiting.reason"),
            vec!["ErrImagePull"]
        );
        assert_eq!(at("status.containerStatuses[].restartCount"), vec!["0"]);
        assert_eq!(at("metadata.labels['app.kubernetes.io/name']"), vec!["web"]);
        assert!(at("metadata.deletionTimestamp").is_empty());
        assert!(at("status.conditions[type=PodScheduled].status").is_empty());
    }

    #[test]
    fn bad_paths_are_rejected() {
        assert!(FieldPath::parse("").is_err());
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("a[b").is_err());
        let p = FieldPath::parse("sim.kubelet").unwrap();
        assert_eq!(p.root(), Some("sim"));
        assert_eq!(p.rest(), "kubelet");
    }
}
