//! Parses and checks arbitrary input: neither stage may panic, overflow the
//! stack or point a diagnostic outside the text.
//!
//! Input that is not UTF-8 is read lossily (a file on disk that is not UTF-8
//! never reaches the parser, but its replacement characters exercise
//! multi-byte text). A few files of a script are made from one input by
//! splitting it at NUL bytes, so `include` is exercised through the loader.

#![no_main]

use std::path::Path;

use dialect::check::{self, Options};
use dialect::load::{Loader, MemoryFs};
use dialect::source::FileId;
use dialect::syntax;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    // The stages on their own.
    let (ast, parse_diagnostics) = syntax::parse(FileId(0), &text);
    let (_, check_diagnostics) = check::check(&[(FileId(0), &ast)], &Options::default());
    for d in parse_diagnostics.iter().chain(&check_diagnostics) {
        for loc in std::iter::once(&d.primary.loc).chain(d.labels.iter().map(|l| &l.loc)) {
            if loc.file == FileId(0) {
                let range = loc.span.range();
                assert!(
                    text.get(range.clone()).is_some(),
                    "{} points at {range:?}, outside the text or not on character boundaries",
                    d.code
                );
            }
        }
    }

    // Through the loader: up to three files, split at NUL bytes, named so
    // that the script can include the others and read a lookup file.
    let mut parts = text.split('\0');
    let names = ["main.dial", "other.dial", "customers.csv"];
    let mut fs = MemoryFs::default();
    for name in names {
        if let Some(part) = parts.next() {
            fs = fs.with(name, part);
        }
    }
    let mut loader = Loader::new(&fs);
    if let Ok(root) = loader.load(Path::new("main.dial")) {
        let checked = loader.check(root, None);
        for d in &checked.diagnostics {
            for loc in std::iter::once(&d.primary.loc).chain(d.labels.iter().map(|l| &l.loc)) {
                let file = loader.sources.get(loc.file);
                assert!(
                    file.text.get(loc.span.range()).is_some(),
                    "{} points at {:?} in {}, outside its text",
                    d.code,
                    loc.span,
                    file.name
                );
            }
        }
    }
});
