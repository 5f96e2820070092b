//! The `gameday` binary as users run it: exit codes, output, errors.

#[path = "../common/mod.rs"]
mod common;

mod action;
mod basics;
mod ci;
mod distribution;
mod doctor;
mod init;
mod preflight;
mod retain;
mod run;
mod sim_source;
mod synth;
mod url_source;
