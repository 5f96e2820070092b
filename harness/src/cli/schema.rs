//! `gameday schema`: the JSON Schema of scenario files.

use gameday::{exit, scenario};

/// Arguments of `gameday schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: &Args) -> u8 {
    print!("{}", scenario::schema::json_schema());
    exit::SUCCESS
}
