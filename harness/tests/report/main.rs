//! The report sinks over sample report trees: each format parses as what it
//! claims to be and says what happened.

#[path = "../common/mod.rs"]
mod common;

mod html;
mod json;
mod junit;
mod live;
mod markdown;
mod openmetrics;
mod screenshot;
mod stats;
