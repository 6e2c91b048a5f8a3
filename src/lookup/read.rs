//! Reading lookup text: CSV tables and their cells as typed values, shared
//! by `dialect lint` (which reports bad rows) and the loading of lookup
//! tables.

use crate::checked::{LookupKey, Type, Value};
use crate::number;
use crate::source::Span;

/// A CSV table: the header and every record with where it is in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvTable {
    pub columns: Vec<String>,
    pub rows: Vec<CsvRow>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRow {
    /// One-based line of the record.
    pub line: u64,
    /// The record's bytes in the file, without the line break.
    pub span: Span,
    pub cells: Vec<String>,
}

/// Reads a CSV text with a header row. Cells are trimmed; rows may have a
/// different number of cells than the header (the caller reports them).
pub fn read_csv(text: &str) -> Result<CsvTable, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Lines are counted from the previous record on, so a table costs one
    // pass over its text however many rows it has.
    let (mut counted_to, mut line) = (0, 1);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut start = record
                    .position()
                    .map_or(0, |p| p.byte() as usize)
                    .min(text.len());
                // After a CRLF the reported position can sit on the line break.
                while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
                    start += 1;
                }
                if start >= counted_to {
                    line += (text.as_bytes()[counted_to..start].iter())
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                    counted_to = start;
                }
                let end = text[start.min(text.len())..]
                    .find('\n')
                    .map_or(text.len(), |i| start + i);
                let end = if text[..end].ends_with('\r') {
                    end - 1
                } else {
                    end
                };
                rows.push(CsvRow {
                    line,
                    span: Span::new(start, end.max(start)),
                    cells: record.iter().map(str::to_string).collect(),
                });
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(CsvTable { columns, rows })
}

/// Normalises a key cell the way the call's value is normalised.
pub fn parse_key(key: LookupKey, text: &str) -> Result<String, String> {
    parse_key_in(key, text, None)
}

/// Normalises a key cell, reading national numbers in a country as the
/// runtime reads the call's numbers.
pub fn parse_key_in(
    key: LookupKey,
    text: &str,
    country: Option<number::Country>,
) -> Result<String, String> {
    match key {
        LookupKey::Caller | LookupKey::Dialed => number::normalize_in(text, country),
        LookupKey::Digits => {
            if text
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
                && !text.is_empty()
            {
                Ok(text.to_string())
            } else {
                Err("a key looked up by entered digits must be digits".into())
            }
        }
    }
}

/// Parses a cell as a value of `ty`. `values` are the values of the
/// enumerated skill when `ty` is one.
pub fn parse_cell(ty: &Type, text: &str, values: Option<&[String]>) -> Result<Value, String> {
    let bad = |what: &str| Err(format!("`{text}` is not {what}"));
    match ty {
        Type::Text => Ok(Value::Text(text.to_string())),
        Type::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => bad("true or false"),
        },
        Type::Int => text
            .parse()
            .map(Value::Int)
            .or_else(|_| bad("a whole number")),
        Type::Duration => parse_duration(text)
            .map(Value::Duration)
            .ok_or(())
            .or_else(|_| bad("a duration such as 90s")),
        Type::Phone => number::normalize(text).map(Value::Phone),
        Type::Time => {
            let parsed = text.split_once(':').and_then(|(h, m)| {
                let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
                (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
            });
            parsed
                .map(Value::Time)
                .ok_or(())
                .or_else(|_| bad("a time such as 08:30"))
        }
        Type::Date => text
            .parse::<jiff::civil::Date>()
            .map(Value::Date)
            .or_else(|_| bad("a date such as 2026-12-25")),
        Type::Weekday => crate::syntax::ast::Weekday::parse(text)
            .map(Value::Weekday)
            .ok_or(())
            .or_else(|_| bad("a weekday")),
        Type::Enum(skill) => match values.and_then(|v| v.iter().position(|x| x == text)) {
            Some(i) => Ok(Value::Enum(*skill, i as u16)),
            None => match values {
                Some(v) => Err(format!("`{text}` is not one of {}", v.join(", "))),
                None => bad("a value of the skill"),
            },
        },
        Type::Error => Err("the field's type is unknown".into()),
    }
}

/// `90s`, `1h30m`, `500ms`: units from largest to smallest, at most a day.
pub fn parse_duration(text: &str) -> Option<i64> {
    duration_ms(text).filter(|&ms| ms <= 86_400_000)
}

/// A duration in a script's form, in milliseconds: numbers with units `d`,
/// `h`, `m`, `s` and `ms`, from largest to smallest, each once (`7d`,
/// `1h30m`, `2m30s`, `500ms`); `None` when malformed or too large for an
/// `i64`. Lookup cells and traffic files read durations with it.
pub fn duration_ms(text: &str) -> Option<i64> {
    let mut rest = text;
    let mut total: i64 = 0;
    let mut last_scale = i64::MAX;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (scale, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.as_bytes().first()? {
                b'd' => (86_400_000, 1),
                b'h' => (3_600_000, 1),
                b'm' => (60_000, 1),
                b's' => (1_000, 1),
                _ => return None,
            }
        };
        if scale >= last_scale {
            return None;
        }
        last_scale = scale;
        total = total.checked_add(n.checked_mul(scale)?)?;
        rest = &rest[len..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_with_positions() {
        let text = "phone,tier\n+15125550101,gold\r\n\"+1 512 555 0102\",\"silver, plus\"\n";
        let t = read_csv(text).unwrap();
        assert_eq!(t.columns, ["phone", "tier"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].cells, ["+1 512 555 0102", "silver, plus"]);
        assert_eq!(t.rows[1].line, 3);
        assert_eq!(&text[t.rows[0].span.range()], "+15125550101,gold");
    }

    #[test]
    fn lines_count_quoted_line_breaks_and_blank_lines() {
        let text = "k,v\n1,\"two\nlines\"\n\n2,c\r\n3,d";
        let t = read_csv(text).unwrap();
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5, 6]);
        assert_eq!(&text[t.rows[2].span.range()], "3,d");
    }

    #[test]
    fn parses_cells_by_type() {
        assert_eq!(parse_cell(&Type::Bool, "Yes", None), Ok(Value::Bool(true)));
        assert!(parse_cell(&Type::Bool, "maybe", None).is_err());
        assert_eq!(
            parse_cell(&Type::Duration, "1m30s", None),
            Ok(Value::Duration(90_000))
        );
        assert!(parse_cell(&Type::Duration, "30s1m", None).is_err());
        assert_eq!(parse_cell(&Type::Time, "08:30", None), Ok(Value::Time(510)));
        assert!(parse_cell(&Type::Time, "24:00", None).is_err());
        assert!(parse_cell(&Type::Date, "2026-02-30", None).is_err());
        assert_eq!(
            parse_key(LookupKey::Caller, "+1 (512) 555-0101"),
            Ok("+15125550101".into())
        );
    }
}
