//! YAML 1.1 integers that Kubernetes tools read differently from `serde_yaml`.
//!
//! `serde_yaml` follows YAML 1.2, where a plain `0644` is the *string*
//! `"0644"`. The Go YAML readers behind `kubectl` and Flux parse integers with
//! Go's base prefix rules, so `defaultMode: 0644` is the octal number 420 — a
//! very common field in real manifests (Secret and ConfigMap volumes). Left
//! alone, rendering would send the API a string where it wants an integer,
//! and rewriting a document would quote it.
//!
//! [`octal_ints`] rewrites such plain scalars to the YAML 1.2 octal form
//! `0o644`, which `serde_yaml` reads as 420. It only touches a value that is
//! a whole plain scalar after `key: ` or `- `, outside block scalars
//! (`|`/`>` text is left exactly as written), and never quoted values.
//! Values inside flow collections (`{defaultMode: 0644}`) are not
//! rewritten.

use std::borrow::Cow;

/// Rewrites plain `0[0-7]+` scalars (Go/YAML 1.1 octal integers) to `0o…`.
///
/// Returns the input unchanged (borrowed) when there is nothing to rewrite.
pub fn octal_ints(text: &str) -> Cow<'_, str> {
    // Fast path: most files have no candidate at all.
    if !text.contains(": 0") && !text.contains("- 0") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    // Indentation of the line that opened a block scalar; deeper lines (and
    // blank lines) belong to the scalar's text.
    let mut block_at: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(open) = block_at {
            if body.trim().is_empty() || indent > open {
                out.push_str(line);
                continue;
            }
            block_at = None;
        }
        let (value_start, value) = value_part(body);
        if opens_block_scalar(value) {
            block_at = Some(indent);
        }
        match octal_value(value) {
            Some(digits_at) => {
                let at = value_start + digits_at;
                out.push_str(&line[..at]);
                out.push_str("0o");
                out.push_str(&line[at + 1..]);
                changed = true;
            }
            None => out.push_str(line),
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// The value part of a block-context line (`key: value`, `- value`,
/// `- key: value`), with its byte offset in the line.
fn value_part(body: &str) -> (usize, &str) {
    let mut start = body.len() - body.trim_start().len();
    // Sequence dashes, possibly nested (`- - x`).
    while body[start..].starts_with("- ") {
        start += 2;
        start += body[start..].len() - body[start..].trim_start().len();
    }
    let rest = &body[start..];
    // A key: the first `: ` outside quotes (keys in manifests are simple).
    if let (false, Some(pos)) = (rest.starts_with(['"', '\'']), rest.find(": ")) {
        let mut v = start + pos + 2;
        v += body[v..].len() - body[v..].trim_start().len();
        return (v, &body[v..]);
    }
    (start, rest)
}

fn opens_block_scalar(value: &str) -> bool {
    let v = strip_comment(value).trim_end();
    let Some(rest) = v.strip_prefix(['|', '>']) else {
        return false;
    };
    rest.chars().all(|c| matches!(c, '-' | '+' | '1'..='9'))
}

fn strip_comment(value: &str) -> &str {
    match value.find(" #") {
        Some(p) => &value[..p],
        None => value,
    }
}

/// Byte offset of the leading `0` when `value` is a plain octal integer.
fn octal_value(value: &str) -> Option<usize> {
    let v = strip_comment(value).trim_end();
    let sign = usize::from(v.starts_with(['-', '+']));
    let digits = &v[sign..];
    let is_octal = digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
    is_octal.then_some(sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_plain_octal_values() {
        let text = "defaultMode: 0644\nitems:\n- mode: 0400 # owner read\n- 0755\nport: 8080\n";
        assert_eq!(
            octal_ints(text),
            "defaultMode: 0o644\nitems:\n- mode: 0o400 # owner read\n- 0o755\nport: 8080\n"
        );
        let v: serde_yaml::Value = serde_yaml::from_str(&octal_ints(text)).unwrap();
        assert_eq!(v["defaultMode"].as_u64(), Some(420));
    }

    #[test]
    fn leaves_quoted_values_block_scalars_and_non_octal_alone() {
        let text = "a: '0644'\nb: \"0644\"\nc: 0\nd: 089\ne: |\n  mode: 0644\n  - 0755\nf: 0644\n";
        assert_eq!(
            octal_ints(text),
            "a: '0644'\nb: \"0644\"\nc: 0\nd: 089\ne: |\n  mode: 0644\n  - 0755\nf: 0o644\n"
        );
    }

    #[test]
    fn borrowed_when_nothing_changes() {
        assert!(matches!(octal_ints("a: 1\n"), Cow::Borrowed(_)));
        assert!(matches!(octal_ints("a: 0\n"), Cow::Borrowed(_)));
    }
}
