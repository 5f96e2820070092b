//! The terminal: the end-of-run summary table ([`summary()`]) and the live
//! progress view ([`LiveReporter`]). Both hand text to the caller or to an
//! injected target; the CLI decides where it goes (stderr).

mod lines;
mod live;
mod summary;

pub use live::{LiveReporter, TICK};
pub use summary::summary;

/// ANSI colours, used only when the caller says the output is a terminal.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// The status word in its colour.
    pub(crate) fn status(self, status: crate::report::tree::Status) -> String {
        use crate::report::tree::Status;
        let name = status.name();
        match status {
            Status::Passed => self.green(name),
            Status::Failed | Status::Unsupported | Status::Unrecoverable => self.red(name),
            Status::Error => self.yellow(name),
            Status::Aborted => self.dim(name),
        }
    }
}
