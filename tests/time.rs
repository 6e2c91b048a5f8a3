//! Local time in decisions: daylight-saving changes, leap days, ranges
//! across midnight, calendars with times and scripts in two zones. Every
//! check runs on both engines.

use std::path::Path;

use dialect::facts::Facts;
use dialect::load::{Loader, MemoryFs};
use dialect::program::{Engine, LookupData, Program};

fn program(text: &str) -> Program {
    let fs = MemoryFs::default().with("main.dial", text);
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new("main.dial")).expect("loads");
    let checked = loader.check(root, None);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    Program::compile(checked.program, LookupData::default()).expect("compiles")
}

/// The value of `open(NAME)` or `holiday(NAME)` at an instant, on both engines.
fn check(p: &Program, kind: &str, name: &str, instant: &str) -> bool {
    let ts: jiff::Timestamp = instant.parse().expect("an RFC 3339 instant");
    let mut facts = Facts::new(&p.ir.layout);
    facts.set_time(&p.checked.zones, ts);
    let f = match kind {
        "open" => {
            p.ir.hours[p
                .checked
                .hours
                .iter()
                .position(|h| h.name == name)
                .expect("hours")]
        }
        _ => {
            p.ir.calendars[p
                .checked
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
        let t = &p.checked.tests[0];
        let outcome = dialect::cli::test::run_test(&p, engine, t);
        assert!(outcome.passed);
    }
    // The test's instant is 03:30 CDT: the same as 08:30Z.
    let (local, zone) = p.checked.tests[0].at.expect("has a time");
    let ts = p
        .checked
        .zone(zone)
        .tz
        .to_ambiguous_zoned(local)
        .compatible()
        .expect("resolves")
        .timestamp();
    assert_eq!(ts.to_string(), "2026-03-08T08:30:00Z");
    let repeated: jiff::civil::DateTime = "2026-11-01T01:30".parse().expect("datetime");
    let ts = p
        .checked
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
