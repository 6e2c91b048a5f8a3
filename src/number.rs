//! Phone numbers and dial patterns: normalisation to E.164, matching,
//! specificity and overlap.
//!
//! Numbers are written with any spacing (`"+1 (800) 555-0100"`) and
//! normalised to `+18005550100`. Patterns use `X` (any digit), `N` (2–9),
//! `Z` (1–9) and classes such as `[1-5]` or `[135]`, as in classic dial plans.
//! A pattern matches numbers of exactly its length.

use std::fmt;

/// Longest number accepted; E.164 allows 15 digits.
pub const MAX_DIGITS: usize = 15;

/// Strips the separators people write inside numbers.
fn strip(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\t'))
}

/// Normalises a phone number: `+` and digits only. Numbers without `+` are
/// internal (extensions, short codes) and kept as digits.
pub fn normalize(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for (i, c) in strip(text).enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            '+' => return Err("`+` may only start a number".into()),
            other => return Err(format!("`{other}` is not allowed in a phone number")),
        }
    }
    let digits = out.trim_start_matches('+').len();
    if digits == 0 {
        return Err("a phone number needs at least one digit".into());
    }
    if digits > MAX_DIGITS {
        return Err(format!(
            "a phone number has at most {MAX_DIGITS} digits, this one has {digits}"
        ));
    }
    Ok(out)
}

/// A country whose national numbers a script reads (`country "US"`):
/// numbers written or delivered without `+` in that country's national (or
/// international-prefix) format become E.164.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Country {
    /// United States (NANP, +1).
    Us,
    /// Canada (NANP, +1).
    Ca,
    /// United Kingdom (+44, trunk prefix 0).
    Gb,
    /// Germany (+49, trunk prefix 0).
    De,
    /// France (+33, trunk prefix 0).
    Fr,
}

/// Numbers without `+` this long or longer are phone numbers, not
/// extensions or short codes; if they stay without `+` they are in a
/// national format no call in E.164 can match.
pub const NATIONAL_DIGITS: usize = 10;

impl Country {
    pub const ALL: [Country; 5] = [
        Country::Us,
        Country::Ca,
        Country::Gb,
        Country::De,
        Country::Fr,
    ];

    /// From an ISO 3166 alpha-2 code, in either case.
    pub fn parse(code: &str) -> Option<Country> {
        Country::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
    }

    pub fn code(self) -> &'static str {
        match self {
            Country::Us => "US",
            Country::Ca => "CA",
            Country::Gb => "GB",
            Country::De => "DE",
            Country::Fr => "FR",
        }
    }

    /// The country calling code's digits.
    fn calling_code(self) -> &'static [u8] {
        match self {
            Country::Us | Country::Ca => &[1],
            Country::Gb => &[4, 4],
            Country::De => &[4, 9],
            Country::Fr => &[3, 3],
        }
    }

    /// What callers dial before a country code.
    fn international_prefix(self) -> &'static [u8] {
        match self {
            Country::Us | Country::Ca => &[0, 1, 1],
            _ => &[0, 0],
        }
    }

    /// The digits after `+` of a national or international-prefix number
    /// (as digit sets, so patterns and numbers share one rule), or `None`
    /// when the digits are neither (an extension, a short code).
    fn international(self, positions: &[DigitSet]) -> Option<Vec<DigitSet>> {
        let single = |set: DigitSet, d: u8| set == 1 << d;
        let starts = |prefix: &[u8]| {
            positions.len() > prefix.len() + 1
                && prefix.iter().zip(positions).all(|(&d, &s)| single(s, d))
        };
        // Digits 2 to 9, as NANP area codes and national numbers begin.
        let n = |set: DigitSet| set & 0b11 == 0;
        let prefix = self.international_prefix();
        if starts(prefix) {
            return Some(positions[prefix.len()..].to_vec());
        }
        let code: Vec<DigitSet> = self.calling_code().iter().map(|&d| 1 << d).collect();
        let national_len = match self {
            Country::Us | Country::Ca => {
                return match positions.len() {
                    10 if n(positions[0]) => Some([&code[..], positions].concat()),
                    11 if single(positions[0], 1) && n(positions[1]) => Some(positions.to_vec()),
                    _ => None,
                };
            }
            Country::Gb => 10..=11,
            Country::De => 6..=12,
            Country::Fr => 10..=10,
        };
        // Trunk prefix 0, then a digit that is not 0.
        (national_len.contains(&positions.len())
            && single(positions[0], 0)
            && positions[1] & 1 == 0)
            .then(|| [&code[..], &positions[1..]].concat())
    }

    /// A normalised number in E.164 when it is a national number of the
    /// country; otherwise unchanged.
    pub fn number(self, normalized: &str) -> String {
        if normalized.starts_with('+') || !normalized.bytes().all(|b| b.is_ascii_digit()) {
            return normalized.to_string();
        }
        let positions: Vec<DigitSet> = normalized.bytes().map(|b| 1 << (b - b'0')).collect();
        match self.international(&positions) {
            Some(digits) => std::iter::once('+')
                .chain(
                    digits
                        .iter()
                        .map(|s| char::from(b'0' + s.trailing_zeros() as u8)),
                )
                .collect(),
            None => normalized.to_string(),
        }
    }

    /// A pattern of national numbers as the pattern of their E.164 forms;
    /// other patterns unchanged.
    pub fn pattern(self, pattern: Pattern) -> Pattern {
        if pattern.plus {
            return pattern;
        }
        match self.international(&pattern.positions) {
            Some(positions) => Pattern {
                plus: true,
                positions,
            },
            None => pattern,
        }
    }
}

/// Normalises a number and, with a country, reads national numbers as E.164.
pub fn normalize_in(text: &str, country: Option<Country>) -> Result<String, String> {
    let n = normalize(text)?;
    Ok(match country {
        Some(c) => c.number(&n),
        None => n,
    })
}

/// Whether a normalised number is in a national format (no `+`, and long
/// enough to be a phone number rather than an extension).
pub fn looks_national(normalized: &str) -> bool {
    !normalized.starts_with('+') && normalized.len() >= NATIONAL_DIGITS
}

/// One position of a pattern: the set of digits it accepts, bit `d` for digit `d`.
pub type DigitSet = u16;

const ALL_DIGITS: DigitSet = 0b11_1111_1111;

/// A fixed-length dial pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub plus: bool,
    pub positions: Vec<DigitSet>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        // Separators are dropped outside classes; inside, `-` makes a range.
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        let mut in_class = false;
        for c in text.chars() {
            match c {
                '[' => in_class = true,
                ']' => in_class = false,
                ' ' | '-' | '.' | '(' | ')' | '\t' if !in_class => continue,
                _ => {}
            }
            chars.push(c);
        }
        let mut positions = Vec::new();
        let mut plus = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let set = match c {
                '+' if i == 0 => {
                    plus = true;
                    i += 1;
                    continue;
                }
                '0'..='9' => 1 << (c as u32 - '0' as u32),
                'X' | 'x' => ALL_DIGITS,
                'N' | 'n' => ALL_DIGITS & !0b11,
                'Z' | 'z' => ALL_DIGITS & !0b1,
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or("a `[` class is not closed with `]`")?;
                    let set = parse_class(&chars[i + 1..i + close])?;
                    i += close;
                    set
                }
                '+' => return Err("`+` may only start a number".into()),
                other => {
                    return Err(format!(
                        "`{other}` is not allowed in a dial pattern; use digits, X, N, Z or a class such as [1-5]"
                    ));
                }
            };
            positions.push(set);
            i += 1;
        }
        if positions.is_empty() {
            return Err("a dial pattern needs at least one digit".into());
        }
        if positions.len() > MAX_DIGITS {
            return Err(format!(
                "a dial pattern has at most {MAX_DIGITS} digits, this one has {}",
                positions.len()
            ));
        }
        Ok(Pattern { plus, positions })
    }

    /// Whether a normalised number matches.
    pub fn matches(&self, number: &str) -> bool {
        let (plus, digits) = match number.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        plus == self.plus
            && digits.len() == self.positions.len()
            && digits
                .bytes()
                .zip(&self.positions)
                .all(|(b, set)| b.is_ascii_digit() && set & (1 << (b - b'0')) != 0)
    }

    /// True when the pattern matches exactly one number.
    pub fn is_literal(&self) -> bool {
        self.positions.iter().all(|s| s.count_ones() == 1)
    }

    /// Every number `self` matches is matched by `other`.
    pub fn is_subset_of(&self, other: &Pattern) -> bool {
        self.plus == other.plus
            && self.positions.len() == other.positions.len()
            && self
                .positions
                .iter()
                .zip(&other.positions)
                .all(|(a, b)| a & !b == 0)
    }

    /// Some number is matched by both.
    pub fn overlaps(&self, other: &Pattern) -> bool {
        self.plus == other.plus
            && self.positions.len() == other.positions.len()
            && self
                .positions
                .iter()
                .zip(&other.positions)
                .all(|(a, b)| a & b != 0)
    }

    /// Lower is more specific. Among patterns that all match one number and
    /// nest (the checker rejects partial overlaps), the lowest is the smallest.
    pub fn breadth(&self) -> u32 {
        self.positions.iter().map(|s| s.count_ones()).sum()
    }

    /// The numbers both patterns match, when they overlap.
    pub fn intersection(&self, other: &Pattern) -> Option<Pattern> {
        self.overlaps(other).then(|| Pattern {
            plus: self.plus,
            positions: self
                .positions
                .iter()
                .zip(&other.positions)
                .map(|(a, b)| a & b)
                .collect(),
        })
    }

    /// Every number `self` matches is matched by one of `parts`. The search
    /// splits `self` digit by digit where no part covers it whole; it gives
    /// up (answers false) after a bounded amount of work, so a caller that
    /// reports an error when this is false stays sound.
    pub fn is_covered_by(&self, parts: &[&Pattern]) -> bool {
        fn go(target: &Pattern, parts: &[&Pattern], budget: &mut u32) -> bool {
            if parts.iter().any(|p| target.is_subset_of(p)) {
                return true;
            }
            let parts: Vec<&Pattern> = parts
                .iter()
                .copied()
                .filter(|p| p.overlaps(target))
                .collect();
            if parts.is_empty() || *budget == 0 {
                return false;
            }
            *budget -= 1;
            // Some part leaves out a digit the target accepts at some
            // position (or it would contain the target): split there.
            let Some(i) = (0..target.positions.len()).find(|&i| {
                parts
                    .iter()
                    .any(|p| target.positions[i] & !p.positions[i] != 0)
            }) else {
                return false;
            };
            (0..10u32)
                .filter(|d| target.positions[i] & (1 << d) != 0)
                .all(|d| {
                    let mut one = target.clone();
                    one.positions[i] = 1 << d;
                    go(&one, &parts, budget)
                })
        }
        go(self, parts, &mut 10_000)
    }

    /// The pattern written with the spacing of `layout`, another pattern of
    /// the same length as people wrote it (`+1 800 555 015X` after `+1 800
    /// 555 01XX`); plain when the lengths differ.
    pub fn spaced_like(&self, layout: &str) -> String {
        let mut out = String::new();
        let mut positions = self.positions.iter();
        let mut chars = layout.chars();
        while let Some(c) = chars.next() {
            match c {
                '+' => out.push('+'),
                '0'..='9' | 'X' | 'x' | 'N' | 'n' | 'Z' | 'z' | '[' => {
                    if c == '[' {
                        chars.by_ref().find(|&c| c == ']');
                    }
                    let Some(&set) = positions.next() else {
                        return self.to_string();
                    };
                    let one = Pattern {
                        plus: false,
                        positions: vec![set],
                    };
                    out.push_str(&one.to_string());
                }
                other => out.push(other),
            }
        }
        if positions.next().is_some() {
            return self.to_string();
        }
        out
    }

    /// One number the pattern matches, for examples in messages.
    pub fn example(&self) -> String {
        let mut s = String::from(if self.plus { "+" } else { "" });
        for set in &self.positions {
            let d = set.trailing_zeros();
            s.push(char::from(b'0' + d as u8));
        }
        s
    }
}

fn parse_class(body: &[char]) -> Result<DigitSet, String> {
    let mut set: DigitSet = 0;
    let mut i = 0;
    if body.is_empty() {
        return Err("an empty class `[]` matches nothing".into());
    }
    while i < body.len() {
        let d = body[i]
            .to_digit(10)
            .ok_or_else(|| format!("`{}` is not a digit in a class", body[i]))?;
        if i + 2 < body.len() && body[i + 1] == '-' {
            let e = body[i + 2]
                .to_digit(10)
                .ok_or_else(|| format!("`{}` is not a digit in a class", body[i + 2]))?;
            if e < d {
                return Err(format!("the class range {d}-{e} is backwards"));
            }
            for x in d..=e {
                set |= 1 << x;
            }
            i += 3;
        } else {
            set |= 1 << d;
            i += 1;
        }
    }
    Ok(set)
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.plus {
            f.write_str("+")?;
        }
        for &set in &self.positions {
            match set {
                ALL_DIGITS => f.write_str("X")?,
                s if s == ALL_DIGITS & !0b11 => f.write_str("N")?,
                s if s == ALL_DIGITS & !0b1 => f.write_str("Z")?,
                s if s.count_ones() == 1 => write!(f, "{}", s.trailing_zeros())?,
                s => {
                    f.write_str("[")?;
                    for d in 0..10 {
                        if s & (1 << d) != 0 {
                            write!(f, "{d}")?;
                        }
                    }
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_numbers() {
        assert_eq!(normalize("+1 (800) 555-0100").unwrap(), "+18005550100");
        assert_eq!(normalize("1001").unwrap(), "1001");
        assert!(normalize("+1 800 CALL").is_err());
        assert!(normalize("1+1").is_err());
        assert!(normalize("+").is_err());
        assert!(normalize("+1234567890123456").is_err());
    }

    #[test]
    fn national_numbers_become_e164() {
        let us = |n: &str| normalize_in(n, Some(Country::Us)).unwrap();
        assert_eq!(us("18005550100"), "+18005550100");
        assert_eq!(us("8005550100"), "+18005550100");
        assert_eq!(us("(512) 555-0101"), "+15125550101");
        assert_eq!(us("011 44 20 7946 0000"), "+442079460000");
        assert_eq!(us("+44 20 7946 0000"), "+442079460000");
        // Extensions, short codes and impossible area codes stay as dialed.
        assert_eq!(us("2001"), "2001");
        assert_eq!(us("911"), "911");
        assert_eq!(us("1005550100"), "1005550100");
        let gb = |n: &str| normalize_in(n, Some(Country::Gb)).unwrap();
        assert_eq!(gb("020 7946 0000"), "+442079460000");
        assert_eq!(gb("0800 123 4567"), "+448001234567");
        assert_eq!(gb("00 1 800 555 0100"), "+18005550100");
        assert_eq!(gb("999"), "999");
        let de = |n: &str| normalize_in(n, Some(Country::De)).unwrap();
        assert_eq!(de("030 1234567"), "+49301234567");
        assert_eq!(de("0049 30 1234567"), "+49301234567");
        let fr = |n: &str| normalize_in(n, Some(Country::Fr)).unwrap();
        assert_eq!(fr("01 23 45 67 89"), "+33123456789");
        assert_eq!(fr("0123"), "0123");
        assert_eq!(normalize_in("8005550100", None).unwrap(), "8005550100");
        assert_eq!(Country::parse("us"), Some(Country::Us));
        assert_eq!(Country::parse("XX"), None);
    }

    #[test]
    fn national_patterns_become_e164() {
        let p = |t: &str, c| Country::pattern(c, Pattern::parse(t).unwrap()).to_string();
        assert_eq!(p("800 555 01XX", Country::Us), "+180055501XX");
        assert_eq!(p("1 NXX NXX XXXX", Country::Ca), "+1NXXNXXXXXX");
        assert_eq!(p("020 7946 XXXX", Country::Gb), "+44207946XXXX");
        assert_eq!(p("2XXX", Country::Us), "2XXX");
        // A first digit that may be 0 or 1 is not an area code.
        assert_eq!(p("XXX XXX XXXX", Country::Us), "XXXXXXXXXX");
    }

    #[test]
    fn patterns_match_and_nest() {
        let wide = Pattern::parse("+1 800 555 01XX").unwrap();
        let exact = Pattern::parse("+1 800 555 0100").unwrap();
        let class = Pattern::parse("+1 800 555 0[1-3]N5").unwrap();
        assert!(wide.matches("+18005550142"));
        assert!(!wide.matches("18005550142"));
        assert!(!wide.matches("+180055501423"));
        assert!(exact.is_subset_of(&wide) && !wide.is_subset_of(&exact));
        assert!(exact.breadth() < wide.breadth());
        assert!(class.overlaps(&wide) && !class.is_subset_of(&wide));
        assert_eq!(class.to_string(), "+18005550[123]N5");
        assert!(Pattern::parse("+1[5-3]").is_err());
        assert!(Pattern::parse("+1[").is_err());
    }

    #[test]
    fn overlap_is_covered_by_smaller_patterns() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        let both = p("+1 800 555 01XX")
            .intersection(&p("+1 800 555 0X5X"))
            .unwrap();
        assert_eq!(both, p("+1 800 555 015X"));
        assert_eq!(both.spaced_like("+1 800 555 01XX"), "+1 800 555 015X");
        assert_eq!(
            both.spaced_like("+1 (800) 555-0[1-3]XX"),
            "+1 (800) 555-015X"
        );
        assert_eq!(both.spaced_like("+1 800"), "+1800555015X");
        assert!(both.is_covered_by(&[&p("+1 800 555 015X")]));
        assert!(both.is_covered_by(&[&p("+1 800 555 015[0-4]"), &p("+1 800 555 015[5-9]")]));
        assert!(!both.is_covered_by(&[&p("+1 800 555 015[0-4]"), &p("+1 800 555 0156")]));
        assert!(!both.is_covered_by(&[]));
        assert!(
            p("+1 800 555 01XX")
                .intersection(&p("+1 800 555 02XX"))
                .is_none()
        );
    }
}
