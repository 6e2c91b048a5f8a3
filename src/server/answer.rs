//! The server's answer to each SIP request that opens a transaction: the
//! [`Handler`] the SIP transports call, synchronously, on their tasks.
//!
//! - `INVITE`: in redirect mode, the program's decision
//!   ([`super::redirect::decide`]) as a 302 with Contacts or a failure,
//!   stamped with the program's version in `X-Dialect-Version`;
//! - `REGISTER`: the registrar (digest authentication, bindings);
//! - `OPTIONS`: 200 with `Allow`; `CANCEL`: 200 when the INVITE it
//!   cancels is known, else 481 (an INVITE is answered at once here, so
//!   the CANCEL changes nothing); `BYE` and other in-dialog requests: 481
//!   (redirect mode holds no dialog); `ACK`: no answer;
//! - a method this server does not know: 501; one it knows but does not
//!   take here: 405 with `Allow`;
//! - `Max-Forwards: 0` on anything but OPTIONS: 483.
//!
//! The program a request sees is read once per request from the
//! [`Slot`], which a reload swaps; each answer says which version
//! decided.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use jiff::Timestamp;

use super::config::Targets;
use super::redirect::{self, Answer, Registered};
use crate::lookup::LookupTables;
use crate::program::{Engine, Program};
use crate::runtime::Runtime;
use crate::sip::ingress::{Handler, Incoming};
use crate::sip::message::{Method, Request};
use crate::sip::registrar::{self, ContactInput, Outcome, Registrar};
use crate::sip::response::{Response, response};

/// The methods this server takes, for `Allow`.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER";

/// One version of the program, as requests see it: compiled code, the
/// lookup rows that fit it, and its version string.
pub struct Version {
    pub program: Arc<Program>,
    pub tables: Arc<LookupTables>,
    pub version: Arc<str>,
}

/// The version new requests are decided by; a reload stores another.
pub type Slot = ArcSwap<Version>;

/// What the server counts beyond the SIP layer's counters: decisions and
/// how long they took.
#[derive(Debug, Default)]
pub struct Decisions {
    /// Their total time, nanoseconds (with [`Decisions::decided`], the mean).
    pub nanos: AtomicU64,
    /// The slowest decision so far, nanoseconds.
    pub max_nanos: AtomicU64,
    /// Decisions answered 302, and answered with a failure.
    pub redirected: AtomicU64,
    pub failed: AtomicU64,
}

impl Decisions {
    /// INVITEs decided.
    pub fn decided(&self) -> u64 {
        self.redirected.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    fn add(&self, nanos: u64, moved: bool) {
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
        if moved {
            self.redirected.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A limit of new requests per second, over each whole second since the
/// server started: beyond it, requests get 503 with Retry-After rather
/// than slowing every answer down.
#[derive(Debug)]
pub struct Rate {
    per_second: u64,
    pub retry_after_s: u32,
    /// The second being counted (since `started`) and requests in it,
    /// packed as `second << 32 | count`.
    window: AtomicU64,
}

impl Rate {
    pub fn new(per_second: u32, retry_after_s: u32) -> Rate {
        Rate {
            per_second: u64::from(per_second),
            retry_after_s,
            window: AtomicU64::new(0),
        }
    }

    /// Counts a request at `second`; false when the second's limit is spent.
    pub fn admit(&self, second: u64) -> bool {
        let mut seen = self.window.load(Ordering::Relaxed);
        loop {
            let (at, n) = (seen >> 32, seen & 0xffff_ffff);
            let next = if at == second & 0xffff_ffff {
                if n >= self.per_second {
                    return false;
                }
                seen + 1
            } else {
                ((second & 0xffff_ffff) << 32) | 1
            };
            match (self.window).compare_exchange_weak(
                seen,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => seen = now,
            }
        }
    }
}

/// Answers requests for `dialect serve`.
pub struct Answerer {
    pub slot: Arc<Slot>,
    pub engine: Engine,
    pub targets: Targets,
    /// The runtime whose ACD keeps the agents (queues pick among them).
    pub runtime: Arc<Runtime>,
    pub registrar: Arc<Registrar>,
    pub decisions: Arc<Decisions>,
    /// The registrar's time is milliseconds since this instant.
    pub started: Instant,
    pub rate: Rate,
}

/// The registrar's bindings as redirect mode reads them.
struct Phones<'a> {
    registrar: &'a Registrar,
    now_ms: u64,
}

impl Registered for Phones<'_> {
    fn contacts(&self, sip_user: &str) -> Vec<(String, f32)> {
        self.registrar
            .contacts(sip_user, self.now_ms)
            .into_iter()
            .map(|c| {
                let q = c.q.map_or(1.0, |q| f32::from(q.thousandths()) / 1000.0);
                (c.uri, q)
            })
            .collect()
    }

    fn is_registered(&self, sip_user: &str) -> bool {
        self.registrar.is_registered(sip_user, self.now_ms)
    }
}

impl Answerer {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn invite(&self, req: &Request) -> Response {
        let started = Instant::now();
        let current = self.slot.load();
        let Some(dialed) = req.uri_user() else {
            return response(req, 404, "Not Found")
                .header("X-Dialect-Version", &current.version)
                .finish();
        };
        let asserted = req.p_asserted_identity();
        let caller = asserted
            .as_ref()
            .or_else(|| req.from())
            .and_then(|a| a.user.as_deref());
        let phones = Phones {
            registrar: &self.registrar,
            now_ms: self.now_ms(),
        };
        let cx = redirect::Context {
            program: &current.program,
            tables: &current.tables,
            engine: self.engine,
            targets: &self.targets,
            acd: self.runtime.acd(),
            registered: &phones,
            version: &current.version,
            switches: self.runtime.switches(),
        };
        let call = redirect::Call {
            caller,
            dialed: &dialed,
            at: Timestamp::now(),
        };
        let decided = redirect::decide(&cx, &call);
        let answer = match &decided.answer {
            Answer::Moved(contacts) => {
                let mut b = response(req, 302, "Moved Temporarily");
                for c in contacts {
                    b = b.contact(&c.uri, c.q);
                }
                b.header("X-Dialect-Version", &decided.version).finish()
            }
            Answer::Fail(f) => response(req, f.code(), f.reason())
                .header("X-Dialect-Version", &decided.version)
                .finish(),
        };
        let moved = matches!(decided.answer, Answer::Moved(_));
        self.decisions
            .add(started.elapsed().as_nanos() as u64, moved);
        tracing::debug!(
            call_id = req.call_id().unwrap_or(""),
            dialed = %dialed,
            code = decided.answer.code(),
            outcome = ?decided.outcome,
            "decided"
        );
        answer
    }
}

/// The registrar's answer to a REGISTER at `now_ms` (both modes).
pub fn register(registrar: &Registrar, req: &Request, now_ms: u64) -> Response {
    let Some(user) = req.to().and_then(|t| t.user.clone()) else {
        return response(req, 400, "To Has No User").finish();
    };
    let authorizations: Vec<&str> = req.header_values("Authorization").collect();
    let Some(entries) = req.contacts() else {
        return response(req, 400, "Bad Contact").finish();
    };
    let contacts: Vec<ContactInput<'_>> = entries
        .iter()
        .map(|c| match c.is_star() {
            true => ContactInput::Wildcard,
            false => ContactInput::Uri {
                uri: &c.uri,
                expires: c.expires.as_deref(),
                q: c.q.as_deref(),
            },
        })
        .collect();
    let expires = req.header("Expires");
    let (Some(call_id), Some(cseq)) = (req.call_id(), req.cseq()) else {
        return response(req, 400, "Bad Request").finish();
    };
    let outcome = registrar.register(
        &registrar::Request {
            user: &user,
            authorizations: &authorizations,
            contacts: &contacts,
            expires,
            call_id,
            cseq: cseq.seq,
        },
        now_ms,
    );
    let (code, reason) = outcome.status();
    let b = response(req, code, reason);
    match outcome {
        Outcome::Registered(bound) => {
            let mut b = b;
            for c in bound {
                let mut value = format!("<{}>;expires={}", c.uri, c.expires_in);
                if let Some(q) = c.q {
                    value.push_str(&format!(";q={q}"));
                }
                b = b.header("Contact", &value);
            }
            b.finish()
        }
        Outcome::Challenge(values) => {
            let mut b = b;
            for v in values {
                b = b.header("WWW-Authenticate", &v);
            }
            b.finish()
        }
        Outcome::IntervalTooBrief { min_expires } => {
            b.header("Min-Expires", &min_expires.to_string()).finish()
        }
        _ => b.finish(),
    }
}

impl Handler for Answerer {
    fn handle(&self, incoming: &Incoming<'_>) -> Option<Response> {
        let req = incoming.request;
        let method = req.method();
        let _span = tracing::debug_span!(
            "request",
            call_id = req.call_id().unwrap_or(""),
            method = method.as_str(),
            source = %incoming.source,
        )
        .entered();
        if *method == Method::Ack {
            return None;
        }
        if *method != Method::Options && req.max_forwards() == Some(Some(0)) {
            return Some(response(req, 483, "Too Many Hops").finish());
        }
        if matches!(method, Method::Invite | Method::Register)
            && !self.rate.admit(self.started.elapsed().as_secs())
        {
            return Some(
                response(req, 503, "Service Unavailable")
                    .header("Retry-After", &self.rate.retry_after_s.to_string())
                    .finish(),
            );
        }
        Some(match method {
            Method::Invite => self.invite(req),
            Method::Register => register(&self.registrar, req, self.now_ms()),
            Method::Options => response(req, 200, "OK")
                .header("Allow", ALLOW)
                .header("Accept", "application/sdp")
                .finish(),
            Method::Cancel if incoming.cancels_known_invite => response(req, 200, "OK").finish(),
            Method::Cancel | Method::Bye => {
                response(req, 481, "Call/Transaction Does Not Exist").finish()
            }
            Method::Other(_) => response(req, 501, "Not Implemented")
                .header("Allow", ALLOW)
                .finish(),
            _ => response(req, 405, "Method Not Allowed")
                .header("Allow", ALLOW)
                .finish(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn a_rate_admits_its_limit_each_second() {
        let rate = Rate::new(3, 5);
        assert!((0..3).all(|_| rate.admit(7)));
        assert!(!rate.admit(7), "the fourth in one second is refused");
        assert!(rate.admit(8), "a new second starts a new count");
        assert!(rate.admit(8));
    }
}
