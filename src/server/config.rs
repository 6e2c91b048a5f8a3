//! `dialect.toml`: how `dialect serve` runs a script (where it listens,
//! its mode, where redirect mode sends calls, its limits and files). Every
//! setting has a default, so a script alone is enough to serve it.
//!
//! ```toml
//! mode = "redirect"
//! listen = ["udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"]
//!
//! [targets]
//! trunk = "sip:{number}@trunk.example.net"
//! voicemail = "sip:{mailbox}@voicemail.example.net"
//! ivr = "sip:ivr@media.example.net;menu={menu}"
//! queues = { billing_en = "sip:billing@pbx.example.net" }
//! ```
//!
//! Errors name the file, the line and the key, and suggest the key meant
//! when one is misspelled. Addresses and URIs are checked here, at load
//! time, not when the first call needs them.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::did_you_mean;
use crate::sip::digest::Algorithm;

/// The file `dialect serve` reads when `--config` is not given: beside
/// the script, and only if it exists.
pub const DEFAULT_FILE: &str = "dialect.toml";

/// A server's configuration, every setting filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub mode: Mode,
    /// Where SIP is received, each address once.
    pub listen: Vec<Listen>,
    /// Where redirect mode sends calls.
    pub targets: Targets,
    pub limits: Limits,
    pub registrar: Registrar,
    /// The realm of digest challenges.
    pub realm: String,
    /// The call record database.
    pub database: PathBuf,
    /// The folder of prompt recordings.
    pub prompts: PathBuf,
    /// The roster; `agents_given` says whether the file named it (a
    /// roster named there must exist; the default may be absent).
    pub agents: PathBuf,
    pub agents_given: bool,
    /// The admin API's address (`server::admin`); `serve` uses
    /// 127.0.0.1:8089 when none is named.
    pub admin: Option<SocketAddr>,
    /// B2BUA mode's media: RTP ports, timeouts, recordings.
    pub media: MediaSettings,
}

/// `[media]`: how B2BUA mode's calls carry audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSettings {
    /// The address RTP is sent from and named in SDP; default: the first
    /// UDP `listen` address (127.0.0.1 when that is a wildcard).
    pub address: Option<std::net::IpAddr>,
    /// The RTP ports (even ones are used, one per call leg).
    pub rtp_ports: (u16, u16),
    /// A caller who sends no RTP this long is hung up, seconds.
    pub media_timeout_s: u32,
    /// Where voicemail messages and call recordings are written.
    pub recordings: PathBuf,
    /// The longest voicemail message, seconds.
    pub voicemail_max_s: u32,
    /// How long calls in progress may go on after a stop is asked for
    /// (SIGINT, SIGTERM) before they are hung up, seconds.
    pub shutdown_grace_s: u32,
}

/// How calls are answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Dialect answers calls, runs menus and queues, and bridges media.
    #[default]
    B2bua,
    /// Each INVITE gets a 302 to where the script sends it, or a rejection.
    Redirect,
}

/// A transport and an address to receive SIP on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Listen {
    pub transport: Transport,
    pub addr: SocketAddr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(f, "{scheme}://{}", self.addr)
    }
}

/// Where redirect mode sends calls: URIs, some with a place for a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// `transfer NUMBER`: `{number}` is the number.
    pub trunk: Template,
    /// `voicemail BOX`: `{mailbox}` is the mailbox.
    pub voicemail: Template,
    /// `menu M`: the IVR that plays menus (`{menu}` is the menu's name, if
    /// the URI has it); `None` answers 501.
    pub ivr: Option<Template>,
    /// Queues served elsewhere, by name.
    pub queues: BTreeMap<String, String>,
    /// Hunt groups served elsewhere, by name.
    pub groups: BTreeMap<String, String>,
    /// Where in the file each queue and group name is, for
    /// [`Config::check_names`].
    places: Vec<(Kind, String, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Queue,
    Group,
}

/// A URI with at most one placeholder, split around it so that filling it
/// in is two copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    before: String,
    /// The placeholder's name (without braces); `None`: a fixed URI.
    hole: Option<&'static str>,
    after: String,
}

impl Template {
    /// Parses `text`, whose placeholder (if any) must be one of `allowed`
    /// and must be present when `required`.
    fn parse(text: &str, allowed: &[&'static str], required: bool) -> Result<Template, String> {
        let Some(open) = text.find('{') else {
            if required && let Some(name) = allowed.first() {
                return Err(format!(
                    "`{text}` has no `{{{name}}}`: every call would go to the same place"
                ));
            }
            check_uri(text)?;
            return Ok(Template {
                before: text.to_string(),
                hole: None,
                after: String::new(),
            });
        };
        let close = text[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| format!("`{text}`: `{{` is not closed"))?;
        let name = &text[open + 1..close];
        let Some(&hole) = allowed.iter().find(|a| **a == name) else {
            let known: Vec<String> = allowed.iter().map(|a| format!("`{{{a}}}`")).collect();
            return Err(format!(
                "`{text}`: `{{{name}}}` is not a placeholder here ({})",
                if known.is_empty() {
                    "this URI takes none".to_string()
                } else {
                    format!("it takes {}", known.join(" or "))
                }
            ));
        };
        let after = &text[close + 1..];
        if after.contains(['{', '}']) || text[..open].contains('}') {
            return Err(format!("`{text}`: a URI takes one placeholder at most"));
        }
        let template = Template {
            before: text[..open].to_string(),
            hole: Some(hole),
            after: after.to_string(),
        };
        // Checked with a value in the placeholder; said of the text written.
        let sample = template.fill("x");
        check_uri(&sample).map_err(|m| m.replace(&sample, text))?;
        Ok(template)
    }

    /// A fixed URI.
    fn fixed(uri: &str) -> Template {
        Template {
            before: uri.to_string(),
            hole: None,
            after: String::new(),
        }
    }

    /// The URI with `value` in the placeholder, escaped as a SIP URI's
    /// user part requires (RFC 3261 §25.1).
    pub fn fill(&self, value: &str) -> String {
        let mut out = String::with_capacity(self.before.len() + value.len() + self.after.len());
        self.fill_into(value, &mut out);
        out
    }

    /// [`Template::fill`] appending to `out`.
    pub fn fill_into(&self, value: &str, out: &mut String) {
        out.push_str(&self.before);
        if self.hole.is_some() {
            escape_user(value, out);
        }
        out.push_str(&self.after);
    }

    /// The template as written.
    pub fn text(&self) -> String {
        match self.hole {
            Some(h) => format!("{}{{{h}}}{}", self.before, self.after),
            None => self.before.clone(),
        }
    }
}

/// Appends `value` escaped for a SIP URI's user part: unreserved and
/// user-unreserved characters as they are, anything else as `%XX`.
fn escape_user(value: &str, out: &mut String) {
    for b in value.bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b';'
                    | b'?'
                    | b'/'
            );
        if plain {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// Checks the shape of a SIP URI: `sip:` or `sips:`, an optional user
/// part, a host name, IPv4 address or bracketed IPv6 address, an optional
/// port, then parameters and headers. The SIP layer parses it fully when
/// it writes it; this catches what a person gets wrong.
fn check_uri(uri: &str) -> Result<(), String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .ok_or_else(|| format!("`{uri}` is not a SIP URI (it starts with `sip:` or `sips:`)"))?;
    if let Some(c) = uri
        .chars()
        .find(|c| c.is_whitespace() || "<>\"".contains(*c))
    {
        return Err(format!("`{uri}`: {c:?} cannot appear in a SIP URI"));
    }
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host_port = host_port.split([';', '?']).next().unwrap_or_default();
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, tail) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{uri}`: `[` of an IPv6 address is not closed"))?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{uri}`: `{addr}` is not an IPv6 address"))?;
        (host_port, tail.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(format!("`{uri}` has no host"));
    }
    let host_ok = host.starts_with('[')
        || host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !host_ok {
        return Err(format!("`{uri}`: `{host}` is not a host name or address"));
    }
    if let Some(p) = port
        && !matches!(p.parse::<u16>(), Ok(n) if n > 0)
    {
        return Err(format!("`{uri}`: `{p}` is not a port (1 to 65535)"));
    }
    Ok(())
}

/// Limits beyond which requests get 503 with Retry-After.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Server transactions in progress at once.
    pub pending_transactions: u32,
    /// New requests per second, over each second.
    pub requests_per_second: u32,
    /// The Retry-After of those 503s, seconds.
    pub retry_after_s: u32,
}

/// The defaults are measured (docs/performance.md, "Overload"): one UDP
/// socket's task answered about 100,000 redirect calls per second on one
/// core of the development machine, and a transaction held open costs
/// about 1 kB.
impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // About 100 MB of transactions per socket.
            pending_transactions: 100_000,
            // Three quarters of one socket's measured capacity, leaving
            // room for REGISTERs, OPTIONS and retransmissions.
            requests_per_second: 75_000,
            retry_after_s: 5,
        }
    }
}

/// How long registrations last, seconds (RFC 3261 §10.3: shorter than
/// `min_expires` gets 423, longer than `max_expires` is cut to it, none
/// asked gets `default_expires`), and the digest algorithms its
/// challenges offer, in that order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registrar {
    pub min_expires: u32,
    pub default_expires: u32,
    pub max_expires: u32,
    /// Default: SHA-256 then MD5, as RFC 8760 asks. Clients that answer
    /// only the first challenge and know only MD5 (SIPp 3.6, older phones)
    /// need `["MD5", "SHA-256"]` or `["MD5"]`.
    pub digest: Vec<Algorithm>,
    /// How often, in seconds, expired registrations are dropped and, in
    /// B2BUA mode, agents' logins brought in line with their phones;
    /// `None`: every 10 s in B2BUA mode, every 60 s in redirect mode.
    pub refresh_s: Option<u32>,
}

impl Default for Registrar {
    fn default() -> Registrar {
        Registrar {
            min_expires: 60,
            default_expires: 3600,
            max_expires: 7200,
            digest: Algorithm::PREFERENCE.to_vec(),
            refresh_s: None,
        }
    }
}

/// A problem with the configuration, where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; `None` when the file could not be read.
    pub line: Option<usize>,
    /// The key, dotted (`targets.trunk`); empty when the file is not TOML.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

// What the file may hold, every key optional.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    mode: Option<Mode>,
    listen: Option<Spanned<Vec<Spanned<String>>>>,
    realm: Option<Spanned<String>>,
    database: Option<PathBuf>,
    prompts: Option<PathBuf>,
    agents: Option<PathBuf>,
    admin: Option<Spanned<String>>,
    #[serde(default)]
    targets: TargetsFile,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    registrar: RegistrarFile,
    #[serde(default)]
    media: MediaFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MediaFile {
    address: Option<Spanned<String>>,
    rtp_ports: Option<Spanned<String>>,
    media_timeout: Option<Spanned<u32>>,
    recordings: Option<PathBuf>,
    voicemail_max: Option<Spanned<u32>>,
    shutdown_grace: Option<Spanned<u32>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    trunk: Option<Spanned<String>>,
    voicemail: Option<Spanned<String>>,
    ivr: Option<Spanned<String>>,
    #[serde(default)]
    queues: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    pending_transactions: Option<Spanned<u32>>,
    requests_per_second: Option<Spanned<u32>>,
    retry_after: Option<Spanned<u32>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RegistrarFile {
    min_expires: Option<Spanned<u32>>,
    default_expires: Option<Spanned<u32>>,
    max_expires: Option<Spanned<u32>>,
    digest: Option<Spanned<Vec<Spanned<String>>>>,
    refresh: Option<Spanned<u32>>,
}

/// Every key the file may hold, for suggestions.
const KEYS: &[&str] = &[
    "mode",
    "listen",
    "realm",
    "database",
    "prompts",
    "agents",
    "admin",
    "targets",
    "limits",
    "registrar",
    "media",
    "address",
    "rtp_ports",
    "media_timeout",
    "recordings",
    "voicemail_max",
    "shutdown_grace",
    "trunk",
    "voicemail",
    "ivr",
    "queues",
    "groups",
    "pending_transactions",
    "requests_per_second",
    "retry_after",
    "min_expires",
    "default_expires",
    "max_expires",
    "digest",
    "refresh",
];

/// `20000-30999`: a range of at least two ports.
fn parse_ports(text: &str) -> Option<(u16, u16)> {
    let (lo, hi) = text.split_once('-')?;
    let (lo, hi): (u16, u16) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo > 0 && hi > lo).then_some((lo, hi))
}

/// The default trunk and voicemail: `.invalid` (RFC 2606) names a host
/// that does not exist, so a redirect there says plainly that the target
/// was not configured.
const DEFAULT_TRUNK: &str = "sip:{number}@trunk.invalid";
const DEFAULT_VOICEMAIL: &str = "sip:{mailbox}@voicemail.invalid";

impl Config {
    /// The configuration of a server with no file, for `script`: SIP on
    /// UDP and TCP at 127.0.0.1:5060, B2BUA mode, files beside the script.
    pub fn defaults(script: &Path) -> Config {
        let dir = folder_of(script);
        Config {
            mode: Mode::B2bua,
            listen: vec![
                Listen {
                    transport: Transport::Udp,
                    addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
                },
                Listen {
                    transport: Transport::Tcp,
                    addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
                },
            ],
            targets: Targets {
                trunk: Template::parse(DEFAULT_TRUNK, &["number"], true)
                    .unwrap_or_else(|_| Template::fixed(DEFAULT_TRUNK)),
                voicemail: Template::parse(DEFAULT_VOICEMAIL, &["mailbox"], true)
                    .unwrap_or_else(|_| Template::fixed(DEFAULT_VOICEMAIL)),
                ivr: None,
                queues: BTreeMap::new(),
                groups: BTreeMap::new(),
                places: Vec::new(),
            },
            limits: Limits::default(),
            registrar: Registrar::default(),
            realm: "dialect".to_string(),
            database: dir.join("dialect.db"),
            prompts: dir.join("prompts"),
            agents: dir.join("agents.toml"),
            agents_given: false,
            admin: None,
            media: MediaSettings {
                address: None,
                rtp_ports: (20_000, 30_999),
                media_timeout_s: 30,
                recordings: dir.join("recordings"),
                voicemail_max_s: 120,
                shutdown_grace_s: 30,
            },
        }
    }

    /// Reads `file` for `script`.
    pub fn load(file: &Path, script: &Path) -> Result<Config, Vec<ConfigError>> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            vec![ConfigError {
                file: file.to_path_buf(),
                line: None,
                key: String::new(),
                message: format!("cannot be read: {e}"),
            }]
        })?;
        Config::parse(&text, file, script)
    }

    /// The configuration `text` (read from `file`) gives for `script`:
    /// paths in it are relative to the file's folder; every problem found.
    pub fn parse(text: &str, file: &Path, script: &Path) -> Result<Config, Vec<ConfigError>> {
        let error = |span: Option<Range<usize>>, key: &str, message: String| ConfigError {
            file: file.to_path_buf(),
            line: span.map(|s| line_of(text, s.start)),
            key: key.to_string(),
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|e| {
            let span = e.span();
            let (key, message) = explain_toml(text, span.clone(), e.message());
            vec![error(span, &key, message)]
        })?;
        let mut errors = Vec::new();
        let mut config = Config::defaults(script);
        let here = folder_of(file);
        if let Some(mode) = parsed.mode {
            config.mode = mode;
        }
        if let Some(listen) = &parsed.listen {
            config.listen.clear();
            if listen.get_ref().is_empty() {
                errors.push(error(
                    Some(listen.span()),
                    "listen",
                    "lists no address: SIP needs at least one (`udp://127.0.0.1:5060`)".to_string(),
                ));
            }
            for entry in listen.get_ref() {
                match parse_listen(entry.get_ref()) {
                    Ok(l) if config.listen.contains(&l) => errors.push(error(
                        Some(entry.span()),
                        "listen",
                        format!("`{l}` is listed twice"),
                    )),
                    Ok(l) => config.listen.push(l),
                    Err(m) => errors.push(error(Some(entry.span()), "listen", m)),
                }
            }
        }
        if let Some(realm) = &parsed.realm {
            let r = realm.get_ref();
            if r.is_empty() || r.contains(['"', '\\']) || r.chars().any(char::is_control) {
                errors.push(error(
                    Some(realm.span()),
                    "realm",
                    format!("`{r}` is not a realm: a non-empty name without quotes, backslashes or control characters"),
                ));
            } else {
                config.realm = r.clone();
            }
        }
        if let Some(p) = parsed.database {
            config.database = here.join(p);
        }
        if let Some(p) = parsed.prompts {
            config.prompts = here.join(p);
        }
        if let Some(p) = parsed.agents {
            config.agents = here.join(p);
            config.agents_given = true;
        }
        if let Some(admin) = &parsed.admin {
            match admin.get_ref().parse::<SocketAddr>() {
                Ok(a) => config.admin = Some(a),
                Err(_) => errors.push(error(
                    Some(admin.span()),
                    "admin",
                    format!(
                        "`{}` is not an IP address and port such as `127.0.0.1:8089`",
                        admin.get_ref()
                    ),
                )),
            }
        }
        let t = &parsed.targets;
        let mut template = |value: &Option<Spanned<String>>,
                            key: &str,
                            allowed: &[&'static str],
                            required: bool|
         -> Option<Template> {
            let v = value.as_ref()?;
            Template::parse(v.get_ref(), allowed, required)
                .map_err(|m| errors.push(error(Some(v.span()), key, m)))
                .ok()
        };
        if let Some(trunk) = template(&t.trunk, "targets.trunk", &["number"], true) {
            config.targets.trunk = trunk;
        }
        if let Some(vm) = template(&t.voicemail, "targets.voicemail", &["mailbox"], true) {
            config.targets.voicemail = vm;
        }
        config.targets.ivr = template(&t.ivr, "targets.ivr", &["menu"], false);
        for (kind, table, key) in [
            (Kind::Queue, &t.queues, "targets.queues"),
            (Kind::Group, &t.groups, "targets.groups"),
        ] {
            for (name, uri) in table {
                let key = format!("{key}.{}", name.get_ref());
                if let Err(m) = Template::parse(uri.get_ref(), &[], false) {
                    errors.push(error(Some(uri.span()), &key, m));
                    continue;
                }
                let map = match kind {
                    Kind::Queue => &mut config.targets.queues,
                    Kind::Group => &mut config.targets.groups,
                };
                map.insert(name.get_ref().clone(), uri.get_ref().clone());
                config.targets.places.push((
                    kind,
                    name.get_ref().clone(),
                    line_of(text, name.span().start),
                ));
            }
        }
        let number = |v: &Option<Spanned<u32>>, key: &str, min: u32, into: &mut u32| match v {
            Some(n) if *n.get_ref() < min => Some(error(
                Some(n.span()),
                key,
                format!("{} is too small: at least {min}", n.get_ref()),
            )),
            Some(n) => {
                *into = *n.get_ref();
                None
            }
            None => None,
        };
        let m = &parsed.media;
        if let Some(p) = &m.recordings {
            config.media.recordings = here.join(p);
        }
        if let Some(a) = &m.address {
            match a.get_ref().parse() {
                Ok(ip) => config.media.address = Some(ip),
                Err(_) => errors.push(error(
                    Some(a.span()),
                    "media.address",
                    format!(
                        "`{}` is not an IP address such as `192.0.2.10`",
                        a.get_ref()
                    ),
                )),
            }
        }
        if let Some(r) = &m.rtp_ports {
            match parse_ports(r.get_ref()) {
                Some(range) => config.media.rtp_ports = range,
                None => errors.push(error(
                    Some(r.span()),
                    "media.rtp_ports",
                    format!(
                        "`{}` is not a range of ports such as `20000-30999` (at least two ports, \
                         the first even)",
                        r.get_ref()
                    ),
                )),
            }
        }
        errors.extend(
            [
                number(
                    &m.media_timeout,
                    "media.media_timeout",
                    1,
                    &mut config.media.media_timeout_s,
                ),
                number(
                    &m.voicemail_max,
                    "media.voicemail_max",
                    1,
                    &mut config.media.voicemail_max_s,
                ),
                number(
                    &m.shutdown_grace,
                    "media.shutdown_grace",
                    0,
                    &mut config.media.shutdown_grace_s,
                ),
            ]
            .into_iter()
            .flatten(),
        );
        let l = &parsed.limits;
        let r = &parsed.registrar;
        errors.extend(
            [
                number(
                    &l.pending_transactions,
                    "limits.pending_transactions",
                    1,
                    &mut config.limits.pending_transactions,
                ),
                number(
                    &l.requests_per_second,
                    "limits.requests_per_second",
                    1,
                    &mut config.limits.requests_per_second,
                ),
                number(
                    &l.retry_after,
                    "limits.retry_after",
                    1,
                    &mut config.limits.retry_after_s,
                ),
                number(
                    &r.min_expires,
                    "registrar.min_expires",
                    1,
                    &mut config.registrar.min_expires,
                ),
                number(
                    &r.default_expires,
                    "registrar.default_expires",
                    1,
                    &mut config.registrar.default_expires,
                ),
                number(
                    &r.max_expires,
                    "registrar.max_expires",
                    1,
                    &mut config.registrar.max_expires,
                ),
            ]
            .into_iter()
            .flatten(),
        );
        if r.refresh.is_some() {
            let mut refresh = 0;
            errors.extend(number(&r.refresh, "registrar.refresh", 1, &mut refresh));
            config.registrar.refresh_s = Some(refresh);
        }
        if let Some(digest) = &r.digest {
            let mut order = Vec::new();
            for name in digest.get_ref() {
                match Algorithm::from_name(name.get_ref()) {
                    Some(a) if !order.contains(&a) => order.push(a),
                    Some(_) => errors.push(error(
                        Some(name.span()),
                        "registrar.digest",
                        format!("`{}` is named twice", name.get_ref()),
                    )),
                    None => errors.push(error(
                        Some(name.span()),
                        "registrar.digest",
                        format!(
                            "`{}` is not a digest algorithm: `SHA-256` or `MD5`",
                            name.get_ref()
                        ),
                    )),
                }
            }
            if order.is_empty() && errors.is_empty() {
                errors.push(error(
                    Some(digest.span()),
                    "registrar.digest",
                    "names no algorithm: registration would be impossible".to_string(),
                ));
            }
            config.registrar.digest = order;
        }
        let reg = config.registrar.clone();
        if errors.is_empty()
            && !(reg.min_expires <= reg.default_expires && reg.default_expires <= reg.max_expires)
        {
            let at = [&r.min_expires, &r.default_expires, &r.max_expires]
                .into_iter()
                .flatten()
                .next()
                .map(|s| s.span());
            errors.push(error(
                at,
                "registrar",
                format!(
                    "min_expires ({}) ≤ default_expires ({}) ≤ max_expires ({}) does not hold",
                    reg.min_expires, reg.default_expires, reg.max_expires
                ),
            ));
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }

    /// The queues and groups `[targets]` names that the program does not
    /// have, as errors at their lines in `file` (with the name meant, when
    /// one is close).
    pub fn check_names<'a>(
        &self,
        file: &Path,
        queues: impl Iterator<Item = &'a str> + Clone,
        groups: impl Iterator<Item = &'a str> + Clone,
    ) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (kind, name, line) in &self.targets.places {
            let (known, what, key): (Vec<&str>, _, _) = match kind {
                Kind::Queue => (queues.clone().collect(), "queue", "targets.queues"),
                Kind::Group => (groups.clone().collect(), "group", "targets.groups"),
            };
            if known.contains(&name.as_str()) {
                continue;
            }
            let hint = did_you_mean(name, known.iter().copied())
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            errors.push(ConfigError {
                file: file.to_path_buf(),
                line: Some(*line),
                key: format!("{key}.{name}"),
                message: format!("the script has no {what} `{name}`{hint}"),
            });
        }
        errors
    }
}

/// `udp://ADDR:PORT` or `tcp://ADDR:PORT`, the address an IP (as
/// `listen` holds them; the error says what to write instead).
pub fn parse_listen(text: &str) -> Result<Listen, String> {
    let (transport, addr) = if let Some(a) = text.strip_prefix("udp://") {
        (Transport::Udp, a)
    } else if let Some(a) = text.strip_prefix("tcp://") {
        (Transport::Tcp, a)
    } else {
        return Err(format!(
            "`{text}` does not say its transport: write `udp://{text}` or `tcp://{text}`"
        ));
    };
    let addr = addr.parse::<SocketAddr>().map_err(|_| {
        format!("`{text}`: `{addr}` is not an IP address and port such as `127.0.0.1:5060` or `[::1]:5060`")
    })?;
    Ok(Listen { transport, addr })
}

/// The folder a file is in (`.` for a bare name).
/// The folder a file is in (`.` for a bare file name): where the files
/// beside a script or a configuration are looked for.
pub fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key and a message for a TOML or shape error: an unknown key gets
/// the known key it is closest to.
fn explain_toml(text: &str, span: Option<Range<usize>>, message: &str) -> (String, String) {
    let message = message.trim();
    let found = span
        .and_then(|s| text.get(s))
        .map(|s| s.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        // serde lists the keys the table takes after the name.
        let expected: Vec<&str> = rest.split('`').skip(1).skip(1).step_by(2).collect();
        let candidates = if expected.is_empty() {
            KEYS.to_vec()
        } else {
            expected
        };
        let hint = did_you_mean(name, candidates.iter().copied())
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_else(|| format!("; the keys here are {}", quoted(&candidates)));
        return (name.to_string(), format!("unknown key{hint}"));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        return (
            String::new(),
            format!("`{name}` is not a mode: `b2bua` or `redirect`"),
        );
    }
    let key = if found.is_empty() || found.contains(['\n', '=', '[']) {
        String::new()
    } else {
        found
    };
    (key, message.to_string())
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
