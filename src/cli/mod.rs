//! The `dialect` command line: argument parsing and one module per command.
//! Only this module and `server` touch the file system and the terminal.

pub mod diff;
pub mod explain;
mod fs;
pub mod lint;
pub mod path;
pub mod reload;
pub mod render;
pub mod scripts;
pub mod serve;
mod serve_files;
pub mod simulate;
pub mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use fs::{RealFs, dial_files, prompt_names};

#[derive(Parser, Debug)]
#[command(
    name = "dialect",
    version,
    about = "Dialect: contact-center call routing as one checked, compiled language",
    long_about = "Dialect describes IVR menus, opening hours, holiday calendars, skills, queues, \
hunt groups and routing rules in `.dial` files, checks them with compiler-grade diagnostics \
and runs them.\n\nStart with `dialect lint examples/` and read docs/language.md.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check scripts and report every problem with a code, its place and a fix
    Lint(lint::Args),
    /// Run the `test` blocks of scripts through the compiled decisions
    Test(test::Args),
    /// Show every decision a call meets: entry, rules, menus, actions
    Explain(explain::Args),
    /// Say which calls a new version of a script sends elsewhere than the old one
    Diff(diff::Args),
    /// Play a day of traffic through the call runtime and report service level per queue
    Simulate(simulate::Args),
    /// Answer SIP calls with a script: prompts, menus, queues and agents, or redirects
    Serve(serve::Args),
    /// Put a running server's script in force again after an edit (through its admin API)
    Reload(reload::Args),
    /// Put back an earlier version of a running server's script
    Rollback(reload::RollbackArgs),
    /// List the versions of the script a running server has had
    Versions(reload::VersionsArgs),
    /// Turn a running server's switch on or off, without a reload
    Switch(reload::SwitchArgs),
    /// List a running server's switches and who set them
    Switches(reload::SwitchesArgs),
}

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap exits 0 for --help and --version, 2 for usage errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Lint(args) => lint::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Reload(args) => reload::run(&args),
        Command::Rollback(args) => reload::run_rollback(&args),
        Command::Versions(args) => reload::run_versions(&args),
        Command::Switch(args) => reload::run_switch(&args),
        Command::Switches(args) => reload::run_switches(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Serve(args) => serve::run(&args),
    }
}
