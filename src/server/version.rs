//! A program's version: a short hash of its script's files, which every
//! answer and record carries so that a reload can be seen taking effect.

use sha2::{Digest, Sha256};

use crate::source::{FileId, SourceMap};

/// Hex digits kept of the hash: 48 bits, enough to tell a script's
/// versions apart, short enough to read in a header.
const DIGITS: usize = 12;

/// The version of the script whose files the loader read into `sources`:
/// the first 12 hex digits of SHA-256 over the files' texts in load
/// order, each preceded by its length. File names are left out, so the
/// same script has the same version whatever path it was loaded by.
pub fn version(sources: &SourceMap) -> String {
    version_of(sources, sources.ids())
}

/// The version of the script made of `files` (its `.dial` files, as
/// `load::Checked` lists them), as [`version`] hashes them: its lookup
/// sources, which the loader also holds, are left out, so that new
/// lookup rows (a data-only reload) do not make a new version.
pub fn version_of(sources: &SourceMap, files: impl IntoIterator<Item = FileId>) -> String {
    let mut hash = Sha256::new();
    for id in files {
        let text = &sources.get(id).text;
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    }
    let digest = hash.finalize();
    let mut out = String::with_capacity(DIGITS);
    for b in digest.iter().take(DIGITS / 2) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::version;
    use crate::source::SourceMap;

    fn map(files: &[(&str, &str)]) -> SourceMap {
        let mut m = SourceMap::new();
        for (name, text) in files {
            m.add(*name, *text);
        }
        m
    }

    #[test]
    fn a_version_is_short_and_follows_the_texts_only() {
        let one = version(&map(&[("main.dial", "queue a {}"), ("inc.dial", "x")]));
        assert_eq!(one.len(), 12);
        assert!(one.bytes().all(|b| b.is_ascii_hexdigit()));
        // Another path to the same files: the same version.
        let renamed = version(&map(&[
            ("/srv/main.dial", "queue a {}"),
            ("/srv/inc.dial", "x"),
        ]));
        assert_eq!(one, renamed);
        // A change of text, or text moved between files: another version.
        let edited = version(&map(&[("main.dial", "queue b {}"), ("inc.dial", "x")]));
        let moved = version(&map(&[("main.dial", "queue a {}x"), ("inc.dial", "")]));
        assert_ne!(one, edited);
        assert_ne!(one, moved);
        // Known value of SHA-256 over an empty map.
        assert_eq!(version(&SourceMap::new()), "e3b0c44298fc");
    }
}
