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
