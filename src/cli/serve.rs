//! `dialect serve SCRIPT`: answer SIP with a script. Reads the
//! configuration, checks and compiles the script (refusing to start on
//! errors, shown as `lint` shows them), reads the roster, opens the SIP
//! sockets, says where it listens and which program version serves, and
//! runs until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use super::scripts::Access;
use super::test::EngineArg;
use crate::runtime::{Roster, Runtime};
use std::time::Duration;

use super::serve_files::{self, Files};
use crate::media::engine::{Media, MediaConfig};
use crate::server::admin::Phones;
use crate::server::answer::{Answerer, Decisions, Rate, Version};
use crate::server::b2bua::prompts::Prompts;
use crate::server::b2bua::{Board, Settings, Switchboard};
use crate::server::config::{self, Config, Listen, Mode, Transport};
use crate::server::listen::listen;
use crate::server::records::{RecordStore, RecordWriter};
use crate::server::reload::{Ask, Loaded, Refused, Reloader, Source as _};
use crate::server::watch::{Watch, Watched};
use crate::sip::counters::Counters;
use crate::sip::ingress::Limits;
use crate::sip::nonce::NonceKey;
use crate::sip::registrar::{Registrar, RegistrarConfig};

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dialect serve examples/hotline/hotline.dial
  dialect serve examples/support/support.dial --sip 0.0.0.0:5060
  dialect serve routing.dial --mode redirect --config /etc/dialect/dialect.toml

Then, from another terminal, an agent's phone and a caller with SIPp (the
scenarios are in tests/sipp/; see docs/serve.md, \"B2BUA mode\"):
  sipp -sf tests/sipp/uac_register.xml 127.0.0.1:5060 -i 127.0.0.1 -p 5072 \\
       -s ana -au ana -ap ana-secret -key expires 300 -m 1
  sipp -sf tests/sipp/uas_agent_bye.xml 127.0.0.1:5060 -i 127.0.0.1 -p 5072 -m 1 -d 500 -mp 6100 &
  sipp -sf tests/sipp/uac_call.xml 127.0.0.1:5060 -i 127.0.0.1 -p 5071 -m 1 -mp 6000 \\
       -s +18005550100 -key caller +15125550123 -key rtp_port 6000 -d 2000

Every setting has a default (docs/serve.md): SIP on UDP and TCP at
127.0.0.1:5060, the roster from `agents.toml` beside the script when there is
one, `dialect.toml` beside the script when there is one, and its prompts in
`prompts/` beside the script. `--sip`, `--mode` and `--agents` override the
file.

Modes: `b2bua` (the default) answers each call itself: it plays the script's
prompts, collects keys (RFC 4733 telephone-events or SIP INFO), holds callers
in queues with music and announcements, rings agents' registered phones,
bridges the call (RTP relayed, PCMU and PCMA), records voicemail, and prints
each call's record as a line of JSON. An agent is offered calls while a
phone of theirs is registered. `redirect` answers each INVITE with a 302 to
where the script sends the call (or a rejection, 404 when no entry answers
the number). In both modes phones REGISTER with digest authentication
against the roster's `sip_user` and `password`.

Reloads: edit the script and send SIGHUP (`kill -HUP PID`), or start with
`--watch` and save. The new version is checked, compiled and its tests run
before it takes the next call; calls in progress keep theirs. A script with
errors or a failing test changes nothing and its diagnostics are printed.
The server then says which calls the change sends elsewhere (as `dialect
diff` does).

Exit status: 0 after a clean stop (Ctrl-C or SIGTERM: in b2bua mode new
calls get 503 and calls in progress have `[media] shutdown_grace` seconds
to end before they are hung up), 1 when the script has errors, 2 on a bad
configuration, roster or address (a port in use).")]
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

    /// Where call records go (B2BUA mode), an SQLite file; default the
    /// configuration's `database`, else `dialect.db` beside the script
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// The admin API's address (HTTP; `dialect reload` talks to it);
    /// default the configuration's `admin`, else 127.0.0.1:8089
    #[arg(long, value_name = "ADDR:PORT")]
    pub admin: Option<SocketAddr>,

    /// Reload when the script's files, the roster or a lookup source
    /// changes, wherever they are (debounced; only the rows or the roster
    /// when only they changed); SIGHUP reloads too, with or without it
    #[arg(long)]
    pub watch: bool,

    /// Which engine decides: the compiled code or the interpreter
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    pub engine: EngineArg,

    /// What is logged on standard error: `warn` (problems only), `info`
    /// (also each voicemail saved, each caller hung up for silence),
    /// `debug` (every request and decision)
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log: tracing::Level,

    #[command(flatten)]
    pub access: Access,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    Redirect,
    B2bua,
}

pub fn run(args: &Args) -> ExitCode {
    // Reloads seconds apart touch memory the allocator has given back
    // meanwhile; with transparent huge pages the kernel zeroes 2 MB for
    // each first touch, which doubled a 100 KB script's reload (docs/
    // decisions.md, "No transparent huge pages in the server"). Where the
    // kernel refuses, the server runs as it would have.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log)
        .with_target(false)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("dialect serve: {message}");
            ExitCode::from(2)
        }
    }
}

/// Call records that may wait for the database writer before calls that
/// end wait for it.
const RECORDS_WAITING: usize = 4096;

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
    if let Some(db) = &args.db {
        config.database = db.clone();
    }
    Ok(config)
}

/// How the script, the roster and their credentials are read, at start
/// and at every reload: a script with errors is `Refused::Script` with
/// its diagnostics as `lint` shows them.
fn loader(args: &Args, config: &Config) -> Files {
    Files {
        script: args.script.clone(),
        access: args.access,
        config: config.clone(),
        config_file: serve_files::config_file(args.config.as_ref()),
    }
}

fn run_inner(args: &Args) -> Result<ExitCode, String> {
    use std::io::Write;
    let config = configuration(args)?;
    // Start and every reload load the script the same way.
    let load = loader(args, &config);
    let first = match load.load("serve") {
        Ok(first) => first,
        Err(Refused::Script { text, .. }) => {
            eprint!("{text}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.to_string()),
    };
    let version = Arc::clone(&first.version);
    let files = first.files;
    let stamp = first.stamp;
    let tables = first.tables;
    let program = Arc::new(first.program.with_version(Arc::clone(&version)));
    let (roster, credentials, agents) = match first.roster {
        Some((roster, credentials)) => {
            let n = roster.agents.len();
            (roster, credentials, Some(n))
        }
        None => (Roster::default(), Default::default(), None),
    };
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

    // B2BUA mode's calls leave records; a database that cannot be opened
    // stops the start, before any call is taken. In both modes the
    // database keeps the switches' flips, read back here.
    let open = || RecordStore::open(&config.database).map_err(|e| e.to_string());
    let switch_store = open()?;
    let flipped = switch_store.switches().map_err(|e| e.to_string())?;
    let store = match config.mode {
        Mode::B2bua => Some(open()?),
        Mode::Redirect => None,
    };

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    tokio.block_on(async move {
        let runtime = Runtime::builder(Arc::clone(&program), &roster)
            .engine(args.engine.into())
            .build()
            .map_err(|e| format!("{}: {e}", config.agents.display()))?;
        for (name, flip) in flipped {
            runtime.switches().set(&name, flip);
        }
        // In redirect mode agents are logged in from the start, and a
        // phone must also be registered for calls to reach them; in B2BUA
        // mode an agent is logged in while a phone of theirs is
        // registered (docs/serve.md).
        if config.mode == Mode::Redirect {
            for a in &roster.agents {
                let _ = runtime.acd().login(&a.id);
            }
        }
        let writer = match store {
            Some(store) => Some(
                RecordWriter::start(
                    store,
                    runtime.events().records(RECORDS_WAITING),
                    true,
                )
                .map_err(|e| format!("cannot start the call-record writer: {e}"))?,
            ),
            None => None,
        };
        // The lookup rows new calls read, in both modes; redirect mode's
        // answerer reads its own slot, which reloads swap too.
        let tables = Arc::new(tables);
        runtime
            .reload_data(Arc::clone(&tables))
            .map_err(|e| e.to_string())?;
        let slot = Arc::new(arc_swap::ArcSwap::from_pointee(Version {
            program: Arc::clone(&program),
            tables: Arc::clone(&tables),
            version: Arc::clone(&version),
        }));
        let counters = Arc::new(Counters::default());
        let decisions = Arc::new(Decisions::default());
        let limits = Limits {
            max_pending: config.limits.pending_transactions as usize,
            retry_after: config.limits.retry_after_s,
            ..Limits::default()
        };
        let rate = Rate::new(
            config.limits.requests_per_second,
            config.limits.retry_after_s,
        );
        // Redirect mode's registrar reads its time from this instant (the
        // B2BUA's from its switchboard's).
        let registrar_since = Instant::now();
        let (listening, board) = match config.mode {
            Mode::Redirect => {
                let answerer = Arc::new(Answerer {
                    slot: Arc::clone(&slot),
                    engine: args.engine.into(),
                    targets: config.targets.clone(),
                    runtime: Arc::clone(&runtime),
                    registrar: Arc::clone(&registrar),
                    decisions: Arc::clone(&decisions),
                    started: registrar_since,
                    rate,
                });
                let listening = listen(&config.listen, answerer, Arc::clone(&counters), limits)
                    .await
                    .map_err(|e| e.to_string())?;
                (listening, None)
            }
            Mode::B2bua => {
                let board = b2bua_board(&config, &runtime, &registrar, rate, &roster)?;
                let handler = Arc::new(Board(Arc::clone(&board)));
                let listening = listen(&config.listen, handler, Arc::clone(&counters), limits)
                    .await
                    .map_err(|e| e.to_string())?;
                (listening, Some(board))
            }
        };
        let stop = stop_signal();
        let reloader = Arc::new(Reloader::new(
            Box::new(load),
            Arc::clone(&runtime),
            Some(Arc::clone(&slot)),
            Arc::clone(&registrar),
            args.engine.into(),
            Loaded {
                version: version.to_string(),
                at: jiff::Timestamp::now(),
                by: "start".into(),
                files,
            },
            stamp,
        ));
        // In B2BUA mode agents' logins follow the phones of the roster in
        // force, whichever reload put it there.
        if let Some(board) = &board {
            let board = Arc::clone(board);
            reloader.on_roster(Box::new(move |roster| {
                board.set_agents(roster.agents.iter().map(|a| (a.sip_user.as_str(), a.id.as_str())));
            }));
        }
        let mut reloads = reload_triggers(&reloader, args.watch)?;
        let phones = match &board {
            Some(board) => Phones::B2bua(Arc::clone(board)),
            None => Phones::Redirect {
                registrar: Arc::clone(&registrar),
                since: registrar_since,
            },
        };
        if let Some(task) = admin_api(args, &config, &reloader, &runtime, switch_store, phones).await? {
            reloads.push(task);
        }
        println!(
            "dialect serve: {} mode, program version {version} ({}, {files} file{})",
            match config.mode {
                Mode::Redirect => "redirect",
                Mode::B2bua => "b2bua",
            },
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
        let on = runtime.switches().on_for(program.checked());
        if !on.is_empty() {
            println!(
                "  switches on (kept in {}): {}",
                config.database.display(),
                on.join(", ")
            );
        }
        println!("  press Ctrl-C to stop (or send SIGTERM)");
        let _ = std::io::stdout().flush();

        // Expired registrations leave the table once a minute (every 10 s
        // in B2BUA mode, where their agents are then logged out), or as
        // often as `[registrar] refresh` says.
        let purge = {
            let registrar = Arc::clone(&registrar);
            let board = board.clone();
            let period = config
                .registrar
                .refresh_s
                .unwrap_or(if board.is_some() { 10 } else { 60 });
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(u64::from(period)));
                loop {
                    every.tick().await;
                    let now_ms = match &board {
                        Some(board) => board.now_ms(),
                        None => registrar_since.elapsed().as_millis() as u64,
                    };
                    registrar.purge(now_ms);
                    if let Some(board) = &board {
                        board.refresh_presence();
                    }
                }
            })
        };
        if let Some(board) = &board {
            println!(
                "  prompts: {} from {}; RTP ports {}-{} on {}",
                board.prompts.len(),
                config.prompts.display(),
                config.media.rtp_ports.0,
                config.media.rtp_ports.1,
                media_address(&config),
            );
        }
        stop.await;
        purge.abort();
        for task in reloads {
            task.abort();
        }
        match &board {
            Some(board) => {
                // New calls get 503; calls in progress have the grace
                // period, then are hung up (BYE) with their records.
                board.close();
                let grace = i64::from(config.media.shutdown_grace_s) * 1000;
                println!(
                    "dialect serve: stopping; {} call(s) in progress may go on for {} s",
                    runtime.calls_in_progress(),
                    config.media.shutdown_grace_s
                );
                let _ = std::io::stdout().flush();
                let shutdown = runtime.shutdown(grace).await;
                board.wait_for_calls().await;
                listening.stop().await;
                board.media.stop();
                // Every call has handed its record over: the writer drains
                // what is left and ends.
                runtime.events().close_records();
                if let Some(writer) = writer {
                    let done = tokio::task::spawn_blocking(move || writer.finish())
                        .await
                        .unwrap_or_default();
                    println!("  {}", done.line(&config.database));
                }
                let c = &board.calls;
                println!(
                    "dialect serve: stopped; {} call(s) taken, {} hung up at the deadline, {} refused while stopping",
                    c.ended.load(std::sync::atomic::Ordering::Relaxed),
                    shutdown.cut,
                    c.refused.load(std::sync::atomic::Ordering::Relaxed),
                );
            }
            None => {
                listening.stop().await;
                runtime.shutdown(0).await;
            }
        }
        let s = counters.snapshot();
        let decided = decisions.decided();
        if board.is_some() {
            println!("  {}", counters_line(&s));
            return Ok::<_, String>(ExitCode::SUCCESS);
        }
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

/// The address RTP goes from: `[media] address`, else the first UDP
/// listen address, else loopback.
fn media_address(config: &Config) -> std::net::IpAddr {
    config.media.address.unwrap_or_else(|| {
        config
            .listen
            .iter()
            .find(|l| l.transport == Transport::Udp && !l.addr.ip().is_unspecified())
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |l| l.addr.ip())
    })
}

/// B2BUA mode's switchboard: media, prompts and settings from `config`.
fn b2bua_board(
    config: &Config,
    runtime: &Arc<Runtime>,
    registrar: &Arc<Registrar>,
    rate: Rate,
    roster: &Roster,
) -> Result<Arc<Switchboard>, String> {
    let media = Media::start(MediaConfig {
        ip: media_address(config),
        ports: config.media.rtp_ports.0..=config.media.rtp_ports.1,
        media_timeout: Duration::from_secs(u64::from(config.media.media_timeout_s)),
        record_dir: config.media.recordings.clone(),
    });
    let (prompts, unreadable) = Prompts::load(&config.prompts);
    for u in &unreadable {
        eprintln!(
            "dialect serve: warning: prompt `{}` not loaded: {}",
            u.name, u.reason
        );
    }
    if !config.prompts.is_dir() {
        eprintln!(
            "dialect serve: warning: no prompts folder at {}: every prompt plays as silence \
             (set `prompts` in dialect.toml)",
            config.prompts.display()
        );
    }
    let settings = Settings {
        recordings: config.media.recordings.clone(),
        voicemail_max: Duration::from_secs(u64::from(config.media.voicemail_max_s)),
        targets: config.targets.clone(),
    };
    Ok(Arc::new(
        Switchboard::new(
            Arc::clone(runtime),
            Arc::clone(registrar),
            media,
            Arc::new(prompts),
            settings,
            rate,
        )
        .with_agents(
            roster
                .agents
                .iter()
                .map(|a| (a.sip_user.as_str(), a.id.as_str())),
        ),
    ))
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

/// A future that returns at SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed when it is made, before `serve` says it listens, so a signal
/// sent as soon as it does is not lost (nor kills the process).
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Loads the script again off the serving path (the reloader logs what
/// happened).
async fn reload_now(reloader: &Arc<Reloader>, by: &'static str) {
    let r = Arc::clone(reloader);
    if let Err(e) = tokio::task::spawn_blocking(move || r.reload(by, &Ask::default())).await {
        eprintln!("dialect serve: reload ({by}) failed: {e}");
    }
}

/// The tasks that reload on SIGHUP and, with `--watch`, when a watched
/// file changes. The watched folders follow every reload (an edit may
/// name a lookup source elsewhere).
fn reload_triggers(
    reloader: &Arc<Reloader>,
    watch: bool,
) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
    let mut tasks = Vec::new();
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
    let r = Arc::clone(reloader);
    tasks.push(tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            reload_now(&r, "SIGHUP").await;
        }
    }));
    if watch {
        let watched = Watched::of(&reloader.stamp());
        let mut changes = Watch::start(&watched)?;
        println!("  watching {} for changes", watched.describe());
        let follow = changes.follower();
        reloader.on_stamp(Box::new(move |stamp| {
            if let Err(e) = follow.set(&Watched::of(stamp)) {
                eprintln!("dialect serve: warning: {e}");
            }
        }));
        let r = Arc::clone(reloader);
        tasks.push(tokio::spawn(async move {
            while changes.changed().await {
                reload_now(&r, "watch").await;
            }
        }));
    }
    Ok(tasks)
}

/// The default admin address, when neither `--admin` nor the
/// configuration names one: 127.0.0.1:8089.
pub const ADMIN_DEFAULT: ([u8; 4], u16) = ([127, 0, 0, 1], 8089);

/// Starts the admin API. On the default address, a port in use is a
/// warning (another server on this machine has it); on an address asked
/// for, it stops the start.
async fn admin_api(
    args: &Args,
    config: &Config,
    reloader: &Arc<Reloader>,
    runtime: &Arc<Runtime>,
    store: RecordStore,
    phones: Phones,
) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    use crate::server::admin::{self, Admin, TOKEN_FILE};
    let asked = args.admin.or(config.admin);
    let addr = asked.unwrap_or_else(|| SocketAddr::from(ADMIN_DEFAULT));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if asked.is_none() => {
            eprintln!(
                "dialect serve: warning: no admin API ({addr}: {e}); set `admin` in the configuration or --admin"
            );
            return Ok(None);
        }
        Err(e) => return Err(format!("cannot open the admin API on {addr}: {e}")),
    };
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let token_file = config
        .database
        .parent()
        .map_or_else(|| PathBuf::from(TOKEN_FILE), |d| d.join(TOKEN_FILE));
    let token = admin::token(&token_file)
        .map_err(|e| format!("the admin token ({}): {e}", token_file.display()))?;
    let api = admin::router(Arc::new(Admin {
        reloader: Arc::clone(reloader),
        runtime: Arc::clone(runtime),
        phones,
        token,
        started: Instant::now(),
        mode: match config.mode {
            Mode::Redirect => "redirect",
            Mode::B2bua => "b2bua",
        },
        store: std::sync::Mutex::new(store),
    }));
    println!(
        "  admin API on http://{bound} (token in {})",
        token_file.display()
    );
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, api).await {
            eprintln!("dialect serve: the admin API stopped: {e}");
        }
    })))
}
