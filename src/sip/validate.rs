//! Checks a parsed request before anything acts on it: what RFC 3261
//! §8.2 requires a server to reject with 400, and the reason phrase that
//! says why.

use crate::sip::message::{CSeq, Request};

/// Why a parseable request is answered 400 (`reason` is the phrase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("bad {0} header")]
    Bad(&'static str),
    #[error("CSeq method does not match the request method")]
    CSeqMethod,
    #[error("Content-Length is larger than the body")]
    ShortBody,
}

impl Invalid {
    /// The reason phrase of the 400 answer.
    pub fn reason(&self) -> &'static str {
        match self {
            Invalid::Missing("Via") => "Missing Via Header",
            Invalid::Missing("From") => "Missing From Header",
            Invalid::Missing("To") => "Missing To Header",
            Invalid::Missing("Call-ID") => "Missing Call-ID Header",
            Invalid::Missing("CSeq") => "Missing CSeq Header",
            Invalid::Missing(_) => "Missing Mandatory Header",
            Invalid::Bad("Via") => "Bad Via Header",
            Invalid::Bad("From") => "Bad From Header",
            Invalid::Bad("To") => "Bad To Header",
            Invalid::Bad("CSeq") => "Bad CSeq Header",
            Invalid::Bad("Max-Forwards") => "Bad Max-Forwards Header",
            Invalid::Bad("Content-Length") => "Bad Content-Length Header",
            Invalid::Bad(_) => "Bad Header",
            Invalid::CSeqMethod => "CSeq Method Does Not Match Request",
            Invalid::ShortBody => "Content-Length Exceeds Body",
        }
    }
}

/// Checks the mandatory headers (RFC 3261 §8.1.1: Via, From, To, Call-ID,
/// CSeq; From is parsed, To only checked for its shape, since nothing but
/// its tag is read before the handler), the CSeq number and method, Max-Forwards when present, and that
/// the body is as long as Content-Length says (§18.3: a datagram shorter
/// than its Content-Length is rejected).
///
/// A missing Max-Forwards passes, as a proxy's check does (§16.3 step 2):
/// older user agents omit it and refusing them gains nothing. Bytes beyond
/// Content-Length are not an error: §18.3 says to discard them.
pub fn validate(req: &Request) -> Result<(), Invalid> {
    let top_via = req.header("Via").ok_or(Invalid::Missing("Via"))?;
    if top_via.is_empty() || req.top_via().is_none() {
        return Err(Invalid::Bad("Via"));
    }
    req.header("From").ok_or(Invalid::Missing("From"))?;
    req.from().ok_or(Invalid::Bad("From"))?;
    req.header("To").ok_or(Invalid::Missing("To"))?;
    if !req.to_is_well_formed() {
        return Err(Invalid::Bad("To"));
    }
    req.call_id().ok_or(Invalid::Missing("Call-ID"))?;
    let cseq = req.header("CSeq").ok_or(Invalid::Missing("CSeq"))?;
    let CSeq { method, .. } = CSeq::parse(cseq).ok_or(Invalid::Bad("CSeq"))?;
    if &method != req.method() {
        return Err(Invalid::CSeqMethod);
    }
    if let Some(None) = req.max_forwards() {
        return Err(Invalid::Bad("Max-Forwards"));
    }
    match req.content_length() {
        Some(None) => return Err(Invalid::Bad("Content-Length")),
        Some(Some(len)) if len > req.body().len() => return Err(Invalid::ShortBody),
        _ => {}
    }
    Ok(())
}
