//! The registrar: REGISTER requests authenticated by digest (RFC 8760),
//! turned into bindings of a user (the address-of-record's user part) to
//! contact URIs, and the live contacts a call to that user rings.
//!
//! Sans-IO: it takes a REGISTER's fields as plain values and the time as
//! milliseconds on one clock that never goes backwards, and returns an
//! `Outcome` the SIP layer turns into a response. It is shared by the
//! server's tasks as it is (`Send + Sync`, one `Mutex` inside held for one
//! request: a digest check and a few list operations).
//!
//! The order of the checks follows RFC 3261 §10.3: authenticate (401 with
//! a challenge, 400 for a malformed `Authorization`), authorize (403),
//! then the contacts (400, 423), then the update (500 when out of order,
//! else 200 with every live binding). An unknown user is answered 403
//! after a challenge, exactly as a wrong password is, and with the same
//! digest work, so a scanner learns nothing of which users exist; the 404
//! of §10.3 step 5 would tell it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::bindings::{Bindings, Change, Contact, OutOfOrder, Q, Update};
use super::credential::{Credential, Credentials};
use super::digest::{Algorithm, Authorization, Challenge};
use super::nonce::{NonceCheck, NonceCounts, NonceKey};

/// Limits and the realm. Every field has a default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// The digest realm; HA1 passwords are computed with it.
    pub realm: String,
    /// A shorter non-zero expiry is refused with 423 and this value.
    pub min_expires: u32,
    /// For a contact with no `expires` parameter and no `Expires` header.
    pub default_expires: u32,
    /// Longer requested expiries are shortened to this.
    pub max_expires: u32,
    /// Bindings kept per user; a new one pushes out the one nearest to
    /// expiry (a phone that restarted on a new port does not lock itself
    /// out until its old binding expires).
    pub max_contacts: usize,
    /// How long a nonce is accepted; then the client gets `stale=true`.
    pub nonce_lifetime_ms: u64,
    /// The algorithms challenges offer, in this order (each user's only
    /// as far as their credential can verify them).
    pub algorithms: Vec<Algorithm>,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            realm: "dialect".to_string(),
            min_expires: 60,
            default_expires: 3600,
            max_expires: 7200,
            max_contacts: 5,
            nonce_lifetime_ms: 300_000,
            algorithms: Algorithm::PREFERENCE.to_vec(),
        }
    }
}

/// A configuration whose limits contradict each other.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the realm is empty")]
    EmptyRealm,
    #[error(
        "expiry limits must satisfy 1 <= min_expires ({min}) <= default_expires ({default}) <= max_expires ({max})"
    )]
    Expires { min: u32, default: u32, max: u32 },
    #[error("max_contacts must be at least 1")]
    NoContacts,
    #[error("nonce_lifetime_ms must be at least 1000")]
    NonceLifetime,
    #[error("no digest algorithm to challenge with")]
    NoAlgorithm,
}

impl RegistrarConfig {
    pub fn check(&self) -> Result<(), ConfigError> {
        let (min, default, max) = (self.min_expires, self.default_expires, self.max_expires);
        if self.realm.is_empty() {
            Err(ConfigError::EmptyRealm)
        } else if !(1 <= min && min <= default && default <= max) {
            Err(ConfigError::Expires { min, default, max })
        } else if self.max_contacts == 0 {
            Err(ConfigError::NoContacts)
        } else if self.nonce_lifetime_ms < 1000 {
            Err(ConfigError::NonceLifetime)
        } else if self.algorithms.is_empty() {
            Err(ConfigError::NoAlgorithm)
        } else {
            Ok(())
        }
    }
}

/// One `Contact` value of a REGISTER, its parameters as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactInput<'a> {
    /// `Contact: *`.
    Wildcard,
    Uri {
        uri: &'a str,
        expires: Option<&'a str>,
        q: Option<&'a str>,
    },
}

/// What the registrar reads of a REGISTER.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The user part of the `To` URI: whose bindings these are.
    pub user: &'a str,
    /// Every `Authorization` value, in order; the first Digest one for
    /// this realm is used.
    pub authorizations: &'a [&'a str],
    /// Every `Contact` value; none asks for the current bindings.
    pub contacts: &'a [ContactInput<'a>],
    /// The `Expires` header, as written.
    pub expires: Option<&'a str>,
    pub call_id: &'a str,
    pub cseq: u32,
}

/// What to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the user's live bindings, each `Contact` with its
    /// `expires` (and `q` when it was given).
    Registered(Vec<Contact>),
    /// 401: one `WWW-Authenticate` header per value, in order.
    Challenge(Vec<String>),
    /// 403: unknown user, wrong password, or credentials of another user.
    Forbidden,
    /// 403: one request with more contacts than a user may have.
    TooManyContacts,
    /// 423, with a `Min-Expires` header.
    IntervalTooBrief { min_expires: u32 },
    /// 400, with the reason phrase.
    BadRequest(&'static str),
    /// 500: the same Call-ID with a CSeq not above a binding's (RFC 3261
    /// §10.3 says the request fails; the phone will send a newer one).
    OutOfOrder,
}

impl Outcome {
    /// The status code and reason phrase.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            Outcome::Registered(_) => (200, "OK"),
            Outcome::Challenge(_) => (401, "Unauthorized"),
            Outcome::Forbidden => (403, "Forbidden"),
            Outcome::TooManyContacts => (403, "Too Many Contacts"),
            Outcome::IntervalTooBrief { .. } => (423, "Interval Too Brief"),
            Outcome::BadRequest(reason) => (400, reason),
            Outcome::OutOfOrder => (500, "Out Of Order"),
        }
    }
}

/// Bindings and the replay guard of one user.
#[derive(Default)]
struct User {
    bindings: Bindings,
    counts: NonceCounts,
}

struct Inner {
    credentials: Credentials,
    users: HashMap<String, User>,
}

/// The registrar shared by the server's tasks.
pub struct Registrar {
    config: RegistrarConfig,
    key: NonceKey,
    inner: Mutex<Inner>,
}

/// The password an unknown user is checked against, so that the work done
/// is the same as for a known one.
const DUMMY_PASSWORD: &str = "\u{0}no such user\u{0}";

impl Registrar {
    /// A registrar with no bindings. `config` should have passed `check`.
    pub fn new(config: RegistrarConfig, key: NonceKey, credentials: Credentials) -> Registrar {
        Registrar {
            config,
            key,
            inner: Mutex::new(Inner {
                credentials,
                users: HashMap::new(),
            }),
        }
    }

    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// Handles one REGISTER at `now_ms`.
    pub fn register(&self, req: &Request<'_>, now_ms: u64) -> Outcome {
        let auth = match self.authorization(req.authorizations) {
            Ok(Some(auth)) => auth,
            Ok(None) => return self.challenge(req.user, now_ms, false),
            Err(reason) => return Outcome::BadRequest(reason),
        };
        let mut inner = self.lock();
        let realm = &self.config.realm;
        let credential = inner.credentials.get(&auth.username);
        // Every path hashes one HA1 (the password's, or a dummy's), so the
        // time taken does not tell an unknown user from a known one.
        let password = match credential {
            Some(Credential::Password(p)) => p.as_str(),
            _ => DUMMY_PASSWORD,
        };
        let hashed = auth.algorithm.hash_hex(&[&auth.username, realm, password]);
        let stored = match credential {
            Some(c @ Credential::Ha1 { .. }) => c.ha1(auth.algorithm, &auth.username, realm),
            _ => None,
        };
        let known = matches!(credential, Some(Credential::Password(_))) || stored.is_some();
        let ha1 = stored.unwrap_or(hashed);
        let right = auth.response_matches(&ha1, "REGISTER");
        if !(right && known && auth.username == req.user) {
            return Outcome::Forbidden;
        }
        let lifetime = self.config.nonce_lifetime_ms;
        let nonce = match self.key.check(&auth.nonce, now_ms, lifetime) {
            NonceCheck::Fresh(id) => id,
            NonceCheck::Expired | NonceCheck::Invalid => {
                drop(inner);
                return self.challenge(req.user, now_ms, true);
            }
        };
        let user = inner.users.entry(req.user.to_string()).or_default();
        let nc = auth.qop.as_ref().map(|q| q.nc);
        if !user.counts.accept(nonce, nc, now_ms, lifetime) {
            drop(inner);
            return self.challenge(req.user, now_ms, true);
        }
        let update = match self.update(req) {
            Ok(update) => update,
            Err(outcome) => return outcome,
        };
        let max = self.config.max_contacts;
        match user
            .bindings
            .apply(&update, req.call_id, req.cseq, now_ms, max)
        {
            Ok(()) => Outcome::Registered(user.bindings.contacts(now_ms)),
            Err(OutOfOrder) => Outcome::OutOfOrder,
        }
    }

    /// The live contacts of `user`, in the order to ring them: highest q
    /// first, then the most recently registered.
    pub fn contacts(&self, user: &str, now_ms: u64) -> Vec<Contact> {
        self.lock()
            .users
            .get(user)
            .map(|u| u.bindings.contacts(now_ms))
            .unwrap_or_default()
    }

    /// Whether `user` has a live binding at `now_ms`.
    pub fn is_registered(&self, user: &str, now_ms: u64) -> bool {
        self.lock()
            .users
            .get(user)
            .is_some_and(|u| u.bindings.is_live(now_ms))
    }

    /// Drops expired bindings, and users with nothing left to remember;
    /// returns how many bindings expired. Reading never needs it (expired
    /// bindings are skipped); it bounds memory.
    pub fn purge(&self, now_ms: u64) -> usize {
        let lifetime = self.config.nonce_lifetime_ms;
        let mut inner = self.lock();
        let mut expired = 0;
        inner.users.retain(|_, u| {
            expired += u.bindings.expire(now_ms);
            !(u.bindings.is_empty() && u.counts.is_idle(now_ms, lifetime))
        });
        expired
    }

    /// Replaces the credentials (a roster reload). Users still present
    /// keep their bindings, even if their password changed; the bindings
    /// of users no longer listed are dropped.
    pub fn set_credentials(&self, credentials: Credentials) {
        let mut inner = self.lock();
        inner.users.retain(|user, _| credentials.contains_key(user));
        inner.credentials = credentials;
    }

    /// The lock, also after a panic elsewhere: every change to `Inner` is
    /// complete before it is stored, so a poisoned state is a whole one.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first Digest `Authorization` for this realm. One for another
    /// realm, scheme, algorithm or qop is skipped (the answer is then a
    /// challenge); a malformed one is a 400.
    fn authorization(&self, values: &[&str]) -> Result<Option<Authorization>, &'static str> {
        let mut malformed = false;
        for value in values {
            match Authorization::parse(value) {
                Ok(auth) if auth.realm == self.config.realm => return Ok(Some(auth)),
                Ok(_) => {}
                Err(e) if e.wants_challenge() => {}
                Err(_) => malformed = true,
            }
        }
        if malformed {
            Err("Malformed Authorization")
        } else {
            Ok(None)
        }
    }

    /// A 401 offering the algorithms `user`'s credential can verify (both
    /// for an unknown user), in the configured order.
    fn challenge(&self, user: &str, now_ms: u64, stale: bool) -> Outcome {
        let verifiable = self
            .lock()
            .credentials
            .get(user)
            .map(Credential::algorithms)
            .unwrap_or_else(|| Algorithm::PREFERENCE.to_vec());
        let mut algorithms: Vec<Algorithm> = (self.config.algorithms.iter())
            .copied()
            .filter(|a| verifiable.contains(a))
            .collect();
        if algorithms.is_empty() {
            // The user's stored hash is of an algorithm the configuration
            // leaves out: offer it rather than lock the user out.
            algorithms = verifiable;
        }
        let nonce = self.key.issue(now_ms);
        Outcome::Challenge(
            algorithms
                .into_iter()
                .map(|algorithm| {
                    Challenge {
                        realm: &self.config.realm,
                        nonce: &nonce,
                        algorithm,
                        qop: true,
                        stale,
                    }
                    .to_string()
                })
                .collect(),
        )
    }

    /// The request's contacts as an update, within the limits.
    fn update(&self, req: &Request<'_>) -> Result<Update, Outcome> {
        let c = &self.config;
        let header = match req.expires {
            None => None,
            Some(text) => Some(seconds(text).ok_or(Outcome::BadRequest("Bad Expires"))?),
        };
        if req.contacts.contains(&ContactInput::Wildcard) {
            if req.contacts.len() != 1 {
                return Err(Outcome::BadRequest("Wildcard Contact With Others"));
            }
            if header != Some(0) {
                return Err(Outcome::BadRequest("Wildcard Contact Needs Expires 0"));
            }
            return Ok(Update::RemoveAll);
        }
        let mut changes = Vec::with_capacity(req.contacts.len());
        for contact in req.contacts {
            let ContactInput::Uri { uri, expires, q } = *contact else {
                continue;
            };
            if uri.is_empty() {
                return Err(Outcome::BadRequest("Empty Contact"));
            }
            let expires_s = match expires {
                Some(text) => seconds(text).ok_or(Outcome::BadRequest("Bad Contact Expires"))?,
                None => header.unwrap_or(c.default_expires),
            };
            if expires_s != 0 && expires_s < c.min_expires {
                return Err(Outcome::IntervalTooBrief {
                    min_expires: c.min_expires,
                });
            }
            let q = match q {
                Some(text) => Some(Q::parse(text).ok_or(Outcome::BadRequest("Bad Contact Q"))?),
                None => None,
            };
            changes.push(Change {
                uri: uri.to_string(),
                q,
                expires_s: expires_s.min(c.max_expires),
            });
        }
        if changes.iter().filter(|ch| ch.expires_s > 0).count() > c.max_contacts {
            return Err(Outcome::TooManyContacts);
        }
        Ok(Update::Set(changes))
    }
}

/// Delta-seconds (RFC 3261 §25.1): digits, values past 2^32-1 read as
/// 2^32-1.
fn seconds(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u32>().unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests;
