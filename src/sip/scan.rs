//! A glance at a message's raw bytes: its method and its top Via's branch
//! and sent-by, read without parsing the message.
//!
//! These are what RFC 3261 §17.2.3 matches a request to its server
//! transaction by, so the transport can absorb an ACK or answer a
//! retransmission of a transaction it holds at the cost of one table
//! lookup; only new requests go through the full parse
//! (`message::parse`). The transaction key of a parsed request is read
//! the same way ([`via_key`] on its top Via line, before the line is
//! stamped), so both paths find the same transaction.
//!
//! Anything unusual (no Via before the blank line, a folded Via line, a
//! Via this reader does not take apart) gives `None`, and the message
//! takes the full path: the glance saves work, it never decides.

/// The start line's method and the top Via's parts, borrowed from the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glance<'a> {
    /// The request method as written (case-sensitive, RFC 3261 §7.1).
    pub method: &'a str,
    pub via: ViaKey<'a>,
}

/// What a transaction key takes from a Via entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaKey<'a> {
    /// `host[:port]` as written.
    pub sent_by: &'a str,
    /// The `branch` parameter's value, when present.
    pub branch: Option<&'a str>,
}

/// Glances at a request: `None` for a response, for bytes that are not
/// text, or for anything [`via_key`] does not read.
pub fn glance(bytes: &[u8]) -> Option<Glance<'_>> {
    let mut lines = Lines { rest: bytes };
    let start = lines.next()?;
    let space = start.iter().position(|&b| b == b' ')?;
    let method = std::str::from_utf8(&start[..space]).ok()?;
    if method.is_empty() || method.starts_with("SIP/") || !start.ends_with(b" SIP/2.0") {
        return None;
    }
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name = line[..colon].trim_ascii_end();
        if name.eq_ignore_ascii_case(b"Via") || name.eq_ignore_ascii_case(b"v") {
            // A folded Via (continued on the next line) takes the full path.
            if lines.rest.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                return None;
            }
            let value = std::str::from_utf8(&line[colon + 1..]).ok()?;
            return Some(Glance {
                method,
                via: via_key(value)?,
            });
        }
    }
    None
}

/// The lines of a message head, without their CRLF (a bare LF ends a line
/// too, as the full parser allows).
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&self.rest[..end], &self.rest[end + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// The first Via entry of a Via header value
/// (`SIP/2.0/UDP host:port;branch=z9hG4bK...;rport, ...`), taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaEntry<'a> {
    /// The transport token as written (`UDP`, `tcp`, ...).
    pub transport: &'a str,
    /// `host[:port]` as written.
    pub sent_by: &'a str,
    /// The parameters, from the first `;` to the end of the entry.
    params: &'a str,
    /// Where `params` starts in the header value read.
    params_at: usize,
}

impl<'a> ViaEntry<'a> {
    /// The parameters in order, as (name, value): `None` for one without
    /// a value (`;rport`).
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a> {
        let mut rest = self.params;
        std::iter::from_fn(move || {
            let params = rest.strip_prefix(';')?;
            let end = param_end(params);
            let param = &params[..end];
            rest = &params[end..];
            Some(match param.bytes().position(|b| b == b'=') {
                Some(eq) => (param[..eq].trim(), Some(param[eq + 1..].trim())),
                None => (param.trim(), None),
            })
        })
    }

    /// A parameter by name (ASCII case-insensitive): `Some(None)` for one
    /// without a value, `Some(Some(value))` otherwise.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The header value read, with this entry's parameters replaced by
    /// `params` (each written `;name` or `;name=value`).
    pub fn with_params(&self, value: &str, params: &str) -> String {
        let end = self.params_at + self.params.len();
        format!("{}{params}{}", &value[..self.params_at], &value[end..])
    }

    pub fn key(&self) -> ViaKey<'a> {
        ViaKey {
            sent_by: self.sent_by,
            branch: self.param("branch").flatten().filter(|b| !b.is_empty()),
        }
    }
}

/// Reads the first Via entry of a Via header value: `None` if it is not
/// `protocol/version/transport sent-by` followed by parameters.
pub fn via_entry(value: &str) -> Option<ViaEntry<'_>> {
    let bytes = value.as_bytes();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let skip_blank = |at: usize| at + bytes[at..].iter().take_while(|b| blank(b)).count();
    // SIP / 2.0 / transport: two slashes, with optional white space.
    let mut at = skip_blank(0);
    for _ in 0..2 {
        let slash = at + bytes[at..].iter().position(|&b| b == b'/')?;
        if bytes[at..slash].iter().all(blank) {
            return None;
        }
        at = skip_blank(slash + 1);
    }
    let transport_end = at + bytes[at..].iter().position(blank)?;
    let transport = &value[at..transport_end];
    at = skip_blank(transport_end);
    let sent_by_end = at + param_end(&value[at..]);
    let sent_by = value[at..sent_by_end].trim_ascii();
    if sent_by.is_empty() || sent_by.bytes().any(|b| blank(&b)) {
        return None;
    }
    // The parameters run to the end of this entry (a `,` starts the next).
    let rest = &value[sent_by_end..];
    let mut end = 0;
    while let Some(params) = rest[end..].strip_prefix(';') {
        end += 1 + param_end(params);
    }
    Some(ViaEntry {
        transport,
        sent_by,
        params: &rest[..end],
        params_at: sent_by_end,
    })
}

/// What a transaction key takes from the first Via entry of a header value.
pub fn via_key(value: &str) -> Option<ViaKey<'_>> {
    via_entry(value).map(|entry| entry.key())
}

/// Where a Via parameter (or the sent-by) ends: at the next `;` or `,`.
fn param_end(text: &str) -> usize {
    text.bytes()
        .position(|b| b == b';' || b == b',')
        .unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: &str = "ACK sip:+18005550100@127.0.0.1:5060 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport\r\n\
        From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n\
        Call-ID: c1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn a_request_gives_its_method_branch_and_sent_by() {
        let g = glance(ACK.as_bytes()).unwrap();
        assert_eq!(g.method, "ACK");
        assert_eq!(g.via.sent_by, "127.0.0.1:5061");
        assert_eq!(g.via.branch, Some("z9hG4bK-1-0"));
    }

    #[test]
    fn compact_names_spacing_and_several_entries_are_read() {
        let key = via_key(" SIP / 2.0 / TCP [::1]:5070 ; Branch = z9hG4bKx ; rport, SIP/2.0/UDP b")
            .unwrap();
        assert_eq!(key.sent_by, "[::1]:5070");
        assert_eq!(key.branch, Some("z9hG4bKx"));
        let text = ACK.replace("Via:", "v :");
        assert_eq!(
            glance(text.as_bytes()).unwrap().via.sent_by,
            "127.0.0.1:5061"
        );
        assert_eq!(via_key("SIP/2.0/UDP host").unwrap().branch, None);
    }

    #[test]
    fn parameters_are_read_by_name_within_their_entry() {
        let entry = via_entry(
            "SIP/2.0/udp h:5;rport;Received=192.0.2.1;branch=z9hG4bKa, SIP/2.0/UDP b;maddr=x",
        )
        .unwrap();
        assert_eq!((entry.transport, entry.sent_by), ("udp", "h:5"));
        assert_eq!(entry.param("rport"), Some(None));
        assert_eq!(entry.param("received"), Some(Some("192.0.2.1")));
        assert_eq!(entry.param("maddr"), None, "the next entry's");
        assert_eq!(entry.key().branch, Some("z9hG4bKa"));
    }

    #[test]
    fn anything_unusual_takes_the_full_path() {
        for text in [
            // A response.
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
            // A folded Via.
            "ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\n\r\n",
            // No Via in the head (one in the body does not count).
            "ACK sip:x SIP/2.0\r\nCSeq: 1 ACK\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1",
            // Not a Via entry.
            "ACK sip:x SIP/2.0\r\nVia: garbage\r\n\r\n",
            "ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP\r\n\r\n",
            // Not a request line.
            "ACK sip:x\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
        ] {
            assert_eq!(glance(text.as_bytes()), None, "{text:?}");
        }
        assert_eq!(glance(&[0xff, 0xfe, b' ', b'\r']), None);
    }
}
