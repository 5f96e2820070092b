//! Expectations: the objects a drill may lose without failing.

use serde::Serialize;

use super::ObjectRef;

/// Expectations.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Expect {
    /// Objects allowed to be lost.
    pub lost: Vec<ObjectRef>,
}
