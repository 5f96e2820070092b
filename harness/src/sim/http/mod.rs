//! The HTTP API server.

pub mod negotiate;
pub mod query;
pub mod route;
