//! The `gameday` command line: parses arguments, calls the library, renders
//! results and errors, picks the exit code. No drill logic lives here.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
