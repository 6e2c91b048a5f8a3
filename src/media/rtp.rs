//! RTP packets (RFC 3550) as the engine sends and reads them, through
//! `rtp-types`: one outgoing stream's header fields ([`Outgoing`]: a random
//! SSRC, the sequence number and the timestamp advancing 160 per 20 ms
//! frame), writing a packet into a buffer, and reading one received.
//!
//! Nothing here does I/O; the engine owns the sockets.

use crate::media::prompt::FRAME;

/// The largest packet the engine writes: a 12-byte header and a 20 ms
/// G.711 frame, or a relayed payload of up to this much.
pub const MAX_PACKET: usize = 1500;

/// A received packet's fields the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Without padding, CSRCs or header extension.
    pub payload: &'a [u8],
}

/// Why a datagram is not an RTP packet.
#[derive(Debug, thiserror::Error)]
#[error("not an RTP packet: {0}")]
pub struct BadPacket(String);

/// Reads a datagram as an RTP version 2 packet.
pub fn parse(datagram: &[u8]) -> Result<Packet<'_>, BadPacket> {
    let packet = rtp_types::RtpPacket::parse(datagram).map_err(|e| BadPacket(e.to_string()))?;
    let payload_type = packet.payload_type();
    // 72-76 are RTCP packet types sent to the RTP port (RFC 5761 §4).
    if (72..=76).contains(&payload_type) {
        return Err(BadPacket(format!(
            "RTCP packet type {}",
            128 + payload_type
        )));
    }
    let (offset, len) = (packet.payload_offset(), packet.payload_len());
    Ok(Packet {
        payload_type,
        marker: packet.marker_bit(),
        sequence: packet.sequence_number(),
        timestamp: packet.timestamp(),
        ssrc: packet.ssrc(),
        payload: &datagram[offset..offset + len],
    })
}

/// Writes a packet with a fixed 12-byte header into `buf`, returning its
/// length; `None` if `buf` is too small or the payload type is not 0-127.
pub fn write(header: &Header, payload: &[u8], buf: &mut [u8]) -> Option<usize> {
    rtp_types::RtpPacketBuilder::<&[u8], &[u8]>::new()
        .payload_type(header.payload_type)
        .marker_bit(header.marker)
        .sequence_number(header.sequence)
        .timestamp(header.timestamp)
        .ssrc(header.ssrc)
        .payload(payload)
        .write_into(buf)
        .ok()
}

/// The header fields of one packet to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// One outgoing RTP stream's numbering: a random SSRC, a random first
/// sequence number and timestamp (RFC 3550 §5.1), the timestamp moving on
/// with the 20 ms clock of the engine's ticker even while nothing is sent,
/// so a pause (hold, a bridge) shows as a gap in time, not in sequence.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub ssrc: u32,
    /// The sequence number of the next packet.
    pub sequence: u16,
    /// The timestamp of the last packet sent.
    pub timestamp: u32,
    /// The ticker's tick at which the last packet was sent (or the stream
    /// began): the timestamp of a packet sent at tick `t` is `timestamp +
    /// 160 · (t − tick)`.
    pub tick: u64,
    /// Set after a change of what is sent: the next packet carries the
    /// marker bit (RFC 3551 §4.1, a talkspurt's start).
    pub marker: bool,
}

impl Outgoing {
    /// A stream starting at `tick`, its SSRC, sequence and timestamp drawn
    /// from `random` (64 random bits).
    pub fn new(random: u64, tick: u64) -> Outgoing {
        Outgoing {
            ssrc: random as u32,
            sequence: (random >> 32) as u16,
            timestamp: (random >> 48) as u32 * 0x1_0001,
            tick,
            marker: true,
        }
    }

    /// The header of a frame sent at `tick`, and the numbering moved on.
    pub fn next(&mut self, payload_type: u8, tick: u64) -> Header {
        let elapsed = tick.saturating_sub(self.tick).max(1);
        self.timestamp = self
            .timestamp
            .wrapping_add((elapsed as u32).wrapping_mul(FRAME as u32));
        self.tick = tick;
        let header = Header {
            payload_type,
            marker: std::mem::take(&mut self.marker),
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        self.sequence = self.sequence.wrapping_add(1);
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_advance_by_one_sequence_and_160_samples_per_tick() {
        let mut out = Outgoing::new(0x0123_4567_89AB_CDEF, 10);
        let first = out.next(0, 11);
        assert!(first.marker);
        assert_eq!(first.ssrc, 0x89AB_CDEF);
        let second = out.next(0, 12);
        assert!(!second.marker);
        assert_eq!(second.sequence, first.sequence.wrapping_add(1));
        assert_eq!(second.timestamp, first.timestamp.wrapping_add(160));
        // Five ticks without sending: the timestamp moves on 5 frames, the
        // sequence by one.
        out.marker = true;
        let third = out.next(8, 17);
        assert_eq!(third.sequence, second.sequence.wrapping_add(1));
        assert_eq!(third.timestamp, second.timestamp.wrapping_add(5 * 160));
        assert!(third.marker);
    }

    #[test]
    fn a_written_packet_reads_back() {
        let header = Header {
            payload_type: 8,
            marker: true,
            sequence: 65535,
            timestamp: 0xFFFF_FF00,
            ssrc: 7,
        };
        let mut buf = [0u8; MAX_PACKET];
        let len = write(&header, &[0xD5; 160], &mut buf).unwrap();
        assert_eq!(len, 172);
        let packet = parse(&buf[..len]).unwrap();
        assert_eq!(
            (
                packet.payload_type,
                packet.marker,
                packet.sequence,
                packet.timestamp,
                packet.ssrc
            ),
            (8, true, 65535, 0xFFFF_FF00, 7)
        );
        assert_eq!(packet.payload, &[0xD5; 160][..]);
        assert!(write(&header, &[0; 160], &mut [0u8; 100]).is_none());
    }

    #[test]
    fn other_datagrams_are_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x40; 20]).is_err(), "version 1");
        // An RTCP receiver report (packet type 201) on the RTP port.
        let rtcp = [0x80, 201, 0, 1, 0, 0, 0, 1];
        let err = parse(&rtcp).unwrap_err().to_string();
        assert!(err.contains("RTCP") || err.contains("RTP"), "{err}");
    }
}
