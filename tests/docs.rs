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
