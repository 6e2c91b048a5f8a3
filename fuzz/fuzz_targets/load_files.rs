//! The body of the `load` fuzz target, kept apart so that
//! `tests/robustness.rs` runs the same function on random input under
//! `cargo test` (the fuzz target itself needs cargo-fuzz).
//!
//! One input becomes a small file system ([`file_system`]) of scripts and
//! special files; the script `main.dial` is loaded from it twice (includes
//! kept to its folder, and allowed anywhere), checked, and every diagnostic
//! rendered in both formats. Nothing may panic, block or overflow the
//! stack: [`MemoryFs`] panics if the loader opens something that is not a
//! regular file, as a real FIFO would block. Every location must lie inside
//! its file's text on character boundaries, and every diagnostic must have
//! a help line.

use std::path::Path;

use dialect::cli::render::{self, Style};
use dialect::load::{FileKind, Loader, MAX_FILE_SIZE, MemoryFs, SpecialFile};

/// The longest include chain an input can ask for.
pub const MAX_CHAIN: usize = 10_000;

/// Where the parts of an input go: `main.dial`, then includable files
/// inside the folder, one in a subfolder, and two outside it.
pub const NAMES: [&str; 7] = [
    "main.dial",
    "f1.dial",
    "f2.dial",
    "f3.dial",
    "sub/f4.dial",
    "../f5.dial",
    "/abs/f6.dial",
];

/// The input split at NUL bytes into up to seven files, named as
/// [`NAMES`]. A part after the first starts with a byte saying what it is:
///
/// - `F`, `S`, `C`, `B`, `D`: a FIFO, socket, character device, block
///   device or folder;
/// - `L`: a regular file one byte over [`MAX_FILE_SIZE`];
/// - `E`: an endless file whose size says 0;
/// - `N` then decimal digits: the head of an include chain that long (at
///   most [`MAX_CHAIN`]), files `NAME.K.dial` each including the next;
/// - anything else: a regular file with the part's bytes (UTF-8 or not).
///
/// An input starting with `R` has every `\n` of `main.dial` made a `\r`.
pub fn file_system(data: &[u8]) -> MemoryFs {
    let (cr_only, data) = match data.split_first() {
        Some((b'R', rest)) => (true, rest),
        _ => (false, data),
    };
    let mut fs = MemoryFs::default();
    for (i, part) in data.split(|&b| b == 0).take(NAMES.len()).enumerate() {
        let name = NAMES[i];
        if i == 0 {
            let main: Vec<u8> = if cr_only {
                part.iter()
                    .map(|&b| if b == b'\n' { b'\r' } else { b })
                    .collect()
            } else {
                part.to_vec()
            };
            fs = fs.with_special(name, SpecialFile::Bytes(main));
            continue;
        }
        let kind = |k| SpecialFile::Kind(k);
        fs = match part.first() {
            Some(b'F') => fs.with_special(name, kind(FileKind::Fifo)),
            Some(b'S') => fs.with_special(name, kind(FileKind::Socket)),
            Some(b'C') => fs.with_special(name, kind(FileKind::CharDevice)),
            Some(b'B') => fs.with_special(name, kind(FileKind::BlockDevice)),
            Some(b'D') => fs.with_special(name, kind(FileKind::Directory)),
            Some(b'L') => fs.with_special(name, SpecialFile::Sized(MAX_FILE_SIZE + 1)),
            Some(b'E') => fs.with_special(name, SpecialFile::Endless),
            Some(b'N') => {
                let digits: String = part[1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .take(5)
                    .map(|&b| b as char)
                    .collect();
                let n = digits.parse::<usize>().unwrap_or(1).clamp(1, MAX_CHAIN);
                chain(fs, name, n)
            }
            _ => fs.with_special(name, SpecialFile::Bytes(part.to_vec())),
        };
    }
    fs
}

/// `n` files from `head`, each including the next; the last declares a
/// queue.
pub fn chain(mut fs: MemoryFs, head: &str, n: usize) -> MemoryFs {
    let stem = head.trim_end_matches(".dial");
    let link = |k: usize| {
        if k == 0 {
            head.to_string()
        } else {
            format!("{stem}.{k}.dial")
        }
    };
    for k in 0..n {
        let path = link(k);
        // Include paths are relative to the including file's folder.
        let next = link(k + 1);
        let next_name = Path::new(&next)
            .file_name()
            .map_or(next.clone(), |f| f.to_string_lossy().into_owned());
        let text = if k + 1 < n {
            format!("include \"{next_name}\"\n")
        } else {
            "queue chained { strategy linear }\n".to_string()
        };
        fs = fs.with(&path, &text);
    }
    fs
}

/// Loads, checks and renders `main.dial` of [`file_system`]`(data)`, and
/// checks the invariants above.
pub fn run(data: &[u8]) {
    let fs = file_system(data);
    for allow_outside in [false, true] {
        let mut loader = Loader::new(&fs);
        let tree = Path::new("");
        let root = if allow_outside {
            loader.load_in(Path::new("main.dial"), None)
        } else {
            loader.load_in(Path::new("main.dial"), Some(tree))
        };
        let Ok(root) = root else {
            continue;
        };
        let checked = loader.check(root, None);
        for d in &checked.diagnostics {
            assert!(!d.help.is_empty(), "{} has no help", d.code);
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
            if !allow_outside {
                assert!(
                    !loader
                        .sources
                        .get(d.primary.loc.file)
                        .name
                        .starts_with(".."),
                    "{} in a file outside the folder, which must not be read",
                    d.code
                );
            }
        }
        let (shown, _) = render::cap(&checked.diagnostics, Some(render::MAX_PER_FILE));
        for d in shown {
            let style = Style {
                color: false,
                width: 80,
            };
            let text = render::human(&loader.sources, d, style);
            assert!(text.contains(d.code.as_str()), "{text}");
            let json = render::json(&loader.sources, d);
            let file = loader.sources.get(d.primary.loc.file);
            assert!(
                json.line >= 1 && json.line <= file.line_count(),
                "{}",
                json.line
            );
        }
    }
}
