//! A linear pre-scan of a file: top-level chunks, unbalanced braces, unclosed
//! strings, nesting depth and comments that look like a `#` key.
//!
//! A line ends at `\n`, `\r\n` or a lone `\r`, as in the grammar.
//!
//! The grammar parses a whole file at once and stops at the first error. To
//! report every error of a broken file, the parser falls back to parsing each
//! top-level declaration ("chunk") found here on its own.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Deepest `(`/`[` nesting accepted; deeper input is rejected before parsing
/// so that neither the parser nor the checker can exhaust the stack.
pub const MAX_NESTING: usize = 32;

/// Words that start a top-level declaration.
pub const TOP_LEVEL: &[&str] = &[
    "timezone", "country", "include", "calendar", "hours", "skill", "lookup", "queue", "group",
    "menu", "route", "switch", "entry", "test",
];

#[derive(Debug, Default)]
pub struct Scan {
    /// Byte ranges of top-level declarations, in order, covering the file.
    pub chunks: Vec<Chunk>,
    pub diagnostics: Vec<Diagnostic>,
    pub key_like_comments: Vec<Span>,
}

#[derive(Debug, Clone)]
pub struct Chunk {
    pub start: usize,
    pub end: usize,
    /// The scan already reported a problem inside; do not parse it.
    pub broken: bool,
}

pub fn scan(file: FileId, text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut out = Scan::default();
    let mut chunk_start = 0usize;
    let mut chunk_broken = false;
    let mut braces: Vec<usize> = Vec::new();
    let mut nesting = 0usize;
    let mut too_deep_reported = false;
    let mut i = 0usize;
    let mut at_line_start = true;

    while i < bytes.len() {
        let b = bytes[i];
        if at_line_start {
            // Skip indentation, then look at the first word of the line.
            let indent_start = i;
            while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
                i += 1;
            }
            at_line_start = false;
            let word_end = bytes[i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .map_or(bytes.len(), |p| i + p);
            let word = &text[i..word_end];
            if TOP_LEVEL.contains(&word) {
                let unindented = i == indent_start;
                if !braces.is_empty() && unindented {
                    // A declaration keyword at the start of a line while a block
                    // is still open: the block was never closed.
                    let open = *braces.last().unwrap_or(&i);
                    out.diagnostics.push(
                        Diagnostic::new(
                            Code::UnbalancedBraces,
                            file,
                            Span::new(open, open + 1),
                            "this `{` is never closed",
                        )
                        .label("opened here")
                        .with(
                            crate::source::Loc::new(file, Span::new(i, word_end)),
                            "the next declaration starts here",
                        )
                        .help("add a `}` at the end of the block"),
                    );
                    chunk_broken = true;
                    braces.clear();
                    nesting = 0;
                }
                if braces.is_empty() && i > chunk_start && has_content(&text[chunk_start..i]) {
                    out.chunks.push(Chunk {
                        start: chunk_start,
                        end: i,
                        broken: chunk_broken,
                    });
                    chunk_start = i;
                    chunk_broken = false;
                    too_deep_reported = false;
                } else if braces.is_empty() && !has_content(&text[chunk_start..i]) {
                    chunk_start = i;
                }
            }
            continue;
        }
        match b {
            b'\n' | b'\r' => {
                // `\r\n` is two line ends in a row; the empty line between
                // them has no first word, so that is harmless.
                at_line_start = true;
                i += 1;
            }
            b'#' => {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .map_or(bytes.len(), |p| i + p);
                let body = text[i + 1..end].trim_start();
                if body.starts_with("->") {
                    out.key_like_comments.push(Span::new(i, end));
                }
                i = end;
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
                i = i.min(bytes.len());
                if !closed {
                    let end = text[start..i].trim_end().len() + start;
                    out.diagnostics.push(
                        Diagnostic::new(Code::UnterminatedString, file, Span::new(start, end.max(start + 1)), "this string is never closed")
                            .label("string starts here")
                            .help("close the string with `\"` on the same line; strings cannot span lines"),
                    );
                    chunk_broken = true;
                }
            }
            b'{' => {
                braces.push(i);
                i += 1;
            }
            b'}' => {
                if braces.pop().is_none() {
                    out.diagnostics.push(
                        Diagnostic::new(
                            Code::UnbalancedBraces,
                            file,
                            Span::new(i, i + 1),
                            "this `}` closes nothing",
                        )
                        .label("unexpected `}`")
                        .help("remove it, or add the `{` it was meant to close"),
                    );
                    chunk_broken = true;
                }
                i += 1;
            }
            b'(' | b'[' => {
                nesting += 1;
                if nesting > MAX_NESTING && !too_deep_reported {
                    too_deep_reported = true;
                    chunk_broken = true;
                    out.diagnostics.push(
                        Diagnostic::new(
                            Code::TooComplex,
                            file,
                            Span::new(i, i + 1),
                            format!("brackets are nested more than {MAX_NESTING} deep"),
                        )
                        .label("too deep")
                        .help("split the condition into simpler rules"),
                    );
                }
                i += 1;
            }
            b')' | b']' => {
                nesting = nesting.saturating_sub(1);
                i += 1;
            }
            _ => {
                // Skip to the next byte of interest.
                i += 1;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b'\n' | b'\r' | b'#' | b'"' | b'{' | b'}' | b'(' | b'[' | b')' | b']'
                    )
                {
                    i += 1;
                }
            }
        }
    }
    if let Some(&open) = braces.first() {
        out.diagnostics.push(
            Diagnostic::new(
                Code::UnbalancedBraces,
                file,
                Span::new(open, open + 1),
                "this `{` is never closed",
            )
            .label("opened here")
            .help("add a `}` at the end of the block"),
        );
        chunk_broken = true;
    }
    if has_content(&text[chunk_start..]) {
        out.chunks.push(Chunk {
            start: chunk_start,
            end: text.len(),
            broken: chunk_broken,
        });
    }
    out
}

/// Whether a slice holds anything but whitespace and comments.
fn has_content(s: &str) -> bool {
    s.split(['\n', '\r']).any(|line| {
        let t = line.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}
