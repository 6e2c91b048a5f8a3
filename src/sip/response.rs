//! Responses to a request, written straight to bytes.
//!
//! A response copies the request's Via lines, From, To, Call-ID and CSeq
//! (RFC 3261 §8.2.6.2) and adds a To-tag to everything but a 100; the
//! caller adds its own headers (Contact with q-values, Retry-After, Allow,
//! WWW-Authenticate, X-Dialect-Version, ...). The bytes are written
//! directly rather than through rsipstack's `Response` because that would
//! parse every copied header back into typed values only to print them
//! again (docs/decisions.md, "SIP responses are written as bytes").

use std::io::Write;

use crate::sip::message::Request;

/// An encoded response and its status code (the transaction layer reads
/// the code to choose its timers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub bytes: Vec<u8>,
}

impl Response {
    /// The bytes as text, for tests and logs.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// A response being written: the status line and the copied headers are
/// in place; `header` and `contact` add more, `finish` or `body` end it.
#[derive(Debug)]
pub struct Builder {
    code: u16,
    buf: Vec<u8>,
}

/// Starts the response `code reason` to `req`.
pub fn response(req: &Request, code: u16, reason: &str) -> Builder {
    let mut buf = Vec::with_capacity(512);
    let code = code.clamp(100, 699);
    buf.extend_from_slice(b"SIP/2.0 ");
    push_decimal(&mut buf, u64::from(code));
    buf.push(b' ');
    push_line(&mut buf, reason);
    buf.extend_from_slice(b"\r\n");
    for via in req.header_values("Via") {
        push_header(&mut buf, "Via", via);
    }
    if let Some(from) = req.header("From") {
        push_header(&mut buf, "From", from);
    }
    if let Some(to) = req.header("To") {
        buf.extend_from_slice(b"To: ");
        push_line(&mut buf, to);
        if code != 100 && !has_tag(to) {
            // The tag is a hash of what identifies the request, so a
            // stateless answer to a retransmission carries the same tag.
            buf.extend_from_slice(b";tag=");
            let tag = to_tag(req);
            buf.extend(
                (0..16)
                    .rev()
                    .map(|i| b"0123456789abcdef"[(tag >> (i * 4)) as usize & 0xf]),
            );
        }
        buf.extend_from_slice(b"\r\n");
    }
    for name in ["Call-ID", "CSeq"] {
        if let Some(value) = req.header(name) {
            push_header(&mut buf, name, value);
        }
    }
    Builder { code, buf }
}

impl Builder {
    /// Adds `name: value`; line breaks in the value are written as spaces
    /// so no caller can inject a header.
    pub fn header(mut self, name: &str, value: &str) -> Builder {
        push_header(&mut self.buf, name, value);
        self
    }

    /// Adds `Contact: <uri>` with a q-value when given (RFC 3261 §20.10).
    pub fn contact(mut self, uri: &str, q: Option<f32>) -> Builder {
        self.buf.extend_from_slice(b"Contact: <");
        push_line(&mut self.buf, uri);
        self.buf.push(b'>');
        if let Some(q) = q {
            let q = q.clamp(0.0, 1.0);
            let _ = write!(self.buf, ";q={q:.3}");
            while self.buf.ends_with(b"0") && !self.buf.ends_with(b".0") {
                self.buf.pop();
            }
        }
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Ends the response without a body.
    pub fn finish(self) -> Response {
        self.body("", b"")
    }

    /// Ends the response with a body of the given type.
    pub fn body(mut self, content_type: &str, body: &[u8]) -> Response {
        if !body.is_empty() {
            push_header(&mut self.buf, "Content-Type", content_type);
        }
        self.buf.extend_from_slice(b"Content-Length: ");
        push_decimal(&mut self.buf, body.len() as u64);
        self.buf.extend_from_slice(b"\r\n\r\n");
        self.buf.extend_from_slice(body);
        Response {
            code: self.code,
            bytes: self.buf,
        }
    }
}

/// The To-tag this server gives its answers to `req`: a hash (64-bit
/// FNV-1a) of what identifies the request, so the same request always
/// gets the same tag. It need not be secret, only distinct per dialog.
pub fn to_tag(req: &Request) -> u64 {
    let parts = [
        req.call_id(),
        req.header("From"),
        req.header("CSeq"),
        req.top_via().and_then(|v| v.branch.as_deref()),
    ];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        // A separator keeps ("ab", "c") and ("a", "bc") apart.
        for &b in part.unwrap_or("").as_bytes().iter().chain(&[0xff]) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// Writes `n` in decimal.
fn push_decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[at..]);
}

/// Whether a To or From value carries a `tag` parameter (outside the URI).
fn has_tag(value: &str) -> bool {
    let params = match value.rfind('>') {
        Some(end) => &value[end..],
        None => value.split_once(';').map_or("", |(_, p)| p),
    };
    params.split(';').any(|p| {
        let name = p.split('=').next().unwrap_or("").trim();
        name.eq_ignore_ascii_case("tag")
    })
}

fn push_header(buf: &mut Vec<u8>, name: &str, value: &str) {
    push_line(buf, name);
    buf.extend_from_slice(b": ");
    push_line(buf, value);
    buf.extend_from_slice(b"\r\n");
}

/// Copies text, turning CR and LF into spaces.
fn push_line(buf: &mut Vec<u8>, text: &str) {
    let start = buf.len();
    buf.extend_from_slice(text.as_bytes());
    for b in &mut buf[start..] {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
}
