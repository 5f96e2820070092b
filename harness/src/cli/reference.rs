//! `gameday reference`: the scenario format reference (the repository's
//! `scenarios/README.md`), embedded so an installed `gameday` carries it.

use gameday::exit;

/// The reference, as Markdown.
const REFERENCE: &str = include_str!("../../assets/scenario-reference.md");

/// Arguments of `gameday reference`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: &Args) -> u8 {
    print!("{REFERENCE}");
    exit::SUCCESS
}
