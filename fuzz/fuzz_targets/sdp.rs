//! Reads arbitrary input as an SDP offer (answered with `media::sdp::answer`)
//! and as an answer (`read_answer`), and as an RTP packet (`media::rtp::parse`).
//! Nothing may panic; an offer that is answered gets an answer that reads
//! back with the same codec, and whose direction mirrors the offer's; a
//! packet that parses has a payload inside the datagram.

#![no_main]

use dialect::media::rtp;
use dialect::media::sdp::{Codec, Local, answer, read_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let local = Local {
        addr: "127.0.0.1:20000".parse().unwrap(),
        session_id: 1,
        version: 1,
    };
    if let Ok((offer, body)) = answer(data, &local, &[Codec::Pcmu, Codec::Pcma]) {
        let back = read_answer(body.as_bytes()).expect("our answer reads back");
        assert_eq!(back.codec, offer.codec);
        assert_eq!(back.remote, local.addr);
        assert_eq!(back.direction, offer.direction.mirror());
        assert_eq!(back.dtmf.is_some(), offer.dtmf.is_some());
    }
    let _ = read_answer(data);
    if let Ok(packet) = rtp::parse(data) {
        assert!(packet.payload.len() <= data.len().saturating_sub(12));
    }
});
