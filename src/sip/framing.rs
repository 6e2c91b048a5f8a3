//! Cuts a byte stream (TCP) into SIP messages by Content-Length (RFC 3261
//! §18.3): several messages in one read, one message over several reads.
//!
//! rsipstack's `SipCodec` does the same but hands back a parsed message,
//! so a message that frames but does not parse would look like a broken
//! stream and close the connection; this framer returns the bytes and
//! leaves parsing (and its 400s) to the ingress path.

/// Why a stream cannot be framed any further: the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("Content-Length is not a number")]
    BadLength,
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
}

/// A stream's bytes not yet handed out as messages.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the bytes not yet handed out start.
    start: usize,
    max: usize,
}

impl Framer {
    /// A framer refusing messages longer than `max` bytes.
    pub fn new(max: usize) -> Framer {
        Framer {
            buf: Vec::with_capacity(4096),
            start: 0,
            max,
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next whole message, if the stream holds one. Empty lines
    /// between messages (keep-alives, RFC 5626 §4.4.1) are skipped.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let pending = &self.buf[self.start..];
        let blank = pending
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.start += blank;
        let pending = &self.buf[self.start..];
        let Some(head_end) = find(pending, b"\r\n\r\n") else {
            return if pending.len() > self.max {
                Err(FrameError::TooLarge(self.max))
            } else {
                Ok(None)
            };
        };
        let length = content_length(&pending[..head_end])?;
        let total = head_end + 4 + length;
        if total > self.max {
            return Err(FrameError::TooLarge(self.max));
        }
        if pending.len() < total {
            return Ok(None);
        }
        let begin = self.start;
        self.start += total;
        Ok(Some(&self.buf[begin..begin + total]))
    }

    /// Bytes held that are not yet a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

/// The Content-Length of a header block (full or compact `l` name); a
/// missing one counts as 0.
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            return std::str::from_utf8(line[colon + 1..].trim_ascii())
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or(FrameError::BadLength);
        }
    }
    Ok(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        format!(
            "OPTIONS sip:a@b SIP/2.0\r\nl: {}\r\nCall-ID: x\r\n\r\n{body}",
            body.len()
        )
    }

    fn drain(f: &mut Framer) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(Some(m)) = f.next_message() {
            out.push(String::from_utf8_lossy(m).into_owned());
        }
        out
    }

    #[test]
    fn two_messages_in_one_read() {
        let mut f = Framer::new(65536);
        f.push(format!("{}{}", msg("hello"), msg("")).as_bytes());
        assert_eq!(drain(&mut f), vec![msg("hello"), msg("")]);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn one_message_over_three_reads() {
        let whole = msg("v=0\r\n");
        let mut f = Framer::new(65536);
        for part in [&whole[..10], &whole[10..whole.len() - 2]] {
            f.push(part.as_bytes());
            assert_eq!(f.next_message(), Ok(None));
        }
        f.push(&whole.as_bytes()[whole.len() - 2..]);
        assert_eq!(drain(&mut f), vec![whole]);
    }

    #[test]
    fn keepalives_between_messages_are_skipped() {
        let mut f = Framer::new(65536);
        f.push(format!("\r\n\r\n{}\r\n", msg("")).as_bytes());
        assert_eq!(drain(&mut f), vec![msg("")]);
    }

    #[test]
    fn bad_or_huge_lengths_break_the_stream() {
        let mut f = Framer::new(65536);
        f.push(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: ten\r\n\r\n");
        assert_eq!(f.next_message(), Err(FrameError::BadLength));
        let mut f = Framer::new(100);
        f.push(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 1000\r\n\r\n");
        assert_eq!(f.next_message(), Err(FrameError::TooLarge(100)));
        let mut f = Framer::new(100);
        f.push(&[b'a'; 101]);
        assert_eq!(f.next_message(), Err(FrameError::TooLarge(100)));
    }

    #[test]
    fn a_missing_length_means_no_body() {
        let mut f = Framer::new(65536);
        f.push(b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\nOPTIONS");
        assert_eq!(
            f.next_message().unwrap(),
            Some(&b"OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n"[..])
        );
        assert_eq!(f.pending(), 7);
    }
}
