//! The JSONPath subset CRD printer columns use: `.a.b`, `.a[0]`, `.a[*].b`,
//! `.a[?(@.type=="Ready")].status`, optionally wrapped in `{...}`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter {
        path: Vec<String>,
        value: Value,
        negated: bool,
    },
}

fn parse(expr: &str) -> Option<Vec<Step>> {
    let e = expr.trim();
    let e = e
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(e);
    let e = e.strip_prefix('$').unwrap_or(e);
    let mut steps = Vec::new();
    let b = e.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j > start {
                    steps.push(Step::Field(e[start..j].to_owned()));
                }
                i = j;
            }
            b'[' => {
                let close = find_close(e, i)?;
                let inner = e[i + 1..close].trim();
                steps.push(bracket(inner)?);
                i = close + 1;
            }
            _ => {
                let start = i;
                let mut j = i;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                steps.push(Step::Field(e[start..j].to_owned()));
                i = j;
            }
        }
    }
    Some(steps)
}

fn find_close(e: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in e[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Ok(n) = inner.parse::<usize>() {
        return Some(Step::Index(n));
    }
    if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(Step::Field(q.to_owned()));
    }
    let f = inner.strip_prefix("?(")?.strip_suffix(')')?.trim();
    let (lhs, rhs, negated) = if let Some((l, r)) = f.split_once("!=") {
        (l, r, true)
    } else {
        let (l, r) = f.split_once("==")?;
        (l, r, false)
    };
    let path: Vec<String> = lhs
        .trim()
        .strip_prefix("@.")?
        .split('.')
        .map(str::to_owned)
        .collect();
    let rhs = rhs.trim();
    let value = if let Some(s) = rhs
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| rhs.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
    {
        Value::String(s.to_owned())
    } else {
        serde_json::from_str(rhs).ok()?
    };
    Some(Step::Filter {
        path,
        value,
        negated,
    })
}

/// Every value `expr` selects in `v` (empty when nothing matches or the
/// expression is not understood).
pub fn select(v: &Value, expr: &str) -> Vec<Value> {
    let Some(steps) = parse(expr) else {
        return Vec::new();
    };
    let mut cur = vec![v.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for c in &cur {
            match step {
                Step::Field(f) => next.extend(c.get(f).cloned()),
                Step::Index(n) => next.extend(c.get(*n).cloned()),
                Step::All => match c {
                    Value::Array(a) => next.extend(a.iter().cloned()),
                    Value::Object(m) => next.extend(m.values().cloned()),
                    _ => {}
                },
                Step::Filter {
                    path,
                    value,
                    negated,
                } => {
                    for item in c.as_array().into_iter().flatten() {
                        let got = path.iter().try_fold(item, |acc, p| acc.get(p));
                        if (got == Some(value)) != *negated {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printer_column_paths() {
        let o = json!({"status": {"conditions": [{"type": "Healthy", "status": "False"}, {"type": "Ready", "status": "True", "message": "ok"}]},
            "spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        assert_eq!(
            select(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            vec![json!("True")]
        );
        assert_eq!(
            select(&o, "{.status.conditions[?(@.type=='Ready')].message}"),
            vec![json!("ok")]
        );
        assert_eq!(
            select(&o, ".spec.containers[*].image"),
            vec![json!("a"), json!("b")]
        );
        assert_eq!(select(&o, ".spec.containers[1].image"), vec![json!("b")]);
        assert!(select(&o, ".nope.x").is_empty());
    }
}
