//! Media for `dialect serve`'s calls: SDP offer/answer, RTP streams sent
//! from one 20 ms ticker, prompts, DTMF, bridges and recordings. Knows
//! nothing of SIP or the language.
//!
//! `g711` converts 16-bit linear PCM (how prompts are stored, read with
//! hound) to and from the G.711 µ-law and A-law payloads of PCMU and PCMA;
//! `dtmf` reads RFC 4733 telephone-events and reports each key press once;
//! `prompt` reads a prompt's WAV file and plays it as 20 ms frames, once or
//! looped; `sdp` answers and makes offers (RFC 3264); `rtp` writes and
//! reads packets; `ports` hands out RTP ports from a range; `engine` runs
//! the streams.

pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod ports;
pub mod prompt;
pub mod rtp;
pub mod sdp;
