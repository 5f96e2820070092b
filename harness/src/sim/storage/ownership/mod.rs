//! Field ownership: managedFields bookkeeping and server-side apply.

pub mod apply;
pub mod fieldset;
pub mod managed;
