//! `spec.ref.semver`: picking the highest tag that satisfies a semantic
//! version range, with the constraint syntax Flux uses (Masterminds
//! semver): comparisons `=`, `!=`, `>`, `>=`, `<`, `<=`; `~1.2` (patch
//! updates), `^1.2` (no breaking updates); wildcards `1.2.x`, `1.*`, `*`;
//! hyphen ranges `1.2 - 1.4.5`; `,` or space for AND and `||` for OR.
//! Pre-releases only match constraints that mention one.

use std::cmp::Ordering;

/// A semantic version (build metadata ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major, minor, patch.
    pub core: [u64; 3],
    /// Pre-release identifiers (empty for a release).
    pub pre: Vec<String>,
}

impl Version {
    /// Parses `v1.2.3`, `1.2.3-rc.1`, `1.2` (missing parts are 0).
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim().trim_start_matches(['v', 'V']);
        let t = t.split('+').next()?;
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, p.split('.').map(str::to_owned).collect()),
            None => (t, Vec::new()),
        };
        let mut parts = [0u64; 3];
        let mut n = 0;
        for (i, p) in core.split('.').enumerate() {
            if i >= 3 {
                return None;
            }
            parts[i] = p.parse().ok()?;
            n = i + 1;
        }
        (n > 0).then_some(Version { core: parts, pre })
    }

    fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        for (x, y) in a.iter().zip(b) {
            let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                (Ok(_), Err(_)) => Ordering::Less,
                (Err(_), Ok(_)) => Ordering::Greater,
                _ => x.cmp(y),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.len().cmp(&b.len())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| Version::cmp_pre(&self.pre, &other.pre))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
struct Cmp {
    op: Op,
    v: Version,
}

impl Cmp {
    fn matches(&self, v: &Version) -> bool {
        let o = v.cmp(&self.v);
        match self.op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
        }
    }
}

/// A parsed constraint: OR of ANDs.
#[derive(Debug, Clone)]
pub struct Constraint {
    any: Vec<(Vec<Cmp>, bool)>,
}

/// A partial version (`1`, `1.2`, `1.2.x`): the given parts and how many.
fn partial(text: &str) -> Option<([u64; 3], usize, Vec<String>)> {
    let t = text.trim_start_matches(['v', 'V']);
    if t.is_empty() || t == "*" || t.eq_ignore_ascii_case("x") {
        return Some(([0; 3], 0, Vec::new()));
    }
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(str::to_owned).collect()),
        None => (t, Vec::new()),
    };
    let mut parts = [0u64; 3];
    let mut n = 0;
    for (i, p) in core.split('.').enumerate() {
        if i >= 3 {
            return None;
        }
        if p == "*" || p.eq_ignore_ascii_case("x") {
            break;
        }
        parts[i] = p.parse().ok()?;
        n = i + 1;
    }
    Some((parts, n, pre))
}

fn version(parts: [u64; 3], pre: Vec<String>) -> Version {
    Version { core: parts, pre }
}

/// The exclusive upper bound of a partial version with `n` parts given.
fn bump(parts: [u64; 3], n: usize) -> Option<Version> {
    match n {
        0 => None,
        1 => Some(version([parts[0] + 1, 0, 0], Vec::new())),
        2 => Some(version([parts[0], parts[1] + 1, 0], Vec::new())),
        _ => None,
    }
}

fn term(text: &str) -> Option<Vec<Cmp>> {
    let ops = [">=", "<=", "!=", "=>", "=<", ">", "<", "=", "~>", "~", "^"];
    let (op, rest) = ops
        .iter()
        .find_map(|o| text.strip_prefix(o).map(|r| (*o, r.trim())))
        .unwrap_or(("", text));
    let (parts, n, pre) = partial(rest)?;
    let lo = version(parts, pre);
    let cmp = |op, v| Cmp { op, v };
    Some(match op {
        "" | "=" => match (n, bump(parts, n)) {
            (3, _) => vec![cmp(Op::Eq, lo)],
            (0, _) => vec![cmp(Op::Ge, version([0; 3], Vec::new()))],
            (_, Some(hi)) => vec![cmp(Op::Ge, lo), cmp(Op::Lt, hi)],
            _ => return None,
        },
        "!=" => vec![cmp(Op::Ne, lo)],
        ">" => match bump(parts, n) {
            Some(hi) if n < 3 => vec![cmp(Op::Ge, hi)],
            _ => vec![cmp(Op::Gt, lo)],
        },
        ">=" | "=>" => vec![cmp(Op::Ge, lo)],
        "<" => vec![cmp(Op::Lt, lo)],
        "<=" | "=<" => match bump(parts, n) {
            Some(hi) if n < 3 => vec![cmp(Op::Lt, hi)],
            _ => vec![cmp(Op::Le, lo)],
        },
        "~" | "~>" => {
            let hi = if n <= 1 {
                version([parts[0] + 1, 0, 0], Vec::new())
            } else {
                version([parts[0], parts[1] + 1, 0], Vec::new())
            };
            vec![cmp(Op::Ge, lo), cmp(Op::Lt, hi)]
        }
        "^" => {
            let hi = match (parts, n) {
                ([0, 0, p], 3) => version([0, 0, p + 1], Vec::new()),
                ([0, m, _], k) if k >= 2 => version([0, m + 1, 0], Vec::new()),
                ([maj, ..], _) => version([maj + 1, 0, 0], Vec::new()),
            };
            vec![cmp(Op::Ge, lo), cmp(Op::Lt, hi)]
        }
        _ => return None,
    })
}

impl Constraint {
    /// Parses a constraint.
    ///
    /// # Errors
    /// A message quoting the constraint when it cannot be parsed.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let bad = || format!("improper constraint: {text}");
        let mut any = Vec::new();
        for alternative in text.split("||") {
            let alt = alternative.trim();
            let mut all = Vec::new();
            let mentions_pre = alt.contains('-') && !alt.contains(" - ");
            // Hyphen range: `A - B`.
            if let Some((a, b)) = alt.split_once(" - ") {
                let (lo, _, lo_pre) = partial(a.trim()).ok_or_else(bad)?;
                let (hi, n, hi_pre) = partial(b.trim()).ok_or_else(bad)?;
                all.push(Cmp {
                    op: Op::Ge,
                    v: version(lo, lo_pre),
                });
                match bump(hi, n) {
                    Some(top) if n < 3 => all.push(Cmp { op: Op::Lt, v: top }),
                    _ => all.push(Cmp {
                        op: Op::Le,
                        v: version(hi, hi_pre),
                    }),
                }
                any.push((all, false));
                continue;
            }
            let mut tokens: Vec<String> = Vec::new();
            for tok in alt.split([',', ' ']).filter(|t| !t.is_empty()) {
                // `>= 1.2` written with a space: join the operator back.
                if let Some(last) = tokens.last_mut()
                    && last.chars().all(|c| "<>=!~^".contains(c))
                {
                    last.push_str(tok);
                } else {
                    tokens.push(tok.to_owned());
                }
            }
            if tokens.is_empty() {
                return Err(bad());
            }
            for t in tokens {
                all.extend(term(&t).ok_or_else(bad)?);
            }
            any.push((all, mentions_pre));
        }
        Ok(Constraint { any })
    }

    /// True when `v` satisfies the constraint.
    pub fn matches(&self, v: &Version) -> bool {
        self.any
            .iter()
            .any(|(all, pre_ok)| (v.pre.is_empty() || *pre_ok) && all.iter().all(|c| c.matches(v)))
    }
}

/// The highest of `tags` (names such as `v1.2.3`) that satisfies
/// `constraint`, and its name.
///
/// # Errors
/// A message when the constraint is malformed.
pub fn highest<'a>(
    constraint: &str,
    tags: impl IntoIterator<Item = &'a str>,
) -> Result<Option<&'a str>, String> {
    let c = Constraint::parse(constraint)?;
    Ok(tags
        .into_iter()
        .filter_map(|t| Version::parse(t).map(|v| (v, t)))
        .filter(|(v, _)| c.matches(v))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: [&str; 8] = [
        "v0.9.0",
        "v1.0.0",
        "v1.2.0",
        "v1.2.5",
        "v1.3.0-rc.1",
        "v1.4.1",
        "v2.0.0",
        "latest",
    ];

    fn pick(c: &str) -> Option<&'static str> {
        highest(c, TAGS).unwrap()
    }

    #[test]
    fn picks_the_highest_satisfying_tag() {
        assert_eq!(pick("*"), Some("v2.0.0"));
        assert_eq!(pick(">=1.0.0 <2.0.0"), Some("v1.4.1"));
        assert_eq!(pick(">=1.0.0, <2.0.0"), Some("v1.4.1"));
        assert_eq!(pick("~1.2"), Some("v1.2.5"));
        assert_eq!(pick("~1.2.0"), Some("v1.2.5"));
        assert_eq!(pick("^1.0"), Some("v1.4.1"));
        assert_eq!(pick("1.2.x"), Some("v1.2.5"));
        assert_eq!(pick("1.x"), Some("v1.4.1"));
        assert_eq!(pick("<1.0.0 || >=2.0.0"), Some("v2.0.0"));
        assert_eq!(pick("1.0 - 1.2"), Some("v1.2.5"));
        assert_eq!(pick("=1.2.0"), Some("v1.2.0"));
        assert_eq!(pick(">= 1.3.0-rc.0, < 1.4.0"), Some("v1.3.0-rc.1"));
        assert_eq!(
            pick(">=1.3.0 <1.4.0"),
            None,
            "pre-releases need a pre-release constraint"
        );
        assert_eq!(pick(">=3"), None);
        assert!(highest("><1", TAGS).is_err());
    }
}
