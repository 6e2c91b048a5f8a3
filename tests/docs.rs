//! Keeps the documentation in step with the code: every diagnostic code has
//! a section in docs/diagnostics.md, in order, and no section names a code
//! that does not exist.

use dialect::diagnostic::Code;

#[test]
fn diagnostics_md_lists_every_code_in_order() {
    let text = std::fs::read_to_string("docs/diagnostics.md").expect("docs/diagnostics.md exists");
    let headings: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter(|h| h.starts_with('D'))
        .map(|h| {
            let (code, name) = h.split_once(' ').unwrap_or((h, ""));
            (code.to_string(), name.trim().to_string())
        })
        .collect();
    let expected: Vec<(String, String)> = Code::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.name().to_string()))
        .collect();
    let missing: Vec<&(String, String)> =
        expected.iter().filter(|e| !headings.contains(e)).collect();
    let unknown: Vec<&(String, String)> =
        headings.iter().filter(|h| !expected.contains(h)).collect();
    assert!(
        missing.is_empty(),
        "codes without a section in docs/diagnostics.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "sections for codes that do not exist: {unknown:?}"
    );
    assert_eq!(headings, expected, "sections must follow code order");
    for section in text.split("\n## D").skip(1) {
        let code = section.split_whitespace().next().unwrap_or("?");
        for part in [
            "### What it means",
            "### Why it matters",
            "### Example",
            "### Fix",
        ] {
            assert!(section.contains(part), "section D{code} lacks `{part}`");
        }
    }
}

/// Every ```dial block of the language reference parses without syntax errors.
#[test]
fn language_md_examples_parse() {
    let text = std::fs::read_to_string("docs/language.md").expect("docs/language.md exists");
    let blocks: Vec<&str> = text
        .split("```dial\n")
        .skip(1)
        .filter_map(|b| b.split("\n```").next())
        .collect();
    assert!(
        blocks.len() >= 12,
        "expected an example per construct, found {}",
        blocks.len()
    );
    for block in blocks {
        let (_, diagnostics) = dialect::syntax::parse(dialect::source::FileId(0), block);
        let syntax: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.code.as_str().starts_with("D1"))
            .collect();
        assert!(
            syntax.is_empty(),
            "example does not parse:\n{block}\n{syntax:#?}"
        );
    }
}

/// The Markdown files a reader opens: README.md and everything in docs/.
fn markdown_files() -> Vec<std::path::PathBuf> {
    let mut files = vec![std::path::PathBuf::from("README.md")];
    for entry in std::fs::read_dir("docs").expect("docs/ exists") {
        let path = entry.expect("docs/ is readable").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// What a Markdown line is to a reader, as CommonMark sees fences: a line
/// of `n` backticks with text after them inside a fence does not close it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Line {
    Text,
    Fence,
    Code,
}

/// Each line of a Markdown text classified, and the problems with its code
/// fences: a closing fence must be backticks alone on its line (text after
/// them leaves the fence open, and the rest of the file renders as code),
/// and every fence must close.
fn fences(text: &str) -> (Vec<Line>, Vec<String>) {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim_start();
        let ticks = trimmed.chars().take_while(|&c| c == '`').count();
        if ticks < 3 || line.len() - trimmed.len() > 3 {
            lines.push(if open.is_some() {
                Line::Code
            } else {
                Line::Text
            });
            continue;
        }
        let rest = trimmed[ticks..].trim();
        match open {
            Some((_, opened_with)) if ticks >= opened_with && rest.is_empty() => {
                open = None;
                lines.push(Line::Fence);
            }
            Some((opened_at, _)) => {
                problems.push(format!(
                    "line {line_no}: `{line}` inside the fence opened at line {opened_at} \
                     is not a closing fence (backticks alone on the line)"
                ));
                lines.push(Line::Code);
            }
            None if rest.contains('`') => {
                problems.push(format!(
                    "line {line_no}: `{line}` has backticks after the fence"
                ));
                lines.push(Line::Text);
            }
            None => {
                open = Some((line_no, ticks));
                lines.push(Line::Fence);
            }
        }
    }
    if let Some((opened_at, _)) = open {
        problems.push(format!("the fence opened at line {opened_at} never closes"));
    }
    (lines, problems)
}

/// The anchors GitHub gives the headings of a Markdown text (outside code
/// fences): lower case, punctuation dropped, spaces as hyphens, and `-1`,
/// `-2`... on repeats.
fn anchors(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    let (kinds, _) = fences(text);
    for (line, kind) in text.lines().zip(kinds) {
        if kind != Line::Text || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let repeats = anchors
            .iter()
            .filter(|a| {
                **a == slug
                    || a.strip_prefix(&slug)
                        .is_some_and(|r| r.starts_with('-') && r[1..].parse::<u32>().is_ok())
            })
            .count();
        anchors.push(if repeats == 0 {
            slug
        } else {
            format!("{slug}-{repeats}")
        });
    }
    anchors
}

/// The targets of the links `](target)` in a Markdown text, outside code.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    let (kinds, _) = fences(text);
    for (i, (line, kind)) in text.lines().zip(kinds).enumerate() {
        if kind != Line::Text {
            continue;
        }
        for (start, _) in line.match_indices("](") {
            if let Some(len) = line[start + 2..].find(')') {
                targets.push((i + 1, line[start + 2..start + 2 + len].to_string()));
            }
        }
    }
    targets
}

#[test]
fn every_code_fence_closes() {
    let mut problems = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).expect("markdown file is readable");
        for problem in fences(&text).1 {
            problems.push(format!("{}: {problem}", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fence_check_finds_text_after_a_closing_fence() {
    let broken = "```\ncode\n``` and prose\n\n## Later\n";
    assert_eq!(fences(broken).1.len(), 2, "{:?}", fences(broken).1);
    assert!(
        anchors(broken).is_empty(),
        "the heading is inside the fence"
    );
    assert!(
        fences("```dial\nroute r {}\n```\n\n```\nx\n```\n")
            .1
            .is_empty()
    );
}

#[test]
fn every_anchor_link_names_a_heading() {
    let mut problems = Vec::new();
    for path in markdown_files() {
        let text = std::fs::read_to_string(&path).expect("markdown file is readable");
        for (line, target) in link_targets(&text) {
            let Some((file, anchor)) = target.split_once('#') else {
                continue;
            };
            if file.contains("://") {
                continue;
            }
            let headings = if file.is_empty() {
                anchors(&text)
            } else {
                let linked = path
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join(file);
                match std::fs::read_to_string(&linked) {
                    Ok(other) => anchors(&other),
                    Err(_) => {
                        problems.push(format!(
                            "{}:{line}: no file {}",
                            path.display(),
                            linked.display()
                        ));
                        continue;
                    }
                }
            };
            if !headings.iter().any(|h| h == anchor) {
                problems.push(format!(
                    "{}:{line}: no heading for `{target}`",
                    path.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        anchors(
            "# Names and reserved words\n## `agents.toml`: agents\n```\n# not a heading\n```\n## Names and reserved words\n"
        ),
        [
            "names-and-reserved-words",
            "agentstoml-agents",
            "names-and-reserved-words-1"
        ]
    );
}
