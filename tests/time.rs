//! Local time in decisions: daylight-saving changes, leap days, ranges
//! across midnight, calendars with times and scripts in two zones. Every
//! check runs on both engines.

use dialect::facts::Facts;
use dialect::lookup::LookupTables;
use dialect::program::{Engine, Program};

fn program(text: &str) -> Program {
    Program::from_text(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The value of `open(NAME)` or `holiday(NAME)` at an instant, on both engines.
fn check(p: &Program, kind: &str, name: &str, instant: &str) -> bool {
    let ts: jiff::Timestamp = instant.parse().expect("an RFC 3339 instant");
    let mut facts = Facts::new(&p.ir().layout);
    facts.set_time(&p.checked().zones, ts);
    let f = match kind {
        "open" => {
            p.ir().hours[p
                .checked()
                .hours
                .iter()
                .position(|h| h.name == name)
                .expect("hours")]
        }
        _ => {
            p.ir().calendars[p
                .checked()
                .calendars
                .iter()
                .position(|c| c.name == name)
                .expect("calendar")]
        }
    };
    let jit = p.decide(Engine::Jit, f, &facts, None);
    let interp = p.decide(Engine::Interp, f, &facts, None);
    assert_eq!(jit, interp, "{kind}({name}) at {instant}: engines disagree");
    jit == 1
}

const CHICAGO: &str = r#"
timezone "America/Chicago"
hours early_sunday   { sun 02:00..03:00 }
hours after_change   { sun 03:00..04:00 }
hours one_to_two     { sun 01:00..02:00 }
hours overnight      { fri 22:00..06:00 }
hours sunday_night   { sun 22:00..02:00 }
calendar leap        { yearly 02-29 "leap day" }
calendar eve         { 2026-12-31 12:00.. "New Year's Eve afternoon" }
hours london_office in "Europe/London" { mon..fri 09:00..17:00 }
hours chicago_office { mon..fri 09:00..17:00 }
route r {
  when open(early_sunday) or open(after_change) or open(one_to_two) or open(overnight)
    or open(sunday_night) or holiday(leap) or holiday(eve) or open(london_office)
    or open(chicago_office) -> hangup
  otherwise -> hangup
}
entry "+18005550100" -> route r
"#;

#[test]
fn a_skipped_hour_never_opens() {
    let p = program(CHICAGO);
    // 2026-03-08: clocks go from 02:00 CST straight to 03:00 CDT (08:00Z).
    assert!(
        !check(&p, "open", "early_sunday", "2026-03-08T07:59:00Z"),
        "01:59 CST is before the range"
    );
    assert!(
        !check(&p, "open", "early_sunday", "2026-03-08T08:00:00Z"),
        "03:00 CDT: 02:xx never happened"
    );
    assert!(
        check(&p, "open", "after_change", "2026-03-08T08:30:00Z"),
        "03:30 CDT"
    );
    // The week before, the same range is an ordinary hour.
    assert!(
        check(&p, "open", "early_sunday", "2026-03-01T08:30:00Z"),
        "02:30 CST a week earlier"
    );
}

#[test]
fn a_repeated_hour_is_open_both_times() {
    let p = program(CHICAGO);
    // 2026-11-01: 01:00-02:00 happens twice, first in CDT (06:00Z), then CST (07:00Z).
    assert!(
        check(&p, "open", "one_to_two", "2026-11-01T06:30:00Z"),
        "first 01:30"
    );
    assert!(
        check(&p, "open", "one_to_two", "2026-11-01T07:30:00Z"),
        "second 01:30"
    );
    assert!(
        !check(&p, "open", "one_to_two", "2026-11-01T08:30:00Z"),
        "02:30 CST"
    );
}

#[test]
fn tests_read_skipped_and_repeated_times_compatibly() {
    let text = format!(
        "{CHICAGO}\n{}",
        r#"
route spring {
  when open(early_sunday) -> voicemail "early"
  when open(after_change) -> voicemail "after"
  otherwise               -> hangup
}
entry "+18005550199" -> route spring
test "02:30 on the spring change is read as 03:30" {
  call from "+15125550101" to "+18005550199" at 2026-03-08 02:30
  expect voicemail "after"
}
"#
    );
    let p = std::sync::Arc::new(program(&text));
    for engine in [Engine::Jit, Engine::Interp] {
        let t = &p.checked().tests[0];
        let tables = std::sync::Arc::new(LookupTables::empty(p.checked()));
        let outcome = dialect::suite::run_test(&p, &tables, engine, t);
        assert!(outcome.passed);
    }
    // The test's instant is 03:30 CDT: the same as 08:30Z.
    let (local, zone) = p.checked().tests[0].at.expect("has a time");
    let ts = p
        .checked()
        .zone(zone)
        .tz
        .to_ambiguous_zoned(local)
        .compatible()
        .expect("resolves")
        .timestamp();
    assert_eq!(ts.to_string(), "2026-03-08T08:30:00Z");
    let repeated: jiff::civil::DateTime = "2026-11-01T01:30".parse().expect("datetime");
    let ts = p
        .checked()
        .zone(zone)
        .tz
        .to_ambiguous_zoned(repeated)
        .compatible()
        .expect("resolves")
        .timestamp();
    assert_eq!(
        ts.to_string(),
        "2026-11-01T06:30:00Z",
        "the first 01:30 (CDT)"
    );
}

#[test]
fn leap_day_is_a_yearly_holiday_only_in_leap_years() {
    let p = program(CHICAGO);
    assert!(check(&p, "holiday", "leap", "2028-02-29T18:00:00Z"));
    assert!(!check(&p, "holiday", "leap", "2027-02-28T18:00:00Z"));
    assert!(!check(&p, "holiday", "leap", "2027-03-01T18:00:00Z"));
    assert!(!check(&p, "holiday", "leap", "2028-03-01T18:00:00Z"));
}

#[test]
fn ranges_cross_midnight_and_the_week_end() {
    let p = program(CHICAGO);
    // Friday 2026-11-27 22:00 CST is 2026-11-28 04:00Z.
    assert!(
        check(&p, "open", "overnight", "2026-11-28T04:30:00Z"),
        "Friday 22:30"
    );
    assert!(
        check(&p, "open", "overnight", "2026-11-28T09:00:00Z"),
        "Saturday 03:00"
    );
    assert!(
        !check(&p, "open", "overnight", "2026-11-28T13:00:00Z"),
        "Saturday 07:00"
    );
    assert!(
        !check(&p, "open", "overnight", "2026-11-27T09:00:00Z"),
        "Friday 03:00 belongs to Thursday's range, which does not exist"
    );
    // Sunday 22:00 to Monday 02:00 wraps the end of the week.
    assert!(
        check(&p, "open", "sunday_night", "2026-11-30T07:00:00Z"),
        "Monday 01:00"
    );
    assert!(
        !check(&p, "open", "sunday_night", "2026-11-30T09:00:00Z"),
        "Monday 03:00"
    );
}

#[test]
fn calendar_entries_with_times() {
    let p = program(CHICAGO);
    assert!(
        !check(&p, "holiday", "eve", "2026-12-31T17:59:00Z"),
        "11:59"
    );
    assert!(check(&p, "holiday", "eve", "2026-12-31T18:00:00Z"), "12:00");
    assert!(check(&p, "holiday", "eve", "2027-01-01T05:59:00Z"), "23:59");
    assert!(
        !check(&p, "holiday", "eve", "2027-01-01T06:00:00Z"),
        "midnight is the next day"
    );
}

#[test]
fn two_zones_at_one_instant() {
    let p = program(CHICAGO);
    // Monday 2026-11-23 14:30Z: 14:30 in London, 08:30 in Chicago.
    assert!(check(&p, "open", "london_office", "2026-11-23T14:30:00Z"));
    assert!(!check(&p, "open", "chicago_office", "2026-11-23T14:30:00Z"));
    // 17:30Z: London has closed, Chicago is open.
    assert!(!check(&p, "open", "london_office", "2026-11-23T17:30:00Z"));
    assert!(check(&p, "open", "chicago_office", "2026-11-23T17:30:00Z"));
    // The UK changes clocks a week before the US: on 2026-10-26 London is
    // on GMT while Chicago is still on CDT, five hours apart, not six.
    assert!(check(&p, "open", "london_office", "2026-10-26T09:00:00Z"));
    assert!(
        !check(&p, "open", "chicago_office", "2026-10-26T13:59:00Z"),
        "08:59 CDT"
    );
    assert!(
        check(&p, "open", "chicago_office", "2026-10-26T14:00:00Z"),
        "09:00 CDT"
    );
}

/// US and UK holidays written by rule, checked for 2020 to 2040 against
/// dates known independently of the code: Easter Sundays from published
/// tables, the rest from the rules' definitions.
const RULES: &str = r#"
timezone "America/New_York"
calendar thanksgiving { yearly 4th thu of 11 "Thanksgiving" }
calendar memorial     { yearly last mon of 05 "Memorial Day" }
calendar labor        { yearly 1st mon of 09 "Labor Day" }
calendar christmas    { yearly 12-25 observed "Christmas Day" }
calendar new_year     { yearly 01-01 observed "New Year's Day" }
calendar good_friday in "Europe/London"   { yearly easter -2 "Good Friday" }
calendar easter_monday in "Europe/London" { yearly easter +1 "Easter Monday" }
calendar thanksgiving_morning { yearly 4th thu of 11 ..12:00 }
calendar february { yearly last mon of 02; yearly 5th thu of 02; yearly 03-01 observed }
route r {
  when holiday(thanksgiving) or holiday(memorial) or holiday(labor) or holiday(christmas)
    or holiday(new_year) or holiday(good_friday) or holiday(easter_monday)
    or holiday(thanksgiving_morning) or holiday(february) -> hangup
  otherwise -> hangup
}
entry "+18005550100" -> route r
"#;

/// Easter Sunday, 2020 to 2040.
const EASTER: [(i16, i8, i8); 21] = [
    (2020, 4, 12),
    (2021, 4, 4),
    (2022, 4, 17),
    (2023, 4, 9),
    (2024, 3, 31),
    (2025, 4, 20),
    (2026, 4, 5),
    (2027, 3, 28),
    (2028, 4, 16),
    (2029, 4, 1),
    (2030, 4, 21),
    (2031, 4, 13),
    (2032, 3, 28),
    (2033, 4, 17),
    (2034, 4, 9),
    (2035, 3, 25),
    (2036, 4, 13),
    (2037, 4, 5),
    (2038, 4, 25),
    (2039, 4, 10),
    (2040, 4, 1),
];

/// US Thanksgiving (the fourth Thursday of November), 2020 to 2040.
const THANKSGIVING: [i8; 21] = [
    26, 25, 24, 23, 28, 27, 26, 25, 23, 22, 28, 27, 25, 24, 23, 22, 27, 26, 25, 24, 22,
];

/// The days of `year` a calendar covers at local noon in `zone`.
fn covered(p: &Program, calendar: &str, zone: &str, year: i16) -> Vec<jiff::civil::Date> {
    let tz = jiff::tz::TimeZone::get(zone).expect("zone");
    let mut day = jiff::civil::date(year, 1, 1);
    let mut out = Vec::new();
    while day.year() == year {
        let ts = tz
            .to_ambiguous_zoned(day.at(12, 0, 0, 0))
            .compatible()
            .expect("noon exists")
            .timestamp();
        if check(p, "holiday", calendar, &ts.to_string()) {
            out.push(day);
        }
        day = day.tomorrow().expect("next day");
    }
    out
}

#[test]
fn holidays_by_rule_fall_on_known_dates() {
    use jiff::civil::{Weekday, date};
    let p = program(RULES);
    for (i, &(year, month, day)) in EASTER.iter().enumerate() {
        let easter = date(year, month, day);
        assert_eq!(easter.weekday(), Weekday::Sunday, "table: {easter}");
        let good_friday = easter.yesterday().unwrap().yesterday().unwrap();
        let easter_monday = easter.tomorrow().unwrap();
        assert_eq!(
            covered(&p, "good_friday", "Europe/London", year),
            vec![good_friday]
        );
        assert_eq!(
            covered(&p, "easter_monday", "Europe/London", year),
            vec![easter_monday]
        );

        let thanksgiving = date(year, 11, THANKSGIVING[i]);
        assert_eq!(
            thanksgiving.weekday(),
            Weekday::Thursday,
            "table: {thanksgiving}"
        );
        let ny = "America/New_York";
        assert_eq!(covered(&p, "thanksgiving", ny, year), vec![thanksgiving]);

        // The last Monday of May has no Monday after it in May.
        let memorial = covered(&p, "memorial", ny, year);
        assert_eq!(memorial.len(), 1, "{year}: {memorial:?}");
        let m = memorial[0];
        assert!(
            m.month() == 5 && m.weekday() == Weekday::Monday && m.day() >= 25,
            "{m}"
        );

        // The first Monday of September is within its first week.
        let labor = covered(&p, "labor", ny, year);
        assert_eq!(labor.len(), 1, "{year}: {labor:?}");
        let l = labor[0];
        assert!(
            l.month() == 9 && l.weekday() == Weekday::Monday && l.day() <= 7,
            "{l}"
        );

        // Christmas on a Saturday is also observed on Friday the 24th, on a
        // Sunday on Monday the 26th.
        let christmas = date(year, 12, 25);
        let mut expected = vec![christmas];
        match christmas.weekday() {
            Weekday::Saturday => expected.insert(0, date(year, 12, 24)),
            Weekday::Sunday => expected.push(date(year, 12, 26)),
            _ => {}
        }
        assert_eq!(covered(&p, "christmas", ny, year), expected);
    }
    // Known observed days, written out.
    let ny = "America/New_York";
    assert_eq!(
        covered(&p, "christmas", ny, 2021),
        vec![date(2021, 12, 24), date(2021, 12, 25)]
    );
    assert_eq!(
        covered(&p, "christmas", ny, 2022),
        vec![date(2022, 12, 25), date(2022, 12, 26)]
    );
    // New Year's Day 2022 is a Saturday: observed on Friday 2021-12-31,
    // which belongs to the year before.
    assert_eq!(covered(&p, "new_year", ny, 2022), vec![date(2022, 1, 1)]);
    assert_eq!(
        covered(&p, "new_year", ny, 2021),
        vec![date(2021, 1, 1), date(2021, 12, 31)]
    );
    assert_eq!(
        covered(&p, "new_year", ny, 2023),
        vec![date(2023, 1, 1), date(2023, 1, 2)]
    );
}

#[test]
fn february_rules_follow_leap_years() {
    use jiff::civil::date;
    let p = program(RULES);
    let ny = "America/New_York";
    // 2024 is a leap year: its last Monday of February is the 26th, and
    // Thursday the 29th is a fifth Thursday. 2025-03-01 is a Saturday,
    // observed on Friday 2025-02-28; 2020-03-01 is a Sunday, observed on
    // Monday 2020-03-02; 2036-03-01 is a Saturday after Friday 2036-02-29.
    let feb = |year| {
        covered(&p, "february", ny, year)
            .into_iter()
            .filter(|d| d.month() <= 3)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        feb(2024),
        vec![date(2024, 2, 26), date(2024, 2, 29), date(2024, 3, 1)]
    );
    assert_eq!(
        feb(2025),
        vec![date(2025, 2, 24), date(2025, 2, 28), date(2025, 3, 1)]
    );
    assert_eq!(
        feb(2020),
        vec![date(2020, 2, 24), date(2020, 3, 1), date(2020, 3, 2)]
    );
    assert_eq!(
        feb(2036),
        vec![date(2036, 2, 25), date(2036, 2, 29), date(2036, 3, 1)]
    );
}

#[test]
fn holidays_by_rule_take_times_and_stop_at_the_documented_years() {
    let p = program(RULES);
    // Thanksgiving 2026 is Thursday 2026-11-26; New York is on EST (UTC-5).
    assert!(check(
        &p,
        "holiday",
        "thanksgiving_morning",
        "2026-11-26T16:59:00Z"
    ));
    assert!(!check(
        &p,
        "holiday",
        "thanksgiving_morning",
        "2026-11-26T17:00:00Z"
    ));
    assert!(!check(
        &p,
        "holiday",
        "thanksgiving_morning",
        "2026-11-25T16:00:00Z"
    ));
    // Rules hold in every year (2200-11-27 and 1950-11-23 are
    // Thanksgivings), except the last weekday of February and observed days
    // next to its end, which are dates for 1970 to 2199 (docs/language.md).
    assert!(check(&p, "holiday", "thanksgiving", "2200-11-27T17:00:00Z"));
    assert!(check(&p, "holiday", "thanksgiving", "1950-11-23T17:00:00Z"));
    assert!(!check(
        &p,
        "holiday",
        "thanksgiving",
        "1950-11-30T17:00:00Z"
    ));
    // Easter Monday 1900 was April 16, in 2200 it is April 7.
    assert!(check(
        &p,
        "holiday",
        "easter_monday",
        "1900-04-16T12:00:00Z"
    ));
    assert!(check(
        &p,
        "holiday",
        "easter_monday",
        "2200-04-07T12:00:00Z"
    ));
    assert!(!check(
        &p,
        "holiday",
        "easter_monday",
        "2200-04-08T12:00:00Z"
    ));
    // The last Mondays of February 1970 and 2199, and of 1969 and 2200.
    assert!(check(&p, "holiday", "february", "1970-02-23T17:00:00Z"));
    assert!(check(&p, "holiday", "february", "2199-02-25T17:00:00Z"));
    assert!(!check(&p, "holiday", "february", "1969-02-24T17:00:00Z"));
    assert!(!check(&p, "holiday", "february", "2200-02-24T17:00:00Z"));
}
