//! How deeply a YAML or JSON text nests, measured in one linear pass before
//! any parser sees it.
//!
//! Parsers refuse deep nesting themselves (serde_json and serde_yaml stop
//! at 128 levels), but only after tokenising the whole text: a body of
//! 100,000 `[` costs the YAML parser seconds (minutes in a debug build)
//! before it says "recursion limit exceeded", and an API server parsing it
//! on an async thread stalls every other client meanwhile. [`check`] finds
//! the same problem in microseconds.
//!
//! The count is of flow collections (`[`, `{` opening a node, outside
//! quotes and comments) plus compact block sequences on one line
//! (`- - - x`). Block mappings and sequences nested by indentation are not
//! counted: each level costs a line and a wider indent, so a text of
//! bounded size cannot nest them deep enough to matter.

/// The deepest nesting accepted: the parsers' own limit.
pub const MAX_DEPTH: usize = 128;

/// A text that nests deeper than the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("nests deeper than {limit} levels (line {line}, column {column})")]
pub struct TooDeep {
    /// The limit that was passed.
    pub limit: usize,
    /// 1-based line where the nesting passed the limit.
    pub line: usize,
    /// 1-based column (bytes) where the nesting passed the limit.
    pub column: usize,
}

/// Checks that `text` nests at most `limit` levels (see the module docs).
///
/// # Errors
/// [`TooDeep`] with the position where the limit was passed.
pub fn check(text: &[u8], limit: usize) -> Result<(), TooDeep> {
    let mut flow = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    // Whether the next non-blank byte starts a node (where `[`/`{` open a
    // collection rather than sit inside a plain scalar such as `a[0]`).
    let mut node_start = true;
    // Compact block sequences on this line (`- - x`).
    let mut compact = 0usize;
    let mut at_line_start = true;
    let mut i = 0usize;
    while i < text.len() {
        let b = text[i];
        let too_deep = |depth: usize| {
            (depth > limit).then_some(TooDeep {
                limit,
                line,
                column: i - line_start + 1,
            })
        };
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                compact = 0;
                at_line_start = true;
                node_start = true;
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if at_line_start || i == 0 || matches!(text[i - 1], b' ' | b'\t') => {
                // A comment runs to the end of the line.
                while i + 1 < text.len() && text[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' if node_start => {
                i = skip_quoted(text, i, &mut line, &mut line_start);
                node_start = false;
                at_line_start = false;
            }
            b'[' | b'{' if node_start => {
                flow += 1;
                if let Some(e) = too_deep(flow + compact) {
                    return Err(e);
                }
                at_line_start = false;
            }
            b']' | b'}' if flow > 0 => {
                flow -= 1;
                node_start = false;
            }
            b',' if flow > 0 => node_start = true,
            b'-' | b'?' | b':'
                if text.get(i + 1).is_none_or(|c| c.is_ascii_whitespace())
                    && (node_start || b == b':') =>
            {
                if b == b'-' && flow == 0 && node_start {
                    compact += 1;
                    if let Some(e) = too_deep(flow + compact) {
                        return Err(e);
                    }
                }
                node_start = true;
                at_line_start = false;
            }
            b':' if flow > 0 => node_start = true,
            _ => {
                node_start = false;
                at_line_start = false;
            }
        }
        i += 1;
    }
    Ok(())
}

/// Skips a quoted scalar starting at `start`, returning the index of its
/// closing quote (or the last byte when it is not closed), counting lines.
fn skip_quoted(text: &[u8], start: usize, line: &mut usize, line_start: &mut usize) -> usize {
    let quote = text[start];
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && text.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == quote => return i,
            b'\n' => {
                *line += 1;
                *line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    text.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str, limit: usize) -> bool {
        check(text.as_bytes(), limit).is_ok()
    }

    #[test]
    fn deep_flow_and_compact_sequences_are_refused_where_they_pass_the_limit() {
        let e = check("[".repeat(100_000).as_bytes(), 128).unwrap_err();
        assert_eq!((e.line, e.column), (1, 129));
        let e = check(format!("a:\n  b: {}", "{".repeat(200)).as_bytes(), 128).unwrap_err();
        assert_eq!((e.line, e.column), (2, 6 + 128));
        assert!(check(format!("{}x", "- ".repeat(200)).as_bytes(), 128).is_err());
        assert!(depth_ok(&format!("{}x", "- ".repeat(100)), 128));
        assert!(depth_ok(
            &format!("{}{}", "[".repeat(128), "]".repeat(128)),
            128
        ));
        assert!(!depth_ok(
            &format!("{}{}", "[".repeat(129), "]".repeat(129)),
            128
        ));
    }

    #[test]
    fn brackets_in_scalars_comments_and_quotes_do_not_count() {
        let text = "a: x[0]\nb: \"[[[[\" # [[[[\nc: '{{{{' \nd: [1, [2, {e: f}]]\n- - x\n";
        assert!(depth_ok(text, 3));
        assert!(!depth_ok(text, 2));
        assert!(depth_ok(&format!("k: {}", "a[".repeat(500)), 1));
        assert!(depth_ok(&format!("# {}", "[".repeat(500)), 0));
    }

    #[test]
    fn json_and_real_manifests_pass() {
        let json = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","labels":{"a":"b"}},"data":{"k":"[{v}]"}}"#;
        assert!(depth_ok(json, 3));
        assert!(!depth_ok(json, 2));
        let manifest = include_str!("../../fixtures/repos/podinfo/apps/podinfo/deployment.yaml");
        assert!(depth_ok(manifest, MAX_DEPTH));
    }
}
