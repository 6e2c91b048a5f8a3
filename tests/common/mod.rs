//! Running the `dialect` binary from integration tests.

use std::process::{Command, Output};

/// Runs `dialect` with `args`, without colour.
pub fn dialect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the dialect binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
