//! `diff::compare` on pairs of small scripts with known differences: each
//! kind of input a rule reads, and the grouping of what changed.

use super::{Change, Options, compare};
use crate::program::{Engine, Program};

const BASE: &str = r#"
timezone "America/Chicago"
calendar holidays { yearly 12-25 "Christmas Day" }
hours office { mon..fri 08:00..18:00; sat 09:00..13:00; closed holidays }
queue support { }
queue sales { }
menu main {
  prompt "main-menu"
  1 -> queue sales
  2 -> queue support
  invalid -> repeat
  timeout -> queue support
}
route inbound {
  when holiday(holidays)           -> voicemail "holiday"
  when not open(office)            -> voicemail "closed"
  when queue(support).waiting > 20 -> voicemail "busy"
  otherwise                        -> menu main
}
entry "+1 800 555 0100" -> route inbound
"#;

/// The changes from `BASE` to `BASE` edited by replacing `from` with
/// `to`, on both engines (which must agree).
fn changes(from: &str, to: &str) -> Vec<Change> {
    assert!(BASE.contains(from), "`{from}` is in the base script");
    changes_between(BASE, &BASE.replace(from, to))
}

fn changes_between(old: &str, new: &str) -> Vec<Change> {
    let old = Program::from_text(old).expect("the old script compiles");
    let new = Program::from_text(new).expect("the new script compiles");
    let mut options = Options::new(jiff::civil::date(2026, 12, 1));
    let interp = compare(&old, &new, &options);
    options.engine = Engine::Jit;
    let jit = compare(&old, &new, &options);
    assert_eq!(interp, jit, "the engines agree");
    interp.changes
}

/// One line per change: the headline a person reads.
fn headlines(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::headline).collect()
}

#[test]
fn identical_scripts_change_nothing() {
    assert_eq!(changes_between(BASE, BASE), vec![]);
}

#[test]
fn closing_saturday_mornings() {
    let found = changes("sat 09:00..13:00", "sat 11:00..13:00");
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +1 800 555 0100 when queue(support).waiting from 0 to 20 on Saturdays 09:00–11:00: before `menu main`, now `voicemail \"closed\"`",
            "calls to +1 800 555 0100 when queue(support).waiting > 20 on Saturdays 09:00–11:00: before `voicemail \"busy\"`, now `voicemail \"closed\"`",
        ]
    );
    // The deciding rules, with their lines.
    let before = &found[0].before.decided_by[0];
    assert_eq!(before.what, "route inbound, otherwise");
    assert_eq!(before.place.as_ref().map(|p| p.line), Some(18));
    let after = &found[0].after.decided_by[0];
    assert_eq!(after.what, "route inbound, rule 2");
}

#[test]
fn a_holiday_added() {
    let found = changes(
        r#"yearly 12-25 "Christmas Day""#,
        r#"yearly 12-25 "Christmas Day"; 2026-12-24 "Christmas Eve""#,
    );
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +1 800 555 0100 on 2026-12-24 (Christmas Eve) 00:00–08:00 and 18:00–24:00: before `voicemail \"closed\"`, now `voicemail \"holiday\"`",
            "calls to +1 800 555 0100 when queue(support).waiting from 0 to 20 on 2026-12-24 (Christmas Eve) 08:00–18:00: before `menu main`, now `voicemail \"holiday\"`",
            "calls to +1 800 555 0100 when queue(support).waiting > 20 on 2026-12-24 (Christmas Eve) 08:00–18:00: before `voicemail \"busy\"`, now `voicemail \"holiday\"`",
        ]
    );
}

#[test]
fn a_menu_key_remapped() {
    let found = changes("2 -> queue support", "2 -> voicemail \"support\"");
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +1 800 555 0100 pressing 2 when queue(support).waiting from 0 to 20 on Mondays to Fridays 08:00–18:00, Saturdays 09:00–13:00 except on 2026-12-25: before `queue support`, now `voicemail \"support\"`"
        ]
    );
    assert_eq!(found[0].before.decided_by[0].what, "menu main, key 2");
}

#[test]
fn a_queue_threshold_lowered() {
    let found = changes("waiting > 20", "waiting >= 11");
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +1 800 555 0100 when queue(support).waiting from 11 to 20 on Mondays to Fridays 08:00–18:00, Saturdays 09:00–13:00 except on 2026-12-25: before `menu main`, now `voicemail \"busy\"`"
        ]
    );
}

/// A change that holds at every time and for every value says neither.
#[test]
fn an_entry_sent_elsewhere_at_all_times() {
    let found = changes(
        r#"entry "+1 800 555 0100" -> route inbound"#,
        r#"entry "+1 800 555 0100" -> voicemail "moved""#,
    );
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +1 800 555 0100 on Mondays to Fridays 00:00–08:00 and 18:00–24:00, Saturdays 00:00–09:00 and 13:00–24:00, Sundays (all day) except on 2026-12-25: before `voicemail \"closed\"`, now `voicemail \"moved\"`",
            "calls to +1 800 555 0100 when queue(support).waiting from 0 to 20 on Mondays to Fridays 08:00–18:00, Saturdays 09:00–13:00 except on 2026-12-25: before `menu main`, now `voicemail \"moved\"`",
            "calls to +1 800 555 0100 when queue(support).waiting > 20 on Mondays to Fridays 08:00–18:00, Saturdays 09:00–13:00 except on 2026-12-25: before `voicemail \"busy\"`, now `voicemail \"moved\"`",
            "calls to +1 800 555 0100 on 2026-12-25 (Christmas Day), all day: before `voicemail \"holiday\"`, now `voicemail \"moved\"`",
        ]
    );
    let all = changes_between(
        "entry \"+18005550100\" -> voicemail \"a\"",
        "entry \"+18005550100\" -> voicemail \"b\"",
    );
    assert_eq!(
        headlines(&all),
        vec!["calls to +18005550100 at any time: before `voicemail \"a\"`, now `voicemail \"b\"`"]
    );
    let gone = changes_between(
        "entry \"+18005550100\" -> voicemail \"a\"\nentry \"+1800555XXXX\" -> voicemail \"b\"",
        "entry \"+1800555XXXX\" -> voicemail \"b\"",
    );
    assert_eq!(
        headlines(&gone),
        vec!["calls to +18005550100 at any time: before `voicemail \"a\"`, now `voicemail \"b\"`"]
    );
}

/// Lookup rows are made up from what the rules compare: a text field's
/// constants and another value, found or not.
#[test]
fn a_lookup_field_compared_with_another_value() {
    let script = |tier: &str| {
        format!(
            r#"
timezone "UTC"
lookup customer by caller from "customers.csv" {{ tier: text }}
route inbound {{
  when known customer and customer.tier == "{tier}" -> voicemail "vip"
  otherwise -> voicemail "general"
}}
entry "+18005550100" -> route inbound
"#
        )
    };
    let old = script("gold");
    let new = script("platinum");
    let found = lookup_changes(&old, &new);
    assert_eq!(
        found,
        vec![
            "calls to +18005550100 when known customer and customer.tier == \"platinum\" at any time: before `voicemail \"general\"`, now `voicemail \"vip\"`",
            "calls to +18005550100 when known customer and customer.tier == \"gold\" at any time: before `voicemail \"vip\"`, now `voicemail \"general\"`",
        ]
    );
}

fn lookup_changes(old: &str, new: &str) -> Vec<String> {
    let compile = |text: &str| {
        let fs = crate::load::MemoryFs::default()
            .with("main.dial", text)
            .with("customers.csv", "caller,tier\n+15125550100,gold\n");
        let checked = crate::load::check_in_memory(&fs).expect("checks");
        Program::compile(checked).expect("compiles")
    };
    let (old, new) = (compile(old), compile(new));
    let diff = compare(&old, &new, &Options::new(jiff::civil::date(2026, 12, 1)));
    headlines(&diff.changes)
}

/// Callers are tried withheld, in each pattern the rules test, and in none.
#[test]
fn a_caller_pattern_changed() {
    let script = |pattern: &str| {
        format!(
            r#"
timezone "UTC"
route inbound {{
  when caller matches "{pattern}" -> voicemail "local"
  otherwise -> voicemail "general"
}}
entry "+18005550100" -> route inbound
"#
        )
    };
    let found = changes_between(&script("+1 512 XXX XXXX"), &script("+1 617 XXX XXXX"));
    assert_eq!(
        headlines(&found),
        vec![
            "calls to +18005550100 from `+1617XXXXXXX` at any time: before `voicemail \"general\"`, now `voicemail \"local\"`",
            "calls to +18005550100 from `+1512XXXXXXX` at any time: before `voicemail \"local\"`, now `voicemail \"general\"`",
        ]
    );
}

/// The text form ends with a summary, and says when nothing changed.
#[test]
fn the_text_form_summarises() {
    let old = Program::from_text(BASE).expect("compiles");
    let diff = compare(&old, &old, &Options::new(jiff::civil::date(2026, 12, 1)));
    assert!(!diff.changed());
    let text = diff.render_text();
    assert!(text.starts_with("no call ends elsewhere ("), "{text}");
    assert!(
        text.contains("times in America/Chicago, over the week of 2026-12-07"),
        "{text}"
    );
}
