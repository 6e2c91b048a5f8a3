//! Showing diagnostics: miette reports for people, JSON for tools.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::source::{Loc, SourceMap};

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
struct Report {
    code: String,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(sources: &SourceMap, d: &Diagnostic) -> Report {
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
                    source: NamedSource::new(other.name.clone(), other.text.clone()),
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
            source: NamedSource::new(file.name.clone(), file.text.clone()),
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

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
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
