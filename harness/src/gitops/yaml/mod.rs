//! Multi-document YAML files as Kubernetes tools read them.
//!
//! - [`documents`]: where each document of a file is, and its value as JSON,
//!   with errors that carry the document index and line:column;
//! - [`path`]: field paths such as `spec.template.spec.containers[0].image`;
//! - [`edit`]: setting fields in one document of a file, keeping the others
//!   byte for byte, and the edited one too except for the changed scalars
//!   whenever they can be found where they are written;
//! - [`emit`]: writing a document back so YAML 1.1 readers (kubectl) and
//!   YAML 1.2 readers agree on every value;
//! - [`compat`]: YAML 1.1 octal integers (`0644`) read as Kubernetes reads them.

pub mod compat;
pub mod documents;
pub mod edit;
pub mod emit;
pub mod path;
mod surgical;

pub use documents::{Document, ParseError};
pub use edit::{DocSelector, EditError, set_fields};
pub use path::{FieldPath, PathError};
