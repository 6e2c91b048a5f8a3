//! The scripts of the SIP redirect benchmark and of the SIPp scenarios
//! (`bench/sip-redirect/`): they check without errors, their own tests (the
//! calls the benchmark and `tests/sipp/README.md` place, with the answers
//! expected of them) pass on both engines, and the Kamailio routes
//! generated beside them redirect to the same targets. The B2BUA benchmark's
//! files (`bench/sip-b2bua.sh`, `bench/sip-b2bua/`): its script, roster,
//! credentials and configuration agree, and its SIPp scenarios and shell
//! script parse. Neither benchmark is run here.

mod common;

use common::{dialect, stderr, stdout};

#[test]
fn benchmark_scripts_have_no_errors() {
    let out = dialect(&["lint", "bench/sip-redirect/"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("0 errors"), "{text}");
}

#[test]
fn benchmark_calls_go_where_both_servers_send_them() {
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, "bench/sip-redirect/"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        // 8 calls of small.dial and 3 of large.dial: a test block lost from
        // the generator would otherwise pass unnoticed.
        assert!(text.contains("11 passed, 0 failed"), "{text}");
    }
}

/// Every target of a `.dial` script appears as a Contact in the Kamailio
/// routes generated from the same rules, so hand edits to one side show.
#[test]
fn kamailio_routes_redirect_to_the_scripts_targets() {
    for (dial, cfg) in [
        (
            "bench/sip-redirect/small.dial",
            "bench/kamailio/routes-small.cfg",
        ),
        (
            "bench/sip-redirect/large.dial",
            "bench/kamailio/routes-large.cfg",
        ),
    ] {
        let dial_text = std::fs::read_to_string(dial).expect("script exists");
        let cfg_text = std::fs::read_to_string(cfg).expect("routes exist");
        let targets = targets(&dial_text);
        assert!(!targets.is_empty(), "{dial} redirects nowhere");
        for target in targets {
            assert!(
                cfg_text.contains(&format!("\"sip:{target}@")),
                "{cfg} has no Contact for `{target}` of {dial}"
            );
        }
        let dial_rules = dial_text
            .lines()
            .filter(|l| l.starts_with("  when "))
            .count();
        assert_eq!(
            dial_rules,
            inbound_rules(&cfg_text),
            "{dial} and {cfg} have different numbers of rules"
        );
    }
}

/// The Contact user each redirecting action of a script leads to:
/// `transfer "NUMBER"` → the number in E.164, `queue Q` → `Q`,
/// `voicemail "M"` → `M`.
fn targets(dial: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in dial.lines().filter(|l| l.contains("->")) {
        let action = line.split("->").nth(1).unwrap_or("").trim();
        if let Some(number) = quoted_after(action, "transfer ") {
            out.push(
                number
                    .chars()
                    .filter(|c| *c == '+' || c.is_ascii_digit())
                    .collect(),
            );
        } else if let Some(mailbox) = quoted_after(action, "voicemail ") {
            out.push(mailbox.to_string());
        } else if let Some(queue) = action.strip_prefix("queue ") {
            out.push(queue.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    out
}

fn quoted_after<'a>(action: &'a str, keyword: &str) -> Option<&'a str> {
    action.strip_prefix(keyword)?.split('"').nth(1)
}

/// The rules of the Kamailio route `INBOUND`: one `if` line each.
fn inbound_rules(cfg: &str) -> usize {
    cfg.split("route[INBOUND] {\n")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("    if ("))
        .count()
}

const B2BUA_SCENARIOS: [&str; 4] = [
    "bench/sip-b2bua-uac.xml",
    "bench/sip-b2bua-agent.xml",
    "bench/sip-b2bua/register.xml",
    "bench/sip-b2bua/options.xml",
];

/// The B2BUA benchmark's script checks without errors or warnings, and its
/// calls go to the queue and reach an agent, on both engines.
#[test]
fn b2bua_benchmark_script_checks_and_its_calls_reach_an_agent() {
    let out = dialect(&["lint", "--deny", "warnings", "bench/sip-b2bua/queue.dial"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
    for engine in ["jit", "interp"] {
        let out = dialect(&["test", "--engine", engine, "bench/sip-b2bua/queue.dial"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(text.contains("2 passed, 0 failed"), "{text}");
    }
}

/// The roster `dialect serve` reads and the credentials SIPp registers
/// with name the same agents with the same passwords, every agent has the
/// queue's skill, and the configuration offers MD5 first (SIPp answers only
/// the first challenge) with RTP ports for every agent's call twice over.
#[test]
fn b2bua_benchmark_roster_credentials_and_configuration_agree() {
    use dialect::runtime::roster::Roster;
    use dialect::server::config::{Config, Mode};
    use dialect::sip::digest::Algorithm;

    let roster = Roster::parse(&read("bench/sip-b2bua/agents.toml")).expect("the roster parses");
    assert!(roster.agents.len() >= 100, "{} agents", roster.agents.len());
    let csv = read("bench/sip-b2bua/agents.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("SEQUENTIAL"), "SIPp's injection header");
    // user;password;[authentication username=user password=password]
    let credentials: Vec<(String, String)> = lines
        .map(|l| {
            let fields: Vec<&str> = l.split(';').collect();
            let [user, password, keyword] = fields[..] else {
                panic!("agents.csv: `{l}` is not user;password;keyword");
            };
            assert_eq!(
                keyword,
                format!("[authentication username={user} password={password}]"),
                "agents.csv: the keyword of {user}"
            );
            (user.to_string(), password.to_string())
        })
        .collect();
    let agents: Vec<(String, String)> = roster
        .agents
        .iter()
        .map(|a| (a.sip_user.clone(), a.password.clone()))
        .collect();
    assert_eq!(credentials, agents, "agents.csv and agents.toml differ");
    for a in &roster.agents {
        assert_eq!(
            a.skills.get("bench").and_then(|v| v.as_integer()),
            Some(1),
            "agent {} lacks the queue's skill",
            a.id
        );
    }

    let script = std::path::Path::new("bench/sip-b2bua/queue.dial");
    let config = Config::load(std::path::Path::new("bench/sip-b2bua/dialect.toml"), script)
        .unwrap_or_else(|errors| {
            panic!(
                "{}",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
    assert_eq!(config.mode, Mode::B2bua);
    assert_eq!(config.registrar.digest.first(), Some(&Algorithm::Md5));
    let (low, high) = config.media.rtp_ports;
    let even_ports = usize::from(high - low) / 2;
    assert!(
        even_ports >= 4 * roster.agents.len(),
        "{even_ports} RTP ports for {} agents",
        roster.agents.len()
    );
    assert!(
        config.agents.ends_with("bench/sip-b2bua/agents.toml"),
        "{}",
        config.agents.display()
    );
}

/// Every SIPp scenario of the B2BUA benchmark is well-formed XML with one
/// `scenario` element, and the benchmark's script names each file it uses.
#[test]
fn b2bua_benchmark_scenarios_are_well_formed_and_named_by_the_script() {
    let script = read("bench/sip-b2bua.sh");
    for path in B2BUA_SCENARIOS {
        let text = read(path);
        if let Err(e) = well_formed(&text) {
            panic!("{path}: {e}");
        }
        assert_eq!(text.matches("<scenario ").count(), 1, "{path}");
        let name = path.rsplit('/').next().unwrap();
        assert!(
            script.contains(name),
            "bench/sip-b2bua.sh does not use {path}"
        );
    }
    for file in ["queue.dial", "agents.toml", "agents.csv", "dialect.toml"] {
        assert!(
            script.contains(&format!("bench/sip-b2bua/{file}")),
            "{file}"
        );
    }
    let cfg = read("bench/kamailio/b2bua.cfg");
    assert!(script.contains("bench/kamailio/b2bua.cfg"));
    for module in ["tm", "rr", "sl", "maxfwd"] {
        assert!(
            cfg.contains(&format!("loadmodule \"{module}.so\"")),
            "{module}"
        );
    }
    assert!(cfg.contains("t_relay()") && cfg.contains("record_route()"));
}

/// `bash -n` and shellcheck accept the benchmark's script and the
/// reload-under-load script, and Kamailio accepts its configuration
/// (`-c`): none of them runs anything. Outside
/// CI a missing shellcheck or Kamailio skips its check; under CI (which
/// installs both) it fails.
#[test]
fn b2bua_benchmark_script_and_kamailio_configuration_parse() {
    use std::process::Command;
    for script in ["bench/sip-b2bua.sh", "bench/reload-under-load.sh"] {
        let out = Command::new("bash")
            .args(["-n", script])
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{script}: {}", stderr(&out));
    }
    for (tool, args, package) in [
        ("shellcheck", ["-x", "bench/sip-b2bua.sh", ""], "shellcheck"),
        (
            "shellcheck",
            ["-x", "bench/reload-under-load.sh", ""],
            "shellcheck",
        ),
        (
            "kamailio",
            ["-c", "-f", "bench/kamailio/b2bua.cfg"],
            "kamailio",
        ),
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        match Command::new(tool).args(&args).output() {
            Ok(out) => assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out)),
            Err(_) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "`{tool}` is not installed (Debian package `{package}`); .ci/run installs it"
                );
                eprintln!("skipped: `{tool}` is not installed (Debian package `{package}`)");
            }
        }
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Whether `text` is well-formed XML as SIPp's scenarios use it: a
/// declaration, a DOCTYPE, comments, CDATA sections and elements, every
/// element closed in order. Not a validating parser.
fn well_formed(text: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = text;
    let mut roots = 0;
    while let Some(start) = rest.find('<') {
        if !stack.is_empty() && rest[..start].contains('>') {
            return Err(format!("a stray `>` before `{}`", head(&rest[start..])));
        }
        rest = &rest[start..];
        let (skip, end) = if rest.starts_with("<![CDATA[") {
            ("<![CDATA[".len(), "]]>")
        } else if rest.starts_with("<!--") {
            ("<!--".len(), "-->")
        } else if rest.starts_with("<?") {
            (2, "?>")
        } else if rest.starts_with("<!") {
            (2, ">")
        } else {
            (1, ">")
        };
        let Some(len) = rest[skip..].find(end) else {
            return Err(format!("`{}` is not closed", head(rest)));
        };
        let tag = &rest[skip..skip + len];
        if skip == 1 {
            if tag.contains('<') {
                return Err(format!("`<` inside the tag `{}`", head(rest)));
            }
            if stack.is_empty() && !tag.starts_with('/') {
                roots += 1;
            }
            if let Some(name) = tag.strip_prefix('/') {
                match stack.pop() {
                    Some(open) if open == name.trim() => {}
                    open => return Err(format!("`</{name}>` closes {open:?}")),
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("");
                stack.push(name);
            }
            if !tag.matches('"').count().is_multiple_of(2) {
                return Err(format!("an unclosed quote in `<{tag}>`"));
            }
        }
        rest = &rest[skip + len + end.len()..];
    }
    if let Some(open) = stack.pop() {
        return Err(format!("`<{open}>` is never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn head(text: &str) -> &str {
    &text[..text.len().min(30)]
}

#[test]
fn the_xml_check_finds_broken_scenarios() {
    assert!(well_formed("<a><b x=\"1\"/><![CDATA[ <not a tag> ]]></a>").is_ok());
    assert!(well_formed("<a><b></a>").is_err());
    assert!(well_formed("<a><![CDATA[ x </a>").is_err());
    assert!(well_formed("<a x=\"1></a>").is_err());
    assert!(well_formed("<a></a><b/>").is_err());
}
