//! Precise reports for common syntax mistakes: a name with a hyphen or an
//! accent, a reserved word used as a name, a misspelled keyword and an
//! unknown escape in a string.
//!
//! The grammar only knows that some token does not fit; these hints look at
//! the text around the failure and, when they recognise the mistake, say
//! what it is and point at it instead of at the start of the declaration.

use pest::Parser as _;

use super::grammar::{Grammar, Rule};
use super::scan::TOP_LEVEL;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::{FileId, Span};

/// What the grammar would have accepted where parsing failed.
pub(super) struct Expected {
    /// A name.
    pub name: bool,
    /// A new declaration (or the end of the file).
    pub declaration: bool,
    /// Keywords, without the `kw_` prefix.
    pub keywords: Vec<String>,
}

/// A diagnostic for a recognised mistake at or around byte `at`, if any.
pub(super) fn explain(
    file: FileId,
    text: &str,
    at: usize,
    expected: &Expected,
) -> Option<Diagnostic> {
    if text[at..].starts_with('"') {
        return bad_escape(file, text, at);
    }
    let (start, end) = name_around(text, at)?;
    let word = &text[start..end];
    if !is_plain(word) {
        return bad_name(file, text, start, end);
    }
    // A declaration that fails at its first word: pest blames the keyword
    // when it is the name after it that does not fit.
    if start == at && TOP_LEVEL.contains(&word) && !expected.name {
        let after = skip_blanks(text, end);
        let (s, e) = name_around(text, after).filter(|&(s, _)| s == after)?;
        return if !is_plain(&text[s..e]) {
            bad_name(file, text, s, e)
        } else if is_reserved(&text[s..e]) {
            Some(reserved(file, text, s, e))
        } else {
            None
        };
    }
    if expected.name && is_reserved(word) {
        return Some(reserved(file, text, start, end));
    }
    if start != at || is_reserved(word) {
        return None;
    }
    let mut candidates: Vec<&str> = expected.keywords.iter().map(String::as_str).collect();
    if expected.declaration {
        candidates.extend(TOP_LEVEL.iter().copied());
    }
    let keyword = did_you_mean(word, candidates)?;
    Some(
        Diagnostic::new(
            Code::SyntaxError,
            file,
            Span::new(start, end),
            format!("`{word}` is not a keyword"),
        )
        .label("unknown keyword")
        .help(format!("did you mean `{keyword}`?")),
    )
}

/// When parsing failed at a line that starts with a misspelled declaration
/// keyword (`queu billing {`), the keyword it stands for. The text before
/// that line is then a declaration of its own, and the misspelled one is
/// known by its name, so its uses are not reported again.
/// Returns the keyword and the span of the name after the misspelling.
pub(super) fn misspelled_declaration(
    text: &str,
    at: usize,
) -> Option<(&'static str, Option<(usize, usize)>)> {
    let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    if !text[line_start..at].trim().is_empty() {
        return None;
    }
    let (start, end) = name_around(text, at)?;
    let word = &text[start..end];
    if start != at || !is_plain(word) || TOP_LEVEL.contains(&word) {
        return None;
    }
    let keyword = did_you_mean(word, TOP_LEVEL.iter().copied())?;
    let keyword = TOP_LEVEL.iter().copied().find(|k| *k == keyword)?;
    let after = skip_blanks(text, end);
    let name = name_around(text, after)
        .filter(|&(s, e)| s == after && is_plain(&text[s..e]) && !is_reserved(&text[s..e]));
    Some((keyword, name))
}

/// Name characters, plus `-` and letters outside ASCII, which people put in
/// names but the grammar does not accept.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The name-like word at `at`: letters (any script), digits and `_`, with
/// single hyphens between them (`front-desk`). `None` when there is none or
/// it starts with a digit.
fn name_around(text: &str, at: usize) -> Option<(usize, usize)> {
    let joined = |i: usize| -> bool {
        // A hyphen joins two name characters.
        text[..i].chars().next_back().is_some_and(name_char)
            && text[i + 1..].chars().next().is_some_and(name_char)
    };
    let mut start = at;
    while let Some(c) = text[..start].chars().next_back() {
        if name_char(c) || (c == '-' && joined(start - 1)) {
            start -= c.len_utf8();
        } else {
            break;
        }
    }
    let mut end = start;
    while let Some(c) = text[end..].chars().next() {
        if name_char(c) || (c == '-' && joined(end)) {
            end += c.len_utf8();
        } else {
            break;
        }
    }
    let first = text[start..end].chars().next()?;
    (end > at && !first.is_numeric()).then_some((start, end))
}

/// Letters, digits and `_` of ASCII only: what the grammar accepts in names.
fn is_plain(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_reserved(word: &str) -> bool {
    Grammar::parse(Rule::reserved, word).is_ok_and(|p| p.as_str().len() == word.len())
}

fn skip_blanks(text: &str, from: usize) -> usize {
    from + (text[from..].len() - text[from..].trim_start().len())
}

/// `front-desk`, `réception`: the first character that cannot be in a name.
fn bad_name(file: FileId, text: &str, start: usize, end: usize) -> Option<Diagnostic> {
    let word = &text[start..end];
    let (i, c) = word
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let fixed = plain_name(word);
    let help = match &fixed {
        Some(f) => format!("names are made of ASCII letters, digits and `_`; write `{f}`"),
        None => "names are made of ASCII letters, digits and `_`".to_string(),
    };
    Some(
        Diagnostic::new(
            Code::SyntaxError,
            file,
            Span::new(start + i, start + i + c.len_utf8()),
            format!("`{word}` is not a name: `{c}` cannot be part of a name"),
        )
        .label(format!("`{c}` in a name"))
        .help(help),
    )
}

/// `closed` where a name should be.
fn reserved(file: FileId, text: &str, start: usize, end: usize) -> Diagnostic {
    let word = &text[start..end];
    // The keyword before the name says what it names: `queue closed`.
    let before = text[..start].trim_end();
    // After the last character that is not part of a word, which may be
    // wider than a byte (a stray byte order mark before the name).
    let kind_start = before
        .char_indices()
        .rfind(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let kind = &before[kind_start..];
    let instead = if !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!("{word}_{kind}")
    } else {
        format!("{word}_1")
    };
    Diagnostic::new(
        Code::SyntaxError,
        file,
        Span::new(start, end),
        format!("`{word}` is a reserved word and cannot be a name"),
    )
    .label("reserved word")
    .help(format!(
        "choose another name, such as `{instead}`; docs/language.md lists the reserved words under \"Names and reserved words\""
    ))
}

/// The name with hyphens and other separators as `_` and accents removed,
/// if that leaves a valid name.
fn plain_name(word: &str) -> Option<String> {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => out.push(c),
            '-' => out.push('_'),
            _ => out.push_str(unaccented(c)?),
        }
    }
    Some(out)
}

/// The plain letters of common accented Latin letters.
fn unaccented(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ą' => "A",
        'ç' | 'ć' | 'č' => "c",
        'Ç' | 'Ć' | 'Č' => "C",
        'ď' => "d",
        'Ď' => "D",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'ğ' => "g",
        'Ğ' => "G",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'İ' => "I",
        'ł' => "l",
        'Ł' => "L",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ř' => "r",
        'Ř' => "R",
        'ś' | 'š' | 'ş' => "s",
        'Ś' | 'Š' | 'Ş' => "S",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'Ť' | 'Ţ' => "T",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        _ => return None,
    })
}

/// `"hi\q"`: the first unknown escape of the string opening at `at`.
fn bad_escape(file: FileId, text: &str, at: usize) -> Option<Diagnostic> {
    let mut chars = text[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' | '\n' | '\r' => return None,
            '\\' => {
                let start = at + 1 + i;
                match chars.next() {
                    Some((_, '"' | '\\' | 'n' | 't')) => {}
                    Some((_, '\n' | '\r')) | None => {
                        return Some(escape_diagnostic(file, start, start + 1, "\\".into()));
                    }
                    Some((j, e)) => {
                        let end = at + 1 + j + e.len_utf8();
                        return Some(escape_diagnostic(file, start, end, text[start..end].into()));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

fn escape_diagnostic(file: FileId, start: usize, end: usize, escape: String) -> Diagnostic {
    Diagnostic::new(
        Code::SyntaxError,
        file,
        Span::new(start, end),
        format!("`{escape}` is not an escape"),
    )
    .label("unknown escape")
    .help("strings know the escapes `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_around_a_position() {
        let text = "queue front-desk {";
        assert_eq!(name_around(text, 11), Some((6, 16)));
        assert_eq!(name_around(text, 6), Some((6, 16)));
        assert_eq!(name_around("x - y", 2), None);
        assert_eq!(name_around("queue 1st", 6), None);
        assert_eq!(
            plain_name("réception-desk").as_deref(),
            Some("reception_desk")
        );
        assert_eq!(plain_name("приём"), None);
        assert!(is_reserved("closed") && !is_reserved("closedx") && !is_reserved("billing"));
    }
}
