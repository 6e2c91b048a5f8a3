//! SIP messages: the one file that imports `rsipstack` (its `sip` message
//! model, pinned in Cargo.toml), and what the server reads from a request.
//!
//! A datagram or a framed stream message is parsed with rsipstack's
//! `SipMessage::try_from`; the rest of the server sees only the types here
//! (`Request`, `Method`, `Via`, `NameAddr`, `ContactEntry`), so a change of
//! library touches one file. Responses are not built through rsipstack's
//! types: `sip::response` writes their bytes from the request's raw header
//! values (docs/decisions.md, "SIP responses are written as bytes").
//! Via entries are read, and the top one stamped, by `sip::scan`'s
//! reader, the one the transaction key uses; a name-addr's URI is parsed
//! by rsipstack, its display name and tag read around it.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use rsipstack::sip as rs;
use rsipstack::sip::HeadersExt;

use crate::sip::scan;

/// A parsed message: a request for the server to answer, or a response
/// (which a redirect server never expects and drops).
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "requests are the hot path; boxing them would cost an allocation per message"
)]
pub enum Message {
    Request(Request),
    Response(ReceivedResponse),
}

/// Why bytes are not a SIP message at all (no answer is possible).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparseable SIP message: {0}")]
pub struct ParseError(pub String);

/// Parses one datagram or one framed stream message.
///
/// A request with a method rsipstack does not know (`FOO sip:x SIP/2.0`) is
/// still parsed, as `Method::Other`, so it can be answered 501 rather than
/// dropped: RFC 3261 §8.2.1 wants an answer to every unknown method.
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    match rs::SipMessage::try_from(bytes) {
        Ok(rs::SipMessage::Request(mut inner)) => {
            // Without Content-Length the body runs to the end of the
            // datagram (RFC 3261 §18.3); rsipstack reads none.
            if !inner
                .headers
                .iter()
                .any(|h| matches!(h, rs::Header::ContentLength(_)))
                && let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n")
            {
                inner.body = bytes[end + 4..].to_vec();
            }
            Ok(Message::Request(Request::new(inner, None)))
        }
        Ok(rs::SipMessage::Response(inner)) => Ok(Message::Response(ReceivedResponse { inner })),
        Err(first) => parse_unknown_method(bytes).ok_or_else(|| ParseError(first.to_string())),
    }
}

/// The error path of `parse`: if the start line names a method token that
/// rsipstack rejects, parse the message again with a known method in its
/// place and remember the real one.
fn parse_unknown_method(bytes: &[u8]) -> Option<Message> {
    let space = bytes.iter().position(|&b| b == b' ')?;
    let token = std::str::from_utf8(&bytes[..space]).ok()?;
    let is_token = !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if !is_token || Method::parse(token) != Method::Other(token.into()) {
        return None;
    }
    let mut patched = b"OPTIONS".to_vec();
    patched.extend_from_slice(&bytes[space..]);
    match rs::SipMessage::try_from(&patched[..]).ok()? {
        rs::SipMessage::Request(inner) => Some(Message::Request(Request::new(
            inner,
            Some(Method::Other(token.into())),
        ))),
        rs::SipMessage::Response(_) => None,
    }
}

/// A request method; `Other` keeps a method this server does not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Message,
    Notify,
    Prack,
    Publish,
    Refer,
    Subscribe,
    Update,
    Other(Box<str>),
}

impl Method {
    /// Every known method, in the order of `index` (counters use it).
    pub const KNOWN: [Method; 14] = [
        Method::Invite,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Options,
        Method::Register,
        Method::Info,
        Method::Message,
        Method::Notify,
        Method::Prack,
        Method::Publish,
        Method::Refer,
        Method::Subscribe,
        Method::Update,
    ];

    /// Method names are case-sensitive (RFC 3261 §7.1).
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "MESSAGE" => Method::Message,
            "NOTIFY" => Method::Notify,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            "REFER" => Method::Refer,
            "SUBSCRIBE" => Method::Subscribe,
            "UPDATE" => Method::Update,
            other => Method::Other(other.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Message => "MESSAGE",
            Method::Notify => "NOTIFY",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Refer => "REFER",
            Method::Subscribe => "SUBSCRIBE",
            Method::Update => "UPDATE",
            Method::Other(name) => name,
        }
    }

    /// Position in `KNOWN`, or `KNOWN.len()` for `Other`.
    pub fn index(&self) -> usize {
        Method::KNOWN
            .iter()
            .position(|m| m == self)
            .unwrap_or(Method::KNOWN.len())
    }

    fn from_rs(method: rs::Method) -> Method {
        match method {
            rs::Method::Invite => Method::Invite,
            rs::Method::Ack => Method::Ack,
            rs::Method::Bye => Method::Bye,
            rs::Method::Cancel => Method::Cancel,
            rs::Method::Options => Method::Options,
            rs::Method::Register => Method::Register,
            rs::Method::Info => Method::Info,
            rs::Method::Message => Method::Message,
            rs::Method::Notify => Method::Notify,
            rs::Method::PRack => Method::Prack,
            rs::Method::Publish => Method::Publish,
            rs::Method::Refer => Method::Refer,
            rs::Method::Subscribe => Method::Subscribe,
            rs::Method::Update => Method::Update,
        }
    }
}

/// One Via entry (RFC 3261 §20.42), with the parameters §18 reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, ... as written.
    pub transport: String,
    /// The sent-by host: a name, an IPv4 address or a bracketed IPv6 one.
    pub host: String,
    pub port: Option<u16>,
    pub branch: Option<String>,
    pub received: Option<String>,
    /// `None`: no `rport`; `Some(None)`: `rport` asked for; `Some(Some(p))`: filled.
    pub rport: Option<Option<u16>>,
}

impl Via {
    /// The first Via entry of a header value, read as the transaction key
    /// is ([`scan::via_entry`]); `None` if it is not a Via entry, its port
    /// is not a number, or its `rport` has a value that is not a port.
    fn parse(value: &str) -> Option<Via> {
        let entry = scan::via_entry(value)?;
        let (host, port) = match entry.sent_by.rsplit_once(':') {
            // A port after an IPv6 reference or a name (an IPv6 address
            // without brackets has colons but no port).
            Some((host, port)) if host.ends_with(']') || !host.contains(':') => {
                (host, Some(port.parse().ok()?))
            }
            _ => (entry.sent_by, None),
        };
        if host.is_empty() || (host.starts_with('[') != host.ends_with(']')) {
            return None;
        }
        let mut via = Via {
            transport: entry.transport.to_ascii_uppercase(),
            host: host.to_string(),
            port,
            branch: None,
            received: None,
            rport: None,
        };
        for (name, value) in entry.params() {
            if name.eq_ignore_ascii_case("branch") && via.branch.is_none() {
                via.branch = value.map(str::to_string);
            } else if name.eq_ignore_ascii_case("received") && via.received.is_none() {
                via.received = value.map(str::to_string);
            } else if name.eq_ignore_ascii_case("rport") && via.rport.is_none() {
                via.rport = Some(match value {
                    None | Some("") => None,
                    Some(port) => Some(port.parse().ok()?),
                });
            }
        }
        Some(via)
    }

    /// The sent-by host as an address, when it is one.
    pub fn host_ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

/// A From, To or P-Asserted-Identity value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    /// The URI as written, without angle brackets.
    pub uri: String,
    /// The user part of a `sip:`/`sips:` URI, or the number of a `tel:` one.
    pub user: Option<String>,
    pub tag: Option<String>,
}

impl NameAddr {
    /// `"Display" <uri>;params` or `uri;params`. The URI is parsed by
    /// rsipstack (for its user part); the display name and the `tag`
    /// parameter are read around it.
    fn parse(value: &str) -> Option<NameAddr> {
        let (display, uri, params) = NameAddr::split(value)?;
        let parsed = rs::Uri::try_from(uri).ok()?;
        let tag = params.split(';').find_map(|param| {
            let (name, value) = param.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("tag")
                .then(|| value.trim().to_string())
        });
        Some(NameAddr {
            display: (!display.is_empty()).then(|| display.to_string()),
            uri: uri.to_string(),
            user: uri_user(&parsed),
            tag,
        })
    }

    /// The display name (unquoted), the URI and the parameters after it,
    /// if the value has the shape of a name-addr or an addr-spec: angle
    /// brackets in order, and a URI with a scheme.
    fn split(value: &str) -> Option<(&str, &str, &str)> {
        let value = value.trim();
        let (display, uri, params) = match (value.find('<'), value.find('>')) {
            (Some(open), Some(close)) if open < close => (
                value[..open].trim().trim_matches('"'),
                &value[open + 1..close],
                &value[close + 1..],
            ),
            (None, None) => match value.split_once(';') {
                Some((uri, params)) => ("", uri, params),
                None => ("", value, ""),
            },
            _ => return None,
        };
        let uri = uri.trim();
        let (scheme, rest) = uri.split_once(':')?;
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        (scheme_ok && !rest.is_empty()).then_some((display, uri, params))
    }
}

/// One Contact entry of a REGISTER or a response. Its `expires` and `q`
/// parameters are kept as written: the registrar reads them and answers
/// 400 to a value that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEntry {
    /// `*` (remove all bindings) or the URI without angle brackets.
    pub uri: String,
    pub expires: Option<String>,
    pub q: Option<String>,
}

impl ContactEntry {
    pub fn is_star(&self) -> bool {
        self.uri == "*"
    }
}

/// A CSeq value: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    /// `None` unless the value is exactly a 32-bit number and a method.
    pub fn parse(value: &str) -> Option<CSeq> {
        let mut words = value.split_whitespace();
        let seq = words.next()?.parse().ok()?;
        let method = Method::parse(words.next()?);
        words.next().is_none().then_some(CSeq { seq, method })
    }
}

/// A request, with what every answer reads found once: the top Via
/// parsed, the position of each header the server reads on every request,
/// and From and To parsed on first use.
#[derive(Debug, Clone)]
pub struct Request {
    inner: rs::Request,
    method: Method,
    top_via: Option<Via>,
    /// Where the first header of each [`Known`] kind is in `inner.headers`.
    first: [Option<u32>; Known::COUNT],
    from: OnceLock<Option<NameAddr>>,
    to: OnceLock<Option<NameAddr>>,
}

/// The headers the server reads on every request, found in one pass when
/// the request is parsed rather than by name at each read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Via,
    From,
    To,
    CallId,
    CSeq,
    MaxForwards,
    ContentLength,
}

impl Known {
    const COUNT: usize = 7;
    const ALL: [Known; Known::COUNT] = [
        Known::Via,
        Known::From,
        Known::To,
        Known::CallId,
        Known::CSeq,
        Known::MaxForwards,
        Known::ContentLength,
    ];

    /// The full name, as `rs::Header::name` gives it (compact forms too).
    fn name(self) -> &'static str {
        match self {
            Known::Via => "Via",
            Known::From => "From",
            Known::To => "To",
            Known::CallId => "Call-ID",
            Known::CSeq => "CSeq",
            Known::MaxForwards => "Max-Forwards",
            Known::ContentLength => "Content-Length",
        }
    }

    fn of_header(header: &rs::Header) -> Option<Known> {
        Some(match header {
            rs::Header::Via(_) => Known::Via,
            rs::Header::From(_) => Known::From,
            rs::Header::To(_) => Known::To,
            rs::Header::CallId(_) => Known::CallId,
            rs::Header::CSeq(_) => Known::CSeq,
            rs::Header::MaxForwards(_) => Known::MaxForwards,
            rs::Header::ContentLength(_) => Known::ContentLength,
            _ => return None,
        })
    }

    fn of_name(name: &str) -> Option<Known> {
        Known::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

impl Request {
    fn new(inner: rs::Request, other: Option<Method>) -> Request {
        let method = other.unwrap_or_else(|| Method::from_rs(inner.method));
        let mut first = [None; Known::COUNT];
        for (i, header) in inner.headers.iter().enumerate() {
            if let Some(known) = Known::of_header(header) {
                first[known as usize].get_or_insert(i as u32);
            }
        }
        let mut req = Request {
            inner,
            method,
            top_via: None,
            first,
            from: OnceLock::new(),
            to: OnceLock::new(),
        };
        req.top_via = req.parse_top_via();
        req
    }

    fn parse_top_via(&self) -> Option<Via> {
        Via::parse(self.known(Known::Via)?)
    }

    /// The first value of a header this server reads on every request.
    fn known(&self, known: Known) -> Option<&str> {
        let at = self.first[known as usize]?;
        self.inner
            .headers
            .0
            .get(at as usize)
            .map(|h| h.value().trim())
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The Request-URI as written.
    pub fn uri(&self) -> String {
        self.inner.uri.to_string()
    }

    /// The Request-URI's scheme in lower case (`sip`, `sips`, `tel`, ...).
    pub fn uri_scheme(&self) -> String {
        self.inner
            .uri
            .scheme
            .as_ref()
            .map_or(String::new(), |s| s.to_string().to_ascii_lowercase())
    }

    /// The dialed user or number: the user part of a `sip:` URI, the
    /// subscriber number of a `tel:` one.
    pub fn uri_user(&self) -> Option<String> {
        uri_user(&self.inner.uri)
    }

    /// The first value of a header, by its full name (compact forms are
    /// recognised under their full name: `v` is `Via`).
    pub fn header(&self, name: &str) -> Option<&str> {
        match Known::of_name(name) {
            Some(known) => self.known(known),
            None => self.header_values(name).next(),
        }
    }

    /// Every header line with that name, in order.
    pub fn header_values<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.inner
            .headers
            .iter()
            .filter(move |h| h.name().eq_ignore_ascii_case(name))
            .map(|h| h.value().trim())
    }

    /// Every header line as (name, value), names in their full form.
    pub fn all_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner.headers.iter().map(|h| (h.name(), h.value()))
    }

    pub fn call_id(&self) -> Option<&str> {
        self.known(Known::CallId).filter(|v| !v.is_empty())
    }

    pub fn cseq(&self) -> Option<CSeq> {
        self.known(Known::CSeq).and_then(CSeq::parse)
    }

    /// The top Via entry, parsed when the request was.
    pub fn top_via(&self) -> Option<&Via> {
        self.top_via.as_ref()
    }

    /// Every Via entry in order, several in one header line included.
    /// `None` if one of them does not parse.
    pub fn vias(&self) -> Option<Vec<Via>> {
        let mut out = Vec::new();
        for line in self.header_values("Via") {
            for value in split_top_level(line) {
                out.push(Via::parse(value)?);
            }
        }
        Some(out)
    }

    /// The From header, parsed on first use.
    pub fn from(&self) -> Option<&NameAddr> {
        self.from
            .get_or_init(|| self.known(Known::From).and_then(NameAddr::parse))
            .as_ref()
    }

    /// Whether the To header has the shape of a name-addr (what a server
    /// checks of it: RFC 3261 §8.2 reads To only for its tag), without
    /// parsing its URI.
    pub fn to_is_well_formed(&self) -> bool {
        self.known(Known::To).and_then(NameAddr::split).is_some()
    }

    /// The To header, parsed on first use.
    pub fn to(&self) -> Option<&NameAddr> {
        self.to
            .get_or_init(|| self.known(Known::To).and_then(NameAddr::parse))
            .as_ref()
    }

    /// The first identity of P-Asserted-Identity (RFC 3325), when present.
    pub fn p_asserted_identity(&self) -> Option<NameAddr> {
        let value = self.header("P-Asserted-Identity")?;
        let first = split_top_level(value).into_iter().next()?;
        NameAddr::parse(first)
    }

    /// `None` if absent, `Some(None)` if not a number.
    pub fn max_forwards(&self) -> Option<Option<u32>> {
        self.known(Known::MaxForwards).map(|v| v.parse().ok())
    }

    /// Every Contact entry of every Contact line; `None` if one does not parse.
    pub fn contacts(&self) -> Option<Vec<ContactEntry>> {
        let mut out = Vec::new();
        for line in self.inner.contact_headers() {
            for c in rs::typed::Contact::parse_header_list(line.value()).ok()? {
                let star = matches!(&c.uri.scheme, Some(rs::Scheme::Other(s)) if s == "*");
                out.push(ContactEntry {
                    uri: if star {
                        "*".to_string()
                    } else {
                        c.uri.to_string()
                    },
                    expires: c.params.iter().find_map(|p| match p {
                        rs::Param::Expires(e) => Some(e.value().to_string()),
                        _ => None,
                    }),
                    q: c.params.iter().find_map(|p| match p {
                        rs::Param::Q(q) => Some(q.value().to_string()),
                        _ => None,
                    }),
                });
            }
        }
        Some(out)
    }

    /// The Expires header in seconds; `Some(None)` if not a number.
    pub fn expires(&self) -> Option<Option<u32>> {
        self.header("Expires").map(|v| v.parse().ok())
    }

    pub fn authorization(&self) -> Option<&str> {
        self.header("Authorization")
    }

    /// The Content-Length header: `None` if absent, `Some(None)` if not a number.
    pub fn content_length(&self) -> Option<Option<usize>> {
        self.known(Known::ContentLength).map(|v| v.parse().ok())
    }

    /// The body as received (never longer than Content-Length says).
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }

    /// RFC 3261 §18.2.1 and RFC 3581: marks the top Via with where the
    /// request really came from, so every response copies it. `received`
    /// is added when the sent-by host is not the source address; an empty
    /// `rport` is filled with the source port (and then `received` is
    /// always added, RFC 3581 §4).
    pub fn stamp_source(&mut self, source: SocketAddr) {
        let Some(via) = &self.top_via else { return };
        let fill_rport = via.rport == Some(None);
        let differs = via.host_ip() != Some(source.ip());
        if !differs && !fill_rport {
            return;
        }
        let Some(at) = self.first[Known::Via as usize] else {
            return;
        };
        let Some(header) = self.inner.headers.0.get_mut(at as usize) else {
            return;
        };
        let line = header.value().trim().to_string();
        // The same reader as `top_via` (and the transaction key): what it
        // read, it can stamp.
        let Some(entry) = scan::via_entry(&line) else {
            return;
        };
        let mut params = String::new();
        for (name, value) in entry.params() {
            let rport = name.eq_ignore_ascii_case("rport");
            if name.eq_ignore_ascii_case("received") || (rport && fill_rport) {
                continue;
            }
            params.push(';');
            params.push_str(name);
            if let Some(value) = value {
                params.push('=');
                params.push_str(value);
            }
        }
        if fill_rport {
            params.push_str(&format!(";rport={}", source.port()));
        }
        params.push_str(&format!(";received={}", source.ip()));
        *header = rs::Header::Via(rs::headers::Via::new(entry.with_params(&line, &params)));
        self.top_via = self.parse_top_via();
    }
}

/// A response received by the server (a redirect server drops them).
#[derive(Debug, Clone)]
pub struct ReceivedResponse {
    inner: rs::Response,
}

impl ReceivedResponse {
    pub fn code(&self) -> u16 {
        self.inner.status_code.code()
    }

    pub fn call_id(&self) -> Option<&str> {
        self.inner.call_id_header().ok().map(|c| c.value().trim())
    }

    /// The reason phrase of the status line.
    pub fn reason(&self) -> String {
        self.inner.status_code.to_string()
    }

    /// The first value of a header, by its full name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Every header line with that name, in order.
    pub fn header_values<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.inner
            .headers
            .iter()
            .filter(move |h| h.name().eq_ignore_ascii_case(name))
            .map(|h| h.value().trim())
    }

    pub fn cseq(&self) -> Option<CSeq> {
        self.header("CSeq").and_then(CSeq::parse)
    }

    /// The branch of the top Via: which of our client transactions this
    /// answers.
    pub fn branch(&self) -> Option<&str> {
        let entry = scan::via_entry(self.header("Via")?)?;
        entry.param("branch").flatten()
    }

    /// The To header (its tag names the answering side of a dialog).
    pub fn to(&self) -> Option<NameAddr> {
        NameAddr::parse(self.header("To")?)
    }

    /// The URI of the first Contact (where the dialog's requests go).
    pub fn contact_uri(&self) -> Option<String> {
        let value = self.header("Contact")?;
        let first = split_top_level(value).into_iter().next()?;
        NameAddr::split(first).map(|(_, uri, _)| uri.to_string())
    }

    /// The body (an SDP answer, say).
    pub fn body(&self) -> &[u8] {
        &self.inner.body
    }
}

/// Parses a From/To-style value (`"Name" <uri>;tag=x`).
pub fn name_addr(value: &str) -> Option<NameAddr> {
    NameAddr::parse(value)
}

/// A URI's host and port as a socket address, when the host is an IP
/// address (`sip:1001@127.0.0.1:5070;transport=udp` is 127.0.0.1:5070;
/// no port is 5060). Names are not resolved: agents' phones register
/// with their addresses.
pub fn uri_address(uri: &str) -> Option<SocketAddr> {
    let parsed = rs::Uri::try_from(uri).ok()?;
    let host = parsed.host_with_port.host.to_string();
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let port = parsed.host_with_port.port.map_or(5060, |p| p.value());
    Some(SocketAddr::new(ip, port))
}

/// The user of a `sip:`/`sips:` URI, or the number of a `tel:` URI (whose
/// subscriber part rsipstack reads as a host).
fn uri_user(uri: &rs::Uri) -> Option<String> {
    let user = match &uri.scheme {
        Some(rs::Scheme::Other(s)) if s.eq_ignore_ascii_case("tel") => {
            uri.host_with_port.host.to_string()
        }
        _ => uri.user()?.to_string(),
    };
    // A tel: number's parameters (`;phone-context=...`) are not the number.
    let user = user.split(';').next().unwrap_or_default();
    Some(unescape(user))
}

/// A URI's user part with its `%XX` escapes decoded (RFC 3261 §19.1.4:
/// `sip:%2B1800...` and `sip:+1800...` are the same user). A `%` not
/// followed by two hex digits is kept as written.
pub fn unescape(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let (h, l) = (hex(h).unwrap_or(0), hex(l).unwrap_or(0));
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a header value at commas outside quotes and angle brackets.
pub fn split_top_level(value: &str) -> Vec<&str> {
    let (mut out, mut start, mut quoted, mut angle) = (Vec::new(), 0, false, false);
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}
