//! The `dialect` binary; all work happens in `dialect::cli`.

fn main() -> std::process::ExitCode {
    dialect::cli::main()
}
