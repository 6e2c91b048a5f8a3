//! Reads arbitrary input as media: as RFC 4733 telephone-event packets
//! (each chunk of 4 to 7 bytes one payload, its first byte choosing
//! whether the RTP timestamp moves on) through `media::dtmf::Receiver`, and
//! as G.711 payloads decoded and encoded again. Nothing may panic; a
//! digit is reported at most once per timestamp, and every G.711 code
//! encodes back to itself (µ-law's negative zero aside).

#![no_main]

use dialect::media::dtmf::Receiver;
use dialect::media::g711;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rx = Receiver::default();
    let mut timestamp = 0u32;
    let mut reported = Vec::new();
    for chunk in data.chunks(4 + usize::from(data.first().copied().unwrap_or(0) % 4)) {
        if chunk[0] & 1 == 1 {
            timestamp = timestamp.wrapping_add(160);
        }
        if let Some(digit) = rx.on_packet(timestamp, chunk) {
            assert!(
                !reported.contains(&timestamp),
                "digit {digit} twice at {timestamp}"
            );
            reported.push(timestamp);
        }
    }
    for &code in data {
        let want = if code == 0x7F { 0xFF } else { code };
        assert_eq!(g711::ulaw_encode(g711::ulaw_decode(code)), want);
        assert_eq!(g711::alaw_encode(g711::alaw_decode(code)), code);
    }
});
