//! `dialect.toml`: the defaults, a file with every key, and each error
//! message with its file, line and key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::*;

const FILE: &str = "conf/dialect.toml";
const SCRIPT: &str = "scripts/support.dial";

fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
    Config::parse(text, Path::new(FILE), Path::new(SCRIPT))
}

/// The one error `text` gives, rendered.
fn error(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("no error for:\n{text}"),
        Err(errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            errors[0].to_string()
        }
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("an address")
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let config = parse("").expect("valid");
    assert_eq!(config, Config::defaults(Path::new(SCRIPT)));
    assert_eq!(config.mode, Mode::B2bua);
    assert_eq!(config.media.rtp_ports, (20_000, 30_999));
    assert_eq!(config.media.shutdown_grace_s, 30);
    assert_eq!(
        config.listen,
        [
            Listen {
                transport: Transport::Udp,
                addr: addr("127.0.0.1:5060")
            },
            Listen {
                transport: Transport::Tcp,
                addr: addr("127.0.0.1:5060")
            },
        ]
    );
    assert_eq!(config.database, PathBuf::from("scripts/dialect.db"));
    assert_eq!(config.prompts, PathBuf::from("scripts/prompts"));
    assert_eq!(config.agents, PathBuf::from("scripts/agents.toml"));
    assert!(!config.agents_given);
    assert_eq!(config.realm, "dialect");
    assert_eq!(config.admin, None);
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.registrar, Registrar::default());
    assert_eq!(
        config.targets.trunk.fill("+18005550100"),
        "sip:+18005550100@trunk.invalid"
    );
    assert_eq!(
        config.targets.voicemail.fill("support"),
        "sip:support@voicemail.invalid"
    );
    assert_eq!(config.targets.ivr, None);
    // A script named without a folder has its files in `.`.
    let bare = Config::defaults(Path::new("main.dial"));
    assert_eq!(bare.database, PathBuf::from("./dialect.db"));
}

#[test]
fn a_full_file_sets_every_key() {
    let config = parse(
        r#"
mode = "redirect"
listen = ["udp://0.0.0.0:5070", "tcp://[::1]:5071"]
realm = "support.example.net"
database = "data/cdr.db"
prompts = "/srv/prompts"
agents = "staff.toml"
admin = "127.0.0.1:8089"

[targets]
trunk = "sip:{number}@trunk.example.net;transport=tcp"
voicemail = "sips:{mailbox}@vm.example.net:5061"
ivr = "sip:ivr@[2001:db8::1]:5080;menu={menu}"
queues = { billing_en = "sip:billing@pbx.example.net" }

[targets.groups]
front_desk = "sip:front@10.0.0.2"

[limits]
pending_transactions = 2000
requests_per_second = 300
retry_after = 7

[registrar]
min_expires = 30
default_expires = 600
max_expires = 900
digest = ["md5"]
refresh = 2
"#,
    )
    .expect("valid");
    assert_eq!(config.mode, Mode::Redirect);
    assert_eq!(
        config.listen,
        [
            Listen {
                transport: Transport::Udp,
                addr: addr("0.0.0.0:5070")
            },
            Listen {
                transport: Transport::Tcp,
                addr: addr("[::1]:5071")
            },
        ]
    );
    assert_eq!(config.listen[1].to_string(), "tcp://[::1]:5071");
    assert_eq!(config.realm, "support.example.net");
    // Paths in the file are relative to the file's folder.
    assert_eq!(config.database, PathBuf::from("conf/data/cdr.db"));
    assert_eq!(config.prompts, PathBuf::from("/srv/prompts"));
    assert_eq!(config.agents, PathBuf::from("conf/staff.toml"));
    assert!(config.agents_given);
    assert_eq!(config.admin, Some(addr("127.0.0.1:8089")));
    let t = &config.targets;
    assert_eq!(
        t.trunk.fill("+18005550100"),
        "sip:+18005550100@trunk.example.net;transport=tcp"
    );
    // A value is escaped for the user part.
    assert_eq!(
        t.voicemail.fill("sales team/2"),
        "sips:sales%20team/2@vm.example.net:5061"
    );
    let ivr = t.ivr.as_ref().expect("an IVR");
    assert_eq!(
        ivr.fill("main_en"),
        "sip:ivr@[2001:db8::1]:5080;menu=main_en"
    );
    assert_eq!(ivr.text(), "sip:ivr@[2001:db8::1]:5080;menu={menu}");
    assert_eq!(t.queues["billing_en"], "sip:billing@pbx.example.net");
    assert_eq!(t.groups["front_desk"], "sip:front@10.0.0.2");
    assert_eq!(
        config.limits,
        Limits {
            pending_transactions: 2000,
            requests_per_second: 300,
            retry_after_s: 7
        }
    );
    assert_eq!(
        config.registrar,
        Registrar {
            min_expires: 30,
            default_expires: 600,
            max_expires: 900,
            digest: vec![crate::sip::digest::Algorithm::Md5],
            refresh_s: Some(2),
        }
    );
}

#[test]
fn syntax_errors_name_the_line() {
    assert_eq!(
        error("mode = \"redirect\"\nlisten = [\"udp://127.0.0.1:5060\"\n"),
        "conf/dialect.toml:2: unclosed array, expected `]`"
    );
}

#[test]
fn unknown_keys_suggest_the_key_meant() {
    assert_eq!(
        error("mdoe = \"redirect\"\n"),
        "conf/dialect.toml:1: `mdoe`: unknown key; did you mean `mode`?"
    );
    assert_eq!(
        error("[targets]\ntrunk = \"sip:{number}@t.example\"\nvoicemial = \"sip:{mailbox}@v\"\n"),
        "conf/dialect.toml:3: `voicemial`: unknown key; did you mean `voicemail`?"
    );
    assert_eq!(
        error("[limits]\nzzz = 1\n"),
        "conf/dialect.toml:2: `zzz`: unknown key; the keys here are `pending_transactions`, `requests_per_second`, `retry_after`"
    );
}

#[test]
fn a_wrong_mode_says_which_there_are() {
    assert_eq!(
        error("\nmode = \"proxy\"\n"),
        "conf/dialect.toml:2: `proxy` is not a mode: `b2bua` or `redirect`"
    );
}

#[test]
fn a_value_of_the_wrong_type_names_its_line() {
    let e = error("[limits]\nrequests_per_second = \"many\"\n");
    assert!(
        e.starts_with("conf/dialect.toml:2: ") && e.contains("invalid type"),
        "{e}"
    );
    let e = error("[limits]\nrequests_per_second = -5\n");
    assert!(e.starts_with("conf/dialect.toml:2: "), "{e}");
}

#[test]
fn listen_addresses_are_checked() {
    assert_eq!(
        error("listen = [\"127.0.0.1:5060\"]"),
        "conf/dialect.toml:1: `listen`: `127.0.0.1:5060` does not say its transport: write `udp://127.0.0.1:5060` or `tcp://127.0.0.1:5060`"
    );
    assert_eq!(
        error("listen = [\n  \"udp://localhost:5060\",\n]"),
        "conf/dialect.toml:2: `listen`: `udp://localhost:5060`: `localhost:5060` is not an IP address and port such as `127.0.0.1:5060` or `[::1]:5060`"
    );
    assert_eq!(
        error("listen = [\"udp://127.0.0.1:5060\",\n \"udp://127.0.0.1:5060\"]"),
        "conf/dialect.toml:2: `listen`: `udp://127.0.0.1:5060` is listed twice"
    );
    assert_eq!(
        error("listen = []"),
        "conf/dialect.toml:1: `listen`: lists no address: SIP needs at least one (`udp://127.0.0.1:5060`)"
    );
    // Port 0 asks the system for a free port (tests).
    let config = parse("listen = [\"udp://127.0.0.1:0\"]").expect("valid");
    assert_eq!(config.listen[0].addr.port(), 0);
}

#[test]
fn uris_are_checked() {
    assert_eq!(
        error("[targets]\ntrunk = \"http://{number}@x\""),
        "conf/dialect.toml:2: `targets.trunk`: `http://{number}@x` is not a SIP URI (it starts with `sip:` or `sips:`)"
    );
    assert_eq!(
        error("[targets]\ntrunk = \"sip:trunk.example.net\""),
        "conf/dialect.toml:2: `targets.trunk`: `sip:trunk.example.net` has no `{number}`: every call would go to the same place"
    );
    assert_eq!(
        error("[targets]\nvoicemail = \"sip:{number}@vm\""),
        "conf/dialect.toml:2: `targets.voicemail`: `sip:{number}@vm`: `{number}` is not a placeholder here (it takes `{mailbox}`)"
    );
    assert_eq!(
        error("[targets]\nvoicemail = \"sip:{mailbox@vm\""),
        "conf/dialect.toml:2: `targets.voicemail`: `sip:{mailbox@vm`: `{` is not closed"
    );
    assert_eq!(
        error("[targets]\nivr = \"sip:{menu}{menu}@ivr\""),
        "conf/dialect.toml:2: `targets.ivr`: `sip:{menu}{menu}@ivr`: a URI takes one placeholder at most"
    );
    assert_eq!(
        error("[targets]\nivr = \"sip:ivr@\""),
        "conf/dialect.toml:2: `targets.ivr`: `sip:ivr@` has no host"
    );
    assert_eq!(
        error("[targets]\nivr = \"sip:ivr@media:99999\""),
        "conf/dialect.toml:2: `targets.ivr`: `sip:ivr@media:99999`: `99999` is not a port (1 to 65535)"
    );
    assert_eq!(
        error("[targets]\nivr = \"sip:ivr@[::1:5060\""),
        "conf/dialect.toml:2: `targets.ivr`: `sip:ivr@[::1:5060`: `[` of an IPv6 address is not closed"
    );
    assert_eq!(
        error("[targets]\nivr = \"sip:ivr@bad_host\""),
        "conf/dialect.toml:2: `targets.ivr`: `sip:ivr@bad_host`: `bad_host` is not a host name or address"
    );
    assert_eq!(
        error("[targets.queues]\nbilling = \"sip:a b@pbx\""),
        "conf/dialect.toml:2: `targets.queues.billing`: `sip:a b@pbx`: ' ' cannot appear in a SIP URI"
    );
    assert_eq!(
        error("[targets.groups]\n\nfront = \"sip:{number}@pbx\""),
        "conf/dialect.toml:3: `targets.groups.front`: `sip:{number}@pbx`: `{number}` is not a placeholder here (this URI takes none)"
    );
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let errors = parse(
        "listen = [\"udp://nowhere\"]\nrealm = \"\"\nadmin = \"here\"\n[limits]\nrequests_per_second = 0\n",
    )
    .expect_err("invalid");
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered,
        [
            "conf/dialect.toml:1: `listen`: `udp://nowhere`: `nowhere` is not an IP address and port such as `127.0.0.1:5060` or `[::1]:5060`",
            "conf/dialect.toml:2: `realm`: `` is not a realm: a non-empty name without quotes, backslashes or control characters",
            "conf/dialect.toml:3: `admin`: `here` is not an IP address and port such as `127.0.0.1:8089`",
            "conf/dialect.toml:5: `limits.requests_per_second`: 0 is too small: at least 1",
        ]
    );
}

#[test]
fn registration_expiries_must_be_in_order() {
    assert_eq!(
        error("[registrar]\nmin_expires = 600\ndefault_expires = 300\n"),
        "conf/dialect.toml:2: `registrar`: min_expires (600) ≤ default_expires (300) ≤ max_expires (7200) does not hold"
    );
    assert_eq!(
        error("[registrar]\nmax_expires = 0\n"),
        "conf/dialect.toml:2: `registrar.max_expires`: 0 is too small: at least 1"
    );
}

#[test]
fn queue_and_group_names_are_checked_against_the_script() {
    let config = parse(
        "[targets.queues]\nbiling = \"sip:b@pbx\"\nsales = \"sip:s@pbx\"\n[targets.groups]\nfront = \"sip:f@pbx\"\n",
    )
    .expect("valid");
    let queues = ["billing", "sales"];
    let groups = ["back_office"];
    let errors: Vec<String> = config
        .check_names(
            Path::new(FILE),
            queues.iter().copied(),
            groups.iter().copied(),
        )
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "conf/dialect.toml:2: `targets.queues.biling`: the script has no queue `biling` (did you mean `billing`?)",
            "conf/dialect.toml:5: `targets.groups.front`: the script has no group `front`",
        ]
    );
}

#[test]
fn a_file_that_cannot_be_read_is_named() {
    let errors = Config::load(Path::new("/nonexistent/dialect.toml"), Path::new(SCRIPT))
        .expect_err("no such file");
    let e = errors[0].to_string();
    assert!(
        e.starts_with("/nonexistent/dialect.toml: cannot be read: "),
        "{e}"
    );
}

/// The support example's file is valid and names queues the script has.
#[test]
fn the_support_example_file_is_valid() {
    let file = Path::new("examples/support/dialect.toml");
    let text = include_str!("../../../examples/support/dialect.toml");
    let config =
        Config::parse(text, file, Path::new("examples/support/support.dial")).expect("valid");
    assert_eq!(config.mode, Mode::B2bua);
    assert_eq!(config.prompts, Path::new("examples/support/../../prompts"));
    assert_eq!(config.registrar.default_expires, 1800);
    assert_eq!(
        config.targets.ivr.as_ref().map(|t| t.fill("language")),
        Some("sip:ivr@media.example.net;menu=language".to_string())
    );
    let program =
        crate::program::Program::from_text(include_str!("../../../examples/support/support.dial"))
            .expect("the example compiles");
    let checked = program.checked();
    let errors = config.check_names(
        file,
        checked.queues.iter().map(|q| q.name.as_str()),
        checked.groups.iter().map(|g| g.name.as_str()),
    );
    assert!(errors.is_empty(), "{errors:?}");
}

/// Bytes of `text` replaced at random places, read back as text.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, what, byte) in edits {
        let i = at % (bytes.len() + 1);
        match what % 3 {
            0 if i < bytes.len() => bytes[i] = byte,
            1 => bytes.insert(i, byte),
            _ if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A valid file, for the property test to mutate.
const EXAMPLE: &str = include_str!("../../../examples/support/dialect.toml");

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 256, ..Default::default() })]

    /// Random and mutated files never panic, and every error names a line
    /// of the file.
    #[test]
    fn bad_files_never_panic(
        text in "\\PC{0,300}",
        edits in proptest::collection::vec((0usize..10_000, proptest::num::u8::ANY, proptest::num::u8::ANY), 1..8),
    ) {
        for text in [text, mutate(EXAMPLE, &edits)] {
            if let Err(errors) = parse(&text) {
                proptest::prop_assert!(!errors.is_empty());
                for e in errors {
                    let line = e.line.expect("a line");
                    proptest::prop_assert!(line >= 1 && line <= text.split('\n').count(), "{e}");
                    proptest::prop_assert!(e.to_string().starts_with(FILE), "{e}");
                }
            }
        }
    }
}

#[test]
fn digest_names_only_known_algorithms_once() {
    let errors =
        parse("[registrar]\ndigest = [\"MD5\", \"sha-1\", \"md5\"]\n").expect_err("invalid");
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text[0].contains("`sha-1` is not a digest algorithm"),
        "{text:?}"
    );
    assert!(text[1].contains("`md5` is named twice"), "{text:?}");
    let errors = parse("[registrar]\ndigest = []\n").expect_err("invalid");
    assert!(
        errors[0].to_string().contains("names no algorithm"),
        "{errors:?}"
    );
}

#[test]
fn media_settings_are_read_and_checked() {
    let config = parse(
        "[media]\naddress = \"192.0.2.10\"\nrtp_ports = \"30000-30100\"\nmedia_timeout = 5\n\
         voicemail_max = 60\nshutdown_grace = 0\nrecordings = \"vm\"\n",
    )
    .expect("valid");
    assert_eq!(config.media.address, Some("192.0.2.10".parse().unwrap()));
    assert_eq!(config.media.rtp_ports, (30_000, 30_100));
    assert_eq!(config.media.media_timeout_s, 5);
    assert_eq!(config.media.voicemail_max_s, 60);
    assert_eq!(config.media.shutdown_grace_s, 0);
    assert!(config.media.recordings.ends_with("vm"));
    for bad in [
        "[media]\nrtp_ports = \"30000\"",
        "[media]\nrtp_ports = \"30100-30000\"",
        "[media]\naddress = \"example.net\"",
        "[media]\nmedia_timeout = 0",
        "[media]\nrtp_port = \"1-2\"",
    ] {
        let errors = parse(bad).expect_err(bad);
        let e = errors[0].to_string();
        assert!(e.contains("media") || e.contains("rtp_ports"), "{bad}: {e}");
    }
}
