//! What lint says about particular scripts: the fixes its help lines
//! suggest make the diagnostic go away, and messages name the real cause.

use std::path::Path;

use dialect::diagnostic::{Code, Diagnostic};
use dialect::load::{Loader, MemoryFs};

/// Every diagnostic of a one-file script, in report order.
fn lint(text: &str) -> Vec<Diagnostic> {
    let fs = MemoryFs::default().with("main.dial", text);
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new("main.dial")).expect("in memory");
    loader.check(root, None).diagnostics
}

fn codes(text: &str) -> Vec<Code> {
    lint(text).iter().map(|d| d.code).collect()
}

/// The text between the first pair of backticks in `s` that starts with `prefix`.
fn quoted<'a>(s: &'a str, prefix: &str) -> &'a str {
    s.split('`')
        .skip(1)
        .step_by(2)
        .find(|q| q.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}...` in {s:?}"))
}

const COLLISION: &str = r#"
timezone "America/Chicago"
queue sales   { strategy longest_idle }
queue support { strategy longest_idle }
entry "+1 800 555 01XX" -> queue sales
entry "+1 800 555 0X5X" -> queue support
"#;

#[test]
fn entry_collision_fix_from_its_help_lints_clean() {
    let found = lint(COLLISION);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code, Code::EntryCollision);
    let entry = quoted(&found[0].help, "entry ").replace("...", "queue sales");
    let fixed = format!("{COLLISION}{entry}\n");
    assert_eq!(codes(&fixed), vec![], "{fixed}");
}

#[test]
fn entry_collision_covered_by_several_entries_is_clean() {
    let fixed = format!(
        "{COLLISION}entry \"+1 800 555 015[0-4]\" -> queue sales\nentry \"+1 800 555 015[5-9]\" -> queue support\n"
    );
    assert_eq!(codes(&fixed), vec![]);
    let partly = format!("{COLLISION}entry \"+1 800 555 015[0-4]\" -> queue sales\n");
    assert_eq!(codes(&partly), vec![Code::EntryCollision]);
}

/// Runs the `dialect` binary on a script written to a fresh folder.
fn dialect_on(name: &str, text: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("dialect-msg-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("main.dial");
    std::fs::write(&file, text).expect("write script");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(args)
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .expect("the dialect binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

const AUTO_ANSWER: &str = r#"timezone "America/Chicago"
queue desk { strategy linear; auto answer }
entry "+1 800 555 0100" -> queue desk
test "the phone picks up for an agent who does not" {
  call from "+15125550101" to "+18005550100"
  given agent ana available
  agent ana does not answer
  expect answered by ana
}
"#;

#[test]
fn does_not_answer_in_an_auto_answer_queue_is_a_valid_test() {
    assert_eq!(codes(AUTO_ANSWER), vec![]);
    let (status, out) = dialect_on("auto-answer", AUTO_ANSWER, &["test"]);
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("1 passed"), "{out}");
    // Ringing the agent instead, the two lines do contradict each other.
    let rung = AUTO_ANSWER.replace("auto answer", "ring 20s then next");
    assert_eq!(codes(&rung), vec![Code::ImpossibleExpectation]);
    // An `auto answer` queue that the test's call cannot reach changes nothing.
    let elsewhere = format!(
        "{rung}queue lobby {{ strategy linear; auto answer }}\nentry \"+1 800 555 0199\" -> queue lobby\n"
    );
    assert_eq!(codes(&elsewhere), vec![Code::ImpossibleExpectation]);
    // One reached through a menu key does.
    let through_menu = AUTO_ANSWER.replace(
        "entry \"+1 800 555 0100\" -> queue desk",
        "queue front { strategy linear }\nmenu main {\n  prompt \"main\"\n  1 -> queue front\n  2 -> queue desk\n}\nentry \"+1 800 555 0100\" -> menu main",
    );
    assert_ne!(through_menu, AUTO_ANSWER);
    assert_eq!(codes(&through_menu), vec![]);
}

/// The README's tour script with the queue misspelled in its menu: `dialect
/// lint` prints exactly the README's sample, the one error and no
/// follow-on warnings about what the misspelled name meant to use.
#[test]
fn readme_lint_sample_is_what_lint_prints() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let block = |opening: &str, after: usize| -> (String, usize) {
        let start = readme[after..]
            .find(opening)
            .map(|i| after + i + opening.len())
            .unwrap_or_else(|| panic!("README.md has no {opening} block"));
        let end = start + readme[start..].find("\n```").expect("closed block") + 1;
        (readme[start..end].to_string(), end)
    };
    let (script, end) = block("```dial\n", 0);
    let (sample, _) = block("```text\n", end);
    assert!(script.contains("  1 -> queue billing\n"), "{script}");
    let broken = script.replace("  1 -> queue billing\n", "  1 -> queue biling\n");

    let dir = std::env::temp_dir().join(format!("dialect-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("inbound.dial"), broken).expect("write script");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect"))
        .args(["lint", "inbound.dial"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("the dialect binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), sample);
}

const MISSPELLED_QUEUE: &str = r#"timezone "America/Chicago"
skill billing
queue billing { strategy longest_idle; require billing >= 3 }
queue support { strategy longest_idle }
menu main {
  prompt "main-menu"
  1 -> queue biling
  2 -> menu support
}
entry "+1 800 555 0100" -> menu main
"#;

#[test]
fn a_misspelled_or_wrong_kind_name_does_not_make_its_target_unused() {
    // `biling` means queue `billing` (which uses skill `billing`), and
    // `menu support` means queue `support`: neither is reported unused.
    assert_eq!(
        codes(MISSPELLED_QUEUE),
        vec![Code::UnknownName, Code::WrongKind]
    );
    // A declaration nothing names, even approximately, still is.
    let unused = MISSPELLED_QUEUE.replace("queue support {", "queue support {}\nqueue sales {");
    assert_eq!(
        codes(&unused),
        vec![Code::Unused, Code::UnknownName, Code::WrongKind]
    );
}

/// The sites of `examples/multisite` use skills that `main.dial` declares:
/// linted alone, they are checked as part of `main.dial`, with a note,
/// instead of getting an error for every skill.
#[test]
fn an_included_file_linted_alone_is_checked_as_part_of_its_includer() {
    for path in [
        "examples/multisite/sites/",
        "examples/multisite/sites/chicago.dial",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect"))
            .args(["lint", path])
            .env("NO_COLOR", "1")
            .output()
            .expect("the dialect binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{path}:\n{stdout}{stderr}");
        assert!(stdout.contains("0 errors, 0 warnings"), "{stdout}");
        assert!(
            stderr.contains(
                "note: `examples/multisite/sites/chicago.dial` is included by `examples/multisite/main.dial`, so it is checked as part of that script"
            ),
            "{stderr}"
        );
    }
}

#[test]
fn a_file_without_entries_using_undeclared_names_gets_a_note() {
    let lib = r#"queue claims { strategy linear; require claims >= 1 }
"#;
    let (status, out) = dialect_on("lib", lib, &["lint"]);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.contains("has no entry and uses names it does not declare; if another script includes it, lint that script"),
        "{out}"
    );
}
