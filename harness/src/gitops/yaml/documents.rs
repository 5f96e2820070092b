//! Multi-document YAML text: where each document is, and its value as JSON.
//!
//! Kubernetes manifests are multi-document YAML files. Two views are needed:
//! the *values* (for rendering) and the *byte ranges* of the documents (to
//! rewrite one document of a file and leave the others byte for byte, and to
//! say on which line a bad document starts).
//!
//! The values come from `serde_yaml`, which parses the whole text and reports
//! errors with absolute line:column. The ranges come from a textual split at
//! document markers: a line starting with `---` followed by a space, a tab or
//! the end of the line. That split is exact for YAML without directives,
//! because a `---` line at column 0 can never be the content of a scalar (the
//! YAML spec forbids document markers inside content). When the two views
//! disagree on the number of documents (YAML directives such as `%YAML`),
//! values are still returned but without line numbers, and files cannot be
//! edited document by document.

use std::ops::Range;

/// One document's place in a YAML text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// 0-based position of the document in the text.
    pub index: usize,
    /// 1-based line where the document starts (its `---` line, or the first
    /// line of the text for a first document without a marker).
    pub line: usize,
    /// Byte range of the document, from its marker line (if any) to the
    /// start of the next marker line or the end of the text.
    pub range: Range<usize>,
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based position of the document in the text (empty documents count).
    pub index: usize,
    /// 1-based line where the document starts, when known (see module docs).
    pub line: Option<usize>,
    /// The document as JSON; `Null` for an empty document.
    pub value: serde_json::Value,
}

/// Why a YAML text could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The text is not valid YAML.
    #[error("invalid YAML in document {} ({})", .index + 1, location(*.line, *.column))]
    Syntax {
        /// 0-based index of the document that failed.
        index: usize,
        /// 1-based line of the error, when the parser gives it.
        line: Option<usize>,
        /// 1-based column of the error, when the parser gives it.
        column: Option<usize>,
        /// The parser's error.
        #[source]
        source: serde_yaml::Error,
    },
    /// Valid YAML with no JSON equivalent (a key that is a list, `.inf`…).
    #[error("document {} {}: {message}", .index + 1, location(*.line, None))]
    NotJson {
        /// 0-based index of the document.
        index: usize,
        /// 1-based line where the document starts, when known.
        line: Option<usize>,
        /// What could not be converted.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}"),
        (Some(l), None) => format!("starting at line {l}"),
        _ => "location unknown".to_owned(),
    }
}

/// Splits `text` into document spans at `---` marker lines.
///
/// A leading part before the first marker holding only blank lines,
/// comments or directives is not a document (as in YAML). A text without
/// any content gives no documents.
pub fn split(text: &str) -> Vec<Span> {
    let mut markers = Vec::new(); // (byte offset, 1-based line)
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if is_marker(line) {
            markers.push((offset, n + 1));
        }
        offset += line.len();
    }
    let mut spans = Vec::new();
    let first_end = markers.first().map_or(text.len(), |m| m.0);
    let prefix = &text[..first_end];
    if has_content(prefix) {
        spans.push(Span {
            index: 0,
            line: 1,
            range: 0..first_end,
        });
    }
    for (i, &(start, line)) in markers.iter().enumerate() {
        let end = markers.get(i + 1).map_or(text.len(), |m| m.0);
        spans.push(Span {
            index: spans.len(),
            line,
            range: start..end,
        });
    }
    spans
}

fn is_marker(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("---") else {
        return false;
    };
    rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n'])
}

fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !l.starts_with('%')
    })
}

/// Parses every document of `text` into JSON, keeping empty documents as
/// `Null` so indexes match what a reader counts in the file. Plain YAML 1.1
/// octal integers (`0644`) are read as Kubernetes tools read them (see
/// [`super::compat`]).
///
/// # Errors
/// [`ParseError::Syntax`] with the absolute line and column of the first
/// syntax error; [`ParseError::NotJson`] for YAML that has no JSON form.
pub fn parse(text: &str) -> Result<Vec<Document>, ParseError> {
    use serde::Deserialize;
    let spans = split(text);
    let normalised = super::compat::octal_ints(text);
    let mut values = Vec::new();
    // Stop at the first error: serde_yaml's document iterator repeats a
    // syntax error forever instead of ending.
    for (index, de) in serde_yaml::Deserializer::from_str(&normalised).enumerate() {
        let value = serde_yaml::Value::deserialize(de).map_err(|source| {
            let loc = source.location();
            ParseError::Syntax {
                index,
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                source,
            }
        })?;
        values.push(value);
    }
    let lines_known = spans.len() == values.len();
    values
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let line = if lines_known {
                Some(spans[index].line)
            } else {
                None
            };
            let value = to_json(v).map_err(|message| ParseError::NotJson {
                index,
                line,
                message,
            })?;
            Ok(Document { index, line, value })
        })
        .collect()
}

/// Converts a YAML value to JSON the way Kubernetes' YAML reader does: keys
/// that are numbers or booleans become strings, tags are dropped.
///
/// # Errors
/// A message when the value has no JSON form (non-finite floats, keys that
/// are collections).
pub fn to_json(value: serde_yaml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .ok_or_else(|| format!("the number {n} has no JSON form"))?
            }
        }
        Y::String(s) => J::String(s),
        Y::Sequence(items) => J::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    other => {
                        return Err(format!(
                            "a mapping key must be a scalar, found {}",
                            kind_of(&other)
                        ));
                    }
                };
                out.insert(key, to_json(v)?);
            }
            J::Object(out)
        }
        Y::Tagged(t) => to_json(t.value)?,
    })
}

fn kind_of(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Sequence(_) => "a sequence",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "a tagged value",
        _ => "a scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_at_markers_only_at_column_zero() {
        let text = "a: 1\n---\nb: |\n  --- not a marker\n--- # c\nc: 3\n";
        let spans = split(text);
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].line, 1);
        assert_eq!(spans[1].line, 2);
        assert_eq!(spans[2].line, 5);
        assert_eq!(&text[spans[2].range.clone()], "--- # c\nc: 3\n");
    }

    #[test]
    fn leading_comments_are_not_a_document() {
        let spans = split("# header\n\n---\na: 1\n");
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].line, 3);
        assert!(split("").is_empty());
        assert!(split("# only a comment\n").is_empty());
    }

    #[test]
    fn parse_keeps_empty_documents_and_indexes() {
        let docs = parse("---\n---\n# nothing\n---\na: 1\n").unwrap();
        let values: Vec<_> = docs.iter().map(|d| d.value.clone()).collect();
        assert_eq!(values, vec![json!(null), json!(null), json!({"a": 1})]);
        assert_eq!(docs[2].index, 2);
        assert_eq!(docs[2].line, Some(4));
    }

    #[test]
    fn syntax_error_has_absolute_location_and_document() {
        let err = parse("a: 1\n---\nb: 2\n---\nc: [1,\n").unwrap_err();
        match &err {
            ParseError::Syntax { index, line, .. } => {
                assert_eq!(*index, 2);
                assert!(line.unwrap() >= 5, "{err}");
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("document 3"), "{err}");
    }

    #[test]
    fn numeric_keys_become_strings() {
        let docs = parse("data:\n  1: one\n  true: yes\n").unwrap();
        assert_eq!(docs[0].value, json!({"data": {"1": "one", "true": "yes"}}));
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        let err = parse("a: .inf\n").unwrap_err();
        assert!(matches!(err, ParseError::NotJson { .. }), "{err}");
    }
}
