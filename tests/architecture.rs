//! The shape of the code: no import cycles between the library's files.
//!
//! Every `src/**/*.rs` of the library is read and each file's imports are
//! collected: `use` declarations (re-exports included) and paths in code
//! that start at `crate`, `super`, `self`, a child module or a name a `use`
//! brought in. A path resolves to the file of its longest module prefix, so
//! `crate::runtime::Event` names `runtime/mod.rs` even when `Event` is
//! defined elsewhere and re-exported there. Declaring `mod child;` is not an
//! import. Two or more files that import each other, directly or through
//! others, fail the test with the cycle printed.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;

/// A file's imports: the file imported, with the first line that imports
/// it and the path written there.
type Imports = BTreeMap<String, (usize, String)>;

#[test]
fn no_import_cycles_between_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_dir(&root, &root, &mut files);
    assert!(
        files.iter().any(|(p, _)| p == "lib.rs") && files.len() > 20,
        "the library's sources are read"
    );
    let graph = imports(&files);
    // The analysis sees the imports that are there: if it did not, a
    // passing test would mean nothing.
    for (from, to) in [
        // By `use crate::sim::caller::…`.
        ("sim/run.rs", "sim/caller.rs"),
        // By paths in code: `lint::Args`, `lint::run(…)`.
        ("cli/mod.rs", "cli/lint.rs"),
    ] {
        assert!(
            graph[from].contains_key(to),
            "{from} imports {to}: {:?}",
            graph[from]
        );
    }
    let found = cycles(&graph);
    let new: Vec<&String> = found
        .iter()
        .filter(|(files, _)| !KNOWN.iter().any(|k| same(files, k)))
        .map(|(_, text)| text)
        .collect();
    assert!(
        new.is_empty(),
        "files import each other; move what they share into a file both can import:\n{}",
        new.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for known in KNOWN {
        assert!(
            found.iter().any(|(files, _)| same(files, known)),
            "the cycle among {known:?} is gone: take it off `KNOWN`"
        );
    }
}

/// Cycles tolerated for now, each to be broken by the change that owns its
/// files (ARCHITECTURE.md would list them). A cycle must match one of these
/// exactly, so none may grow; when one is broken the test fails until it
/// leaves the list, so the list only shrinks. It is empty: keep it so.
const KNOWN: &[&[&str]] = &[];

fn same(files: &BTreeSet<String>, known: &[&str]) -> bool {
    files.len() == known.len() && known.iter().all(|k| files.contains(*k))
}

/// Every `.rs` file under `dir`, as (path relative to `root`, text). The
/// binary's `main.rs` is its own crate and is left out.
fn read_dir(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_dir(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "main.rs" || rel.starts_with("bin/") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            out.push((rel, text));
        }
    }
}

/// The module path of a file: `lib.rs` is the crate root, `a/mod.rs` and
/// `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Which files each file imports (itself excluded).
fn imports(files: &[(String, String)]) -> BTreeMap<String, Imports> {
    let modules: HashMap<Vec<String>, String> = files
        .iter()
        .map(|(f, _)| (module_of(f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for (file, text) in files {
        let mut found = Imports::new();
        for (line, path, written) in paths(&module_of(file), &tokens(&clean(text)), &modules) {
            let Some(target) = (0..=path.len()).rev().find_map(|n| modules.get(&path[..n])) else {
                continue;
            };
            if target != file {
                found.entry(target.clone()).or_insert((line, written));
            }
        }
        graph.insert(file.clone(), found);
    }
    graph
}

/// The text with comments, strings and character literals blanked out
/// (line ends kept), so that only code is scanned.
fn clean(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, from: &[char]| {
        for &ch in from {
            out.push(if ch == '\n' { '\n' } else { ' ' });
        }
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&ch| ch == '\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            // Block comments nest.
            let (mut depth, mut j) = (0, 0);
            while j < rest.len() {
                if rest[j..].starts_with(&['/', '*']) {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if c[i] == 'r'
            && (i == 0 || !ident(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
            && rest[1..]
                .iter()
                .position(|&ch| ch != '#')
                .map(|n| rest[1 + n])
                == Some('"')
        {
            // A raw string: `r"…"`, `r#"…"#`, `br#"…"#`.
            let hashes = rest[1..].iter().take_while(|&&ch| ch == '#').count();
            let body = 1 + hashes + 1;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let end = (body..rest.len())
                .find(|&j| rest[j..].starts_with(&closing))
                .map_or(rest.len(), |j| j + closing.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if c[i] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if c[i] == '\'' {
            // A character literal (`'a'`, `'\n'`, `'\''`), or a lifetime.
            let end = if rest.get(1) == Some(&'\\') {
                (3..rest.len()).find(|&j| rest[j] == '\'').map(|j| j + 1)
            } else if rest.get(2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    blank(&mut out, &rest[..end]);
                    i += end;
                }
                None => {
                    out.push(' ');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// Identifiers, `::` and single punctuation, each with its line.
fn tokens(code: &str) -> Vec<(usize, Token)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((line, Token::Ident(c[start..i].iter().collect())));
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((line, Token::Path));
            i += 2;
        } else {
            out.push((line, Token::Punct(ch)));
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&(usize, Token)>) -> Option<&str> {
    match t {
        Some((_, Token::Ident(s))) => Some(s),
        _ => None,
    }
}

fn is(t: Option<&(usize, Token)>, want: &Token) -> bool {
    t.is_some_and(|(_, t)| t == want)
}

/// The absolute module paths a file's code names, with their lines and
/// the paths as written:
/// every `use` (each leaf of a tree) and every path in code that starts at
/// the crate, `super`, `self`, a child module or a name a `use` brought in.
fn paths(
    file_module: &[String],
    tokens: &[(usize, Token)],
    modules: &HashMap<Vec<String>, String>,
) -> Vec<(usize, Vec<String>, String)> {
    // Inline modules (`mod tests { … }`) move `self` and `super`.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut uses: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
    let mut code: Vec<(usize, Vec<String>, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let here = || {
            let mut m = file_module.to_vec();
            m.extend(inline.iter().map(|(name, _)| name.clone()));
            m
        };
        match &tokens[i].1 {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if inline.last().is_some_and(|&(_, d)| d > depth) {
                    inline.pop();
                }
            }
            Token::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(tokens.get(i + 1))
                    && is(tokens.get(i + 2), &Token::Punct('{'))
                {
                    inline.push((name.to_string(), depth + 1));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Token::Ident(kw) if kw == "use" => {
                let line = tokens[i].0;
                let mut leaves = Vec::new();
                i = use_tree(tokens, i + 1, Vec::new(), &mut leaves);
                for leaf in leaves {
                    uses.push((line, here(), leaf));
                }
                continue;
            }
            Token::Ident(first)
                if is(tokens.get(i + 1), &Token::Path)
                    && !(i > 0
                        && (is(tokens.get(i - 1), &Token::Path)
                            || is(tokens.get(i - 1), &Token::Punct('.')))) =>
            {
                let line = tokens[i].0;
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while is(tokens.get(j), &Token::Path)
                    && let Some(next) = ident(tokens.get(j + 1))
                {
                    segments.push(next.to_string());
                    j += 2;
                }
                code.push((line, here(), segments));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Names brought in by `use`, for paths in code that start with them.
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let mut out = Vec::new();
    for (line, module, leaf) in &uses {
        let (path, alias) = match leaf.iter().position(|s| s == "as") {
            Some(n) => (&leaf[..n], leaf.get(n + 1).cloned()),
            None => (&leaf[..], leaf.last().cloned()),
        };
        let path: Vec<String> = path.iter().filter(|s| *s != "*").cloned().collect();
        if let Some(abs) = absolute(module, &path, modules, &HashMap::new()) {
            if let Some(alias) = alias.filter(|a| a != "*" && a != "self") {
                names.insert(alias, abs.clone());
            }
            out.push((*line, abs, path.join("::")));
        }
    }
    for (line, module, path) in &code {
        if let Some(abs) = absolute(module, path, modules, &names) {
            out.push((*line, abs, path.join("::")));
        }
    }
    out
}

/// Reads a `use` tree from `i` (after `use`, or after `{`/`,` inside a
/// group) and returns the index after it; each leaf's full path goes to
/// `leaves` (`self` in a group names the group's prefix; `*` and `as NAME`
/// stay at the end).
fn use_tree(
    tokens: &[(usize, Token)],
    mut i: usize,
    mut prefix: Vec<String>,
    leaves: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(i).map(|t| &t.1) {
            Some(Token::Ident(s)) if s == "self" && !prefix.is_empty() => i += 1,
            Some(Token::Ident(s)) => {
                prefix.push(s.clone());
                i += 1;
            }
            Some(Token::Path) => i += 1,
            Some(Token::Punct('*')) => {
                prefix.push("*".into());
                i += 1;
            }
            Some(Token::Punct('{')) => {
                i += 1;
                loop {
                    i = use_tree(tokens, i, prefix.clone(), leaves);
                    match tokens.get(i).map(|t| &t.1) {
                        Some(Token::Punct(',')) => i += 1,
                        Some(Token::Punct('}')) => {
                            i += 1;
                            break;
                        }
                        _ => return i,
                    }
                    if is(tokens.get(i), &Token::Punct('}')) {
                        i += 1;
                        break;
                    }
                }
                return i;
            }
            _ => {
                if !prefix.is_empty() {
                    leaves.push(prefix);
                }
                // The `;` that ends a whole declaration is consumed too.
                return i + usize::from(is(tokens.get(i), &Token::Punct(';')));
            }
        }
    }
}

/// A path as written in `module`, made absolute (`None` for paths into
/// other crates and local names).
fn absolute(
    module: &[String],
    path: &[String],
    modules: &HashMap<Vec<String>, String>,
    names: &HashMap<String, Vec<String>>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut abs: Vec<String>;
    let rest;
    match first.as_str() {
        "crate" => {
            abs = Vec::new();
            rest = &path[1..];
        }
        "self" => {
            abs = module.to_vec();
            rest = &path[1..];
        }
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            abs = module[..module.len().checked_sub(ups)?].to_vec();
            rest = &path[ups..];
        }
        _ => {
            let mut child = module.to_vec();
            child.push(first.clone());
            if modules.contains_key(&child) {
                abs = module.to_vec();
                rest = path;
            } else {
                abs = names.get(first)?.clone();
                rest = &path[1..];
            }
        }
    }
    abs.extend(rest.iter().cloned());
    Some(abs)
}

/// Each group of files that import each other, with one cycle through it
/// and the line behind each step, as text.
fn cycles(graph: &BTreeMap<String, Imports>) -> Vec<(BTreeSet<String>, String)> {
    let mut out = Vec::new();
    for group in strongly_connected(graph) {
        if group.len() < 2 {
            continue;
        }
        // The shortest cycle through the group's first file.
        let start = group.iter().next().expect("not empty").clone();
        let mut from: HashMap<String, String> = HashMap::new();
        let mut queue = VecDeque::from([start.clone()]);
        let mut closing = None;
        while let Some(f) = queue.pop_front() {
            for to in graph[&f].keys().filter(|t| group.contains(*t)) {
                if *to == start {
                    closing = Some(f.clone());
                    break;
                }
                if !from.contains_key(to) {
                    from.insert(to.clone(), f.clone());
                    queue.push_back(to.clone());
                }
            }
            if closing.is_some() {
                break;
            }
        }
        let mut back = Vec::new();
        let mut at = closing.expect("a group has a cycle");
        while at != start {
            back.push(at.clone());
            at = from[&at].clone();
        }
        let mut chain = vec![start.clone()];
        chain.extend(back.into_iter().rev());
        chain.push(start.clone());
        let mut text = format!("  cycle among {{{}}}:", join(&group));
        for pair in chain.windows(2) {
            let (line, path) = &graph[&pair[0]][&pair[1]];
            text.push_str(&format!(
                "\n    {} imports {} ({}:{line}: {path})",
                pair[0], pair[1], pair[0]
            ));
        }
        out.push((group, text));
    }
    out
}

fn join(files: &BTreeSet<String>) -> String {
    files.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Tarjan's strongly connected components.
fn strongly_connected(graph: &BTreeMap<String, Imports>) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, Imports>,
        index: HashMap<&'g str, usize>,
        low: HashMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph[v].keys() {
            let w = w.as_str();
            if !s.graph.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            s.out.push(group);
        }
    }
    let mut s = State {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// The analysis on small made-up crates.
mod analysis {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> BTreeMap<String, Imports> {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        imports(&files)
    }

    fn edges(files: &[(&str, &str)]) -> Vec<(String, String)> {
        graph(files)
            .into_iter()
            .flat_map(|(f, to)| to.into_keys().map(move |t| (f.clone(), t)))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_string(), b.to_string())
    }

    const LIB: (&str, &str) = ("lib.rs", "pub mod a; pub mod b; pub mod c; pub mod d;");

    /// A cycle planted on purpose fails with both files and the lines
    /// that import.
    #[test]
    fn a_planted_cycle_is_found() {
        let g = graph(&[
            LIB,
            ("a.rs", "use crate::b::B;\npub struct A;"),
            (
                "b.rs",
                "pub struct B;\n\nfn f() -> crate::a::A { crate::a::A }",
            ),
        ]);
        let found: Vec<String> = cycles(&g).into_iter().map(|(_, t)| t).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("a.rs imports b.rs (a.rs:1: crate::b::B)")
                && found[0].contains("b.rs imports a.rs (b.rs:3: crate::a::A)"),
            "{}",
            found[0]
        );
    }

    /// A cycle through three files is one group, printed in import order.
    #[test]
    fn a_cycle_through_three_files_is_found() {
        let g = graph(&[
            LIB,
            ("a.rs", "use super::b;\nfn f() { b::g() }"),
            ("b.rs", "pub fn g() { crate::c::h() }"),
            ("c.rs", "use crate::{a::self as x, d};"),
            ("d.rs", "use crate::b as _;"),
        ]);
        let found: Vec<String> = cycles(&g).into_iter().map(|(_, t)| t).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("  cycle among {a.rs, b.rs, c.rs, d.rs}:")
                && found[0].contains("a.rs imports b.rs")
                && found[0].contains("b.rs imports c.rs")
                && found[0].contains("c.rs imports a.rs"),
            "{}",
            found[0]
        );
    }

    /// Files that import one way only are fine.
    #[test]
    fn imports_one_way_are_no_cycle() {
        let g = graph(&[
            LIB,
            ("a.rs", "use crate::b::B; use crate::c::*;"),
            ("b.rs", "use crate::c::C; pub struct B;"),
            ("c.rs", "pub struct C;"),
        ]);
        assert!(cycles(&g).is_empty());
    }

    /// Comments, strings, raw strings and characters are not code.
    #[test]
    fn comments_and_strings_are_not_imports() {
        let found = edges(&[
            LIB,
            ("b.rs", ""),
            ("c.rs", ""),
            ("d.rs", ""),
            (
                "a.rs",
                "// use crate::b;\n/* crate::b::f() /* nested */ crate::c */\n\
                 const S: &str = \"crate::b::X \\\" crate::c\";\n\
                 const R: &str = r#\"use crate::d; \" crate::b\"#;\n\
                 const Q: char = '\"'; fn f<'a>(x: &'a str) {}\n\
                 /// crate::c::doc\nfn g() { crate::d::h() }",
            ),
        ]);
        assert_eq!(found, vec![pair("a.rs", "d.rs")]);
    }

    /// A parent declaring its children imports nothing; a child using the
    /// parent's re-export imports the parent, which imports the child it
    /// re-exports from.
    #[test]
    fn modules_children_and_reexports() {
        let lib = ("lib.rs", "pub mod q;");
        let found = edges(&[
            lib,
            ("q/mod.rs", "mod one;\nmod two;\npub use one::One;"),
            ("q/one.rs", "pub struct One;"),
            ("q/two.rs", "use super::One;"),
        ]);
        assert_eq!(
            found,
            vec![pair("q/mod.rs", "q/one.rs"), pair("q/two.rs", "q/mod.rs")]
        );
        assert!(
            cycles(&graph(&[
                lib,
                ("q/mod.rs", "mod one;\nmod two;\npub use one::One;"),
                ("q/one.rs", "pub struct One;"),
                ("q/two.rs", "use super::One;"),
            ]))
            .is_empty()
        );
        // The parent calling the child that uses its re-export: a cycle.
        let g = graph(&[
            lib,
            (
                "q/mod.rs",
                "mod one;\nmod two;\npub use one::One;\nfn f() { two::g() }",
            ),
            ("q/one.rs", "pub struct One;"),
            ("q/two.rs", "use super::One;\npub fn g() {}"),
        ]);
        assert_eq!(cycles(&g).len(), 1);
    }

    /// `super` inside an inline module is the file itself; names a `use`
    /// brought in lead paths in code to the file they name.
    #[test]
    fn inline_modules_and_imported_names() {
        let found = edges(&[
            ("lib.rs", "pub mod a; pub mod b;"),
            ("a.rs", "#[cfg(test)]\nmod tests {\n    use super::*;\n}"),
            ("b/mod.rs", "pub mod c;\nmod d;"),
            (
                "b/c.rs",
                "use crate::b;\nfn f() { b::d::g(); x.b::<u8>(); }",
            ),
            ("b/d.rs", "pub fn g() { std::mem::drop(()); super::c::f() }"),
        ]);
        assert_eq!(
            found,
            vec![
                pair("b/c.rs", "b/d.rs"),
                pair("b/c.rs", "b/mod.rs"),
                pair("b/d.rs", "b/c.rs"),
            ]
        );
    }

    /// The sources of the crate itself are read: the module of each file.
    #[test]
    fn files_name_their_modules() {
        assert_eq!(module_of("lib.rs"), Vec::<String>::new());
        assert_eq!(module_of("cli/mod.rs"), vec!["cli"]);
        assert_eq!(module_of("cli/test.rs"), vec!["cli", "test"]);
        assert_eq!(module_of("synth.rs"), vec!["synth"]);
    }
}
