//! Media for `dialect serve`'s calls: what turns prompts into RTP payloads
//! and received audio into recordings. Knows nothing of SIP or the
//! language.
//!
//! `g711` converts 16-bit linear PCM (how prompts are stored, read with
//! hound) to and from the G.711 µ-law and A-law payloads of PCMU and PCMA;
//! `dtmf` reads RFC 4733 telephone-events and reports each key press once;
//! `prompt` reads a prompt's WAV file and plays it as 20 ms frames, once or
//! looped.

pub mod dtmf;
pub mod g711;
pub mod prompt;
