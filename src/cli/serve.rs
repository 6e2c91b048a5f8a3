//! `dialect serve SCRIPT`: answer SIP with a script. Reads the
//! configuration, checks and compiles the script (refusing to start on
//! errors, shown as `lint` shows them), reads the roster, opens the SIP
//! sockets, says where it listens and which program version serves, and
//! runs until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use super::scripts::{self, Access};
use super::test::EngineArg;
use crate::runtime::{Roster, Runtime};
use crate::server::answer::{Answerer, Decisions, Rate, Version};
use crate::server::config::{self, Config, Listen, Mode, Transport};
use crate::server::listen::listen;
use crate::sip::counters::Counters;
use crate::sip::credential;
use crate::sip::ingress::Limits;
use crate::sip::nonce::NonceKey;
use crate::sip::registrar::{Registrar, RegistrarConfig};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect serve examples/support/support.dial
  dialect serve examples/support/support.dial --sip 0.0.0.0:5060
  dialect serve routing.dial --mode redirect --config /etc/dialect/dialect.toml

Then, from another terminal, a call with SIPp's built-in caller:
  sipp -sn uac -s 18885550150 127.0.0.1:5060 -m 1 -i 127.0.0.1 -p 5070

Every setting has a default (docs/serve.md): SIP on UDP and TCP at
127.0.0.1:5060, the roster from `agents.toml` beside the script when there is
one, and `dialect.toml` beside the script when there is one. `--sip`,
`--mode` and `--agents` override the file.

Modes: `redirect` answers each INVITE with a 302 to where the script sends
the call (or a rejection, 404 when no entry answers the number); phones
REGISTER with digest authentication against the roster's `sip_user` and
`password`. `b2bua` (answering calls with prompts, queues and bridged media)
is not built yet and is refused.

Exit status: 0 after a clean stop (Ctrl-C or SIGTERM), 1 when the script has
errors, 2 on a bad configuration, roster or address (a port in use).")]
pub struct Args {
    /// The script (its includes are read too)
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,

    /// The roster; default `agents.toml` beside the script, if there is one
    #[arg(long, value_name = "FILE")]
    pub agents: Option<PathBuf>,

    /// The configuration; default `dialect.toml` beside the script, if
    /// there is one
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Receive SIP on this address, UDP and TCP (port 0: any free port)
    #[arg(long, value_name = "ADDR:PORT")]
    pub sip: Option<SocketAddr>,

    /// How calls are answered
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,

    /// Which engine decides: the compiled code or the interpreter
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    pub engine: EngineArg,

    #[command(flatten)]
    pub access: Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    Redirect,
    B2bua,
}

pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dialect serve: {message}");
            ExitCode::from(2)
        }
    }
}

/// The configuration: the file named, or the one beside the script, or
/// the defaults; then the command line's overrides.
fn configuration(args: &Args) -> Result<Config, String> {
    let beside = config::folder_of(&args.script).join(config::DEFAULT_FILE);
    let file = match &args.config {
        Some(f) => Some(f.clone()),
        None => beside.is_file().then_some(beside),
    };
    let mut config = match &file {
        Some(f) => Config::load(f, &args.script).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            lines.join("\n")
        })?,
        None => Config::defaults(&args.script),
    };
    if let Some(addr) = args.sip {
        config.listen = vec![
            Listen {
                transport: Transport::Udp,
                addr,
            },
            Listen {
                transport: Transport::Tcp,
                addr,
            },
        ];
    }
    if let Some(mode) = args.mode {
        config.mode = match mode {
            ModeArg::Redirect => Mode::Redirect,
            ModeArg::B2bua => Mode::B2bua,
        };
    }
    if let Some(agents) = &args.agents {
        config.agents = agents.clone();
        config.agents_given = true;
    }
    Ok(config)
}

/// The roster, or an empty one when none was named and none is beside
/// the script.
fn roster(config: &Config) -> Result<(Roster, Option<usize>), String> {
    if !config.agents_given && !config.agents.exists() {
        return Ok((Roster::default(), None));
    }
    let text = std::fs::read_to_string(&config.agents)
        .map_err(|e| format!("cannot read the roster {}: {e}", config.agents.display()))?;
    let roster = Roster::parse(&text).map_err(|e| format!("{}: {e}", config.agents.display()))?;
    let n = roster.agents.len();
    Ok((roster, Some(n)))
}

fn run_inner(args: &Args) -> Result<ExitCode, String> {
    let config = configuration(args)?;
    if config.mode == Mode::B2bua {
        return Err(
            "`b2bua` mode (answering calls with prompts, queues and media) is not \
                    built yet; use `--mode redirect`"
                .to_string(),
        );
    }
    let scripts = scripts::load_with(std::slice::from_ref(&args.script), None, args.access)?;
    let Some((program, tables)) =
        scripts::compile_first(&scripts, &mut std::io::stderr(), "serve")?
    else {
        return Ok(ExitCode::from(1));
    };
    let checked = program.checked();
    let names = config.check_names(
        args.config
            .as_deref()
            .unwrap_or(Path::new(config::DEFAULT_FILE)),
        checked.queues.iter().map(|q| q.name.as_str()),
        checked.groups.iter().map(|g| g.name.as_str()),
    );
    if !names.is_empty() {
        let lines: Vec<String> = names.iter().map(|e| e.to_string()).collect();
        return Err(lines.join("\n"));
    }
    let version: Arc<str> = crate::server::version(&scripts.loader.sources).into();
    let program = Arc::new(program);
    let (roster, agents) = roster(&config)?;
    roster
        .skills_for(program.checked())
        .map_err(|e| format!("{}: {e}", config.agents.display()))?;
    let credentials = credential::table(
        roster
            .agents
            .iter()
            .filter(|a| !a.sip_user.is_empty())
            .map(|a| (a.sip_user.as_str(), a.password.as_str())),
    )
    .map_err(|e| format!("{}: {e}", config.agents.display()))?;
    let registrar_config = RegistrarConfig {
        realm: config.realm.clone(),
        min_expires: config.registrar.min_expires,
        default_expires: config.registrar.default_expires,
        max_expires: config.registrar.max_expires,
        algorithms: config.registrar.digest.clone(),
        ..RegistrarConfig::default()
    };
    registrar_config.check().map_err(|e| e.to_string())?;
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no random numbers for nonces: {e}"))?;
    let registrar = Arc::new(Registrar::new(
        registrar_config,
        NonceKey::new(secret),
        credentials,
    ));

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    tokio.block_on(async move {
        let runtime = Runtime::builder(Arc::clone(&program), &roster)
            .engine(args.engine.into())
            .build()
            .map_err(|e| format!("{}: {e}", config.agents.display()))?;
        // Agents are logged in from the start; a phone must also be
        // registered for calls to reach them (docs/serve.md).
        for a in &roster.agents {
            let _ = runtime.acd().login(&a.id);
        }
        let counters = Arc::new(Counters::default());
        let decisions = Arc::new(Decisions::default());
        let answerer = Arc::new(Answerer {
            slot: Arc::new(arc_swap::ArcSwap::from_pointee(Version {
                program: Arc::clone(&program),
                tables: Arc::new(tables),
                version: Arc::clone(&version),
            })),
            engine: args.engine.into(),
            targets: config.targets.clone(),
            runtime: Arc::clone(&runtime),
            registrar: Arc::clone(&registrar),
            decisions: Arc::clone(&decisions),
            started: Instant::now(),
            rate: Rate::new(
                config.limits.requests_per_second,
                config.limits.retry_after_s,
            ),
        });
        let limits = Limits {
            max_pending: config.limits.pending_transactions as usize,
            retry_after: config.limits.retry_after_s,
            ..Limits::default()
        };
        let listening = listen(&config.listen, answerer, Arc::clone(&counters), limits)
            .await
            .map_err(|e| e.to_string())?;
        let files = scripts.files;
        println!(
            "dialect serve: redirect mode, program version {version} ({}, {files} file{})",
            args.script.display(),
            if files == 1 { "" } else { "s" }
        );
        for l in &listening.bound {
            println!("  listening on {l}");
        }
        match agents {
            Some(n) => println!("  roster: {n} agent(s) from {}", config.agents.display()),
            None => println!(
                "  roster: none ({} not found): queues, groups and extensions find nobody",
                config.agents.display()
            ),
        }
        println!("  press Ctrl-C to stop (or send SIGTERM)");
        use std::io::Write;
        let _ = std::io::stdout().flush();

        // Expired registrations leave the table once a minute.
        let purge = {
            let registrar = Arc::clone(&registrar);
            let started = Instant::now();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    registrar.purge(started.elapsed().as_millis() as u64);
                }
            })
        };
        stopped().await;
        purge.abort();
        listening.stop().await;
        runtime.shutdown(0).await;
        let s = counters.snapshot();
        let decided = decisions.decided();
        let nanos = decisions.nanos.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "dialect serve: stopped; {} INVITE(s) decided{}",
            decided,
            if decided > 0 {
                format!(
                    ", {:.1} µs each on average",
                    nanos as f64 / decided as f64 / 1000.0
                )
            } else {
                String::new()
            }
        );
        println!("  {}", counters_line(&s));
        Ok::<_, String>(ExitCode::SUCCESS)
    })
}

/// What the SIP layer counted, on one line: `received INVITE=3 ACK=3;
/// answered 302=3; resent 0; timed out 0; dropped none`.
fn counters_line(s: &crate::sip::counters::Snapshot) -> String {
    let pairs = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(" ")
        }
    };
    format!(
        "received {}; answered {}; resent {}; timed out {}; dropped {}",
        pairs(s.received.iter().map(|(m, n)| format!("{m}={n}")).collect()),
        pairs(
            s.responses
                .iter()
                .map(|(c, n)| format!("{c}={n}"))
                .collect()
        ),
        s.resent,
        s.timed_out,
        pairs(s.drops.iter().map(|(d, n)| format!("{d}={n}")).collect()),
    )
}

/// Returns at SIGINT (Ctrl-C) or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
