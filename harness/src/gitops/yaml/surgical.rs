//! Minimal edits: a scalar replaced where it is written, the rest of the
//! document left byte for byte.
//!
//! Setting `spec.template.spec.containers[0].image` should change one line
//! of a Deployment, so the commit's diff (and the diff of its revert) is what
//! a person would have written. This module finds where a value is written
//! in block-style YAML by following the path through indentation — keys at
//! a block's indentation, `- ` items of sequences (also "indentless" ones
//! under their key), `[name=x]` matches — and replaces the scalar's text.
//!
//! It is a heuristic, so it is checked: the caller parses the result and
//! compares it with the value the edit must produce, and falls back to
//! rewriting the document when they differ or when the path goes through
//! flow collections (`{…}`, `[…]`), multi-line scalars, anchors or keys
//! that do not exist yet.

use super::path::{FieldPath, Segment};

/// One line of the document.
struct Line<'a> {
    /// Byte offset of the line in the text.
    start: usize,
    /// The line without its line break.
    body: &'a str,
}

/// A position inside a line where content starts: an indentation column
/// (for a sequence item's first line, the column after `- `).
#[derive(Clone, Copy)]
struct At {
    line: usize,
    col: usize,
}

/// A block of the document: lines `from..to`, the first of which may start
/// at a column other than its indentation (after `- `).
#[derive(Clone, Copy)]
struct Block {
    first: At,
    to: usize,
}

fn is_content(body: &str) -> bool {
    let t = body.trim_start();
    !(t.is_empty() || t.starts_with('#') || body.starts_with("---") || body.starts_with("..."))
}

fn indent(body: &str) -> usize {
    body.len() - body.trim_start_matches(' ').len()
}

/// Replaces, in `text` (one YAML document), the scalar at `path` by
/// `new_scalar` (already written as YAML). `None` when the path cannot be
/// followed textually.
pub(crate) fn replace_scalar(text: &str, path: &FieldPath, new_scalar: &str) -> Option<String> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        lines.push(Line {
            start: offset,
            body: raw.trim_end_matches(['\n', '\r']),
        });
        offset += raw.len();
    }
    let first = (0..lines.len()).find(|&i| is_content(lines[i].body))?;
    let mut block = Block {
        first: At {
            line: first,
            col: indent(lines[first].body),
        },
        to: lines.len(),
    };
    let segments = path.segments();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let found = match seg {
            Segment::Key(k) => find_key(&lines, block, k)?,
            Segment::Index(n) => find_item(&lines, block, |_, _| true, *n)?,
            Segment::Match { key, value } => find_item(
                &lines,
                block,
                |lines, item| {
                    find_key(lines, item, key)
                        .and_then(|v| match v {
                            Value::Inline(at) => scalar_span(lines[at.line].body, at.col),
                            Value::Block(_) => None,
                        })
                        .is_some_and(|(_, _, text)| text == *value)
                },
                0,
            )?,
        };
        match (found, last) {
            (Value::Inline(at), true) => {
                let body = lines[at.line].body;
                let (s, e, _) = scalar_span(body, at.col)?;
                let base = lines[at.line].start;
                let mut out = String::with_capacity(text.len() + new_scalar.len());
                out.push_str(&text[..base + s]);
                out.push_str(new_scalar);
                out.push_str(&text[base + e..]);
                return Some(out);
            }
            (Value::Block(b), false) => block = b,
            // A block where a scalar is replaced, or a scalar the path goes into.
            _ => return None,
        }
    }
    None
}

enum Value {
    /// The value starts on this line at this column.
    Inline(At),
    /// The value is the block of lines below.
    Block(Block),
}

/// The column where a line's content starts, in a block.
fn col_of(lines: &[Line<'_>], block: Block, i: usize) -> usize {
    if i == block.first.line {
        block.first.col
    } else {
        indent(lines[i].body)
    }
}

/// The end (exclusive) of the value of an entry at line `i`, column `col`:
/// the next content line at a column `<= col` (a `- ` line at `col` still
/// belongs to the entry when `dash_continues`, for indentless sequences).
fn entry_end(
    lines: &[Line<'_>],
    block: Block,
    i: usize,
    col: usize,
    dash_continues: bool,
) -> usize {
    (i + 1..block.to)
        .find(|&j| {
            let body = lines[j].body;
            if !is_content(body) {
                return false;
            }
            let c = indent(body);
            c < col || (c == col && !(dash_continues && body[c..].starts_with('-')))
        })
        .unwrap_or(block.to)
}

fn find_key(lines: &[Line<'_>], block: Block, key: &str) -> Option<Value> {
    let col = block.first.col;
    for i in block.first.line..block.to {
        let body = lines[i].body;
        if !is_content(body) || col_of(lines, block, i) != col || body.len() < col {
            continue;
        }
        let content = &body[col..];
        let rest = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .find_map(|p| content.strip_prefix(p.as_str()))
        .filter(|r| r.is_empty() || r.starts_with([' ', '\t']));
        let Some(rest) = rest else { continue };
        let value_col = body.len() - rest.trim_start().len();
        let inline = rest.trim_start();
        if inline.is_empty() || inline.starts_with('#') {
            let to = entry_end(lines, block, i, col, true);
            let first = (i + 1..to).find(|&j| is_content(lines[j].body))?;
            return Some(Value::Block(Block {
                first: At {
                    line: first,
                    col: indent(lines[first].body),
                },
                to,
            }));
        }
        return Some(Value::Inline(At {
            line: i,
            col: value_col,
        }));
    }
    None
}

/// The `n`-th item (0-based) of the sequence in `block` for which `accept`
/// holds.
fn find_item(
    lines: &[Line<'_>],
    block: Block,
    accept: impl Fn(&[Line<'_>], Block) -> bool,
    n: usize,
) -> Option<Value> {
    let col = block.first.col;
    let mut seen = 0;
    for i in block.first.line..block.to {
        let body = lines[i].body;
        if !is_content(body) || col_of(lines, block, i) != col {
            continue;
        }
        let content = &body[col..];
        if !(content == "-" || content.starts_with("- ")) {
            // A block that is not a sequence.
            return None;
        }
        let to = entry_end(lines, block, i, col, false);
        let after = content[1..].trim_start();
        let value = if after.is_empty() || after.starts_with('#') {
            let first = (i + 1..to).find(|&j| is_content(lines[j].body))?;
            Value::Block(Block {
                first: At {
                    line: first,
                    col: indent(lines[first].body),
                },
                to,
            })
        } else {
            let at = At {
                line: i,
                col: body.len() - after.len(),
            };
            // `- key: value` starts a mapping; `- value` is a scalar item.
            if looks_like_mapping(after) {
                Value::Block(Block { first: at, to })
            } else {
                Value::Inline(at)
            }
        };
        let ok = match &value {
            Value::Block(b) => accept(lines, *b),
            Value::Inline(_) => accept(
                lines,
                Block {
                    first: At { line: i, col },
                    to: i,
                },
            ),
        };
        if ok {
            if seen == n {
                return Some(value);
            }
            seen += 1;
        }
    }
    None
}

fn looks_like_mapping(content: &str) -> bool {
    if content.starts_with(['"', '\'', '[', '{', '|', '>', '&', '*', '!']) {
        return false;
    }
    content.find(": ").is_some() || content.ends_with(':')
}

/// The span `(start, end)` of the single-line scalar starting at `col` of
/// `body`, and its unquoted text. `None` for anything else.
fn scalar_span(body: &str, col: usize) -> Option<(usize, usize, String)> {
    let v = body.get(col..)?;
    let first = v.chars().next()?;
    match first {
        '"' => {
            let mut escaped = false;
            for (i, c) in v.char_indices().skip(1) {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        let text = serde_yaml::from_str::<String>(&v[..=i]).ok()?;
                        return Some((col, col + i + 1, text));
                    }
                    _ => {}
                }
            }
            None
        }
        '\'' => {
            let bytes = v.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some((col, col + i + 1, v[1..i].replace("''", "'")));
                }
                i += 1;
            }
            None
        }
        '[' | '{' | '|' | '>' | '&' | '*' | '!' | '#' => None,
        _ => {
            let end = v.find(" #").unwrap_or(v.len());
            let text = v[..end].trim_end();
            Some((col, col + text.len(), text.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(text: &str, path: &str, new: &str) -> Option<String> {
        replace_scalar(text, &FieldPath::parse(path).unwrap(), new)
    }

    const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # the web tier
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox:1
      containers:
        - name: web
          # pinned by policy
          image: \"web:1\"   # keep in sync
          args: [--a]
        - name: sidecar
          image: proxy:2
";

    #[test]
    fn replaces_only_the_scalar() {
        let out = replace(DEPLOY, "spec.template.spec.containers[0].image", "web:2").unwrap();
        assert_eq!(out, DEPLOY.replace("\"web:1\"", "web:2"));
        let out = replace(
            DEPLOY,
            "spec.template.spec.containers[name=sidecar].image",
            "proxy:3",
        )
        .unwrap();
        assert_eq!(out, DEPLOY.replace("proxy:2", "proxy:3"));
        let out = replace(DEPLOY, "metadata.name", "api").unwrap();
        assert_eq!(out, DEPLOY.replace("name: web # the", "name: api # the"));
    }

    #[test]
    fn handles_indentless_sequences_and_scalar_items() {
        let text = "spec:\n  containers:\n  - name: a\n    image: a:1\n  - name: b\n    image: b:1\n    args:\n    - --x\n    - --y\n";
        let out = replace(text, "spec.containers[1].image", "b:2").unwrap();
        assert_eq!(out, text.replace("b:1", "b:2"));
        let out = replace(text, "spec.containers[1].args[1]", "--z").unwrap();
        assert_eq!(out, text.replace("--y", "--z"));
    }

    #[test]
    fn gives_up_on_what_it_cannot_follow() {
        assert!(
            replace(DEPLOY, "spec.template.spec.containers[0].args[0]", "x").is_none(),
            "flow list"
        );
        assert!(replace(DEPLOY, "spec.missing", "x").is_none());
        assert!(
            replace(DEPLOY, "spec.template", "x").is_none(),
            "a block, not a scalar"
        );
        assert!(replace("a: |\n  text\n", "a", "x").is_none());
    }
}
