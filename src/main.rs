//! The `dayshift` binary: all the work is in the library (see `lib.rs`).

fn main() -> std::process::ExitCode {
    dayshift::cli::main()
}
