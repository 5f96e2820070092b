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
        if f.alternate() {
            writeln!(f, "{}", self.0)?;
            let mut causes = self.causes().peekable();
            if causes.peek().is_some() {
                f.write_str("Caused by:\n")?;
            }
            for (i, cause) in causes.enumerate() {
                let text = cause.to_string().replace('\n', "\n     ");
                writeln!(f, "  {i}: {text}")?;
            }
            Ok(())
        } else {
            let mut out = self.0.to_string();
            for cause in self.causes() {
                let text = cause.to_string();
                if !out.contains(&text) {
                    out.push_str(": ");
                    out.push_str(&text);
                }
            }
            f.write_str(&out)
        }
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
