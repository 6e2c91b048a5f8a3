//! What a roster's `password` holds for digest authentication: a plaintext
//! password, or HA1 hashes (`H(user:realm:password)`) so that the roster
//! need not hold the password itself.
//!
//! Forms, read in this order:
//! - `plain:TEXT`: the password `TEXT`, whatever it looks like;
//! - `md5:HEX`, `sha256:HEX`, or both separated by a comma
//!   (`sha256:HEX,md5:HEX`): HA1 hashes in hex, 32 and 64 digits (the
//!   prefixes in any case);
//! - anything else: a plaintext password.
//!
//! An HA1 is only good for the realm it was computed with: changing the
//! server's realm invalidates every hashed password. A user with only an
//! MD5 HA1 can only answer MD5 challenges, so challenges offer only the
//! algorithms a user's credential can verify.

use std::collections::HashMap;
use std::fmt;

use super::digest::Algorithm;

/// Each user's credential, keyed by SIP user.
pub type Credentials = HashMap<String, Credential>;

/// Why a table of credentials could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("SIP user `{user}`: {error}")]
    Credential {
        user: String,
        error: CredentialError,
    },
    #[error("SIP user `{0}` is listed twice")]
    Duplicate(String),
}

/// The table a registrar checks passwords against, from `(SIP user,
/// password)` pairs such as a roster's agents. Pairs with an empty user or
/// an empty password are left out: those agents cannot register.
pub fn table<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Credentials, TableError> {
    let mut out = Credentials::new();
    for (user, password) in entries {
        if user.is_empty() || password.is_empty() {
            continue;
        }
        let credential = Credential::parse(password).map_err(|error| TableError::Credential {
            user: user.to_string(),
            error,
        })?;
        if out.insert(user.to_string(), credential).is_some() {
            return Err(TableError::Duplicate(user.to_string()));
        }
    }
    Ok(out)
}

/// One user's secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Password(String),
    /// HA1 in lowercase hex, per algorithm; at least one is present.
    Ha1 {
        md5: Option<String>,
        sha256: Option<String>,
    },
}

/// Why a `password` value is not a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the password is empty")]
    Empty,
    #[error(
        "`{0}` looks like an HA1 hash but is not `md5:` with 32 hex digits or `sha256:` with 64 (write `plain:` before a password that starts this way)"
    )]
    BadHash(String),
    #[error("the {0} HA1 is given twice")]
    Duplicate(&'static str),
}

impl fmt::Debug for Credential {
    /// Never prints the secret, so credentials can sit in logged structs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(..)"),
            Credential::Ha1 { md5, sha256 } => write!(
                f,
                "Ha1 {{ md5: {}, sha256: {} }}",
                md5.is_some(),
                sha256.is_some()
            ),
        }
    }
}

impl Credential {
    /// Reads a roster `password` value (forms in the module's doc).
    pub fn parse(text: &str) -> Result<Credential, CredentialError> {
        if text.is_empty() {
            return Err(CredentialError::Empty);
        }
        if let Some(rest) = strip_prefix_ignore_case(text, "plain:") {
            return match rest {
                "" => Err(CredentialError::Empty),
                _ => Ok(Credential::Password(rest.to_string())),
            };
        }
        let looks_hashed = |part: &str| hash_prefix(part).is_some();
        if !text.split(',').any(looks_hashed) {
            return Ok(Credential::Password(text.to_string()));
        }
        let (mut md5, mut sha256) = (None, None);
        for part in text.split(',') {
            let bad = || CredentialError::BadHash(part.to_string());
            let (algorithm, hex) = hash_prefix(part).ok_or_else(bad)?;
            if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            let slot = match algorithm {
                Algorithm::Md5 => &mut md5,
                Algorithm::Sha256 => &mut sha256,
            };
            if slot.is_some() {
                return Err(CredentialError::Duplicate(algorithm.name()));
            }
            *slot = Some(hex.to_ascii_lowercase());
        }
        Ok(Credential::Ha1 { md5, sha256 })
    }

    /// The HA1 for `algorithm`, or `None` when only a hash of another
    /// algorithm is known.
    pub fn ha1(&self, algorithm: Algorithm, user: &str, realm: &str) -> Option<String> {
        match self {
            Credential::Password(p) => Some(algorithm.hash_hex(&[user, realm, p])),
            Credential::Ha1 { md5, sha256 } => match algorithm {
                Algorithm::Md5 => md5.clone(),
                Algorithm::Sha256 => sha256.clone(),
            },
        }
    }

    /// The algorithms this credential verifies, SHA-256 first.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        Algorithm::PREFERENCE
            .into_iter()
            .filter(|&a| match self {
                Credential::Password(_) => true,
                Credential::Ha1 { md5, sha256 } => match a {
                    Algorithm::Md5 => md5.is_some(),
                    Algorithm::Sha256 => sha256.is_some(),
                },
            })
            .collect()
    }
}

/// `md5:` or `sha256:` (any case) and the rest.
fn hash_prefix(part: &str) -> Option<(Algorithm, &str)> {
    [("md5:", Algorithm::Md5), ("sha256:", Algorithm::Sha256)]
        .into_iter()
        .find_map(|(prefix, a)| strip_prefix_ignore_case(part, prefix).map(|rest| (a, rest)))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha1(a: Algorithm) -> String {
        a.hash_hex(&["ana", "dialect", "s3cret"])
    }

    #[test]
    fn plaintext_and_hashes_give_the_same_ha1() {
        let plain = Credential::parse("s3cret").expect("plain");
        assert_eq!(plain, Credential::Password("s3cret".into()));
        let md5 = ha1(Algorithm::Md5);
        let sha = ha1(Algorithm::Sha256);
        let both =
            Credential::parse(&format!("SHA256:{},md5:{}", sha.to_uppercase(), md5)).expect("ha1");
        for a in Algorithm::PREFERENCE {
            assert_eq!(plain.ha1(a, "ana", "dialect"), Some(ha1(a)));
            assert_eq!(both.ha1(a, "ana", "dialect"), Some(ha1(a)));
        }
        assert_eq!(both.algorithms(), Algorithm::PREFERENCE);
        let only_md5 = Credential::parse(&format!("md5:{md5}")).expect("md5");
        assert_eq!(only_md5.algorithms(), [Algorithm::Md5]);
        assert_eq!(only_md5.ha1(Algorithm::Sha256, "ana", "dialect"), None);
        // The HA1 belongs to its realm; a password follows any realm.
        assert_ne!(plain.ha1(Algorithm::Md5, "ana", "other"), Some(md5));
    }

    #[test]
    fn forms_and_errors() {
        assert_eq!(
            Credential::parse("plain:md5:1234"),
            Ok(Credential::Password("md5:1234".into()))
        );
        assert_eq!(
            Credential::parse("a,b:c"),
            Ok(Credential::Password("a,b:c".into()))
        );
        assert_eq!(Credential::parse(""), Err(CredentialError::Empty));
        assert_eq!(Credential::parse("plain:"), Err(CredentialError::Empty));
        assert_eq!(
            Credential::parse("md5:1234"),
            Err(CredentialError::BadHash("md5:1234".into()))
        );
        let md5 = ha1(Algorithm::Md5);
        assert_eq!(
            Credential::parse(&format!("sha256:{md5}")),
            Err(CredentialError::BadHash(format!("sha256:{md5}")))
        );
        assert_eq!(
            Credential::parse(&format!("md5:{md5},extra")),
            Err(CredentialError::BadHash("extra".into()))
        );
        assert_eq!(
            Credential::parse(&format!("md5:{md5},md5:{md5}")),
            Err(CredentialError::Duplicate("MD5"))
        );
        let bad = "md5:".to_string() + &"g".repeat(32);
        assert!(Credential::parse(&bad).is_err());
        // Multi-byte text never splits inside a character.
        assert_eq!(
            Credential::parse("mé"),
            Ok(Credential::Password("mé".into()))
        );
    }

    #[test]
    fn tables_leave_out_users_without_passwords_and_name_the_bad_ones() {
        let md5 = ha1(Algorithm::Md5);
        let hashed = format!("md5:{md5}");
        let t = table([
            ("ana", "s3cret"),
            ("bob", hashed.as_str()),
            ("", "x"),
            ("cy", ""),
        ])
        .expect("table");
        let mut users: Vec<&str> = t.keys().map(String::as_str).collect();
        users.sort();
        assert_eq!(users, ["ana", "bob"]);
        assert_eq!(
            table([("ana", "s3cret"), ("ana", "other")]),
            Err(TableError::Duplicate("ana".into()))
        );
        let err = table([("ana", "sha256:abc")]).expect_err("bad hash");
        assert!(
            err.to_string()
                .starts_with("SIP user `ana`: `sha256:abc` looks like an HA1"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let shown = format!("{:?}", Credential::parse("s3cret").expect("plain"));
        assert!(!shown.contains("s3cret"), "{shown}");
        let md5 = ha1(Algorithm::Md5);
        let shown = format!(
            "{:?}",
            Credential::parse(&format!("md5:{md5}")).expect("md5")
        );
        assert!(!shown.contains(&md5), "{shown}");
    }
}
