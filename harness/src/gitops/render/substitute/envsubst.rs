//! `${var}` expansion with the bash-style operators Flux's post-build
//! substitution supports (fluxcd/pkg `envsubst`, a fork of drone/envsubst),
//! with the same parser quirks:
//!
//! - only `${…}` is expanded; `$var` stays as written; `$$` is a literal
//!   `$`, so `$${var}` gives `${var}`;
//! - `${#v}`, `${v^}`, `${v^^}`, `${v,}`, `${v,,}`, `${v:n}`, `${v:n:len}`,
//!   `${v#p}`, `${v##p}`, `${v%p}`, `${v%%p}`, `${v/p/r}`, `${v//p/r}`,
//!   `${v/#p/r}`, `${v/%p/r}` (patterns: `*`, `?`, `[…]`, where `*` also
//!   matches `/`; replacements take literal text, `\/` for a slash);
//! - the defaults `${v=d}`, `${v:=d}`, `${v:-d}` (and `${v:?d}`, `${v:+d}`,
//!   which Flux parses as the same default): the default is used when the
//!   variable is unset *or empty*, and may hold `${…}`;
//! - `${v-d}` and `${v+d}` do not parse ("missing closing brace"), as in
//!   Flux;
//! - strict mode (Flux's default): a variable that is not set, used
//!   without a default operator, is an error.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::str::CharIndices;

/// An expansion error, in Flux's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvsubstError {
    /// A malformed `${…}` (Flux: `bad substitution`, `missing closing
    /// brace`, `unable to parse variable name`, …).
    #[error("{0}")]
    Parse(&'static str),
    /// Strict mode: a variable used without a default is not set.
    #[error("variable not set (strict mode): {0:?}")]
    NotSet(String),
}

const BAD: EnvsubstError = EnvsubstError::Parse("bad substitution");
const NO_BRACE: EnvsubstError = EnvsubstError::Parse("missing closing brace");
const NO_NAME: EnvsubstError = EnvsubstError::Parse("unable to parse variable name");
const BAD_PARAM: EnvsubstError =
    EnvsubstError::Parse("unable to parse substitution within function");

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Func {
        param: String,
        op: String,
        args: Vec<Node>,
    },
}

/// Expands `text` with `vars` (see the module docs).
///
/// # Errors
/// [`EnvsubstError::Parse`] for a malformed expression;
/// [`EnvsubstError::NotSet`] in `strict` mode.
pub fn eval(
    text: &str,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<String, EnvsubstError> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    let nodes = Parser::new(text).top()?;
    let mut out = String::with_capacity(text.len());
    for n in &nodes {
        eval_node(n, vars, strict, &mut out)?;
    }
    Ok(out)
}

fn eval_node(
    node: &Node,
    vars: &BTreeMap<String, String>,
    strict: bool,
    out: &mut String,
) -> Result<(), EnvsubstError> {
    let (param, op, args) = match node {
        Node::Text(t) => {
            out.push_str(t);
            return Ok(());
        }
        Node::Func { param, op, args } => (param, op.as_str(), args),
    };
    let mut evaluated = Vec::with_capacity(args.len());
    for a in args {
        let mut s = String::new();
        eval_node(a, vars, strict, &mut s)?;
        evaluated.push(s);
    }
    let value = match vars.get(param) {
        Some(v) => v.as_str(),
        None if strict && !is_default_op(op) => return Err(EnvsubstError::NotSet(param.clone())),
        None => "",
    };
    out.push_str(&apply(op, value, &evaluated));
    Ok(())
}

fn is_default_op(op: &str) -> bool {
    matches!(op, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(op: &str, v: &str, args: &[String]) -> String {
    let arg = |i: usize| args.get(i).map(String::as_str);
    match op {
        "," => first_char(v, |c| c.to_lowercase().collect()),
        ",," => v.to_lowercase(),
        "^" => first_char(v, |c| c.to_uppercase().collect()),
        "^^" => v.to_uppercase(),
        "#" if args.is_empty() => v.len().to_string(),
        "#" => trim_prefix(v, arg(0).unwrap_or(""), false),
        "##" => trim_prefix(v, arg(0).unwrap_or(""), true),
        "%" => trim_suffix(v, arg(0).unwrap_or(""), false),
        "%%" => trim_suffix(v, arg(0).unwrap_or(""), true),
        ":" => substring(v, arg(0), arg(1)),
        "/" => v.replacen(arg(0).unwrap_or(""), arg(1).unwrap_or(""), 1),
        "//" => match arg(0) {
            Some(p) => v.replace(p, arg(1).unwrap_or("")),
            None => v.to_owned(),
        },
        "/#" => match (arg(0), arg(1)) {
            (Some(p), Some(r)) if v.starts_with(p) => format!("{r}{}", &v[p.len()..]),
            _ => v.to_owned(),
        },
        "/%" => match (arg(0), arg(1)) {
            (Some(p), Some(r)) if v.ends_with(p) => format!("{}{r}", &v[..v.len() - p.len()]),
            _ => v.to_owned(),
        },
        // The defaults, and a plain `${v}` (no op, no args).
        _ if v.is_empty() && !args.is_empty() => args.concat(),
        _ => v.to_owned(),
    }
}

fn first_char(v: &str, f: impl Fn(char) -> String) -> String {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) => f(c) + chars.as_str(),
        None => String::new(),
    }
}

/// `${v:pos}`, `${v:pos:len}` on bytes, as Flux (ASCII values); an offset
/// or length that does not parse leaves the value as it is, like bash.
fn substring(v: &str, pos: Option<&str>, len: Option<&str>) -> String {
    let Some(Ok(pos)) = pos.map(|p| p.parse::<i64>()) else {
        return v.to_owned();
    };
    let n = v.len() as i64;
    let pos = if pos < 0 { (n + pos).max(0) } else { pos };
    let slice = |a: i64, b: i64| v.get(a as usize..b as usize).unwrap_or("").to_owned();
    match len.map(|l| l.parse::<i64>()) {
        None if pos < n => slice(pos, n),
        None => String::new(),
        Some(Err(_)) => v.to_owned(),
        Some(Ok(l)) if l < 0 => {
            let end = n + l;
            if end < pos {
                String::new()
            } else {
                slice(pos, end)
            }
        }
        Some(Ok(_)) if pos >= n => String::new(),
        Some(Ok(l)) => slice(pos, (pos + l).min(n)),
    }
}

/// `#`/`##`: the shortest/longest non-empty prefix matching `pattern`
/// removed; a malformed pattern leaves the value as it is.
fn trim_prefix(v: &str, pattern: &str, longest: bool) -> String {
    let mut ends: Vec<usize> = v.char_indices().map(|(i, _)| i).skip(1).collect();
    ends.push(v.len());
    if longest {
        ends.reverse();
    }
    for end in ends.into_iter().filter(|e| *e > 0) {
        match glob(pattern, &v[..end]) {
            Err(()) => return v.to_owned(),
            Ok(true) => return v[end..].to_owned(),
            Ok(false) => {}
        }
    }
    v.to_owned()
}

/// `%`/`%%`: as Flux does it, the prefix rule on the reversed value and
/// the reversed pattern.
fn trim_suffix(v: &str, pattern: &str, longest: bool) -> String {
    let rev = |s: &str| s.chars().rev().collect::<String>();
    rev(&trim_prefix(&rev(v), &rev(pattern), longest))
}

/// Shell-style match of the whole of `s`: `*` (any run, `/` included),
/// `?` (one character), `[…]` (a class; `^` or `!` negates; ranges),
/// `\` escapes. `Err` for a malformed pattern.
fn glob(pattern: &str, s: &str) -> Result<bool, ()> {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    glob_at(&p, &s)
}

fn glob_at(p: &[char], s: &[char]) -> Result<bool, ()> {
    match p.first() {
        None => Ok(s.is_empty()),
        Some('*') => {
            for skip in 0..=s.len() {
                if glob_at(&p[1..], &s[skip..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Some('?') => Ok(!s.is_empty() && glob_at(&p[1..], &s[1..])?),
        Some('[') => {
            let (matched, rest) = class(&p[1..], s.first().copied())?;
            Ok(matched && glob_at(rest, &s[1..])?)
        }
        Some('\\') => {
            let c = *p.get(1).ok_or(())?;
            Ok(s.first() == Some(&c) && glob_at(&p[2..], &s[1..])?)
        }
        Some(c) => Ok(s.first() == Some(c) && glob_at(&p[1..], &s[1..])?),
    }
}

/// A `[…]` class (after the `[`) against `c`: (matched, the pattern after
/// the `]`).
fn class(p: &[char], c: Option<char>) -> Result<(bool, &[char]), ()> {
    let negated = matches!(p.first(), Some('^' | '!'));
    let mut i = usize::from(negated);
    let mut hit = false;
    let mut first = true;
    loop {
        let lo = *p.get(i).ok_or(())?;
        if lo == ']' && !first {
            break;
        }
        first = false;
        let lo = if lo == '\\' {
            i += 1;
            *p.get(i).ok_or(())?
        } else {
            lo
        };
        i += 1;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|h| *h != ']') {
            i += 2;
            p[i - 1]
        } else {
            lo
        };
        hit |= c.is_some_and(|c| lo <= c && c <= hi);
    }
    Ok((c.is_some() && hit != negated, &p[i + 1..]))
}

struct Parser<'a> {
    it: Peekable<CharIndices<'a>>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            it: text.char_indices().peekable(),
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.it.peek().map(|(_, c)| *c)
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.it.clone();
        it.next();
        it.next().map(|(_, c)| c)
    }

    fn bump(&mut self) -> Option<char> {
        self.it.next().map(|(_, c)| c)
    }

    fn at_open(&self) -> bool {
        let mut it = self.it.clone();
        matches!((it.next(), it.next()), (Some((_, '$')), Some((_, '{'))))
    }

    /// The whole text: literal runs (`$$` → `$`) and `${…}`.
    fn top(&mut self) -> Result<Vec<Node>, EnvsubstError> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if self.at_open() {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
                self.bump();
                self.bump();
                nodes.push(self.func()?);
            } else if c == '$' && self.peek2() == Some('$') {
                self.bump();
                self.bump();
                text.push('$');
            } else {
                self.bump();
                text.push(c);
            }
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(nodes)
    }

    /// After `${`.
    fn func(&mut self) -> Result<Node, EnvsubstError> {
        if self.peek() == Some('#') {
            self.bump();
            let param = self.ident();
            if param.is_empty() {
                return Err(BAD);
            }
            self.close()?;
            return Ok(func(param, "#", vec![]));
        }
        let param = self.ident();
        if param.is_empty() {
            return Err(NO_NAME);
        }
        match self.peek() {
            Some(':') if matches!(self.peek2(), Some('=' | '-' | '?' | '+')) => {
                self.bump();
                let op = format!(":{}", self.bump().unwrap_or_default());
                self.defaults(param, op)
            }
            Some(':') => self.substring(param),
            Some('=') => {
                self.bump();
                self.defaults(param, "=".into())
            }
            Some(',' | '^') => {
                let op = self.ops(|c| c == ',' || c == '^', 2);
                self.close()?;
                Ok(func(param, &op, vec![]))
            }
            Some('/') => self.replace(param),
            Some(c @ ('#' | '%')) => {
                let op = self.ops(|x| x == c, 2);
                let arg = self.param(|c| c != '}', false)?;
                self.close()?;
                Ok(func(param, &op, vec![arg]))
            }
            Some('}') => {
                self.bump();
                Ok(func(param, "", vec![]))
            }
            _ => Err(NO_BRACE),
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            self.bump();
            s.push(c);
        }
        s
    }

    fn ops(&mut self, accept: impl Fn(char) -> bool, max: usize) -> String {
        let mut op = String::new();
        while op.len() < max && self.peek().is_some_and(&accept) {
            op.push(self.bump().unwrap_or_default());
        }
        op
    }

    fn close(&mut self) -> Result<(), EnvsubstError> {
        if self.bump() == Some('}') {
            Ok(())
        } else {
            Err(BAD)
        }
    }

    fn defaults(&mut self, param: String, op: String) -> Result<Node, EnvsubstError> {
        let mut args = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.bump();
                return Ok(func(param, &op, args));
            }
            args.push(self.param(|c| c != '}', false)?);
        }
    }

    fn substring(&mut self, param: String) -> Result<Node, EnvsubstError> {
        self.bump();
        let mut args = vec![self.param(|c| c != ':' && c != '}', false)?];
        match self.bump() {
            Some('}') => return Ok(func(param, ":", args)),
            Some(':') => {}
            _ => return Err(BAD),
        }
        args.push(self.param(|c| c != '}', false)?);
        self.close()?;
        Ok(func(param, ":", args))
    }

    fn replace(&mut self, param: String) -> Result<Node, EnvsubstError> {
        self.bump();
        let op = match self.peek() {
            Some(c @ ('/' | '#' | '%')) => {
                self.bump();
                format!("/{c}")
            }
            _ => "/".to_owned(),
        };
        let pattern = if self.peek() == Some('/') {
            Node::Text(String::new())
        } else {
            self.param(|c| c != '/', true)?
        };
        if self.bump() != Some('/') {
            return Err(BAD);
        }
        let mut args = vec![pattern];
        if self.peek() != Some('}') {
            args.push(self.param(|c| c != '}', true)?);
        }
        self.close()?;
        Ok(func(param, &op, args))
    }

    /// One argument: a nested `${…}`, or text up to a rejected character
    /// or a `${` (with `escapes`: `$$` → `$`, `\/` → `/`, `\\` → `\`).
    fn param(
        &mut self,
        accept: impl Fn(char) -> bool,
        escapes: bool,
    ) -> Result<Node, EnvsubstError> {
        if self.at_open() {
            self.bump();
            self.bump();
            return self.func();
        }
        let mut text = String::new();
        while let Some(c) = self.peek() {
            let next = self.peek2();
            let escaped = escapes
                && ((c == '$' && next == Some('$'))
                    || (c == '\\' && matches!(next, Some('/' | '\\'))));
            if escaped {
                self.bump();
                text.push(self.bump().unwrap_or_default());
                continue;
            }
            if !accept(c) || self.at_open() {
                break;
            }
            self.bump();
            text.push(c);
        }
        if text.is_empty() {
            return Err(BAD_PARAM);
        }
        Ok(Node::Text(text))
    }
}

fn func(param: String, op: &str, args: Vec<Node>) -> Node {
    Node::Func {
        param,
        op: op.to_owned(),
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn x(input: &str, pairs: &[(&str, &str)]) -> String {
        eval(input, &vars(pairs), false).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn operators_follow_flux() {
        let v = [("v", "abcdEFGH28ij")];
        assert_eq!(x("${#v}", &v), "12");
        assert_eq!(x("${v^}", &v), "AbcdEFGH28ij");
        assert_eq!(x("${v^^}", &v), "ABCDEFGH28IJ");
        assert_eq!(x("${v,}", &[("v", "ABC")]), "aBC");
        assert_eq!(x("${v,,}", &v), "abcdefgh28ij");
        let p = [("p", "/home/bozo/ideas/thoughts.for.today")];
        assert_eq!(x("${p:11}", &p), "ideas/thoughts.for.today");
        assert_eq!(x("${p:11:5}", &p), "ideas");
        assert_eq!(x("${p:-5}", &p), "/home/bozo/ideas/thoughts.for.today");
        assert_eq!(x("${v:1:-1}", &[("v", "abcd")]), "bc");
        let z = [("z", "abcABC123ABCabc")];
        assert_eq!(x("${z/%abc/XYZ}", &z), "abcABC123ABCXYZ");
        assert_eq!(x("${z/#abc/XYZ}", &z), "XYZABC123ABCabc");
        assert_eq!(x("${z//abc/xyz}", &z), "xyzABC123ABCxyz");
        assert_eq!(x("${z/abc/xyz}", &z), "xyzABC123ABCabc");
        assert_eq!(x("${z/#/pre-}", &[("z", "v")]), "pre-v");
        assert_eq!(x("${z/%/-suf}", &[("z", "v")]), "v-suf");
        assert_eq!(x(r"${z//\//-}", &[("z", "a/b/c")]), "a-b-c");
        assert_eq!(x("${z/./}", &[("z", "foo.bar")]), "foobar");
        let f = [("f", "bash.string.txt")];
        assert_eq!(x("${f#*.}", &f), "string.txt");
        assert_eq!(x("${f##*.}", &f), "txt");
        assert_eq!(x("${f%.*}", &f), "bash.string");
        assert_eq!(x("${f%%.*}", &f), "bash");
        assert_eq!(x("${f##*/}", &[("f", "/path/to/file")]), "file");
        assert_eq!(x("${f#*/}", &[("f", "path/to/file")]), "to/file");
        assert_eq!(x("${f#[a-p]a}", &[("f", "path")]), "th");
    }

    #[test]
    fn defaults_and_nesting() {
        assert_eq!(x("${v=xyz}", &[("v", "abc")]), "abc");
        assert_eq!(x("${v=xyz}", &[]), "xyz");
        assert_eq!(x("${v:=xyz}", &[("v", "")]), "xyz");
        assert_eq!(x("${v:-a b: c}", &[]), "a b: c");
        assert_eq!(x("x ${v=${d}}", &[("d", "foo")]), "x foo");
        assert_eq!(x("${v=pre${d}-suf}", &[("d", "1")]), "pre1-suf");
        assert_eq!(x("${v=${w^^}}", &[("w", "ab")]), "AB");
        assert_eq!(x("${v:?d}", &[]), "d");
    }

    #[test]
    fn escaping_with_a_double_dollar() {
        let v = [("v", "X")];
        assert_eq!(x("$${v}", &v), "${v}");
        assert_eq!(x("a ${v}$${v$${v}$v${v}", &v), "a X${v${v}$vX");
        assert_eq!(x("t $${v=${v}}", &v), "t ${v=X}");
        assert_eq!(x("$v and $ alone", &v), "$v and $ alone");
        assert_eq!(x(r"\\p ${v}", &v), r"\\p X");
    }

    #[test]
    fn malformed_expressions_are_flux_errors() {
        let e = |s: &str| {
            eval(s, &vars(&[("v", "x")]), false)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(e("${}"), "unable to parse variable name");
        assert_eq!(e("${v"), "missing closing brace");
        assert_eq!(e("${v.x}"), "missing closing brace");
        assert_eq!(e("${v-d}"), "missing closing brace");
        assert_eq!(e("${v:=d"), "unable to parse substitution within function");
        assert_eq!(e("${v^x}"), "bad substitution");
    }

    #[test]
    fn strict_mode_refuses_unset_variables_without_a_default() {
        let none = vars(&[]);
        for input in [
            "${missing}",
            "${#missing}",
            "${missing^^}",
            "${missing:0}",
            "${missing/a/b}",
            "${missing%%p}",
        ] {
            assert_eq!(
                eval(input, &none, true),
                Err(EnvsubstError::NotSet("missing".into())),
                "{input}"
            );
        }
        assert_eq!(eval("${missing:-fb}", &none, true).unwrap(), "fb");
        assert_eq!(eval("${missing=fb}", &none, true).unwrap(), "fb");
        assert_eq!(eval("${e}", &vars(&[("e", "")]), true).unwrap(), "");
        assert_eq!(eval("${missing}", &none, false).unwrap(), "");
        assert_eq!(
            EnvsubstError::NotSet("var".into()).to_string(),
            "variable not set (strict mode): \"var\""
        );
    }
}
