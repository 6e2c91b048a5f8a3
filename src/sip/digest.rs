//! HTTP digest authentication as SIP uses it (RFC 8760 over RFC 7616 and
//! RFC 2617): the `Authorization` header value parsed, `WWW-Authenticate`
//! challenges written, and the expected `response` computed for MD5 and
//! SHA-256, with `qop=auth` or without qop (RFC 2069 clients).
//!
//! Values only: no message, no clock, no I/O. Nonces are `nonce.rs`,
//! the credentials a roster holds `credential.rs`.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

/// A digest algorithm this server verifies. Challenges offer SHA-256 first,
/// as RFC 8760 asks, then MD5 for the many phones that know nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// In the order challenges offer them.
    pub const PREFERENCE: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Md5];

    /// The token in `algorithm=` (RFC 7616 §6.1).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// The algorithm a token names, case-insensitively.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::PREFERENCE
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The length of a hash in lowercase hex.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha256 => 64,
        }
    }

    /// `H(p1:p2:...)` in lowercase hex: the parts joined by colons, as every
    /// digest formula writes them.
    pub fn hash_hex(self, parts: &[&str]) -> String {
        match self {
            Algorithm::Md5 => hex(&join_hash::<Md5>(parts)),
            Algorithm::Sha256 => hex(&join_hash::<Sha256>(parts)),
        }
    }
}

fn join_hash<D: Digest>(parts: &[&str]) -> Vec<u8> {
    let mut d = D::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            d.update(b":");
        }
        d.update(p.as_bytes());
    }
    d.finalize().to_vec()
}

/// Lowercase hex of bytes (`LHEX` in RFC 7616).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Whether two byte strings are equal, in a time that depends on their
/// lengths only: a wrong response must not tell by its timing how many of
/// its leading characters were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `qop=auth` with the client's nonce count and nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QopAuth {
    /// The nonce count as a number (how many requests used this nonce).
    pub nc: u32,
    /// The nonce count as the client wrote it: the response hashes this text.
    pub nc_text: String,
    pub cnonce: String,
}

/// A parsed `Authorization: Digest ...` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    /// `MD5` when the client names none (RFC 2617).
    pub algorithm: Algorithm,
    /// `None`: an RFC 2069 response without qop.
    pub qop: Option<QopAuth>,
    pub opaque: Option<String>,
}

/// Why an `Authorization` value was not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("the authorization scheme is not Digest")]
    NotDigest,
    #[error("malformed Digest parameters at byte {at}: expected {expected}")]
    Syntax { at: usize, expected: &'static str },
    #[error("the Digest parameter `{0}` is missing")]
    Missing(&'static str),
    #[error("the Digest parameter `{0}` is given twice")]
    Duplicate(String),
    #[error("the digest algorithm `{0}` is not supported")]
    UnsupportedAlgorithm(String),
    #[error("the qop `{0}` is not supported")]
    UnsupportedQop(String),
    #[error("the nonce count `{0}` is not 1 to 8 hex digits")]
    BadNonceCount(String),
}

impl DigestError {
    /// Whether the answer is a fresh challenge rather than 400: the client
    /// spoke another scheme, algorithm or qop, and may know ours.
    pub fn wants_challenge(&self) -> bool {
        matches!(
            self,
            DigestError::NotDigest
                | DigestError::UnsupportedAlgorithm(_)
                | DigestError::UnsupportedQop(_)
        )
    }
}

impl Authorization {
    /// Parses a header value: the scheme `Digest` (any case), then
    /// `name=value` pairs separated by commas, in any order, names in any
    /// case, values tokens or quoted strings with `\` escapes. Unknown
    /// parameters are ignored; a parameter given twice is an error.
    pub fn parse(value: &str) -> Result<Authorization, DigestError> {
        let params = parse_params(value)?;
        let get = |name: &'static str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let need = |name: &'static str| get(name).ok_or(DigestError::Missing(name));
        let algorithm = match get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::from_name(&a).ok_or(DigestError::UnsupportedAlgorithm(a))?,
        };
        let qop = match get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let nc_text = need("nc")?;
                let nc = parse_nc(&nc_text)?;
                Some(QopAuth {
                    nc,
                    nc_text,
                    cnonce: need("cnonce")?,
                })
            }
            Some(q) => return Err(DigestError::UnsupportedQop(q)),
        };
        Ok(Authorization {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?,
            algorithm,
            qop,
            opaque: get("opaque"),
        })
    }

    /// The response a client holding `ha1` (`H(username:realm:password)`)
    /// must send for this request (RFC 7616 §3.4.1, RFC 2069 without qop).
    pub fn expected_response(&self, ha1: &str, method: &str) -> String {
        let a = self.algorithm;
        let ha2 = a.hash_hex(&[method, &self.uri]);
        match &self.qop {
            Some(q) => a.hash_hex(&[ha1, &self.nonce, &q.nc_text, &q.cnonce, "auth", &ha2]),
            None => a.hash_hex(&[ha1, &self.nonce, &ha2]),
        }
    }

    /// Whether the client's response is the one `ha1` gives, compared in
    /// constant time (hex compared without regard to case).
    pub fn response_matches(&self, ha1: &str, method: &str) -> bool {
        let expected = self.expected_response(ha1, method);
        let given = self.response.to_ascii_lowercase();
        constant_time_eq(expected.as_bytes(), given.as_bytes())
    }
}

fn parse_nc(text: &str) -> Result<u32, DigestError> {
    let ok = (1..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit());
    match ok.then(|| u32::from_str_radix(text, 16)) {
        Some(Ok(n)) => Ok(n),
        _ => Err(DigestError::BadNonceCount(text.to_string())),
    }
}

/// The scheme and its parameters, names as written, values unquoted.
fn parse_params(value: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut p = Cursor { text: value, at: 0 };
    p.skip_space();
    let scheme = p.token();
    if !scheme.eq_ignore_ascii_case("digest") {
        return Err(DigestError::NotDigest);
    }
    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        p.skip_space();
        match p.peek() {
            None => break,
            // Empty list elements are allowed (RFC 7230 §7).
            Some(',') => {
                p.at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = p.token();
        if name.is_empty() {
            return Err(p.expected("a parameter name"));
        }
        p.skip_space();
        if p.peek() != Some('=') {
            return Err(p.expected("`=`"));
        }
        p.at += 1;
        p.skip_space();
        let value = if p.peek() == Some('"') {
            p.quoted()?
        } else {
            // Lenient: an unquoted value runs to the next comma or space, so
            // a client that leaves a URI unquoted is still understood.
            let v = p.take_while(|c| c != ',' && !is_space(c));
            if v.is_empty() {
                return Err(p.expected("a value"));
            }
            v.to_string()
        };
        if params.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(DigestError::Duplicate(name.to_ascii_lowercase()));
        }
        params.push((name.to_string(), value));
        p.skip_space();
        match p.peek() {
            None => break,
            Some(',') => p.at += 1,
            Some(_) => return Err(p.expected("`,` between parameters")),
        }
    }
    Ok(params)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A token character (RFC 3261 §25.1).
fn is_token(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = &self.text[self.at..];
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.at += len;
        &rest[..len]
    }

    fn skip_space(&mut self) {
        self.take_while(is_space);
    }

    fn token(&mut self) -> &'a str {
        self.take_while(is_token)
    }

    /// A quoted string after its opening quote is seen; `\x` stands for `x`.
    fn quoted(&mut self) -> Result<String, DigestError> {
        let start = self.at;
        let mut out = String::new();
        let mut chars = self.text[self.at + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += 1 + i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c => out.push(c),
            }
        }
        self.at = start;
        Err(DigestError::Syntax {
            at: start,
            expected: "a closing `\"`",
        })
    }

    fn expected(&self, expected: &'static str) -> DigestError {
        DigestError::Syntax {
            at: self.at,
            expected,
        }
    }
}

/// A `WWW-Authenticate` value: one per algorithm offered, SHA-256 first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge<'a> {
    pub realm: &'a str,
    pub nonce: &'a str,
    pub algorithm: Algorithm,
    /// Offer `qop="auth"` (clients that know no qop still answer without).
    pub qop: bool,
    /// The last request's response was right but its nonce had expired: the
    /// client may retry with the new nonce without asking for a password.
    pub stale: bool,
}

impl fmt::Display for Challenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest realm={}, nonce={}, algorithm={}",
            Quoted(self.realm),
            Quoted(self.nonce),
            self.algorithm.name()
        )?;
        if self.qop {
            f.write_str(", qop=\"auth\"")?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        Ok(())
    }
}

/// A quoted string with `"` and `\` escaped.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Authorization {
        Authorization::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"))
    }

    fn error(value: &str) -> DigestError {
        match Authorization::parse(value) {
            Ok(a) => panic!("accepted {value}: {a:?}"),
            Err(e) => e,
        }
    }

    /// RFC 2617 §3.5: the classic MD5 example, `qop=auth`, method GET.
    #[test]
    fn rfc_2617_example() {
        let a = parse(
            r#"Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        );
        assert_eq!(a.algorithm, Algorithm::Md5);
        assert_eq!(a.qop.as_ref().map(|q| q.nc), Some(1));
        assert_eq!(
            a.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        let ha1 = Algorithm::Md5.hash_hex(&["Mufasa", "testrealm@host.com", "Circle Of Life"]);
        assert_eq!(
            a.expected_response(&ha1, "GET"),
            "6629fae49393a05397450978507c4ef1"
        );
        assert!(a.response_matches(&ha1, "GET"));
        assert!(!a.response_matches(&ha1, "POST"));
    }

    /// RFC 7616 §3.9.1: the same request answered with MD5 and SHA-256.
    #[test]
    fn rfc_7616_examples() {
        for (algorithm, response) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let a = parse(&format!(
                r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="{response}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            ));
            let ha1 = a
                .algorithm
                .hash_hex(&["Mufasa", "http-auth@example.org", "Circle of Life"]);
            assert_eq!(a.expected_response(&ha1, "GET"), response, "{algorithm}");
            assert!(a.response_matches(&ha1, "GET"));
        }
    }

    /// A REGISTER as a phone sends it, computed independently with
    /// Python's hashlib:
    /// `h=lambda s: hashlib.md5(s.encode()).hexdigest()`,
    /// `h(h("ana:dialect:s3cret")+":4f2a:00000002:c0ffee:auth:"+h("REGISTER:sip:127.0.0.1"))`
    /// and the same with `hashlib.sha256`; without qop,
    /// `h(h("ana:dialect:s3cret")+":4f2a:"+h("REGISTER:sip:127.0.0.1"))`.
    #[test]
    fn a_register_computed_by_hand() {
        for (header, response) in [
            (
                r#"Digest username="ana",realm="dialect",nonce="4f2a",uri="sip:127.0.0.1",response="RESPONSE",algorithm=MD5,cnonce="c0ffee",qop=auth,nc=00000002"#,
                "8666efeee89b3f6bd86d937dbda992da",
            ),
            (
                r#"Digest username="ana",realm="dialect",nonce="4f2a",uri="sip:127.0.0.1",response="RESPONSE",algorithm=SHA-256,cnonce="c0ffee",qop=auth,nc=00000002"#,
                "4a5817aae4b38a0c2394086dcab29654ce8e47203e0dae4edf0a9f6e6315e461",
            ),
            (
                r#"Digest username="ana", realm="dialect", nonce="4f2a", uri="sip:127.0.0.1", response="RESPONSE""#,
                "a1ca478a5067039bd002218c6580afaf",
            ),
        ] {
            let a = parse(&header.replace("RESPONSE", response));
            let ha1 = a.algorithm.hash_hex(&["ana", "dialect", "s3cret"]);
            assert_eq!(a.expected_response(&ha1, "REGISTER"), response);
            // Hex in capitals is the same response.
            let upper = parse(&header.replace("RESPONSE", &response.to_uppercase()));
            assert!(upper.response_matches(&ha1, "REGISTER"));
            let wrong = a.algorithm.hash_hex(&["ana", "dialect", "s3creT"]);
            assert!(!a.response_matches(&wrong, "REGISTER"));
        }
    }

    #[test]
    fn names_in_any_case_and_order_unknown_ignored_escapes_kept() {
        let a = parse(
            "dIgEsT  RESPONSE=abc ,URI=\"sip:a,b@x\",, Realm=\"say \\\"hi\\\" \\\\ there\", \
             future=thing, Username=\"bo\\b\", NONCE=n, Algorithm=sha-256, userhash=false",
        );
        assert_eq!(a.username, "bob");
        assert_eq!(a.realm, "say \"hi\" \\ there");
        assert_eq!(a.uri, "sip:a,b@x");
        assert_eq!(a.nonce, "n");
        assert_eq!(a.response, "abc");
        assert_eq!(a.algorithm, Algorithm::Sha256);
        assert_eq!(a.qop, None);
        // A quoted qop, as some phones write it.
        let a = parse(
            r#"Digest username="a", realm="r", nonce="n", uri="u", response="x", qop="auth", nc=1f, cnonce="c""#,
        );
        assert_eq!(a.qop.map(|q| (q.nc, q.nc_text)), Some((31, "1f".into())));
    }

    #[test]
    fn bad_values_are_errors() {
        let full = r#"username="a", realm="r", nonce="n", uri="u", response="x""#;
        assert_eq!(error(&format!("Basic {full}")), DigestError::NotDigest);
        assert_eq!(error(""), DigestError::NotDigest);
        assert_eq!(
            error("Digest username=\"a"),
            DigestError::Syntax {
                at: 16,
                expected: "a closing `\"`"
            }
        );
        assert!(matches!(
            error("Digest username"),
            DigestError::Syntax {
                expected: "`=`",
                ..
            }
        ));
        assert!(matches!(
            error("Digest username="),
            DigestError::Syntax {
                expected: "a value",
                ..
            }
        ));
        assert!(matches!(
            error("Digest =x"),
            DigestError::Syntax {
                expected: "a parameter name",
                ..
            }
        ));
        assert!(matches!(
            error("Digest a=\"x\" b=y"),
            DigestError::Syntax {
                expected: "`,` between parameters",
                ..
            }
        ));
        assert_eq!(
            error(&format!("Digest {full}, USERNAME=b")),
            DigestError::Duplicate("username".into())
        );
        for missing in ["username", "realm", "nonce", "uri", "response"] {
            let without: Vec<&str> = full
                .split(", ")
                .filter(|p| !p.starts_with(missing))
                .collect();
            assert_eq!(
                error(&format!("Digest {}", without.join(", "))),
                DigestError::Missing(missing)
            );
        }
        assert_eq!(
            error(&format!("Digest {full}, algorithm=SHA-512-256")),
            DigestError::UnsupportedAlgorithm("SHA-512-256".into())
        );
        assert_eq!(
            error(&format!("Digest {full}, qop=auth-int, nc=1, cnonce=c")),
            DigestError::UnsupportedQop("auth-int".into())
        );
        assert_eq!(
            error(&format!("Digest {full}, qop=auth, cnonce=c")),
            DigestError::Missing("nc")
        );
        assert_eq!(
            error(&format!("Digest {full}, qop=auth, nc=1")),
            DigestError::Missing("cnonce")
        );
        for nc in ["123456789", "xyz", "-1"] {
            assert_eq!(
                error(&format!("Digest {full}, qop=auth, cnonce=c, nc={nc}")),
                DigestError::BadNonceCount(nc.into())
            );
        }
        assert!(DigestError::NotDigest.wants_challenge());
        assert!(!DigestError::Missing("nonce").wants_challenge());
    }

    /// Arbitrary bytes never panic the parser, whatever their characters.
    #[test]
    fn random_values_never_panic() {
        let mut rng = crate::random::Rng::new(11);
        let pieces = [
            "Digest",
            " ",
            ",",
            "=",
            "\"",
            "\\",
            "username",
            "nc",
            "qop",
            "auth",
            "é",
            "\u{1F4DE}",
            "\t",
            "\r\n",
            "x",
        ];
        for _ in 0..20_000 {
            let n = rng.below(12);
            let text: String = (0..n).map(|_| pieces[rng.below(pieces.len())]).collect();
            let _ = Authorization::parse(&text);
        }
    }

    /// Values written with random order, name case, spacing, quoting and
    /// escapes, and an unknown parameter, parse back to what was written.
    #[test]
    fn random_spellings_parse_back() {
        let mut rng = crate::random::Rng::new(7616);
        let alphabet = ['a', 'Z', '0', ' ', ',', '=', '"', '\\', ':', '/', '@', 'é'];
        for _ in 0..2_000 {
            let text = |rng: &mut crate::random::Rng| -> String {
                (0..rng.range(1, 9))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect()
            };
            let (user, realm, nonce, uri, cnonce) = (
                text(&mut rng),
                text(&mut rng),
                text(&mut rng),
                text(&mut rng),
                text(&mut rng),
            );
            let nc = rng.below(1 << 20) as u32;
            let sha = rng.chance(50);
            let mut params = vec![
                ("username", Quoted(&user).to_string()),
                ("realm", Quoted(&realm).to_string()),
                ("nonce", Quoted(&nonce).to_string()),
                ("uri", Quoted(&uri).to_string()),
                ("response", "0123abcd".to_string()),
                ("qop", "auth".to_string()),
                ("nc", format!("{nc:08x}")),
                ("cnonce", Quoted(&cnonce).to_string()),
                ("algorithm", if sha { "sha-256" } else { "md5" }.to_string()),
                ("x-extra", "\"ignored, really\"".to_string()),
            ];
            rng.shuffle(&mut params);
            let spaces = [" ", "", "\t", "  "];
            let mut value = "Digest ".to_string();
            for (i, (name, v)) in params.iter().enumerate() {
                let name = if rng.chance(50) {
                    name.to_ascii_uppercase()
                } else {
                    name.to_string()
                };
                let s = spaces[rng.below(spaces.len())];
                let sep = if i == 0 { "" } else { "," };
                value.push_str(&format!("{sep}{s}{name}{s}={s}{v}"));
            }
            let a = parse(&value);
            assert_eq!(
                (a.username, a.realm, a.nonce, a.uri),
                (user, realm, nonce, uri),
                "{value}"
            );
            let q = a.qop.expect("qop");
            assert_eq!((q.nc, q.cnonce), (nc, cnonce));
            let expected = if sha {
                Algorithm::Sha256
            } else {
                Algorithm::Md5
            };
            assert_eq!(a.algorithm, expected);
        }
    }

    #[test]
    fn challenges_quote_and_flag() {
        let c = Challenge {
            realm: "a \"b\" \\c",
            nonce: "n1",
            algorithm: Algorithm::Sha256,
            qop: true,
            stale: true,
        };
        assert_eq!(
            c.to_string(),
            r#"Digest realm="a \"b\" \\c", nonce="n1", algorithm=SHA-256, qop="auth", stale=true"#
        );
        let c = Challenge {
            realm: "dialect",
            nonce: "n2",
            algorithm: Algorithm::Md5,
            qop: false,
            stale: false,
        };
        assert_eq!(
            c.to_string(),
            r#"Digest realm="dialect", nonce="n2", algorithm=MD5"#
        );
        // A challenge parses back (as a client's parameters would).
        let round = format!("{}, username=\"u\", uri=\"x\", response=\"r\"", c);
        assert_eq!(parse(&round).realm, "dialect");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(hex(&[0, 0xab, 0x7f]), "00ab7f");
    }
}
