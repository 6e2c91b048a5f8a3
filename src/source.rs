//! Source files, byte spans and line/column lookup.
//!
//! Every syntax node and diagnostic points into a file held here. The map
//! is filled by the caller (the CLI reads files; tests use strings), so the
//! pipeline stages never touch the file system.
//!
//! A line ends at `\n`, at `\r\n` or at a `\r` alone, everywhere: here,
//! in the grammar and in the pre-scan. Columns count characters (Unicode
//! scalar values), not bytes.

use std::fmt;

/// A byte range `start..end` inside one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A span in a particular file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub file: FileId,
    pub span: Span,
}

impl Loc {
    pub fn new(file: FileId, span: Span) -> Loc {
        Loc { file, span }
    }
}

/// One loaded file: the name shown to people and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
    /// Per line, where its first non-ASCII byte is (`u32::MAX` if none):
    /// before it a column is a byte count, found without scanning the line.
    first_non_ascii: Vec<u32>,
    /// The text with each lone `\r` made a `\n` (same length, so spans
    /// still fit), for tools that know only `\n` and `\r\n`; `None` when
    /// the text has no lone `\r`.
    lf_text: Option<String>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut first_non_ascii = vec![u32::MAX];
        let mut lone_cr = false;
        for (i, &b) in bytes.iter().enumerate() {
            let cr_alone = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            lone_cr |= cr_alone;
            if b == b'\n' || cr_alone {
                line_starts.push(i as u32 + 1);
                first_non_ascii.push(u32::MAX);
            } else if !b.is_ascii()
                && let Some(first) = first_non_ascii.last_mut()
            {
                *first = (*first).min(i as u32);
            }
        }
        let lf_text = lone_cr.then(|| {
            let mut lf = text.clone().into_bytes();
            for i in 0..lf.len() {
                if lf[i] == b'\r' && lf.get(i + 1) != Some(&b'\n') {
                    lf[i] = b'\n';
                }
            }
            // Replacing one ASCII byte by another keeps the text UTF-8.
            String::from_utf8(lf).unwrap_or_default()
        });
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            first_non_ascii,
            lf_text,
        }
    }

    /// The text with every line end written `\n` or `\r\n`: the same
    /// length and offsets as `text`.
    pub fn lf_text(&self) -> &str {
        self.lf_text.as_deref().unwrap_or(&self.text)
    }

    /// How many lines the file has (an empty file has one).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where a zero-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .map_or(self.text.len(), |&s| s as usize)
    }

    /// Byte offset where a zero-based line's text ends, before its line end.
    pub fn line_end(&self, line: usize) -> usize {
        let next = self.line_start(line + 1);
        let bytes = &self.text.as_bytes()[..next];
        let mut end = next;
        if line + 1 < self.line_starts.len() {
            end -= 1;
            if bytes[end] == b'\n' && end > 0 && bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        end.max(self.line_start(line))
    }

    /// The zero-based line a byte offset is on.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len()) as u32;
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    /// The text of a one-based line, without its line end ("" past the end).
    pub fn line_text(&self, line: usize) -> &str {
        if line == 0 || line > self.line_starts.len() {
            return "";
        }
        let (start, end) = (self.line_start(line - 1), self.line_end(line - 1));
        self.text.get(start..end).unwrap_or("")
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).max(start);
        let ascii_end = (self.first_non_ascii[line] as usize).clamp(start, end);
        let column = (ascii_end - start)
            + self
                .text
                .get(ascii_end..end)
                .map_or(end - ascii_end, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The text of a span, or "" if it does not fall on character boundaries.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// All files of one program, in load order.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// A location without the trailing whitespace and comments that a
    /// syntax node's span may include, for showing it.
    pub fn trim(&self, loc: Loc) -> Loc {
        let Some(file) = self.files.get(loc.file.0 as usize) else {
            return loc;
        };
        let text = file.slice(loc.span);
        if text.is_empty() {
            return loc;
        }
        let len = content_len(text).max(1.min(text.len()));
        Loc::new(
            loc.file,
            Span::new(loc.span.start as usize, loc.span.start as usize + len),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len() as u32).map(FileId)
    }
}

/// Where a program's text was, without the text: each file's name and
/// where its lines start, so that a location can still be named
/// `file:line` long after the sources are gone (in call records).
#[derive(Clone, Debug, Default)]
pub struct Places {
    files: Vec<(std::sync::Arc<str>, Vec<u32>)>,
}

/// A location as people read it: a file's name and a one-based line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Place {
    /// Shared with the program's places: naming a place copies nothing.
    pub file: std::sync::Arc<str>,
    pub line: usize,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Places {
    pub fn of(sources: &SourceMap) -> Places {
        Places {
            files: (sources.files.iter())
                .map(|f| (f.name.as_str().into(), f.line_starts.clone()))
                .collect(),
        }
    }

    /// The file and line where `loc` starts; `None` for a location of a
    /// file these places do not know (a program built without sources).
    pub fn place(&self, loc: Loc) -> Option<Place> {
        let (name, starts) = self.files.get(loc.file.0 as usize)?;
        let line = starts.partition_point(|&s| s <= loc.span.start);
        Some(Place {
            file: name.clone(),
            line: line.max(1),
        })
    }
}

/// Length of `text` without trailing whitespace and trailing comments.
pub fn content_len(text: &str) -> usize {
    let mut end = text.trim_end().len();
    loop {
        let line_start = text[..end].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        match comment_start(&text[line_start..end]) {
            // A span that is itself a comment keeps it.
            Some(c) if line_start + c > 0 => end = text[..line_start + c].trim_end().len(),
            _ => return end,
        }
    }
}

/// Where a `#` comment starts in one line, ignoring `#` inside strings.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line and column of the first occurrence of `needle` in `text`.
    fn at(text: &str, needle: &str) -> (usize, usize) {
        let file = SourceFile::new("t.dial", text);
        file.line_col(text.find(needle).expect("needle") as u32)
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(at("abc x", "x"), (1, 5));
        assert_eq!(at("é😀 x", "x"), (1, 4));
        assert_eq!(at("ab x é", "x"), (1, 4));
        assert_eq!(at("ascii\nab é x\nnext", "x"), (2, 6));
        assert_eq!(at("é\nab x", "x"), (2, 4));
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let text = "a\r\nb\rc\nd\r";
        assert_eq!(at(text, "b"), (2, 1));
        assert_eq!(at(text, "c"), (3, 1));
        assert_eq!(at(text, "d"), (4, 1));
        let file = SourceFile::new("t.dial", text);
        assert_eq!(file.line_count(), 5);
        assert_eq!(file.line_text(1), "a");
        assert_eq!(file.line_text(4), "d");
        assert_eq!(file.line_text(5), "");
        assert_eq!(file.lf_text(), "a\r\nb\nc\nd\n");
        // A span's trailing comment stops at a lone `\r` too.
        assert_eq!(
            content_len("queue q # c\rqueue r"),
            "queue q # c\rqueue r".len()
        );
        assert_eq!(content_len("queue q # c\r"), "queue q".len());
    }
}
