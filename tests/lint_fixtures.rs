//! Lint fixtures: every file under `tests/fixtures/lint/ok` checks clean,
//! every file under `err` reports at least the code its name starts with,
//! and the rendered report of each `err` file is an insta snapshot.

use std::path::{Path, PathBuf};

use dialect::cli::lint;
use dialect::cli::render::{self, Style};
use dialect::diagnostic::Code;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures/lint").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "dial"))
        .collect();
    files.sort();
    files
}

/// The no-colour report of one file, as `dialect lint --prompts
/// tests/fixtures/lint/prompts` prints it.
fn report(path: &Path) -> (String, Vec<Code>) {
    let prompts = PathBuf::from("tests/fixtures/lint/prompts");
    let outcome = lint::lint(&[path.to_path_buf()], Some(&prompts)).expect("fixture loads");
    let mut text = String::new();
    for d in &outcome.diagnostics {
        text.push_str(&render::human(
            &outcome.loader_sources,
            d,
            Style {
                color: false,
                width: 100,
            },
        ));
        text.push('\n');
    }
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    text.push_str(&lint::summary(
        errors,
        outcome.diagnostics.len() - errors,
        outcome.files,
    ));
    (text, outcome.diagnostics.iter().map(|d| d.code).collect())
}

#[test]
fn ok_fixtures_have_no_diagnostics() {
    let files = fixtures("ok");
    assert!(!files.is_empty(), "no ok fixtures");
    for path in files {
        let (text, codes) = report(&path);
        assert!(
            codes.is_empty(),
            "{} should lint clean:\n{text}",
            path.display()
        );
    }
}

#[test]
fn err_fixtures_report_their_code() {
    let files = fixtures("err");
    assert!(!files.is_empty(), "no err fixtures");
    for path in files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        let expected = stem.split('_').next().and_then(Code::parse);
        let (text, codes) = report(&path);
        assert!(
            !codes.is_empty(),
            "{} should report a diagnostic",
            path.display()
        );
        let expected = expected.unwrap_or_else(|| {
            panic!(
                "{}: name must start with a code such as D2001_",
                path.display()
            )
        });
        assert!(
            codes.contains(&expected),
            "{} should report {expected}, got {codes:?}:\n{text}",
            path.display()
        );
        // Lossy: one fixture is deliberately not UTF-8.
        let source =
            String::from_utf8_lossy(&std::fs::read(&path).expect("fixture text")).into_owned();
        insta::assert_snapshot!(stem, format!("{source}\n----- dialect lint -----\n{text}"));
    }
}

#[test]
fn every_code_has_an_err_fixture() {
    let names: Vec<String> = fixtures("err")
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| {
            !names
                .iter()
                .any(|n| n.starts_with(&format!("{}_", c.as_str())))
        })
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an err fixture: {missing:?}"
    );
}
