//! `dialect lint PATH...`: check scripts, print every diagnostic, summarise.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::render::{self, Style};
use super::scripts;
use crate::diagnostic::{Code, Diagnostic};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect lint examples/                              every script in a folder
  dialect lint --format json examples/bank/bank.dial  one JSON line per problem
  dialect lint --deny warnings --prompts prompts examples/

A file that another checked file includes is checked as part of it, not alone;
so is a file included by a script in its folder or the folders above it.
An include must stay in the folder named (or the named file's folder) unless
--allow-include-outside is given. At most 100 diagnostics of a file are shown,
errors first, and a line counts the rest (--max-diagnostics changes this).
Exit status: 0 when clean, 1 when there are errors (or warnings under
--deny warnings), 2 on usage or I/O errors. Every code is explained in
docs/diagnostics.md.")]
pub struct Args {
    /// Files or folders to check; folders are searched for `.dial` files
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// `human`: reports with source snippets; `json`: one object per line and diagnostic
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Treat warnings as errors for the exit status (`--deny warnings`)
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,

    /// Folder of prompt audio (`NAME.wav`); prompts without a file are reported
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,

    /// When to colour reports; `auto` colours a terminal unless NO_COLOR is set
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Diagnostics shown per file, errors first (0: all); the rest are counted
    #[arg(long, value_name = "N", default_value_t = render::MAX_PER_FILE)]
    pub max_diagnostics: usize,

    #[command(flatten)]
    pub access: scripts::Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deny {
    Warnings,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The outcome of linting, before it is printed.
pub struct Outcome {
    pub loader_sources: crate::source::SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    /// Files that were checked as part of the script that includes them.
    pub notes: Vec<String>,
}

pub fn run(args: &Args) -> ExitCode {
    let outcome = match lint_with(&args.paths, args.prompts.as_ref(), args.access) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("dialect lint: {message}");
            return ExitCode::from(2);
        }
    };
    for note in &outcome.notes {
        eprintln!("dialect lint: note: {note}");
    }
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = outcome.diagnostics.len() - errors;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let per_file = (args.max_diagnostics > 0).then_some(args.max_diagnostics);
    let (shown, omitted) = render::cap(&outcome.diagnostics, per_file);
    let omitted: Vec<String> = omitted
        .iter()
        .map(|o| render::omitted_line(&outcome.loader_sources, o))
        .collect();
    match args.format {
        Format::Json => {
            for d in shown {
                let line = serde_json::to_string(&render::json(&outcome.loader_sources, d))
                    .unwrap_or_default();
                let _ = writeln!(out, "{line}");
            }
            // Standard output holds only diagnostics, one per line.
            for line in &omitted {
                eprintln!("{line}");
            }
            eprintln!("{}", summary(errors, warnings, outcome.files));
        }
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let width = terminal_width();
            for d in shown {
                let _ = write!(
                    out,
                    "{}",
                    render::human(&outcome.loader_sources, d, Style { color, width })
                );
                let _ = writeln!(out);
            }
            for line in &omitted {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "{}", summary(errors, warnings, outcome.files));
        }
    }
    let fail = errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0);
    ExitCode::from(u8::from(fail))
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
        .clamp(60, 200)
}

/// "2 errors, 1 warning in 3 files".
pub fn summary(errors: usize, warnings: usize, files: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}

/// Loads and checks every script named by `paths`, with includes kept to
/// their folders. Errors are usage or I/O problems with the paths
/// themselves.
pub fn lint(paths: &[PathBuf], prompts: Option<&PathBuf>) -> Result<Outcome, String> {
    lint_with(paths, prompts, scripts::Access::default())
}

/// [`lint`], with includes allowed as far as `access` says.
pub fn lint_with(
    paths: &[PathBuf],
    prompts: Option<&PathBuf>,
    access: scripts::Access,
) -> Result<Outcome, String> {
    // A file another script includes (a site's declarations) means nothing
    // alone: its names are declared by the includer. Check it as part of
    // that script instead of reporting every such name as unknown.
    let files: Vec<PathBuf> = paths
        .iter()
        .flat_map(|p| {
            if p.is_dir() {
                super::fs::dial_files(p).unwrap_or_default()
            } else {
                vec![p.clone()]
            }
        })
        .collect();
    let includers = super::fs::includers(&files);
    let mut all = paths.to_vec();
    let mut notes = Vec::new();
    for (file, includer) in includers {
        notes.push(format!(
            "`{}` is included by `{}`, so it is checked as part of that script",
            crate::load::display(&file),
            crate::load::display(&includer)
        ));
        if !all.contains(&includer) {
            all.push(includer);
        }
    }
    let scripts = scripts::load_with(&all, prompts, access)?;
    // A file with no entry that uses names it does not declare is most
    // likely included by a script that was not found.
    for c in &scripts.checked {
        let unknown = c.diagnostics.iter().any(|d| {
            matches!(d.code, Code::UnknownName | Code::WrongKind)
                && c.files.contains(&d.primary.loc.file)
        });
        if c.program.entries.is_empty() && unknown {
            notes.push(format!(
                "`{}` has no entry and uses names it does not declare; if another script includes it, lint that script",
                scripts.loader.sources.get(c.files[0]).name
            ));
        }
    }
    Ok(Outcome {
        files: scripts.files,
        diagnostics: scripts.diagnostics,
        loader_sources: scripts.loader.sources,
        notes,
    })
}
