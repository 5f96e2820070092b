//! The HTTP API server: dispatch ([`server`]), resource verbs
//! ([`handlers`], [`list`], [`watch`], [`scale`]), and request plumbing.

pub mod body;
pub mod handlers;
pub mod list;
pub mod listener;
pub mod negotiate;
pub mod query;
pub mod response;
pub mod route;
pub mod scale;
pub mod server;
pub mod watch;
