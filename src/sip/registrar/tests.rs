//! The registrar driven as a phone drives it: REGISTER, 401, REGISTER with
//! credentials, on virtual milliseconds.

use super::*;

const REALM: &str = "dialect";

/// A registrar with `ana` (plaintext), `bob` (an MD5 HA1 only) and `cy`
/// (both HA1s), all with the password `s3cret`.
fn registrar() -> Registrar {
    registrar_with(RegistrarConfig::default())
}

fn registrar_with(config: RegistrarConfig) -> Registrar {
    config.check().expect("config");
    Registrar::new(
        config,
        NonceKey::new([42; 32]),
        credentials(&["ana", "bob", "cy"]),
    )
}

fn credentials(users: &[&str]) -> Credentials {
    users
        .iter()
        .map(|&user| {
            let h = |a: Algorithm| a.hash_hex(&[user, REALM, "s3cret"]);
            let password = match user {
                "bob" => format!("md5:{}", h(Algorithm::Md5)),
                "cy" => format!("sha256:{},md5:{}", h(Algorithm::Sha256), h(Algorithm::Md5)),
                _ => "s3cret".to_string(),
            };
            (
                user.to_string(),
                Credential::parse(&password).expect("credential"),
            )
        })
        .collect()
}

/// A phone: its user, password, Call-ID and CSeq, and what it learned
/// from the last challenge.
struct Phone<'r> {
    registrar: &'r Registrar,
    user: &'static str,
    auth_user: &'static str,
    password: &'static str,
    call_id: &'static str,
    cseq: u32,
    /// Answer without qop, as RFC 2069 clients do.
    rfc2069: bool,
    nonce: Option<(String, Algorithm)>,
    nc: u32,
}

impl<'r> Phone<'r> {
    fn new(registrar: &'r Registrar, user: &'static str, password: &'static str) -> Phone<'r> {
        Phone {
            registrar,
            user,
            auth_user: user,
            password,
            call_id: "call-1",
            cseq: 0,
            rfc2069: false,
            nonce: None,
            nc: 0,
        }
    }

    /// Sends one REGISTER, with credentials if it has a nonce.
    fn send(
        &mut self,
        contacts: &[ContactInput<'_>],
        expires: Option<&str>,
        now_ms: u64,
    ) -> Outcome {
        self.cseq += 1;
        self.send_as_is(contacts, expires, now_ms)
    }

    /// Sends with the current CSeq (a request the phone built before).
    fn send_as_is(
        &mut self,
        contacts: &[ContactInput<'_>],
        expires: Option<&str>,
        now_ms: u64,
    ) -> Outcome {
        let header = self.nonce.clone().map(|(nonce, algorithm)| {
            self.nc += 1;
            self.authorization(&nonce, algorithm, self.nc)
        });
        let headers: Vec<&str> = header.iter().map(String::as_str).collect();
        let outcome = self.registrar.register(
            &Request {
                user: self.user,
                authorizations: &headers,
                contacts,
                expires,
                call_id: self.call_id,
                cseq: self.cseq,
            },
            now_ms,
        );
        if let Outcome::Challenge(values) = &outcome {
            self.nonce = Some(first_offer(values));
            self.nc = 0;
        }
        outcome
    }

    fn authorization(&self, nonce: &str, algorithm: Algorithm, nc: u32) -> String {
        let ha1 = algorithm.hash_hex(&[self.auth_user, REALM, self.password]);
        let uri = "sip:127.0.0.1";
        let ha2 = algorithm.hash_hex(&["REGISTER", uri]);
        let (user, name) = (self.auth_user, algorithm.name());
        if self.rfc2069 {
            let response = algorithm.hash_hex(&[&ha1, nonce, &ha2]);
            return format!(
                r#"Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", response="{response}", algorithm={name}"#
            );
        }
        let nc = format!("{nc:08x}");
        let response = algorithm.hash_hex(&[&ha1, nonce, &nc, "abc", "auth", &ha2]);
        format!(
            r#"Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", response="{response}", algorithm={name}, qop=auth, nc={nc}, cnonce="abc""#
        )
    }

    /// Registers until the registrar stops challenging (at most twice).
    fn register(
        &mut self,
        contacts: &[ContactInput<'_>],
        expires: Option<&str>,
        now_ms: u64,
    ) -> Outcome {
        let mut outcome = self.send(contacts, expires, now_ms);
        for _ in 0..2 {
            if !matches!(outcome, Outcome::Challenge(_)) {
                break;
            }
            outcome = self.send(contacts, expires, now_ms);
        }
        outcome
    }
}

/// The nonce and algorithm of the first (preferred) challenge value.
fn first_offer(values: &[String]) -> (String, Algorithm) {
    let first = &values[0];
    let nonce = first
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a nonce");
    let algorithm = Algorithm::PREFERENCE
        .into_iter()
        .find(|a| first.contains(&format!("algorithm={},", a.name())))
        .expect("an algorithm");
    (nonce.to_string(), algorithm)
}

fn contact(uri: &str) -> ContactInput<'_> {
    ContactInput::Uri {
        uri,
        expires: None,
        q: None,
    }
}

fn contact_with<'a>(
    uri: &'a str,
    expires: Option<&'a str>,
    q: Option<&'a str>,
) -> ContactInput<'a> {
    ContactInput::Uri { uri, expires, q }
}

/// `uri expires_in` of each contact of a 200.
fn registered(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Registered(contacts) => contacts
            .iter()
            .map(|c| format!("{} {}", c.uri, c.expires_in))
            .collect(),
        other => panic!("not registered: {other:?}"),
    }
}

#[test]
fn first_a_challenge_offering_sha256_then_md5() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    let Outcome::Challenge(values) = ana.send(&[contact("sip:ana@10.0.0.5")], None, 1_000) else {
        panic!("no challenge");
    };
    assert_eq!(values.len(), 2);
    assert!(
        values[0].starts_with(r#"Digest realm="dialect", nonce=""#),
        "{}",
        values[0]
    );
    assert!(
        values[0].ends_with(r#"algorithm=SHA-256, qop="auth""#),
        "{}",
        values[0]
    );
    assert!(
        values[1].ends_with(r#"algorithm=MD5, qop="auth""#),
        "{}",
        values[1]
    );
    assert_eq!(ana.send(&[], None, 1_000).status(), (200, "OK"));
    // Only the algorithms a user's hashes can verify are offered; an
    // unknown user is offered both, as a plaintext one is.
    for (user, offered) in [("bob", 1), ("cy", 2), ("nobody", 2)] {
        let Outcome::Challenge(values) = Phone::new(&r, user, "x").send(&[], None, 0) else {
            panic!("no challenge for {user}");
        };
        assert_eq!(values.len(), offered, "{user}: {values:?}");
    }
}

#[test]
fn each_credential_form_registers_with_each_algorithm_it_holds() {
    let r = registrar();
    for user in ["ana", "bob", "cy"] {
        for rfc2069 in [false, true] {
            let mut phone = Phone::new(&r, user, "s3cret");
            phone.rfc2069 = rfc2069;
            phone.call_id = if rfc2069 { "old-style" } else { "call-1" };
            let got = phone.register(&[contact("sip:x@10.0.0.9")], Some("600"), 0);
            assert_eq!(registered(&got), ["sip:x@10.0.0.9 600"], "{user}");
        }
    }
    // MD5 with a plaintext password, although SHA-256 was offered first.
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.send(&[], None, 0);
    let (nonce, _) = ana.nonce.clone().expect("nonce");
    ana.nonce = Some((nonce, Algorithm::Md5));
    assert_eq!(ana.send(&[], None, 0).status().0, 200);
}

#[test]
fn unknown_users_wrong_passwords_and_other_users_are_all_403() {
    let r = registrar();
    let mut cases = vec![
        Phone::new(&r, "ana", "wrong"),
        Phone::new(&r, "nobody", "s3cret"),
        Phone::new(&r, "bob", "S3cret"),
    ];
    // Bob's own credentials, right, offered for Ana's address.
    let mut bob_as_ana = Phone::new(&r, "ana", "s3cret");
    bob_as_ana.auth_user = "bob";
    cases.push(bob_as_ana);
    for mut phone in cases {
        let first = phone.send(&[contact("sip:evil@10.6.6.6")], None, 0);
        assert_eq!(first.status().0, 401);
        let second = phone.send(&[contact("sip:evil@10.6.6.6")], None, 0);
        assert_eq!(
            second,
            Outcome::Forbidden,
            "{} as {}",
            phone.auth_user,
            phone.user
        );
    }
    assert!(r.contacts("ana", 0).is_empty());
}

#[test]
fn expired_and_foreign_nonces_are_stale_when_the_response_is_right() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(&[contact("sip:ana@h")], None, 0);
    // Five minutes later the nonce has expired.
    let later = r.config().nonce_lifetime_ms + 1;
    let Outcome::Challenge(values) = ana.send(&[contact("sip:ana@h")], None, later) else {
        panic!("not stale");
    };
    assert!(
        values.iter().all(|v| v.ends_with("stale=true")),
        "{values:?}"
    );
    assert_eq!(
        ana.send(&[contact("sip:ana@h")], None, later).status().0,
        200
    );
    // A nonce of another server (or of before a restart) is stale too.
    let other = Registrar::new(
        RegistrarConfig::default(),
        NonceKey::new([7; 32]),
        credentials(&["ana"]),
    );
    let mut moved = Phone::new(&other, "ana", "s3cret");
    moved.nonce = ana.nonce.clone();
    moved.cseq = 100;
    let Outcome::Challenge(values) = moved.send(&[], None, later) else {
        panic!("not stale");
    };
    assert!(values[0].ends_with("stale=true"));
    // With a wrong password it is 403, whatever the nonce.
    let mut wrong = Phone::new(&other, "ana", "nope");
    wrong.nonce = ana.nonce.clone();
    assert_eq!(wrong.send(&[], None, later), Outcome::Forbidden);
}

#[test]
fn a_replayed_request_is_challenged_again() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(&[contact("sip:ana@h")], None, 0);
    // The same nonce count again (a captured request sent once more).
    ana.nc -= 1;
    ana.cseq += 1;
    let replay = ana.send_as_is(&[contact("sip:attacker@h")], None, 10);
    assert!(
        matches!(&replay, Outcome::Challenge(v) if v[0].ends_with("stale=true")),
        "{replay:?}"
    );
    assert_eq!(registered(&r.register_query("ana")), ["sip:ana@h 3600"]);
    // An RFC 2069 client's nonce serves once.
    let mut old = Phone::new(&r, "bob", "s3cret");
    old.rfc2069 = true;
    assert_eq!(old.register(&[], None, 0).status().0, 200);
    assert_eq!(old.send(&[], None, 0).status().0, 401);
    assert_eq!(old.send(&[], None, 0).status().0, 200);
}

impl Registrar {
    /// The bindings at time 0 as a 200 would list them.
    fn register_query(&self, user: &str) -> Outcome {
        Outcome::Registered(self.contacts(user, 0))
    }
}

#[test]
fn expiry_limits_and_unregistering() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    assert_eq!(
        ana.register(&[contact("sip:a@h")], Some("59"), 0),
        Outcome::IntervalTooBrief { min_expires: 60 }
    );
    assert_eq!(
        ana.send(&[contact_with("sip:a@h", Some("30"), None)], Some("600"), 0),
        Outcome::IntervalTooBrief { min_expires: 60 }
    );
    // Over the maximum is shortened; a contact's parameter beats the header;
    // a huge value is the maximum too. Equal q: in the request's order.
    let got = ana.send(
        &[
            contact("sip:a@h"),
            contact_with("sip:b@h", Some("120"), None),
            contact_with("sip:c@h", Some("99999999999999"), None),
        ],
        Some("100000"),
        0,
    );
    assert_eq!(
        registered(&got),
        ["sip:a@h 7200", "sip:b@h 120", "sip:c@h 7200"]
    );
    // `expires=0` removes one.
    let got = ana.send(&[contact_with("sip:b@h", Some("0"), None)], None, 1_000);
    assert_eq!(registered(&got), ["sip:a@h 7199", "sip:c@h 7199"]);
    // `Expires: 0` removes those named.
    let got = ana.send(&[contact("sip:a@h")], Some("0"), 2_000);
    assert_eq!(registered(&got), ["sip:c@h 7198"]);
    // No Contact: the current list. Default expiry when none is given.
    let got = ana.send(&[contact("sip:d@h")], None, 3_000);
    assert_eq!(registered(&got), ["sip:d@h 3600", "sip:c@h 7197"]);
    // `Contact: *` with `Expires: 0` removes all.
    let got = ana.send(&[ContactInput::Wildcard], Some("0"), 4_000);
    assert_eq!(got, Outcome::Registered(vec![]));
    assert!(!r.is_registered("ana", 4_000));
}

#[test]
fn bad_contacts_are_400_and_change_nothing() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(&[contact("sip:keep@h")], None, 0);
    for (contacts, expires, reason) in [
        (
            vec![ContactInput::Wildcard],
            None,
            "Wildcard Contact Needs Expires 0",
        ),
        (
            vec![ContactInput::Wildcard],
            Some("60"),
            "Wildcard Contact Needs Expires 0",
        ),
        (
            vec![ContactInput::Wildcard, contact("sip:x@h")],
            Some("0"),
            "Wildcard Contact With Others",
        ),
        (vec![contact("sip:x@h")], Some("soon"), "Bad Expires"),
        (vec![contact("sip:x@h")], Some("-1"), "Bad Expires"),
        (
            vec![contact_with("sip:x@h", Some("1h"), None)],
            None,
            "Bad Contact Expires",
        ),
        (
            vec![contact_with("sip:x@h", None, Some("1.5"))],
            None,
            "Bad Contact Q",
        ),
        (vec![contact("")], None, "Empty Contact"),
    ] {
        assert_eq!(
            ana.send(&contacts, expires, 10),
            Outcome::BadRequest(reason),
            "{reason}"
        );
    }
    let garbled = ["Digest username=\"ana"];
    let outcome = r.register(
        &Request {
            user: "ana",
            authorizations: &garbled,
            contacts: &[],
            expires: None,
            call_id: "x",
            cseq: 1,
        },
        0,
    );
    assert_eq!(outcome.status(), (400, "Malformed Authorization"));
    assert_eq!(registered(&r.register_query("ana")), ["sip:keep@h 3600"]);
}

#[test]
fn other_schemes_and_realms_get_a_challenge() {
    let r = registrar();
    for value in [
        "Basic YW5hOnMzY3JldA==",
        r#"Digest username="ana", realm="elsewhere", nonce="n", uri="u", response="r""#,
        r#"Digest username="ana", realm="dialect", nonce="n", uri="u", response="r", algorithm=SHA-512-256"#,
    ] {
        let values = [value];
        let outcome = r.register(
            &Request {
                user: "ana",
                authorizations: &values,
                contacts: &[],
                expires: None,
                call_id: "x",
                cseq: 1,
            },
            0,
        );
        assert_eq!(outcome.status().0, 401, "{value}");
    }
}

#[test]
fn out_of_order_requests_fail_with_500() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(&[contact("sip:a@h")], None, 0);
    // A request built earlier (a lower CSeq on the same Call-ID) arrives late.
    ana.cseq -= 1;
    assert_eq!(
        ana.send_as_is(&[contact("sip:a@h")], Some("0"), 10),
        Outcome::OutOfOrder
    );
    assert!(r.is_registered("ana", 10));
    // A phone that restarted (a new Call-ID, CSeq from 1) replaces it.
    let mut again = Phone::new(&r, "ana", "s3cret");
    again.call_id = "call-2";
    let got = again.register(&[contact("sip:a@h")], Some("300"), 20);
    assert_eq!(registered(&got), ["sip:a@h 300"]);
}

#[test]
fn the_contact_limit_keeps_the_newest() {
    let r = registrar_with(RegistrarConfig {
        max_contacts: 2,
        ..RegistrarConfig::default()
    });
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(&[contact("sip:1@h")], Some("600"), 0);
    ana.send(&[contact("sip:2@h")], Some("900"), 0);
    let got = ana.send(&[contact("sip:3@h")], Some("700"), 0);
    assert_eq!(registered(&got), ["sip:3@h 700", "sip:2@h 900"]);
    let three = [contact("sip:4@h"), contact("sip:5@h"), contact("sip:6@h")];
    assert_eq!(ana.send(&three, None, 0), Outcome::TooManyContacts);
    assert_eq!(
        Outcome::TooManyContacts.status(),
        (403, "Too Many Contacts")
    );
}

#[test]
fn contacts_ring_by_q_and_expire() {
    let r = registrar();
    let mut ana = Phone::new(&r, "ana", "s3cret");
    ana.register(
        &[
            contact_with("sip:desk@h", Some("120"), Some("0.5")),
            contact_with("sip:mobile@h", Some("60"), Some("0.9")),
        ],
        None,
        0,
    );
    let order =
        |now| -> Vec<String> { r.contacts("ana", now).into_iter().map(|c| c.uri).collect() };
    assert_eq!(order(0), ["sip:mobile@h", "sip:desk@h"]);
    assert_eq!(
        r.contacts("ana", 0)[0].q.map(|q| q.to_string()),
        Some("0.9".into())
    );
    assert_eq!(order(60_000), ["sip:desk@h"]);
    assert!(r.is_registered("ana", 119_999));
    assert!(!r.is_registered("ana", 120_000));
    assert!(order(120_000).is_empty());
    assert!(r.contacts("nobody", 0).is_empty());
    // `purge` drops what expired, and forgets users with nothing left once
    // their nonces expired too.
    assert_eq!(r.purge(60_000), 1);
    assert_eq!(r.purge(120_000), 1);
    assert_eq!(r.lock().users.len(), 1);
    assert_eq!(r.purge(120_000 + r.config().nonce_lifetime_ms + 1), 0);
    assert!(r.lock().users.is_empty());
}

#[test]
fn a_roster_reload_keeps_bindings_of_users_still_listed() {
    let r = registrar();
    for user in ["ana", "bob"] {
        let mut phone = Phone::new(&r, user, "s3cret");
        phone.register(&[contact("sip:x@h")], None, 0);
        assert!(r.is_registered(user, 0));
    }
    let mut table = credentials(&["ana"]);
    table.insert("ana".into(), Credential::parse("n3w").expect("credential"));
    r.set_credentials(table);
    assert!(r.is_registered("ana", 0), "ana is still listed");
    assert!(!r.is_registered("bob", 0), "bob left the roster");
    assert_eq!(
        Phone::new(&r, "bob", "s3cret").register(&[], None, 0),
        Outcome::Forbidden
    );
    assert_eq!(
        Phone::new(&r, "ana", "s3cret").register(&[], None, 0),
        Outcome::Forbidden
    );
    assert_eq!(
        Phone::new(&r, "ana", "n3w")
            .register(&[], None, 0)
            .status()
            .0,
        200
    );
}

#[test]
fn config_limits_are_checked() {
    let base = RegistrarConfig::default();
    assert_eq!(base.check(), Ok(()));
    for (config, error) in [
        (
            RegistrarConfig {
                realm: String::new(),
                ..base.clone()
            },
            "the realm is empty",
        ),
        (
            RegistrarConfig {
                min_expires: 4000,
                ..base.clone()
            },
            "min_expires (4000) <= default_expires (3600)",
        ),
        (
            RegistrarConfig {
                min_expires: 0,
                ..base.clone()
            },
            "1 <= min_expires (0)",
        ),
        (
            RegistrarConfig {
                max_contacts: 0,
                ..base.clone()
            },
            "max_contacts",
        ),
        (
            RegistrarConfig {
                nonce_lifetime_ms: 10,
                ..base.clone()
            },
            "nonce_lifetime_ms",
        ),
    ] {
        let got = config.check().expect_err("accepted").to_string();
        assert!(got.contains(error), "`{got}` lacks `{error}`");
    }
}

#[test]
fn the_registrar_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Registrar>();
    let r = registrar();
    std::thread::scope(|s| {
        for (i, user) in ["ana", "bob", "cy"].into_iter().enumerate() {
            let r = &r;
            s.spawn(move || {
                let mut phone = Phone::new(r, user, "s3cret");
                for n in 0..20u64 {
                    let uri = format!("sip:{user}{n}@h");
                    let got = phone.register(&[contact(&uri)], None, n * 10 + i as u64);
                    assert_eq!(got.status().0, 200);
                }
            });
        }
    });
    for user in ["ana", "bob", "cy"] {
        assert_eq!(r.contacts(user, 500).len(), 5, "{user}: the limit");
    }
}

/// Random REGISTER fields never panic the registrar.
#[test]
fn random_requests_never_panic() {
    let r = registrar();
    let mut rng = crate::random::Rng::new(3261);
    let texts = [
        "",
        "0",
        "60",
        "-1",
        "99999999999999999999",
        "0.5",
        "1.0",
        "x",
        "ana",
        "sip:a@h",
        "*",
        "Digest",
        "Digest username=\"ana\", realm=\"dialect\", nonce=\"00\", uri=\"u\", response=\"r\"",
        "Digest realm=\"dialect\",,,",
        "é\u{1F4DE}",
    ];
    let pick = |rng: &mut crate::random::Rng| texts[rng.below(texts.len())];
    for i in 0..5_000u64 {
        let maybe =
            |rng: &mut crate::random::Rng, text: &'static str| rng.chance(50).then_some(text);
        let contacts: Vec<ContactInput<'_>> = (0..rng.below(4))
            .map(|_| {
                if rng.chance(10) {
                    ContactInput::Wildcard
                } else {
                    let uri = pick(&mut rng);
                    let (e, q) = (pick(&mut rng), pick(&mut rng));
                    ContactInput::Uri {
                        uri,
                        expires: maybe(&mut rng, e),
                        q: maybe(&mut rng, q),
                    }
                }
            })
            .collect();
        let authorizations: Vec<&str> = (0..rng.below(3)).map(|_| pick(&mut rng)).collect();
        let (user, expires, call_id) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
        let expires = maybe(&mut rng, expires);
        let req = Request {
            user,
            authorizations: &authorizations,
            contacts: &contacts,
            expires,
            call_id,
            cseq: rng.below(4) as u32,
        };
        let _ = r.register(&req, i);
    }
}
