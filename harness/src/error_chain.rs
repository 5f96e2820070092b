//! The one way an error and its causes (`source()` chain) are rendered,
//! for every layer: [`ErrorChain`].
//!
//! - `{}`: on one line, `: `-separated — for status messages, report
//!   fields and verdicts, which hold one line. A cause whose text the line
//!   already says (an error that prints its source in its own message) is
//!   not repeated.
//! - `{:#}`: the headline, then `Caused by:` and each cause on its own
//!   numbered line — for people reading a terminal (the CLI puts `error: `
//!   in front).

use std::error::Error;
use std::fmt;

/// An error with its causes, rendered (see the module docs).
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(&'a (dyn Error + 'a));

impl<'a> ErrorChain<'a> {
    /// The chain of `error`.
    pub fn new(error: &'a (dyn Error + 'a)) -> ErrorChain<'a> {
        ErrorChain(error)
    }

    /// The error's causes, outermost first (the error itself excluded).
    pub fn causes(&self) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
        std::iter::successors(self.0.source(), |e| {
            let e: &'a (dyn Error + 'static) = *e;
            e.source()
        })
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // kube-rs renders an API error with its Rust debug form; every
        // text of the chain gets the clean line instead.
        let kube: Vec<(String, String)> = self
            .causes()
            .filter_map(|e| {
                let api = e.downcast_ref::<kube::Error>()?;
                Some((api.to_string(), kube_line(api)))
            })
            .collect();
        let replace = |mut text: String| {
            for (raw, line) in &kube {
                text = text.replace(raw, line);
            }
            text
        };
        let clean = |e: &(dyn Error + 'static)| match api_status(e) {
            Some(s) => status_line(s),
            None => replace(e.to_string()),
        };
        let head = replace(self.0.to_string());
        if f.alternate() {
            writeln!(f, "{head}")?;
            let mut causes = self.causes().peekable();
            if causes.peek().is_some() {
                f.write_str("Caused by:\n")?;
            }
            for (i, cause) in causes.enumerate() {
                let text = clean(cause).replace('\n', "\n     ");
                writeln!(f, "  {i}: {text}")?;
            }
            Ok(())
        } else {
            let mut out = head;
            for cause in self.causes() {
                let text = clean(cause);
                if !out.contains(&text) {
                    out.push_str(": ");
                    out.push_str(&text);
                }
            }
            f.write_str(&out)
        }
    }
}

/// The API's `Status` of a kube-rs error or of its source.
fn api_status<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a kube::core::Status> {
    if let Some(kube::Error::Api(s)) = e.downcast_ref::<kube::Error>() {
        return Some(s);
    }
    e.downcast_ref::<kube::core::Status>()
        .or_else(|| e.downcast_ref::<Box<kube::core::Status>>().map(|b| &**b))
}

/// `<reason>: <message> (HTTP <code>)`, the API server's answer on one line.
fn status_line(s: &kube::core::Status) -> String {
    let message = s.message.trim();
    let mut out = match (s.reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{}: {message}", s.reason),
        (false, true) => s.reason.clone(),
        (true, false) => message.to_owned(),
        (true, true) => "the API server answered with an error".to_owned(),
    };
    if s.code != 0 {
        out.push_str(&format!(" (HTTP {})", s.code));
    }
    out
}

/// A kube-rs error on one line, without Rust debug output: an API error
/// as `<reason>: <message> (HTTP <code>)`, others as kube-rs says them.
pub fn kube_line(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => status_line(s),
        other => other.to_string(),
    }
}

/// `error` and its causes on one line (`ErrorChain::new(error).to_string()`).
pub fn one_line(error: &dyn Error) -> String {
    ErrorChain::new(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("bootstrap failed")]
        Wrapped(#[source] Inner),
        #[error("cluster c: {0}")]
        Repeats(#[source] Inner),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("no route\nto host")]
    struct Inner;

    #[test]
    fn one_line_joins_causes_and_skips_what_was_said() {
        assert_eq!(
            ErrorChain::new(&Outer::Wrapped(Inner)).to_string(),
            "bootstrap failed: no route\nto host"
        );
        assert_eq!(
            one_line(&Outer::Repeats(Inner)),
            "cluster c: no route\nto host"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("deleting ConfigMap default/x")]
    struct Deleting(#[source] kube::Error);

    #[test]
    fn kube_api_errors_read_as_one_clean_line() {
        let status = kube::core::Status {
            status: Some(kube::core::response::StatusSummary::Failure),
            code: 404,
            message: "configmaps \"x\" not found".into(),
            reason: "NotFound".into(),
            ..kube::core::Status::default()
        };
        let e = Deleting(kube::Error::Api(Box::new(status)));
        let line = one_line(&e);
        assert_eq!(
            line,
            "deleting ConfigMap default/x: NotFound: configmaps \"x\" not found (HTTP 404)"
        );
        assert!(
            !line.contains("Status {") && !line.contains("Some("),
            "{line}"
        );
    }

    #[test]
    fn alternate_lists_numbered_causes() {
        assert_eq!(
            format!("{:#}", ErrorChain::new(&Outer::Wrapped(Inner))),
            "bootstrap failed\nCaused by:\n  0: no route\n     to host\n"
        );
        assert_eq!(
            format!("{:#}", ErrorChain::new(&Inner)),
            "no route\nto host\n"
        );
    }
}
