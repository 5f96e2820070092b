//! Errors found in a scenario file, each with where it is and what to do.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (unreadable, empty, too large…).
    File,
    /// A position, 1-based, with the field path when known.
    Position {
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// Field path, e.g. `spec.rto.total` (may be empty).
        path: String,
    },
    /// A field path, e.g. `spec.rto.phases.converge`.
    Field(String),
}

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What is wrong, and what is accepted.
    pub message: String,
    /// What to do about it, when there is something specific to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem with a field.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            location: Location::Field(path.into()),
            message: message.into(),
            help: None,
        }
    }

    /// A problem with the file as a whole.
    pub fn file(message: impl Into<String>) -> Self {
        Diagnostic {
            location: Location::File,
            message: message.into(),
            help: None,
        }
    }

    /// Adds advice.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic on one line (plus a help line), prefixed
    /// with the file.
    pub fn render(&self, file: &Path) -> String {
        let file = file.display();
        let head = match &self.location {
            Location::File => format!("{file}: {}", self.message),
            Location::Position { line, column, path } if path.is_empty() => {
                format!("{file}:{line}:{column}: {}", self.message)
            }
            Location::Position { line, column, path } => {
                format!("{file}:{line}:{column}: {path}: {}", self.message)
            }
            Location::Field(path) => format!("{file}: {path}: {}", self.message),
        };
        match &self.help {
            Some(help) => format!("{head}\n  help: {help}"),
            None => head,
        }
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics {
    /// The file.
    pub file: PathBuf,
    /// The problems, in the order found (at least one).
    pub items: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.items.len();
        writeln!(
            f,
            "{} is not a valid scenario ({n} problem{}):",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {}", d.render(&self.file).replace('\n', "\n  "))?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// One problem.
    pub fn one(file: &Path, d: Diagnostic) -> Self {
        Diagnostics {
            file: file.to_owned(),
            items: vec![d],
        }
    }

    /// Each problem rendered on its own line(s), prefixed with the file.
    pub fn lines(&self) -> Vec<String> {
        self.items.iter().map(|d| d.render(&self.file)).collect()
    }
}

/// Collects diagnostics during conversion.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    pub(crate) items: Vec<Diagnostic>,
}

impl Collector {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub(crate) fn field(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(Diagnostic::field(path, message));
    }

    pub(crate) fn field_help(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Diagnostic::field(path, message).help(help));
    }
}
