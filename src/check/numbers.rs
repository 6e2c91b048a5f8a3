//! Countries and numbers: `country "US"` declarations, and reading the
//! numbers and dial patterns of a file in its country (D4009 where one stays
//! in a national format that calls never arrive in).

use super::Checker;
use crate::diagnostic::{Code, Diagnostic};
use crate::number::{self, Country, Pattern};
use crate::source::{FileId, Loc};
use crate::syntax::ast;

impl Checker<'_> {
    /// Reads each file's `country`. The root file's is the script's: calls'
    /// numbers are read in it. An included file's applies to the numbers
    /// written in that file; a file without one uses the script's.
    pub(super) fn countries(&mut self, files: &[(FileId, &ast::File)]) {
        for (index, (file, ast)) in files.iter().enumerate() {
            let mut seen: Option<Loc> = None;
            for item in &ast.items {
                let ast::Item::Country(c) = item else {
                    continue;
                };
                let loc = Loc::new(*file, c.span);
                if let Some(previous) = seen {
                    self.push(
                        Diagnostic::at(
                            Code::DuplicateDeclaration,
                            loc,
                            "this file declares its country twice",
                        )
                        .label("second `country`")
                        .with(previous, "first declared here")
                        .help("keep one `country` per file"),
                    );
                    continue;
                }
                seen = Some(loc);
                let Some(country) = Country::parse(&c.code.value) else {
                    let known: Vec<&str> = Country::ALL.iter().map(|c| c.code()).collect();
                    self.push(
                        Diagnostic::new(
                            Code::UnknownOption,
                            *file,
                            c.code.span,
                            format!("`{}` is not a country whose numbers Dialect reads", c.code.value),
                        )
                        .label("unknown country")
                        .help(format!(
                            "use an ISO 3166 code of one of {}; otherwise write numbers in E.164 form (\"+...\")",
                            known.join(", ")
                        )),
                    );
                    continue;
                };
                if index == 0 {
                    self.program.country = Some(country);
                }
                self.file_countries.insert(*file, country);
            }
        }
    }

    /// The country numbers written in a file are read in.
    pub(super) fn country_of(&self, file: FileId) -> Option<Country> {
        self.file_countries
            .get(&file)
            .copied()
            .or(self.program.country)
    }

    /// A phone number written in a file, normalised in the file's country
    /// (D3014 when malformed, D4009 when left in a national format).
    pub(super) fn phone(&mut self, file: FileId, s: &ast::Str) -> Option<String> {
        let loc = Loc::new(file, s.span);
        match number::normalize_in(&s.value, self.country_of(file)) {
            Ok(n) => {
                if number::looks_national(&n) {
                    self.national(file, loc, &s.value, "number");
                }
                Some(n)
            }
            Err(why) => {
                self.bad_number(loc, &s.value, &why);
                None
            }
        }
    }

    /// A dial pattern written in a file, read in the file's country (D4009
    /// when left in a national format).
    pub(super) fn dial_pattern(&mut self, file: FileId, s: &ast::Str) -> Result<Pattern, String> {
        let mut p = Pattern::parse(&s.value)?;
        if let Some(c) = self.country_of(file) {
            p = c.pattern(p);
        }
        if !p.plus && p.positions.len() >= number::NATIONAL_DIGITS {
            self.national(file, Loc::new(file, s.span), &s.value, "pattern");
        }
        Ok(p)
    }

    /// D4009 for a number, pattern or key that calls, whose numbers arrive
    /// in E.164, never match.
    pub(super) fn national(&mut self, file: FileId, loc: Loc, text: &str, what: &str) {
        self.national_rows(file, loc, text, what, 0);
    }

    /// D4009, saying how many more places (rows of a lookup) share the problem.
    pub(super) fn national_rows(
        &mut self,
        file: FileId,
        loc: Loc,
        text: &str,
        what: &str,
        more: usize,
    ) {
        let (mut why, help) = match self.country_of(file) {
            None => (
                "the script declares no `country`".to_string(),
                "write it in E.164 form (\"+1 512 555 0100\"), or declare the country whose national numbers the script uses, such as `country \"US\"`".to_string(),
            ),
            Some(c) => (
                format!("it is not a national number of {}", c.code()),
                format!("write it in E.164 form (\"+...\"), or as a national number of {} with its trunk prefix", c.code()),
            ),
        };
        match more {
            0 => {}
            1 => why.push_str(" (and 1 more row like it)"),
            n => why.push_str(&format!(" (and {n} more rows like it)")),
        }
        self.push(
            Diagnostic::at(
                Code::UnmatchableNumber,
                loc,
                format!("`{text}` has no `+`: calls whose numbers arrive in E.164 form never match this {what}"),
            )
            .label(why)
            .help(help),
        );
    }
}
