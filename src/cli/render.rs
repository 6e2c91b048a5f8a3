//! Showing diagnostics: miette reports for people, JSON for tools.
//!
//! Both formats give a line and a column counted in characters, and both
//! show at most [`MAX_PER_FILE`] diagnostics of one file (errors first),
//! with a line for what was left out ([`cap`]). Rendering one report costs
//! time in the lines it shows, not in the size of the file.

use std::collections::BTreeMap;
use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic, Label, Severity};
use crate::source::{FileId, Loc, SourceFile, SourceMap};

/// How many diagnostics of one file are shown unless asked otherwise.
pub const MAX_PER_FILE: usize = 100;

/// Diagnostics of one file and code that [`cap`] left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Omitted {
    pub file: FileId,
    pub code: Code,
    pub count: usize,
}

/// The diagnostics to show, at most `per_file` of each file (`None`: all):
/// a file's errors first, then its warnings, each in order of position,
/// shown in the order given. Also returns what was left out, by file and
/// code.
pub fn cap(
    diagnostics: &[Diagnostic],
    per_file: Option<usize>,
) -> (Vec<&Diagnostic>, Vec<Omitted>) {
    let Some(limit) = per_file else {
        return (diagnostics.iter().collect(), Vec::new());
    };
    let mut taken: BTreeMap<FileId, usize> = BTreeMap::new();
    let mut keep = vec![false; diagnostics.len()];
    for errors in [true, false] {
        for (i, d) in diagnostics.iter().enumerate() {
            if d.is_error() == errors {
                let n = taken.entry(d.primary.loc.file).or_default();
                if *n < limit {
                    *n += 1;
                    keep[i] = true;
                }
            }
        }
    }
    let mut omitted: BTreeMap<(FileId, Code), usize> = BTreeMap::new();
    let mut shown = Vec::new();
    for (d, keep) in diagnostics.iter().zip(keep) {
        if keep {
            shown.push(d);
        } else {
            *omitted.entry((d.primary.loc.file, d.code)).or_default() += 1;
        }
    }
    let omitted = omitted
        .into_iter()
        .map(|((file, code), count)| Omitted { file, code, count })
        .collect();
    (shown, omitted)
}

/// "and 7,950 more D2002 (duplicate-declaration) in big.dial".
pub fn omitted_line(sources: &SourceMap, o: &Omitted) -> String {
    format!(
        "and {} more {} ({}) in {}",
        thousands(o.count),
        o.code,
        o.code.name(),
        sources.get(o.file).name
    )
}

/// 7950 as "7,950".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How reports are drawn.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Renders one diagnostic as a miette report with source snippets.
pub fn human(sources: &SourceMap, d: &Diagnostic, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let report = Report::new(sources, d);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", d.code, d.message);
    }
    out
}

/// A diagnostic as miette sees it. Labels in other files become related
/// reports, since a miette report shows one source.
struct Report<'a> {
    code: String,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: FileSource<'a>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

/// Two labels' snippets this many lines apart or fewer are shown as one.
const JOIN_GAP: usize = 4;

/// Snippets longer than this many bytes are cut to the span's own line...
const MAX_WINDOW: usize = 4096;

/// ...and to this many bytes either side of the span on it.
const LONG_LINE_MARGIN: usize = 120;

/// A file as miette reads it. miette's own sources find a span's lines by
/// scanning from the start of the text, which made a report cost time in
/// the size of the file; this one finds them with the file's line table and
/// hands miette only those lines. It also counts columns in characters and
/// ends lines at a lone `\r`, as the rest of the tool does.
struct FileSource<'a> {
    file: &'a SourceFile,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let file = self.file;
        let text = file.lf_text().as_bytes();
        let (start, len) = (span.offset(), span.len());
        if start + len > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let mut first = file.line_of(start).saturating_sub(before);
        let last = file.line_of((start + len).saturating_sub(1).max(start));
        let mut window_start = file.line_start(first);
        let mut window_end = file.line_start(last + after + 2);
        if window_end - window_start > MAX_WINDOW {
            // A very long line (a minified or generated file): show the
            // part of it around the span, without context lines.
            first = file.line_of(start);
            let line = file.line_start(first)..file.line_end(last);
            let lo = start.saturating_sub(LONG_LINE_MARGIN).max(line.start);
            let hi = (start + len + LONG_LINE_MARGIN)
                .min(line.end)
                .max(start + len);
            let text_str = file.lf_text();
            window_start = (0..=lo)
                .rev()
                .find(|&i| text_str.is_char_boundary(i))
                .unwrap_or(0);
            window_end = (hi..=text.len())
                .find(|&i| text_str.is_char_boundary(i))
                .unwrap_or(text.len());
        }
        let window = &text[window_start..window_end];
        let local = SourceSpan::new((start - window_start).into(), len);
        let inner = <[u8] as SourceCode>::read_span(window, &local, before, after)?;
        let column = if before == 0 {
            file.line_col(start as u32).1 - 1
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window_start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            column,
            // miette joins two labels' snippets into one when the first's
            // line plus this count reaches the second's first line. Its own
            // sources count from the start of the file, which joined labels
            // hundreds of lines apart into one snippet of every line between
            // them; this joins snippets at most `JOIN_GAP` lines apart.
            inner.line_count() + JOIN_GAP,
        )))
    }
}

impl<'a> Report<'a> {
    fn new(sources: &'a SourceMap, d: &Diagnostic) -> Report<'a> {
        let file = sources.get(d.primary.loc.file);
        let span = |loc: Loc| span(sources.trim(loc));
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            label_text(&d.primary),
            span(d.primary.loc),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if l.loc.file == d.primary.loc.file {
                labels.push(LabeledSpan::new_with_span(label_text(l), span(l.loc)));
            } else {
                let other = sources.get(l.loc.file);
                related.push(Report {
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    message: format!("{} (in {})", l.message, other.name),
                    help: None,
                    source: FileSource { file: other },
                    labels: vec![LabeledSpan::new_primary_with_span(None, span(l.loc))],
                    related: Vec::new(),
                });
            }
        }
        Report {
            code: d.code.as_str().to_string(),
            severity: match d.severity() {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            message: d.message.clone(),
            help: (!d.help.is_empty()).then(|| d.help.clone()),
            source: FileSource { file },
            labels,
            related,
        }
    }
}

fn label_text(l: &Label) -> Option<String> {
    (!l.message.is_empty()).then(|| l.message.clone())
}

fn span(loc: Loc) -> SourceSpan {
    SourceSpan::new((loc.span.start as usize).into(), loc.span.len())
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// One diagnostic as a JSON object.
#[derive(Serialize)]
pub struct Json<'a> {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: &'a str,
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub span: JsonSpan,
    pub labels: Vec<JsonLabel<'a>>,
    pub help: &'a str,
}

#[derive(Serialize)]
pub struct JsonSpan {
    pub start: u32,
    pub end: u32,
}

#[derive(Serialize)]
pub struct JsonLabel<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub span: JsonSpan,
    pub message: &'a str,
    pub primary: bool,
}

pub fn json<'a>(sources: &'a SourceMap, d: &'a Diagnostic) -> Json<'a> {
    let file = sources.get(d.primary.loc.file);
    let (line, column) = file.line_col(d.primary.loc.span.start);
    let primary = sources.trim(d.primary.loc);
    let label = |l: &'a Label, primary: bool| {
        let f = sources.get(l.loc.file);
        let (line, column) = f.line_col(l.loc.span.start);
        let trimmed = sources.trim(l.loc);
        JsonLabel {
            file: &f.name,
            line,
            column,
            span: JsonSpan {
                start: trimmed.span.start,
                end: trimmed.span.end,
            },
            message: &l.message,
            primary,
        }
    };
    Json {
        code: d.code.as_str(),
        name: d.code.name(),
        severity: d.severity(),
        message: &d.message,
        file: &file.name,
        line,
        column,
        span: JsonSpan {
            start: primary.span.start,
            end: primary.span.end,
        },
        labels: std::iter::once(label(&d.primary, true))
            .chain(d.labels.iter().map(|l| label(l, false)))
            .collect(),
        help: &d.help,
    }
}
