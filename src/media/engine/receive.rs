//! A stream's receive task: reads its socket, drops what does not come
//! from the negotiated remote (strictly: the address and port of its SDP,
//! no learning of another port) and what is not RTP, reads DTMF, writes
//! recordings, and in a bridge relays each packet to the other side's
//! remote from the other side's socket (payload type and numbering
//! rewritten, G.711 transcoded if the laws differ, telephone-events passed
//! with the other side's payload type or dropped if it has none).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::record::lock;
use super::shared::{Atomics, Inner, StreamShared, decoder, encoder};
use crate::media::rtp::{self, MAX_PACKET, Packet};
use crate::media::sdp::Negotiated;

/// Reads the stream's socket until the task is aborted.
pub(crate) async fn run(stream: Arc<StreamShared>, inner: Arc<Inner>) {
    let mut buf = vec![0u8; MAX_PACKET];
    loop {
        match stream.socket.recv_from(&mut buf).await {
            Ok((len, from)) => on_datagram(&stream, &inner, &buf[..len], from),
            // ICMP errors reported on the socket, a datagram too long:
            // nothing to do but read on.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

fn bump(stream: &StreamShared, inner: &Inner, pick: fn(&Atomics) -> &std::sync::atomic::AtomicU64) {
    Atomics::add(pick(&stream.counters), 1);
    Atomics::add(pick(&inner.counters), 1);
}

/// Handles one datagram.
pub(crate) fn on_datagram(stream: &StreamShared, inner: &Inner, datagram: &[u8], from: SocketAddr) {
    let mut rx = lock(&stream.rx);
    // The address the SDP names, from any port: phones behind NAT and
    // test tools (SIPp plays its pcaps from its own media port) send
    // from a port other than the one they receive on.
    let Some(remote) = rx.remote.as_ref().filter(|r| r.remote.ip() == from.ip()) else {
        bump(stream, inner, |c| &c.unexpected_source);
        return;
    };
    let remote = remote.clone();
    bump(stream, inner, |c| &c.received);
    stream
        .last_received_ms
        .store(inner.now_ms(), Ordering::Relaxed);
    let Ok(packet) = rtp::parse(datagram) else {
        bump(stream, inner, |c| &c.malformed);
        return;
    };
    if packet.payload_type == remote.payload_type {
        let decode = decoder(remote.codec);
        if let Some(record) = &rx.record {
            let mut sink = lock(record);
            sink.push(packet.timestamp, packet.payload, decode);
            if sink.is_finished() {
                drop(sink);
                rx.record = None;
            }
        }
        if let Some(relay) = &rx.relay {
            if let Some((stereo, channel)) = &relay.record {
                lock(stereo).push(*channel, packet.timestamp, packet.payload, decode);
            }
            if let Some(to) = relay.to.upgrade() {
                relay_audio(stream, inner, &remote, &to, &packet);
            }
        }
    } else if Some(packet.payload_type) == remote.dtmf {
        if let Some(digit) = rx.dtmf.on_packet(packet.timestamp, packet.payload) {
            bump(stream, inner, |c| &c.dtmf);
            stream.push_digit(digit);
        }
        if let Some(to) = rx.relay.as_ref().and_then(|r| r.to.upgrade()) {
            relay_event(stream, inner, &to, &packet);
        }
    } else {
        bump(stream, inner, |c| &c.other_payload);
    }
}

/// Relays an audio packet to `to`'s remote in `to`'s codec.
fn relay_audio(
    from: &StreamShared,
    inner: &Inner,
    remote: &Negotiated,
    to: &StreamShared,
    packet: &Packet,
) {
    let tick = inner.tick.load(Ordering::Relaxed);
    let (header, destination) = {
        let mut tx = lock(&to.tx);
        let Some(destination) = tx.destination.filter(|d| d.reachable()) else {
            return;
        };
        if !tx.bridged {
            return;
        }
        (
            tx.relay_header(packet, destination.payload_type, tick),
            destination,
        )
    };
    let mut transcoded = [0u8; MAX_PACKET];
    let payload = if destination.codec == remote.codec {
        packet.payload
    } else {
        let (decode, encode) = (decoder(remote.codec), encoder(destination.codec));
        let n = packet.payload.len().min(MAX_PACKET);
        for (out, &code) in transcoded[..n].iter_mut().zip(packet.payload) {
            *out = encode(decode(code));
        }
        Atomics::add(&inner.counters.transcoded, 1);
        &transcoded[..n]
    };
    send(from, inner, to, &header, payload, destination.addr);
}

/// Relays a telephone-event with `to`'s payload type, or drops it if `to`
/// has none.
fn relay_event(from: &StreamShared, inner: &Inner, to: &StreamShared, packet: &Packet) {
    let tick = inner.tick.load(Ordering::Relaxed);
    let (header, addr) = {
        let mut tx = lock(&to.tx);
        let Some(destination) = tx.destination.filter(|d| d.reachable()) else {
            return;
        };
        let Some(pt) = destination.dtmf else {
            return;
        };
        if !tx.bridged {
            return;
        }
        (tx.relay_header(packet, pt, tick), destination.addr)
    };
    send(from, inner, to, &header, packet.payload, addr);
}

fn send(
    from: &StreamShared,
    inner: &Inner,
    to: &StreamShared,
    header: &rtp::Header,
    payload: &[u8],
    addr: SocketAddr,
) {
    let mut buf = [0u8; MAX_PACKET + 12];
    let Some(len) = rtp::write(header, payload, &mut buf) else {
        return;
    };
    if to.socket.try_send_to(&buf[..len], addr).is_ok() {
        bump(from, inner, |c| &c.relayed);
        Atomics::add(&to.counters.sent, 1);
        Atomics::add(&inner.counters.sent, 1);
    } else {
        bump(to, inner, |c| &c.send_errors);
    }
}
