//! One datagram through the SIP ingress path: parse, Via stamping,
//! validation, transactions, a handler's 302 (see `sip_datagram.rs`).

#![no_main]

#[path = "sip_datagram.rs"]
mod sip_datagram;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sip_datagram::run(data);
});
