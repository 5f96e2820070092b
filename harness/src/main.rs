//! The `gameday` command line. Parsing and rendering only; the work is in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(gameday::exit::SUCCESS)
}
