//! Setting fields in one document of a multi-document YAML file.
//!
//! Every other document is kept byte for byte. In the edited document:
//! - when each field set replaces an existing single-line scalar of
//!   block-style YAML (the common case: an image tag, a replica count), only
//!   that scalar's text changes — comments, quoting and layout stay (see
//!   the private `surgical` module; the result is re-parsed and checked);
//! - otherwise (a new key, a collection value, a path through flow style
//!   `{…}`/`[…]`, multi-line scalars or anchors) the document is parsed and
//!   written again ([`super::emit`]), keeping its `---` line and the comment
//!   lines right before and after its content, but losing comments among its
//!   content, the original quoting and flow style, the indentation
//!   (normalised to kubectl's), anchors and aliases (expanded), and writing a
//!   YAML 1.1 octal such as `0644` as its decimal value (`420`), which every
//!   Kubernetes reader takes as the same number.

use serde_yaml::Value;

use super::compat;
use super::documents::{Span, split};
use super::emit;
use super::path::{FieldPath, PathError};

/// Which document of a file to edit.
///
/// With no criteria the file must hold exactly one non-empty document.
/// Criteria combine: `kind` and `name` match `kind` and `metadata.name`;
/// `index` is the 0-based position among all documents of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocSelector {
    /// 0-based position of the document in the file (empty documents count).
    pub index: Option<usize>,
    /// The document's `kind`.
    pub kind: Option<String>,
    /// The document's `metadata.name`.
    pub name: Option<String>,
}

impl DocSelector {
    /// Any document (the file must hold exactly one).
    pub fn only() -> Self {
        Self::default()
    }

    /// The document at `index` (0-based).
    pub fn index(index: usize) -> Self {
        Self {
            index: Some(index),
            ..Self::default()
        }
    }

    /// The document with this `kind` and `metadata.name`.
    pub fn object(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind: Some(kind.into()),
            name: Some(name.into()),
            index: None,
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(i) = self.index {
            parts.push(format!("index {i}"));
        }
        if let Some(k) = &self.kind {
            parts.push(format!("kind {k}"));
        }
        if let Some(n) = &self.name {
            parts.push(format!("name {n}"));
        }
        if parts.is_empty() {
            "the only document".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Why a file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file is not valid YAML.
    #[error(transparent)]
    Parse(#[from] super::documents::ParseError),
    /// The documents could not be located in the text (YAML directives).
    #[error(
        "cannot edit one document of this file without rewriting the others: it uses YAML directives (`%…`) or document end markers in a way this editor does not follow"
    )]
    Unsplittable,
    /// No document matches the selector.
    #[error("no document matches {selector}; the file holds: {available}")]
    NoMatch {
        /// The selector, described.
        selector: String,
        /// The documents present (`0: Deployment/podinfo, 1: Service/podinfo`).
        available: String,
    },
    /// Several documents match and the selector must be narrowed.
    #[error(
        "{count} documents match {selector} ({available}); select one by index, or by kind and name"
    )]
    Ambiguous {
        /// The selector, described.
        selector: String,
        /// How many matched.
        count: usize,
        /// The matching documents.
        available: String,
    },
    /// The path does not fit the document.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The new value has no YAML form.
    #[error("the value for `{path}` cannot be written as YAML: {source}")]
    Value {
        /// The field path.
        path: String,
        /// The serialisation error.
        #[source]
        source: serde_yaml::Error,
    },
}

/// Sets each `(path, value)` in the document of `text` chosen by `selector`
/// and returns the new text. Other documents are kept byte for byte.
///
/// # Errors
/// See [`EditError`]: unparsable YAML, no or several matching documents, a
/// path that does not fit the document.
pub fn set_fields(
    text: &str,
    selector: &DocSelector,
    fields: &[(FieldPath, serde_json::Value)],
) -> Result<String, EditError> {
    let spans = split(text);
    let mut docs = Vec::with_capacity(spans.len());
    for span in &spans {
        let chunk = compat::octal_ints(&text[span.range.clone()]);
        docs.push(parse_one(&chunk, span)?);
    }
    // Cross-check with a whole-text parse: the textual split must find the
    // same documents the YAML parser finds.
    let whole = super::documents::parse(text)?;
    if whole.len() != spans.len() {
        return Err(EditError::Unsplittable);
    }
    let pos = select(&docs, selector)?;
    let mut doc = docs[pos].clone();
    for (path, value) in fields {
        let v = serde_yaml::to_value(value).map_err(|source| EditError::Value {
            path: path.to_string(),
            source,
        })?;
        path.set(&mut doc, v)?;
    }
    if doc == docs[pos] {
        // Setting values they already have: leave the file exactly as it is.
        return Ok(text.to_owned());
    }
    let span = &spans[pos];
    let chunk = &text[span.range.clone()];
    let new_chunk = in_place(chunk, fields, &doc).unwrap_or_else(|| rewrite_chunk(chunk, &doc));
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..span.range.start]);
    out.push_str(&new_chunk);
    out.push_str(&text[span.range.end..]);
    Ok(out)
}

/// The chunk with each field's scalar replaced where it is written, if that
/// gives exactly `expected`.
fn in_place(
    chunk: &str,
    fields: &[(FieldPath, serde_json::Value)],
    expected: &Value,
) -> Option<String> {
    let mut text = chunk.to_owned();
    for (path, value) in fields {
        let scalar = emit::scalar_text(&serde_yaml::to_value(value).ok()?)?;
        text = super::surgical::replace_scalar(&text, path, &scalar)?;
    }
    let reparsed: Value = serde_yaml::from_str(&compat::octal_ints(&text)).ok()?;
    (reparsed == *expected).then_some(text)
}

fn parse_one(chunk: &str, span: &Span) -> Result<Value, EditError> {
    serde_yaml::from_str::<Value>(chunk).map_err(|source| {
        let loc = source.location();
        EditError::Parse(super::documents::ParseError::Syntax {
            index: span.index,
            line: loc.as_ref().map(|l| l.line() + span.line - 1),
            column: loc.as_ref().map(|l| l.column()),
            source,
        })
    })
}

fn label(doc: &Value) -> String {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{kind}/{name}")
}

fn select(docs: &[Value], sel: &DocSelector) -> Result<usize, EditError> {
    let matches: Vec<usize> = docs
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            !d.is_null()
                && sel.index.is_none_or(|want| want == *i)
                && sel
                    .kind
                    .as_deref()
                    .is_none_or(|k| d.get("kind").and_then(Value::as_str) == Some(k))
                && sel.name.as_deref().is_none_or(|n| {
                    d.get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str)
                        == Some(n)
                })
        })
        .map(|(i, _)| i)
        .collect();
    let list = |idx: &mut dyn Iterator<Item = usize>| {
        idx.map(|i| format!("{i}: {}", label(&docs[i])))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(EditError::NoMatch {
            selector: sel.describe(),
            available: {
                let all = list(&mut (0..docs.len()).filter(|i| !docs[*i].is_null()));
                if all.is_empty() {
                    "no documents".into()
                } else {
                    all
                }
            },
        }),
        many => Err(EditError::Ambiguous {
            selector: sel.describe(),
            count: many.len(),
            available: list(&mut many.iter().copied()),
        }),
    }
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim_end();
    t.is_empty() || t.starts_with('#')
}

/// The chunk with its content replaced by `doc`, keeping the marker line and
/// the surrounding column-0 comments.
fn rewrite_chunk(chunk: &str, doc: &Value) -> String {
    let lines: Vec<&str> = chunk.split_inclusive('\n').collect();
    let mut head = String::new();
    let mut start = 0;
    if let Some((first, rest)) = lines
        .first()
        .and_then(|f| Some((f, f.strip_prefix("---")?)))
    {
        let rest = rest.trim();
        if rest.is_empty() || rest.starts_with('#') {
            head.push_str(first);
        } else {
            head.push_str("---\n");
        }
        start = 1;
    }
    while start < lines.len() && is_comment_or_blank(lines[start]) {
        head.push_str(lines[start]);
        start += 1;
    }
    if !head.is_empty() && !head.ends_with('\n') {
        head.push('\n');
    }
    let mut end = lines.len();
    while end > start && is_comment_or_blank(lines[end - 1]) {
        end -= 1;
    }
    let tail: String = lines[end..].concat();
    let keep_tail = tail.lines().any(|l| l.starts_with('#'));
    let mut out = head;
    out.push_str(&emit::to_string(doc));
    if keep_tail {
        out.push_str(&tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "# Deployments of the app\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1 # pinned\n      volumes:\n      - name: s\n        secret:\n          secretName: s\n          defaultMode: 0644\n---\n# the service\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n";

    fn path(p: &str) -> FieldPath {
        FieldPath::parse(p).unwrap()
    }

    #[test]
    fn edits_one_document_and_keeps_the_others_verbatim() {
        let out = set_fields(
            FILE,
            &DocSelector::object("Deployment", "web"),
            &[(
                path("spec.template.spec.containers[0].image"),
                json!("web:2"),
            )],
        )
        .unwrap();
        let service = &FILE[FILE.rfind("---\n# the service").unwrap()..];
        assert!(out.ends_with(service), "{out}");
        assert!(out.starts_with("# Deployments of the app\n---\n"), "{out}");
        // Only the image changed: comment, octal mode and layout stay.
        assert_eq!(
            out,
            FILE.replace("image: web:1 # pinned", "image: web:2 # pinned")
        );
        let docs = super::super::documents::parse(&out).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].value["spec"]["template"]["spec"]["volumes"][0]["secret"]["defaultMode"],
            json!(420)
        );
    }

    #[test]
    fn new_keys_rewrite_the_document() {
        let out = set_fields(
            FILE,
            &DocSelector::index(0),
            &[(path("spec.replicas"), json!(3))],
        )
        .unwrap();
        // Rewritten: the octal mode keeps its value, written in decimal.
        assert!(out.contains("defaultMode: 420\n"), "{out}");
        assert!(out.contains("  replicas: 3\n"), "{out}");
        assert!(out.starts_with("# Deployments of the app\n---\n"), "{out}");
        let service = &FILE[FILE.rfind("---\n# the service").unwrap()..];
        assert!(out.ends_with(service), "{out}");
    }

    #[test]
    fn selects_by_index_and_reports_ambiguity() {
        let out = set_fields(
            FILE,
            &DocSelector::index(1),
            &[(path("spec.type"), json!("NodePort"))],
        )
        .unwrap();
        assert!(out.contains("type: NodePort"), "{out}");
        let err = set_fields(FILE, &DocSelector::only(), &[(path("a"), json!(1))]).unwrap_err();
        assert!(
            matches!(err, EditError::Ambiguous { count: 2, .. }),
            "{err}"
        );
        let err = set_fields(
            FILE,
            &DocSelector::object("Service", "api"),
            &[(path("a"), json!(1))],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("0: Deployment/web, 1: Service/web"), "{msg}");
    }

    #[test]
    fn single_document_file_without_marker() {
        let out = set_fields(
            "a: 1\nb: [1, 2]\n",
            &DocSelector::only(),
            &[(path("b[1]"), json!(3))],
        )
        .unwrap();
        assert_eq!(out, "a: 1\nb:\n- 1\n- 3\n");
    }

    #[test]
    fn setting_current_values_changes_nothing() {
        let text = "a: [1, 2] # flow\n";
        let out = set_fields(text, &DocSelector::only(), &[(path("a[0]"), json!(1))]).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn bad_yaml_is_reported() {
        let err =
            set_fields("a: [1,\n", &DocSelector::only(), &[(path("a"), json!(1))]).unwrap_err();
        assert!(matches!(err, EditError::Parse(_)), "{err}");
    }
}
