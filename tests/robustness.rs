//! Robustness of the front end: parsing and checking never panic, never
//! overflow the stack, and every diagnostic points inside its file's text
//! on character boundaries, whatever the input.
//!
//! Property tests run random text and mutations of real scripts (the
//! examples, the lint fixtures and a generated script); plain tests run
//! pathological nesting and long chains, and check that generated scripts
//! lint clean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use dialect::check::{self, Options};
use dialect::diagnostic::{Code, Diagnostic};
use dialect::load::{Loader, MemoryFs};
use dialect::source::FileId;
use dialect::syntax;
use dialect::synth::{self, LOOKUP_CSV, LOOKUP_SOURCE, Size};
use proptest::prelude::*;
use proptest::test_runner::Config;

// ------------------------------------------------------------ helpers ----

/// Checks that a diagnostic's locations in file `file` lie inside `text`.
fn assert_spans(diagnostics: &[Diagnostic], file: FileId, text: &str) {
    for d in diagnostics {
        let locs = std::iter::once(&d.primary.loc).chain(d.labels.iter().map(|l| &l.loc));
        for loc in locs.filter(|l| l.file == file) {
            assert!(
                loc.span.start <= loc.span.end && text.get(loc.span.range()).is_some(),
                "{} `{}` points at {}, outside the {} bytes of text or off a character boundary",
                d.code,
                d.message,
                loc.span,
                text.len()
            );
        }
    }
}

/// Parses and checks one file on its own; returns every diagnostic.
fn parse_check(text: &str) -> Vec<Diagnostic> {
    let file = FileId(0);
    let (ast, mut diagnostics) = syntax::parse(file, text);
    assert_spans(&diagnostics, file, text);
    let (_, more) = check::check(&[(file, &ast)], &Options::default());
    assert_spans(&more, file, text);
    diagnostics.extend(more);
    diagnostics
}

/// Loads `root` from a file system, checks it and verifies every location
/// against the text of the file it names.
fn load_check(fs: &MemoryFs, root: &str) -> Vec<Diagnostic> {
    let mut loader = Loader::new(fs);
    let Ok(id) = loader.load(Path::new(root)) else {
        return Vec::new();
    };
    let checked = loader.check(id, None);
    for d in &checked.diagnostics {
        let locs = std::iter::once(&d.primary.loc).chain(d.labels.iter().map(|l| &l.loc));
        for loc in locs {
            let file = loader.sources.get(loc.file);
            assert!(
                file.text.get(loc.span.range()).is_some(),
                "{} `{}` points at {} in {}, outside its {} bytes or off a character boundary",
                d.code,
                d.message,
                loc.span,
                file.name,
                file.text.len()
            );
        }
    }
    checked.diagnostics
}

/// `cases` cases, or `PROPTEST_CASES` if set (for longer runs).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        // Failures are shrunk and printed; no regression files are written
        // next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------- corpus ----

/// Every `.dial` and `.csv` file under examples/ and tests/fixtures/, plus a
/// generated script and its lookup file, keyed by path from the crate root.
static CORPUS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = BTreeMap::new();
    for dir in ["examples", "tests/fixtures"] {
        collect(&root, &root.join(dir), &mut files);
    }
    files.insert(
        "generated/main.dial".to_string(),
        synth::large_script(Size::units(2)),
    );
    files.insert(format!("generated/{LOOKUP_SOURCE}"), LOOKUP_CSV.to_string());
    files
});

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    // The folders are written concurrently; whatever cannot be read is skipped.
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("dial" | "csv")
        ) && let Ok(text) = std::fs::read_to_string(&path)
        {
            let key = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(key, text);
        }
    }
}

fn scripts() -> Vec<&'static str> {
    CORPUS
        .keys()
        .filter(|k| k.ends_with(".dial"))
        .map(String::as_str)
        .collect()
}

/// Words and punctuation of the language, and a few troublemakers.
const TOKENS: &[&str] = &[
    "timezone",
    "include",
    "calendar",
    "hours",
    "skill",
    "lookup",
    "queue",
    "group",
    "menu",
    "route",
    "entry",
    "test",
    "when",
    "otherwise",
    "->",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "..",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "and",
    "or",
    "not",
    "known",
    "in",
    "matches",
    "starts_with",
    "now",
    "caller",
    "dialed",
    "digits",
    "agent",
    "open",
    "holiday",
    "play",
    "voicemail",
    "transfer",
    "reject",
    "hangup",
    "repeat",
    "back",
    "extension",
    "dial",
    "priority",
    "require",
    "prefer",
    "score",
    "strategy",
    "ring",
    "all",
    "then",
    "next",
    "after",
    "no agents",
    "rings nobody",
    "wrapup",
    "announce",
    "every",
    "day",
    "mon",
    "sun",
    "yearly",
    "closed",
    "collect",
    "timeout",
    "invalid",
    "press",
    "given",
    "expect",
    "call",
    "from",
    "to",
    "at",
    "unknown",
    "true",
    "false",
    "\"",
    "\"\"",
    "\"#\"",
    "#",
    "# -> x",
    "\n",
    "\t",
    "0",
    "1",
    "99",
    "90s",
    "0s",
    "1h30m",
    "12:00",
    "24:00",
    "99:99",
    "2026-02-30",
    "2026-12-24",
    "12-25",
    "02-29",
    "18446744073709551616",
    "99999999999999999999999999",
    "\"+1 800 555 0100\"",
    "\"+1 800 555 01XX\"",
    "\"[5-1]X\"",
    "\"America/Chicago\"",
    "\"Mars/Olympus\"",
    "é",
    "日本",
    "\u{FEFF}",
    "\u{0}",
    "\r\n",
    "_",
    "x1",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { from: usize, len: usize, to: usize },
    Insert { at: usize, token: usize, pad: bool },
    SwapLines { a: usize, b: usize },
    Truncate { at: usize },
    SwapChars { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), 1..80usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1..200usize, any::<usize>())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        4 => (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(at, token, pad)| Mutation::Insert { at, token, pad }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapChars { a, b }),
    ]
}

/// The char boundary at or before `pos % (len + 1)`.
fn boundary(text: &str, pos: usize) -> usize {
    let mut at = pos % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, m: &Mutation) {
    match *m {
        Mutation::Delete { at, len } => {
            let start = boundary(text, at);
            let end = boundary(text, (start + len).min(text.len()));
            text.replace_range(start..end.max(start), "");
        }
        Mutation::Duplicate { from, len, to } => {
            let start = boundary(text, from);
            let end = boundary(text, (start + len).min(text.len())).max(start);
            let piece = text[start..end].to_string();
            let to = boundary(text, to);
            text.insert_str(to, &piece);
        }
        Mutation::Insert { at, token, pad } => {
            let at = boundary(text, at);
            let token = TOKENS[token % TOKENS.len()];
            if pad {
                text.insert_str(at, &format!(" {token} "));
            } else {
                text.insert_str(at, token);
            }
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            *text = lines.join("\n");
        }
        Mutation::Truncate { at } => {
            let at = boundary(text, at);
            text.truncate(at);
        }
        Mutation::SwapChars { a, b } => {
            let chars: Vec<(usize, char)> = text.char_indices().collect();
            if chars.len() >= 2 {
                let (i, j) = (a % chars.len(), b % chars.len());
                let mut v: Vec<char> = chars.iter().map(|c| c.1).collect();
                v.swap(i, j);
                *text = v.into_iter().collect();
            }
        }
    }
}

// --------------------------------------------------- property tests ----

proptest! {
    #![proptest_config(config(256))]

    /// (a) Arbitrary bytes, read as lossy UTF-8.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let text = String::from_utf8_lossy(&bytes);
        parse_check(&text);
    }

    /// (a) Arbitrary Unicode strings.
    #[test]
    fn random_strings_never_panic(text in any::<String>()) {
        parse_check(&text);
    }

    /// (a) Text made of the language's own characters, which gets further
    /// into the grammar than arbitrary bytes.
    #[test]
    fn random_token_soup_never_panics(
        text in "[a-z_0-9 \n{}()\\[\\]\".,;:<>=!+*/%#-]{0,600}",
        words in proptest::collection::vec(any::<usize>(), 0..120),
    ) {
        parse_check(&text);
        let soup: Vec<&str> = words.iter().map(|w| TOKENS[w % TOKENS.len()]).collect();
        parse_check(&soup.join(" "));
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (b) Real scripts, mutated: deleted, duplicated and swapped spans,
    /// inserted keywords and punctuation, truncation. Checked alone and
    /// through the loader with the other files of its folder (includes and
    /// lookup files).
    #[test]
    fn mutated_scripts_never_panic(
        pick in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let names = scripts();
        prop_assume!(!names.is_empty());
        let name = names[pick % names.len()];
        let mut text = CORPUS[name].clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        parse_check(&text);
        let mut fs = MemoryFs::default();
        for (path, contents) in CORPUS.iter() {
            fs = fs.with(path, if path == name { &text } else { contents });
        }
        load_check(&fs, name);
    }
}

// --------------------------------------------- pathological inputs ----

/// A script whose one route tests `condition`.
fn with_condition(condition: &str) -> String {
    format!(
        "timezone \"America/Chicago\"\nqueue q {{ strategy linear }}\n\
         route r {{\n  when {condition} -> queue q\n  otherwise -> queue q\n}}\n\
         entry \"+1 800 555 0100\" -> route r\n"
    )
}

/// Runs `f` on a thread with the default 2 MiB test stack, so a stack
/// overflow fails the test rather than passing by luck on a larger stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn assert_rejected(text: String, what: &str) {
    let diagnostics = on_small_stack(move || parse_check(&text));
    assert!(
        diagnostics.iter().any(|d| d.is_error()),
        "{what}: expected an error, got {:?}",
        diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()
    );
}

fn codes(text: String) -> Vec<Code> {
    on_small_stack(move || parse_check(&text))
        .iter()
        .map(|d| d.code)
        .collect()
}

/// Found by `random_token_soup_never_panics`: a reserved word as a name
/// after a character wider than a byte (here a byte order mark) made the
/// hint for reserved words slice inside that character.
#[test]
fn a_reserved_name_after_a_wide_character_is_reported() {
    for text in ["calendar \u{FEFF} and", "queue é closed", "route ﻿closed {"] {
        let diagnostics = parse_check(text);
        assert!(
            diagnostics.iter().any(|d| d.is_error()),
            "{text:?} gives no error"
        );
    }
}

#[test]
fn deep_parentheses_are_rejected() {
    for depth in [33, 100, 1_000, 100_000] {
        let cond = format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
        let found = codes(with_condition(&cond));
        assert!(
            found.contains(&Code::TooComplex),
            "{depth} parentheses: {found:?}"
        );
    }
    // Unbalanced, too.
    assert_rejected(with_condition(&"(".repeat(100_000)), "100000 `(`");
    assert_rejected(with_condition(&")".repeat(100_000)), "100000 `)`");
}

#[test]
fn parentheses_within_the_limit_are_accepted() {
    let depth = syntax::MAX_NESTING;
    let cond = format!("{}true{}", "(".repeat(depth), ")".repeat(depth));
    let found = codes(with_condition(&cond));
    assert!(
        !found
            .iter()
            .any(|c| c.severity() == dialect::diagnostic::Severity::Error),
        "{depth} parentheses should be fine: {found:?}"
    );
}

#[test]
fn deep_lists_and_calls_are_rejected() {
    let n = 50_000;
    assert_rejected(
        with_condition(&format!(
            "caller in {}\"+1\"{}",
            "[".repeat(n),
            "]".repeat(n)
        )),
        "nested lists",
    );
    assert_rejected(
        with_condition(&format!("{}now{}", "open(".repeat(n), ")".repeat(n))),
        "nested calls",
    );
    assert_rejected(
        with_condition(&format!(
            "queue({}q{}).waiting > 1",
            "(".repeat(n),
            ")".repeat(n)
        )),
        "nested call arguments",
    );
}

#[test]
fn long_operator_chains_are_rejected() {
    // 20,000 terms would overflow a 2 MiB stack many times over if any stage
    // recursed once per term; more only makes the test slow in debug builds.
    for n in [1_000, 20_000] {
        for op in ["+", "*", "-", "and", "or", "==", "<"] {
            let cond = vec!["1"; n].join(&format!(" {op} "));
            assert_rejected(with_condition(&cond), &format!("{n} terms joined by {op}"));
        }
        let cond = format!("{} > 0", vec!["queue(q).waiting"; n].join(" + "));
        assert_rejected(with_condition(&cond), &format!("{n} queue statistics"));
    }
}

#[test]
fn long_prefix_chains_are_rejected() {
    for n in [1_000, 100_000] {
        assert_rejected(
            with_condition(&format!("{}true", "not ".repeat(n))),
            &format!("{n} × not"),
        );
        assert_rejected(
            with_condition(&format!("{}1 > 0", "- ".repeat(n))),
            &format!("{n} × unary minus"),
        );
        assert_rejected(
            with_condition(&format!("{}1 > 0", "-".repeat(n))),
            &format!("{n} × `-` without spaces"),
        );
    }
}

#[test]
fn long_postfix_chains_are_rejected() {
    let n = 20_000;
    assert_rejected(
        with_condition(&format!("now{} == 1", ".time".repeat(n))),
        "field chain",
    );
    assert_rejected(
        with_condition(&format!("caller{}", " matches \"X\"".repeat(n))),
        "matches chain",
    );
    assert_rejected(
        with_condition(&format!("caller{}", " in [\"+1\"]".repeat(n))),
        "in chain",
    );
}

#[test]
fn long_chains_in_other_places_are_rejected() {
    let n = 100_000;
    let chain = format!("{}billing >= 1", "not ".repeat(n));
    let queue = format!(
        "timezone \"America/Chicago\"\nskill billing\nqueue q {{ strategy linear; require {chain} }}\n\
         entry \"+1 800 555 0100\" -> queue q\n"
    );
    assert_rejected(queue, "long require");
    let sum = vec!["billing"; n].join(" + ");
    let queue = format!(
        "timezone \"America/Chicago\"\nskill billing\nqueue q {{ strategy best_score; require billing >= 1; score {sum} }}\n\
         entry \"+1 800 555 0100\" -> queue q\n"
    );
    assert_rejected(queue, "long score");
    let values = format!("{}1{}", "[".repeat(n), "]".repeat(n));
    let test = format!(
        "timezone \"America/Chicago\"\nentry \"+1 800 555 0100\" -> hangup\n\
         test \"t\" {{ call to \"+18005550100\"; given agent a available {{ x: {values} }}; expect hangup }}\n"
    );
    assert_rejected(test, "nested value lists in a test");
}

#[test]
fn deep_braces_and_many_declarations_do_not_overflow() {
    let n = 100_000;
    assert_rejected(
        format!("route r {}{}", "{".repeat(n), "}".repeat(n)),
        "nested braces",
    );
    // Many small declarations are fine, just many.
    let many: String = (0..5_000)
        .map(|i| format!("queue q{i} {{ strategy linear }}\n"))
        .collect();
    on_small_stack(move || parse_check(&many));
}

#[test]
fn long_route_cycles_do_not_overflow() {
    // A chain of routes each handing over to the next, closed into a loop.
    let n = 2_000;
    let mut text = String::from("timezone \"America/Chicago\"\n");
    for i in 0..n {
        text.push_str(&format!(
            "route r{i} {{ otherwise -> route r{} }}\n",
            (i + 1) % n
        ));
    }
    text.push_str("entry \"+1 800 555 0100\" -> route r0\n");
    let found = codes(text);
    assert!(found.contains(&Code::RouteCycle), "{found:?}");
}

#[test]
fn long_menu_chains_do_not_overflow() {
    // Menus leading to each other in a long chain, each with `back`. (The
    // `back` lint is quadratic in the number of menus; keep this small.)
    let n = 300;
    let mut text = String::from("timezone \"America/Chicago\"\n");
    for i in 0..n {
        text.push_str(&format!(
            "menu m{i} {{ prompt \"p\"; 1 -> menu m{}; \"*\" -> back }}\n",
            (i + 1) % n
        ));
    }
    text.push_str("entry \"+1 800 555 0100\" -> menu m0\n");
    on_small_stack(move || parse_check(&text));
}

// ------------------------------------------------- generated scripts ----

#[test]
fn generated_scripts_lint_clean() {
    for (size, seed) in [
        (Size::units(1), 11),
        (Size::units(4), 12),
        (Size::kilobytes(50), 13),
        (Size::kilobytes(100), 14),
    ] {
        let text = synth::large_script(size.clone().seed(seed));
        let fs = MemoryFs::default()
            .with("main.dial", &text)
            .with(LOOKUP_SOURCE, LOOKUP_CSV);
        let found = load_check(&fs, "main.dial");
        let shown: Vec<String> = found
            .iter()
            .take(10)
            .map(|d| format!("{} {} at {}", d.code, d.message, d.primary.loc.span))
            .collect();
        assert!(
            found.is_empty(),
            "{size:?} with seed {seed}: {} diagnostics: {shown:#?}",
            found.len()
        );
    }
}

// ------------------------------------------------- files the loader meets ----
//
// The body of the `load` fuzz target (fuzz/fuzz_targets/load_files.rs) on
// random file systems, and the special files one at a time.

#[path = "../fuzz/fuzz_targets/load_files.rs"]
mod load_files;

use dialect::load::{FileKind, MAX_FILE_SIZE, SpecialFile};

/// One part of a fuzz input: a script made of lines that include the other
/// files, or a special file.
fn fs_part() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"include \"f1.dial\"\n".to_vec()),
        Just(b"include \"f2.dial\"\n".to_vec()),
        Just(b"include \"sub/f4.dial\"\n".to_vec()),
        Just(b"include \"../f5.dial\"\n".to_vec()),
        Just(b"include \"/abs/f6.dial\"\n".to_vec()),
        Just(b"include \"sub/../f3.dial\"\n".to_vec()),
        Just(b"# comment\r".to_vec()),
        Just(b"queue q { strategy linear }\r\n".to_vec()),
        Just(b"queue q { strategy linear }\n".to_vec()),
        Just(b"timezone \"Europe/Paris\"\n".to_vec()),
        Just(b"entry \"+1 800 555 0100\" -> queue q\n".to_vec()),
        Just(b"queue caf\xe9 { strategy linear }\n".to_vec()),
        Just(
            "menu m { prompt \"caf\u{e9} \u{1F600}\" 1 -> queue nowhere }\n"
                .as_bytes()
                .to_vec()
        ),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    prop_oneof![
        proptest::collection::vec(line, 0..8).prop_map(|ls| ls.concat()),
        prop_oneof![
            Just(b"F".to_vec()),
            Just(b"S".to_vec()),
            Just(b"C".to_vec()),
            Just(b"B".to_vec()),
            Just(b"D".to_vec()),
            Just(b"L".to_vec()),
            Just(b"E".to_vec()),
            (1usize..300).prop_map(|n| format!("N{n}").into_bytes()),
        ],
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_file_systems_load_without_panics(
        cr in any::<bool>(),
        parts in proptest::collection::vec(fs_part(), 1..load_files::NAMES.len()),
    ) {
        let mut input = if cr { b"R".to_vec() } else { Vec::new() };
        input.extend(parts.join(&0u8));
        load_files::run(&input);
    }
}

/// Loads `main.dial` of `fs` with includes kept to its folder; returns the
/// codes and messages of every diagnostic.
fn load_main(fs: &MemoryFs) -> Vec<(Code, String)> {
    let mut loader = Loader::new(fs);
    let root = loader
        .load(Path::new("main.dial"))
        .expect("main.dial loads");
    let checked = loader.check(root, None);
    checked
        .diagnostics
        .iter()
        .map(|d| (d.code, format!("{} / {}", d.message, d.primary.message)))
        .collect()
}

fn includes(target: &str) -> MemoryFs {
    MemoryFs::default().with(
        "main.dial",
        &format!("include \"{target}\"\nqueue q {{ strategy linear }}\n"),
    )
}

/// Special files are never opened (MemoryFs panics if they are) and are
/// reported with their kind.
#[test]
fn special_files_are_reported_not_read() {
    for (kind, words) in [
        (FileKind::Fifo, "FIFO"),
        (FileKind::Socket, "socket"),
        (FileKind::CharDevice, "character device"),
        (FileKind::BlockDevice, "block device"),
        (FileKind::Directory, "folder"),
    ] {
        let fs = includes("x.dial").with_special("x.dial", SpecialFile::Kind(kind));
        let found = load_main(&fs);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == Code::IncludeNotFound && m.contains(words)),
            "{kind:?}: {found:?}"
        );
    }
    let fs = MemoryFs::default().with_special("main.dial", SpecialFile::Kind(FileKind::Fifo));
    let mut loader = Loader::new(&fs);
    let err = loader
        .load(Path::new("main.dial"))
        .expect_err("a FIFO is not loaded");
    assert!(err.to_string().contains("FIFO"), "{err}");
    let id = loader.unreadable(Path::new("main.dial"), &err);
    let checked = loader.check(id, None);
    assert_eq!(
        checked
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        [Code::UnreadableFile]
    );
}

/// Files over the limit are refused by their size, and files that say they
/// are small but go on (as under /proc) are refused after the limit.
#[test]
fn large_and_endless_files_are_refused_at_the_limit() {
    for file in [SpecialFile::Sized(MAX_FILE_SIZE + 1), SpecialFile::Endless] {
        let fs = includes("x.dial").with_special("x.dial", file.clone());
        let found = load_main(&fs);
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == Code::IncludeNotFound && m.contains("larger than 8 MiB")),
            "{file:?}: {found:?}"
        );
    }
    // Exactly at the limit is read.
    let fs = includes("x.dial").with_special("x.dial", SpecialFile::Sized(MAX_FILE_SIZE));
    let found = load_main(&fs);
    assert!(
        !found.iter().any(|(c, _)| *c == Code::IncludeNotFound),
        "{found:?}"
    );
}

/// A file that is not UTF-8 is reported at its first invalid byte, by line
/// and character column.
#[test]
fn text_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let fs = includes("x.dial").with_special(
        "x.dial",
        SpecialFile::Bytes(b"# caf\xc3\xa9\nqueue caf\xe9 { strategy linear }\n".to_vec()),
    );
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new("main.dial")).expect("loads");
    let checked = loader.check(root, None);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::UnreadableFile)
        .expect("D1006");
    let file = loader.sources.get(d.primary.loc.file);
    assert_eq!(file.name, "x.dial");
    assert_eq!(file.line_col(d.primary.loc.span.start), (2, 10));
    assert!(d.primary.message.contains("0xE9"), "{}", d.primary.message);
}

/// Includes are followed with a queue: a chain far deeper than any stack
/// allows loads on a small one.
#[test]
fn deep_include_chains_load_on_a_small_stack() {
    let found = on_small_stack(|| {
        let fs = load_files::chain(
            MemoryFs::default().with("main.dial", "include \"c.dial\"\n"),
            "c.dial",
            load_files::MAX_CHAIN,
        );
        let mut loader = Loader::new(&fs);
        let root = loader.load(Path::new("main.dial")).expect("loads");
        let checked = loader.check(root, None);
        (checked.files.len(), checked.diagnostics.len())
    });
    // Every file, and nothing to report (a script without entries does not
    // report unused queues).
    assert_eq!(found, (load_files::MAX_CHAIN + 1, 0));
}

/// Includes leaving the root's folder are reported and not read.
#[test]
fn includes_outside_the_folder_are_not_read() {
    for target in ["../x.dial", "/etc/x.dial", "sub/../../x.dial"] {
        let fs = includes(target)
            .with("../x.dial", "not a script")
            .with("/etc/x.dial", "not a script")
            .with("x.dial", "not a script");
        let found = load_main(&fs);
        assert!(
            found.iter().any(|(c, _)| *c == Code::IncludeOutside)
                && !found.iter().any(|(c, _)| *c == Code::SyntaxError),
            "{target}: {found:?}"
        );
    }
    // Inside, through a detour, is fine.
    let fs = includes("sub/../y.dial").with("y.dial", "queue y { strategy linear }\n");
    let found = load_main(&fs);
    assert!(
        !found.iter().any(|(c, _)| *c == Code::IncludeOutside),
        "{found:?}"
    );
}

/// `\r` alone ends a line for comments, strings, line numbers and snippets.
#[test]
fn cr_alone_ends_lines_everywhere() {
    let text = "# comment\rtimezone \"Europe/Paris\"\rqueue q { strategy linear }\r\
                entry \"+1 800 555 0100\" -> queue nowhere\r";
    let found = parse_check(text);
    let unknown: Vec<&Diagnostic> = found
        .iter()
        .filter(|d| d.code == Code::UnknownName)
        .collect();
    assert_eq!(unknown.len(), 1, "{found:?}");
    let file = dialect::source::SourceFile::new("cr.dial", text);
    assert_eq!(file.line_col(unknown[0].primary.loc.span.start), (4, 34));
    assert_eq!(file.line_text(3), "queue q { strategy linear }");
    assert_eq!(file.line_count(), 5);
    // A string cannot run past a lone `\r` either.
    let found = parse_check("queue q { strategy linear }\rentry \"+1 800\r555 0100\" -> queue q\r");
    assert!(
        found.iter().any(|d| d.code == Code::UnterminatedString),
        "{found:?}"
    );
    // `\r\n` is one line end.
    let file = dialect::source::SourceFile::new("crlf.dial", "a\r\nb\rc\nd");
    assert_eq!(file.line_count(), 4);
    assert_eq!(
        (1..=4).map(|l| file.line_text(l)).collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
    assert_eq!(file.line_col(3), (2, 1));
}
