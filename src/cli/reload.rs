//! `dialect reload`, `dialect rollback`, `dialect versions`, `dialect
//! switch` and `dialect switches`: a running `dialect serve`'s admin API
//! asked, over HTTP on loopback, to put the script's new version in force
//! (or, with `--dry-run`, to say what it would change), to put an earlier
//! version back, to list the versions it has had, and to flip and list
//! its switches.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::server::admin::TOKEN_FILE;
use crate::server::reload::Reloaded;

/// Where the server is and how to prove who asks.
#[derive(clap::Args, Debug)]
pub struct Server {
    /// The served script: the token is read from `dialect.token` beside
    /// it (where `serve` writes it with its default database)
    #[arg(value_name = "SCRIPT")]
    pub script: Option<PathBuf>,

    /// The admin API's address
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8089")]
    pub server: String,

    /// The token file (default: `dialect.token` beside SCRIPT, else in the
    /// current folder); the environment variable DIALECT_TOKEN wins
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect reload examples/hotline/hotline.dial
  dialect reload --dry-run examples/hotline/hotline.dial
  dialect reload --server 127.0.0.1:9000 --token-file /etc/dialect/dialect.token

The server loads the script's files again, checks and compiles them, runs
their tests and only then swaps the new version in; calls in progress keep
theirs. Before anything changes, `dialect reload` prints which calls the
change sends elsewhere (as `dialect diff`): it asks for a dry run first,
then for the version the dry run showed, which the server refuses if the
files changed in between. When only lookup sources or the roster changed,
only those are read again (the script is not compiled).

Exit status: 0 when the new version is in force (or, with --dry-run, would
be), 1 when the server refused it (errors in the script, a failing test,
files changed since the dry run), 2 when the server could not be asked (not
running, a wrong token).")]
pub struct Args {
    #[command(flatten)]
    pub server: Server,

    /// Put the new version in force even if some of its tests fail
    #[arg(long)]
    pub force: bool,

    /// Say what the new version would change, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// `text`, or `json` (the server's answer to the reload as it is; a
    /// refusal carries the script's diagnostics as `lint --format json`
    /// writes them)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Example:
  dialect versions examples/hotline/hotline.dial")]
pub struct VersionsArgs {
    #[command(flatten)]
    pub server: Server,

    /// `text`, or `json` (the server's answer as it is)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect rollback examples/hotline/hotline.dial
  dialect rollback --to 3fa77958f8d8 examples/hotline/hotline.dial

The server puts back a version it still holds compiled (the 3 before the
one in force; `dialect versions` lists what it has had), as it was, with
the lookup rows it had; nothing is loaded or compiled again and calls in
progress keep theirs. The files on disk are not changed: the next reload
reads them again.

Exit status: 0 when the version is back in force, 1 when the server has
no such version, 2 when the server could not be asked.")]
pub struct RollbackArgs {
    #[command(flatten)]
    pub server: Server,

    /// The version to put back (default: the one before the version in force)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,

    /// `text`, or `json` (the server's answer as it is)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Server {
    fn token(&self) -> Result<String, String> {
        if let Ok(token) = std::env::var("DIALECT_TOKEN")
            && !token.trim().is_empty()
        {
            return Ok(token.trim().to_string());
        }
        let file = match (&self.token_file, &self.script) {
            (Some(f), _) => f.clone(),
            (None, Some(script)) => crate::server::config::folder_of(script).join(TOKEN_FILE),
            (None, None) => PathBuf::from(TOKEN_FILE),
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read the admin token {}: {e}", file.display()))?;
        Ok(text.trim().to_string())
    }

    /// One request; the answer's status and body.
    fn ask(&self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        let token = self.token()?;
        let mut stream = TcpStream::connect(&self.server).map_err(|e| {
            format!(
                "cannot reach dialect serve's admin API at {}: {e}",
                self.server
            )
        })?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.server,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("cannot send to {}: {e}", self.server))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .map_err(|e| format!("no answer from {}: {e}", self.server))?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("{} did not answer HTTP", self.server))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{} did not answer HTTP", self.server))?;
        Ok((status, body.to_string()))
    }
}

fn field(json: &serde_json::Value, name: &str) -> String {
    match &json[name] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One request for command `cmd`: the answer's status and JSON, printed
/// as it is with `--format json`; exit 2 when the server could not be
/// asked.
fn exchange(
    server: &Server,
    cmd: &str,
    method: &str,
    path: &str,
    body: &str,
    format: Format,
) -> Result<(u16, serde_json::Value), ExitCode> {
    let (status, text) = server.ask(method, path, body).map_err(|e| {
        eprintln!("dialect {cmd}: {e}");
        ExitCode::from(2)
    })?;
    if format == Format::Json {
        println!("{}", text.trim());
    }
    Ok((status, serde_json::from_str(&text).unwrap_or_default()))
}

/// A reload's or rollback's answer: its line and what it changes, as the
/// server logs them (`Reloaded::line`); exit 1 for `refused` statuses, 2
/// for any other failure.
fn answered(
    cmd: &str,
    (status, json): (u16, serde_json::Value),
    refused: &[u16],
    format: Format,
) -> ExitCode {
    if status == 200 {
        if format == Format::Text {
            match serde_json::from_value::<Reloaded>(json) {
                Ok(done) => {
                    println!("{}", done.line());
                    for line in done.changes.lines() {
                        println!("  {line}");
                    }
                }
                Err(e) => {
                    eprintln!("dialect {cmd}: the server's answer is not a reload's: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    let error = field(&json, "error");
    if refused.contains(&status) {
        if format == Format::Text {
            eprint!("{error}");
            eprintln!("\ndialect {cmd}: refused; the running version stays");
        }
        return ExitCode::from(1);
    }
    eprintln!("dialect {cmd}: the server answered {status}: {error}");
    ExitCode::from(2)
}

pub fn run(args: &Args) -> ExitCode {
    if args.dry_run {
        return match ask_reload(args, true, None, args.format) {
            Ok(answer) => answered("reload", answer, &[409, 422], args.format),
            Err(code) => code,
        };
    }
    // The change is shown before anything changes: a dry run says it,
    // then the reload puts in force the version it showed, or nothing.
    let quiet = Format::Text;
    let (status, json) = match ask_reload(args, true, None, quiet) {
        Ok(answer) => answer,
        Err(code) => return code,
    };
    if status != 200 {
        if args.format == Format::Json {
            println!("{json}");
        }
        return answered("reload", (status, json), &[409, 422], args.format);
    }
    let shown = match serde_json::from_value::<Reloaded>(json) {
        Ok(shown) => shown,
        Err(e) => {
            eprintln!("dialect reload: the server's answer is not a reload's: {e}");
            return ExitCode::from(2);
        }
    };
    if args.format == Format::Text {
        print!("{}", preview(&shown));
        let _ = std::io::stdout().flush();
    }
    let answer = match ask_reload(args, false, Some(&shown.version), args.format) {
        Ok(answer) => answer,
        Err(code) => return code,
    };
    if answer.0 == 409 && args.format == Format::Text {
        eprintln!(
            "dialect reload: {}\ndialect reload: refused; the running version stays",
            field(&answer.1, "error")
        );
        return ExitCode::from(1);
    }
    answered_quietly("reload", answer, &[409, 422], args.format)
}

/// One `POST /reload`, printed as it is with `--format json`.
fn ask_reload(
    args: &Args,
    dry_run: bool,
    expect: Option<&str>,
    format: Format,
) -> Result<(u16, serde_json::Value), ExitCode> {
    let mut body = serde_json::json!({
        "force": args.force,
        "dry_run": dry_run,
        "by": "dialect reload",
    });
    if let Some(version) = expect {
        body["expect"] = version.into();
    }
    exchange(
        &args.server,
        "reload",
        "POST",
        "/reload",
        &body.to_string(),
        format,
    )
}

/// What a dry run showed, before the reload: the version, its tests and
/// which calls go elsewhere; nothing when only data is read again.
pub fn preview(shown: &Reloaded) -> String {
    if !shown.changed {
        return String::new();
    }
    let mut text = format!(
        "version {} (running {}) passed {} test(s); what it changes:\n",
        shown.version, shown.previous, shown.tests
    );
    for line in shown.changes.lines() {
        text += &format!("  {line}\n");
    }
    text
}

/// [`answered`] without the changes, which the preview showed.
fn answered_quietly(
    cmd: &str,
    (status, json): (u16, serde_json::Value),
    refused: &[u16],
    format: Format,
) -> ExitCode {
    if status == 200 && format == Format::Text {
        return match serde_json::from_value::<Reloaded>(json) {
            Ok(done) => {
                println!("{}", done.line());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("dialect {cmd}: the server's answer is not a reload's: {e}");
                ExitCode::from(2)
            }
        };
    }
    answered(cmd, (status, json), refused, format)
}

pub fn run_rollback(args: &RollbackArgs) -> ExitCode {
    let body = serde_json::json!({ "to": args.to, "by": "dialect rollback" });
    match exchange(
        &args.server,
        "rollback",
        "POST",
        "/rollback",
        &body.to_string(),
        args.format,
    ) {
        Ok(answer) => answered("rollback", answer, &[409, 422], args.format),
        Err(code) => code,
    }
}

/// A `GET` of a list for command `cmd`: the list to print as text, `None`
/// when `--format json` printed it already; exit 2 when the server could
/// not be asked or did not answer 200.
fn listed(
    server: &Server,
    cmd: &str,
    path: &str,
    format: Format,
) -> Result<Option<Vec<serde_json::Value>>, ExitCode> {
    let (status, json) = exchange(server, cmd, "GET", path, "", format)?;
    if status != 200 {
        eprintln!(
            "dialect {cmd}: the server answered {status}: {}",
            field(&json, "error")
        );
        return Err(ExitCode::from(2));
    }
    Ok((format == Format::Text).then(|| json.as_array().cloned().unwrap_or_default()))
}

pub fn run_versions(args: &VersionsArgs) -> ExitCode {
    let list = match listed(&args.server, "versions", "/versions", args.format) {
        Ok(Some(list)) => list,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    for (i, v) in list.iter().enumerate() {
        let current = if i + 1 == list.len() {
            "  (in force)"
        } else {
            ""
        };
        println!(
            "{}  {}  {} file(s)  by {}{current}",
            field(v, "version"),
            field(v, "at"),
            v["files"],
            field(v, "by")
        );
    }
    ExitCode::SUCCESS
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect switch storm_closure on examples/support/support.dial
  dialect switch storm_closure off --by \"ana (supervisor)\"

A switch is a flag the script declares (`switch storm_closure`) and reads in
its conditions (`when switch(storm_closure) -> ...`). Flipping one needs no
reload: the server keeps the flip in its database (it survives a restart),
logs it, and every call that arrives afterwards sees it; calls in progress
keep what they started with. `dialect switches` lists them.

Exit status: 0 when the flip is in force, 1 when the script in force
declares no such switch, 2 when the server could not be asked.")]
pub struct SwitchArgs {
    /// The switch, as the script declares it
    #[arg(value_name = "NAME")]
    pub name: String,

    /// `on` or `off`
    #[arg(value_enum, value_name = "STATE")]
    pub state: OnOff,

    #[command(flatten)]
    pub server: Server,

    /// Who flips it, for the log (default: dialect switch)
    #[arg(long, value_name = "WHO")]
    pub by: Option<String>,

    /// `text`, or `json` (the server's answer as it is)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Example:
  dialect switches examples/support/support.dial")]
pub struct SwitchesArgs {
    #[command(flatten)]
    pub server: Server,

    /// `text`, or `json` (the server's answer as it is)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `on`/`off` and, when known, who set it when.
fn switch_line(s: &serde_json::Value) -> String {
    let on = if s["on"] == serde_json::Value::Bool(true) {
        "on"
    } else {
        "off"
    };
    let mut line = format!("{}  {on}", field(s, "name"));
    if s["declared"] == serde_json::Value::Bool(false) {
        line += "  (not declared by the script in force)";
    }
    if s["changed"].is_string() {
        line += &format!("  since {} by {}", field(s, "changed"), field(s, "by"));
    }
    if s["description"].is_string() {
        line += &format!("  — {}", field(s, "description"));
    }
    line
}

pub fn run_switch(args: &SwitchArgs) -> ExitCode {
    let name = &args.name;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        eprintln!(
            "dialect switch: `{name}` is not a switch name (letters, digits and `_`, as the script declares it)"
        );
        return ExitCode::from(2);
    }
    let on = args.state == OnOff::On;
    let by = args.by.clone().unwrap_or_else(|| "dialect switch".into());
    let body = serde_json::json!({ "on": on, "by": by });
    let (status, json) = match exchange(
        &args.server,
        "switch",
        "PUT",
        &format!("/switches/{}", args.name),
        &body.to_string(),
        args.format,
    ) {
        Ok(answer) => answer,
        Err(code) => return code,
    };
    match status {
        200 => {
            if args.format == Format::Text {
                let was = if json["was"] == serde_json::Value::Bool(true) {
                    "on"
                } else {
                    "off"
                };
                println!("switch {} (was {was})", switch_line(&json));
            }
            ExitCode::SUCCESS
        }
        404 => {
            eprintln!("dialect switch: {}", field(&json, "error"));
            ExitCode::from(1)
        }
        _ => {
            eprintln!(
                "dialect switch: the server answered {status}: {}",
                field(&json, "error")
            );
            ExitCode::from(2)
        }
    }
}

pub fn run_switches(args: &SwitchesArgs) -> ExitCode {
    let list = match listed(&args.server, "switches", "/switches", args.format) {
        Ok(Some(list)) => list,
        Ok(None) => return ExitCode::SUCCESS,
        Err(code) => return code,
    };
    if list.is_empty() {
        println!("the script in force declares no switches");
    }
    for s in &list {
        println!("{}", switch_line(s));
    }
    ExitCode::SUCCESS
}
