//! `dialect serve --mode redirect` on loopback against SIPp: redirects by
//! dialed and by caller number over UDP and TCP, rejections and 404,
//! REGISTER with digest authentication (right and wrong password, an MD5
//! HA1 in the roster, un-register) followed by calls to the registered
//! phone, and retransmitted INVITEs decided once. Each test checks SIPp's
//! exit status and the server's counters, which `serve` prints when it
//! stops.
//!
//! SIPp is Debian's `sip-tester`. Without it these tests say so and pass,
//! except under CI (`CI=true`), where a missing `sipp` fails them.

mod serve_common;

use serve_common::{Server, counted, decided, free_port, have_sipp};

#[test]
fn redirects_by_dialed_and_caller_number_over_udp_and_tcp() {
    if !have_sipp() {
        return;
    }
    let server = Server::start();
    let calls: [(&str, &str, &str); 3] = [
        // A prompt before `transfer` is skipped: no media in redirect mode.
        (
            "+18005550100",
            "+15125550123",
            "sip:+15125550100@trunk.test",
        ),
        // The same number decided by the caller's number.
        (
            "+18005550101",
            "+442071234567",
            "sip:+442079460000@trunk.test",
        ),
        (
            "+18005550140",
            "+15125550123",
            "sip:general%20mailbox@voicemail.test",
        ),
    ];
    for (transport, i) in [("u1", 0), ("t1", 1)] {
        for (dialed, caller, contact) in calls {
            let status = server.sipp(
                "uac_redirect.xml",
                free_port(),
                &[
                    "-t",
                    transport,
                    "-s",
                    dialed,
                    "-key",
                    "caller",
                    caller,
                    "-set",
                    "want_contact",
                    contact,
                    "-m",
                    "1",
                ],
            );
            assert_eq!(status, 0, "{dialed} from {caller} over {transport} ({i})");
        }
    }
    let version = server.version.clone();
    let out = server.stop();
    assert_eq!(decided(&out), 6, "{out}");
    assert_eq!(counted(&out, "answered", "302"), 6, "{out}");
    assert_eq!(counted(&out, "received", "ACK"), 6, "{out}");
    assert_eq!(version.len(), 12);
}

#[test]
fn rejections_and_numbers_without_an_entry() {
    if !have_sipp() {
        return;
    }
    let server = Server::start();
    for (dialed, caller, code) in [
        ("+18005550130", "+15125550123", "486"),
        ("+18005550131", "+15125550123", "603"),
        ("+18005550132", "+15125550123", "480"),
        ("+18005550133", "+15125550123", "603"),
        // `dial extension` needs the caller's digits: no media here.
        ("+18005550121", "+15125550123", "484"),
        // A withheld caller is declined by the route.
        ("+18005550101", "anonymous", "603"),
        ("+18009999999", "+15125550123", "404"),
    ] {
        let status = server.sipp(
            "uac_reject.xml",
            free_port(),
            &[
                "-s",
                dialed,
                "-key",
                "caller",
                caller,
                "-set",
                "want_code",
                code,
                "-m",
                "1",
            ],
        );
        assert_eq!(status, 0, "{dialed} from {caller}: want {code}");
    }
    let out = server.stop();
    assert_eq!(decided(&out), 7, "{out}");
    assert_eq!(counted(&out, "answered", "603"), 3, "{out}");
    assert_eq!(counted(&out, "answered", "404"), 1, "{out}");
}

#[test]
fn a_registered_phone_gets_its_extension_and_queue_calls() {
    if !have_sipp() {
        return;
    }
    let server = Server::start();
    let phone = free_port();
    let register = |user: &str, password: &str, expires: &str, scenario: &str| {
        server.sipp(
            scenario,
            phone,
            &[
                "-s", user, "-au", user, "-ap", password, "-key", "expires", expires, "-m", "1",
            ],
        )
    };
    let call = |dialed: &str, want: &str| {
        server.sipp(
            "uac_redirect.xml",
            free_port(),
            &[
                "-s",
                dialed,
                "-key",
                "caller",
                "+15125550123",
                "-set",
                "want_contact",
                want,
                "-m",
                "1",
            ],
        )
    };
    let reject = |dialed: &str, code: &str| {
        server.sipp(
            "uac_reject.xml",
            free_port(),
            &[
                "-s",
                dialed,
                "-key",
                "caller",
                "+15125550123",
                "-set",
                "want_code",
                code,
                "-m",
                "1",
            ],
        )
    };
    // Nobody registered yet: the extension has no phone to go to.
    assert_eq!(reject("2001", "480"), 0);
    assert_eq!(
        register("ana", "wrong", "3600", "uac_register_wrong_password.xml"),
        0,
        "a wrong password gets 403"
    );
    assert_eq!(reject("2001", "480"), 0, "a refused REGISTER binds nothing");
    assert_eq!(register("ana", "ana-secret", "3600", "uac_register.xml"), 0);
    let contact = format!("sip:ana@127.0.0.1:{phone}");
    assert_eq!(
        call("2001", &contact),
        0,
        "the extension reaches ana's phone"
    );
    // `support` rings every eligible agent; only ana has a phone.
    assert_eq!(call("+18005550103", &contact), 0, "the queue picks ana");
    // bob's roster password is an MD5 HA1, not the password itself.
    let bob_phone = free_port();
    let status = server.sipp(
        "uac_register.xml",
        bob_phone,
        &[
            "-s",
            "bob",
            "-au",
            "bob",
            "-ap",
            "bob-secret",
            "-key",
            "expires",
            "600",
            "-m",
            "1",
        ],
    );
    assert_eq!(status, 0, "bob registers against his HA1");
    assert_eq!(call("2002", &format!("sip:bob@127.0.0.1:{bob_phone}")), 0);
    // Un-registering (from the same Contact) takes ana's phone away.
    assert_eq!(register("ana", "ana-secret", "0", "uac_register.xml"), 0);
    assert_eq!(reject("2001", "480"), 0, "after un-registering");
    let out = server.stop();
    assert_eq!(counted(&out, "received", "REGISTER"), 8, "{out}");
    assert_eq!(counted(&out, "answered", "401"), 4, "{out}");
    assert_eq!(counted(&out, "answered", "403"), 1, "{out}");
    assert_eq!(counted(&out, "answered", "200"), 3, "{out}");
    assert_eq!(decided(&out), 6, "{out}");
}

#[test]
fn retransmitted_invites_are_decided_once() {
    if !have_sipp() {
        return;
    }
    let server = Server::start();
    let status = server.sipp(
        "uac_redirect_retrans.xml",
        free_port(),
        &[
            "-s",
            "+18005550100",
            "-key",
            "caller",
            "+15125550123",
            "-lost",
            "10",
            "-r",
            "20",
            "-m",
            "20",
        ],
    );
    assert_eq!(status, 0);
    let out = server.stop();
    assert_eq!(decided(&out), 20, "each call decided once: {out}");
    let invites = counted(&out, "received", "INVITE");
    assert!(invites >= 17, "SIPp lost some INVITEs on the way in: {out}");
}
