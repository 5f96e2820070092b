//! Field paths such as `spec.template.spec.containers[0].image`, and setting
//! a value at one.
//!
//! Syntax (a subset of the JSONPath-like notation users know from `kubectl`
//! and Flux docs):
//! - `a.b.c`: mapping keys separated by dots;
//! - `[N]`: the N-th (0-based) item of a sequence;
//! - `["key.with.dots"]` or `['key']`: a key holding dots or brackets, e.g.
//!   `metadata.annotations["fluxcd.io/ignore"]`;
//! - `[name=podinfod]`: the item of a sequence of mappings whose `name`
//!   field equals `podinfod` (e.g. a container by name).
//!
//! Setting creates missing mapping keys along the way, but never sequence
//! items: an index past the end is an error.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index (0-based).
    Index(usize),
    /// The sequence item whose field `key` equals `value`.
    Match {
        /// The field compared.
        key: String,
        /// The value it must have (compared with the scalar's text).
        value: String,
    },
}

/// A parsed field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    segments: Vec<Segment>,
}

/// A path that cannot be parsed, or a value that cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path text is malformed.
    #[error("invalid field path `{path}`: {reason}")]
    Syntax {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The document's shape does not allow the path.
    #[error("cannot set `{path}`: at `{at}`, {reason}")]
    Shape {
        /// The full path.
        path: String,
        /// The prefix of the path where it went wrong.
        at: String,
        /// What was found instead.
        reason: String,
    },
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for FieldPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldPath::parse(s)
    }
}

impl FieldPath {
    /// Parses a path.
    ///
    /// # Errors
    /// [`PathError::Syntax`] for an empty path, an empty key, an unclosed
    /// bracket or a bad index.
    pub fn parse(path: &str) -> Result<FieldPath, PathError> {
        let err = |reason: &str| PathError::Syntax {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let mut segments = Vec::new();
        let mut rest = path.trim();
        if rest.is_empty() {
            return Err(err("the path is empty"));
        }
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let close = after
                    .find(']')
                    .ok_or_else(|| err("a `[` is never closed"))?;
                let inner = after[..close].trim();
                segments.push(parse_bracket(inner).map_err(|r| err(&r))?);
                rest = &after[close + 1..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if expect_key {
                    return Err(err("empty key (two dots, or a leading dot)"));
                }
                rest = after;
                expect_key = true;
                if rest.is_empty() {
                    return Err(err("the path ends with a dot"));
                }
            } else {
                if !expect_key {
                    return Err(err("expected `.` or `[` after `]`"));
                }
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                let key = &rest[..end];
                if key.is_empty() {
                    return Err(err("empty key"));
                }
                segments.push(Segment::Key(key.to_owned()));
                rest = &rest[end..];
                expect_key = false;
            }
        }
        Ok(FieldPath {
            text: path.trim().to_owned(),
            segments,
        })
    }

    /// The steps of the path.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Sets `value` at this path inside `doc`, creating missing mapping keys.
    ///
    /// # Errors
    /// [`PathError::Shape`] when the document has a scalar where the path
    /// goes on, an index past the end of a sequence, or no item matching a
    /// `[key=value]` step.
    pub fn set(
        &self,
        doc: &mut serde_yaml::Value,
        value: serde_yaml::Value,
    ) -> Result<(), PathError> {
        let mut cur = doc;
        let mut at = String::new();
        for seg in &self.segments {
            let shape = |at: &str, reason: String| PathError::Shape {
                path: self.text.clone(),
                at: if at.is_empty() {
                    "(root)".into()
                } else {
                    at.into()
                },
                reason,
            };
            let here = at.clone();
            match seg {
                Segment::Key(k) => {
                    push_key(&mut at, k);
                    if cur.is_null() {
                        *cur = serde_yaml::Value::Mapping(Default::default());
                    }
                    let kind = describe(cur);
                    let map = cur
                        .as_mapping_mut()
                        .ok_or_else(|| shape(&here, format!("expected a mapping, found {kind}")))?;
                    let key = serde_yaml::Value::String(k.clone());
                    if !map.contains_key(&key) {
                        map.insert(key.clone(), serde_yaml::Value::Null);
                    }
                    cur = map
                        .get_mut(&key)
                        .ok_or_else(|| shape(&here, "key vanished".into()))?;
                }
                Segment::Index(i) => {
                    at.push_str(&format!("[{i}]"));
                    let kind = describe(cur);
                    let seq = cur.as_sequence_mut().ok_or_else(|| {
                        shape(&here, format!("expected a sequence, found {kind}"))
                    })?;
                    let len = seq.len();
                    cur = seq.get_mut(*i).ok_or_else(|| {
                        shape(
                            &here,
                            format!("index {i} is out of range (the sequence has {len} items)"),
                        )
                    })?;
                }
                Segment::Match { key, value: want } => {
                    at.push_str(&format!("[{key}={want}]"));
                    let kind = describe(cur);
                    let seq = cur.as_sequence_mut().ok_or_else(|| {
                        shape(&here, format!("expected a sequence, found {kind}"))
                    })?;
                    let pos = seq
                        .iter()
                        .position(|item| {
                            item.get(key.as_str())
                                .and_then(scalar_text)
                                .is_some_and(|t| t == *want)
                        })
                        .ok_or_else(|| shape(&here, format!("no item has {key}={want}")))?;
                    cur = &mut seq[pos];
                }
            }
        }
        *cur = value;
        Ok(())
    }
}

fn push_key(at: &mut String, k: &str) {
    if k.contains(['.', '[', ']']) {
        at.push_str(&format!("[\"{k}\"]"));
    } else {
        if !at.is_empty() {
            at.push('.');
        }
        at.push_str(k);
    }
}

fn parse_bracket(inner: &str) -> Result<Segment, String> {
    if inner.is_empty() {
        return Err("empty brackets".into());
    }
    for q in ['"', '\''] {
        if let Some(s) = inner.strip_prefix(q) {
            let key = s
                .strip_suffix(q)
                .ok_or_else(|| format!("unterminated quote in [{inner}]"))?;
            if key.is_empty() {
                return Err("empty quoted key".into());
            }
            return Ok(Segment::Key(key.to_owned()));
        }
    }
    if let Some((k, v)) = inner.split_once('=') {
        let (k, v) = (k.trim(), v.trim().trim_matches(['"', '\'']));
        if k.is_empty() || v.is_empty() {
            return Err(format!(
                "[{inner}] needs a field and a value, as in [name=app]"
            ));
        }
        return Ok(Segment::Match {
            key: k.to_owned(),
            value: v.to_owned(),
        });
    }
    inner
        .parse::<usize>()
        .map(Segment::Index)
        .map_err(|_| format!("[{inner}] is not an index, a quoted key or a field=value match"))
}

fn scalar_text(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn describe(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::Null => "null".into(),
        serde_yaml::Value::Bool(b) => format!("the boolean {b}"),
        serde_yaml::Value::Number(n) => format!("the number {n}"),
        serde_yaml::Value::String(s) => format!("the string {s:?}"),
        serde_yaml::Value::Sequence(_) => "a sequence".into(),
        serde_yaml::Value::Mapping(_) => "a mapping".into(),
        serde_yaml::Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> serde_yaml::Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn parses_keys_indexes_quotes_and_matches() {
        let p = FieldPath::parse(r#"spec.containers[0].env[name=A]["x.y"]"#).unwrap();
        assert_eq!(
            p.segments(),
            &[
                Segment::Key("spec".into()),
                Segment::Key("containers".into()),
                Segment::Index(0),
                Segment::Key("env".into()),
                Segment::Match {
                    key: "name".into(),
                    value: "A".into()
                },
                Segment::Key("x.y".into()),
            ]
        );
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "", "a..b", ".a", "a.", "a[0", "a[x]", "a[]", "a[0]b", "a[=x]",
        ] {
            assert!(
                matches!(FieldPath::parse(bad), Err(PathError::Syntax { .. })),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn sets_nested_value_and_creates_missing_keys() {
        let mut doc = y("spec:\n  containers:\n  - name: app\n    image: a:1\n");
        FieldPath::parse("spec.containers[0].image")
            .unwrap()
            .set(&mut doc, y("a:2"))
            .unwrap();
        FieldPath::parse(r#"metadata.annotations["example.com/x"]"#)
            .unwrap()
            .set(&mut doc, y("'on'"))
            .unwrap();
        FieldPath::parse("spec.containers[name=app].args")
            .unwrap()
            .set(&mut doc, y("[--v]"))
            .unwrap();
        assert_eq!(
            doc,
            y(
                "spec:\n  containers:\n  - name: app\n    image: a:2\n    args: [--v]\n\
               metadata:\n  annotations:\n    example.com/x: 'on'\n"
            )
        );
    }

    #[test]
    fn shape_errors_name_where() {
        let mut doc = y("spec:\n  containers: []\n  replicas: 2\n");
        let err = FieldPath::parse("spec.containers[0].image")
            .unwrap()
            .set(&mut doc, y("x"))
            .unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert!(err.to_string().contains("spec.containers"), "{err}");
        let err = FieldPath::parse("spec.replicas.x")
            .unwrap()
            .set(&mut doc, y("1"))
            .unwrap_err();
        assert!(err.to_string().contains("the number 2"), "{err}");
        let err = FieldPath::parse("spec.containers[name=web]")
            .unwrap()
            .set(&mut doc, y("1"))
            .unwrap_err();
        assert!(err.to_string().contains("no item has name=web"), "{err}");
    }
}
