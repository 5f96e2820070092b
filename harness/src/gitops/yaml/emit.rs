//! A YAML writer for rewritten documents that every Kubernetes tool reads
//! back as the same values.
//!
//! `serde_yaml` writes strings such as `yes`, `on` or `n` unquoted (they are
//! strings in YAML 1.2), but `kubectl` reads YAML 1.1, where they are
//! booleans: a rewritten `value: "on"` would become `true`. This writer
//! quotes every string that any YAML 1.1 or 1.2 reader could take for
//! something else, writes multi-line strings as literal blocks, and uses the
//! layout `kubectl get -o yaml` uses (two-space indent, sequences not
//! indented under their key).

use std::fmt::Write as _;

use serde_yaml::Value;

/// Writes one document (without a `---` marker), ending with a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(m) if !m.is_empty() => write_mapping(&mut out, m, 0),
        Value::Sequence(s) if !s.is_empty() => write_sequence(&mut out, s, 0),
        other => {
            write_inline(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

/// A scalar written on one line (for an in-place replacement), or `None`
/// for collections and multi-line strings.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            let mut out = String::new();
            write_inline(&mut out, value, 0);
            Some(out)
        }
        Value::String(s) if !s.contains('\n') => {
            let mut out = String::new();
            write_string(&mut out, s, None);
            Some(out)
        }
        _ => None,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_mapping(out: &mut String, map: &serde_yaml::Mapping, indent: usize) {
    for (i, (k, v)) in map.iter().enumerate() {
        // The first key of a mapping inside a sequence item sits after "- ".
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        write_key(out, k);
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

fn write_sequence(out: &mut String, seq: &[Value], indent: usize) {
    for (i, item) in seq.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Mapping(m) if !m.is_empty() => write_mapping(out, m, indent + 2),
            Value::Sequence(s) if !s.is_empty() => write_sequence(out, s, indent + 2),
            other => {
                write_inline(out, other, indent + 2);
                out.push('\n');
            }
        }
    }
}

fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, m, indent + 2);
        }
        // Sequences under a key are not indented, as kubectl writes them.
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            write_sequence(out, s, indent);
        }
        other => {
            out.push(' ');
            write_inline(out, other, indent + 2);
            out.push('\n');
        }
    }
}

fn write_key(out: &mut String, k: &Value) {
    match k {
        Value::String(s) => write_string(out, s, None),
        Value::Null | Value::Bool(_) | Value::Number(_) => write_inline(out, k, 0),
        // Collection keys never occur in manifests; a quoted rendering keeps
        // the file valid.
        other => {
            let text = serde_yaml::to_string(other).unwrap_or_default();
            write_double_quoted(out, text.trim_end());
        }
    }
}

/// Writes a scalar, an empty collection or a tagged value on the current
/// line; `indent` is the indentation of block-scalar content.
fn write_inline(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, Some(indent)),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Mapping(_) => out.push_str("{}"),
        Value::Tagged(t) => {
            let _ = write!(out, "{} ", t.tag);
            match &t.value {
                Value::Mapping(m) if !m.is_empty() => {
                    out.push('\n');
                    write_mapping(out, m, indent);
                    // write_mapping ended the line; the caller adds another.
                    out.pop();
                }
                Value::Sequence(s) if !s.is_empty() => {
                    out.push('\n');
                    write_sequence(out, s, indent);
                    out.pop();
                }
                inner => write_inline(out, inner, indent),
            }
        }
    }
}

/// `block_indent` is `Some` where a literal block is allowed (values, not keys).
fn write_string(out: &mut String, s: &str, block_indent: Option<usize>) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if let (Some(indent), true) = (block_indent, literal_ok(s)) {
        write_literal(out, s, indent.max(2));
    } else {
        write_double_quoted(out, s);
    }
}

fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        // A first line starting with whitespace would need an indentation
        // indicator; double quotes are simpler and exact.
        && !s.starts_with([' ', '\t'])
        && !s
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}')
        // Trailing spaces on a line survive a literal block, but lines of
        // only spaces before text can confuse indentation detection.
        && !s.lines().any(|l| !l.is_empty() && l.trim().is_empty())
}

fn write_literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
    // Keep-chomped extra newlines are written as empty lines by the split
    // above; the caller ends the last line.
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` can be written as a plain scalar and read back, by YAML 1.1
/// and 1.2 readers alike, as this same string.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    let second = s.chars().nth(1);
    // A dash starts a plain scalar when something other than a space follows
    // (`--port=9898`), unless it is a negative number.
    let dash_ok =
        first == '-' && second.is_some_and(|c| c != ' ' && c != '.' && !c.is_ascii_digit());
    if "-?:,[]{}#&*!|>'\"%@`+".contains(first) && !dash_ok {
        return false;
    }
    // Anything that starts like a number (ints, floats, octal, hex,
    // sexagesimal, dates) is quoted.
    if first.is_ascii_digit() || (first == '.' && second.is_some_and(|c| c.is_ascii_digit())) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "y" | "n"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "true"
            | "false"
            | "null"
            | "~"
            | ".inf"
            | ".nan"
            | "<<"
            | "="
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &str) -> (String, Value) {
        let v: Value = serde_yaml::from_str(src).unwrap();
        let text = to_string(&v);
        let back: Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("re-parse failed: {e}\n{text}"));
        assert_eq!(back, v, "round trip changed the value:\n{text}");
        (text, v)
    }

    #[test]
    fn writes_kubectl_layout() {
        let (text, _) = roundtrip(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {app: x}\n\
             spec:\n  containers:\n  - name: a\n    image: i:1\n    args: [--x, '--y']\n  volumes: []\n",
        );
        assert_eq!(
            text,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels:\n    app: x\n\
             spec:\n  containers:\n  - name: a\n    image: i:1\n    args:\n    - --x\n    - --y\n  volumes: []\n"
        );
    }

    #[test]
    fn quotes_strings_yaml_1_1_would_misread() {
        let (text, _) = roundtrip(
            "a: 'on'\nb: 'yes'\nc: 'N'\nd: '0644'\ne: '1.5'\nf: '2024-01-01'\ng: ''\nh: 'null'\n\
             i: 'x: y'\nj: '#x'\nk: ' lead'\nl: '- item'\nm: '1e3'\nn: '.5'\no: '.inf'\np: '-1'\n",
        );
        for line in text.lines() {
            assert!(line.contains(": \""), "not quoted: {line}");
        }
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let (text, _) =
            roundtrip("s: \"line 1\\nline 2\\n\"\nt: \"no newline\\nend\"\nu: \"two\\n\\n\"\n");
        assert!(text.contains("s: |\n  line 1\n  line 2\n"), "{text}");
        assert!(text.contains("t: |-\n"), "{text}");
        assert!(text.contains("u: |+\n"), "{text}");
        roundtrip("- \"  indented first\\nline\\n\"\n- x: \"a\\nb\\n\"\n  y: 1\n");
        let (text, _) = roundtrip("args: [--port=9898, '-1', '-.5', '-', '- x']\n");
        assert!(text.contains("- --port=9898\n"), "{text}");
    }

    #[test]
    fn scalars_collections_and_tags_round_trip() {
        roundtrip(
            "a: 1\nb: -2.5\nc: true\nd: null\ne: {}\nf: []\ng: [[1, 2], [3]]\nh: [{a: 1, b: [x]}]\n",
        );
        roundtrip("t: !custom {a: 1}\nu: !other x\n");
        roundtrip("\"key: with colon\": 1\n\"1\": numeric key string\n2: numeric key\n");
        roundtrip("ctrl: \"bell\\u0007\"\nquote: 'say \"hi\"'\nbackslash: 'C:\\dir'\n");
    }
}
