//! DTMF received as RFC 4733 telephone-events: the payload read, and each
//! key press reported once.
//!
//! A key press is one event: every packet of it carries the RTP timestamp
//! of its start, a growing duration, and at the end the E bit, sent three
//! times (RFC 4733 §2.5.1.4) so that one lost packet loses nothing. The
//! [`Receiver`] reports a digit at the first packet of an event it has not
//! seen (the start, or a later packet or an end packet if the start was
//! lost) and drops the rest, so a digit is neither missed nor repeated.
//! Two presses of the same key are two events with different timestamps.

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The event code: 0-9, 10 `*`, 11 `#`, 12-15 `A`-`D`; others are
    /// tones and flash this server does not read.
    pub code: u8,
    /// The E bit: the event has ended.
    pub end: bool,
    /// Volume in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

/// Why a payload is not a telephone-event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadEvent {
    #[error("a telephone-event payload is 4 bytes, this one {0}")]
    Length(usize),
}

impl Event {
    /// Reads a payload: 4 bytes (several events in one payload, a
    /// redundancy form RFC 4733 allows, are not read: the first is taken
    /// only if the payload is exactly one event).
    pub fn parse(payload: &[u8]) -> Result<Event, BadEvent> {
        let &[code, flags, high, low] = payload else {
            return Err(BadEvent::Length(payload.len()));
        };
        Ok(Event {
            code,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([high, low]),
        })
    }

    /// The key pressed, for DTMF events.
    pub fn digit(&self) -> Option<char> {
        match self.code {
            0..=9 => Some(char::from(b'0' + self.code)),
            10 => Some('*'),
            11 => Some('#'),
            12..=15 => Some(char::from(b'A' + self.code - 12)),
            _ => None,
        }
    }
}

/// Turns the telephone-event packets of one RTP stream into key presses.
#[derive(Debug, Default)]
pub struct Receiver {
    /// The RTP timestamp of the last event reported.
    last: Option<u32>,
    /// Payloads that were not telephone-events, and events that are not
    /// DTMF: counted, never reported.
    pub ignored: u64,
}

impl Receiver {
    /// Takes one telephone-event packet (its RTP timestamp and payload);
    /// returns the key pressed if this packet is the first seen of a new
    /// DTMF event.
    pub fn on_packet(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let Ok(event) = Event::parse(payload) else {
            self.ignored += 1;
            return None;
        };
        let Some(digit) = event.digit() else {
            self.ignored += 1;
            return None;
        };
        if self.last == Some(timestamp) {
            return None;
        }
        self.last = Some(timestamp);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(code: u8, end: bool, duration: u16) -> [u8; 4] {
        let [high, low] = duration.to_be_bytes();
        [code, if end { 0x80 | 10 } else { 10 }, high, low]
    }

    /// The packets a phone sends for one key press: start, updates every
    /// 50 ms, then the end packet three times.
    fn press(code: u8, timestamp: u32) -> Vec<(u32, [u8; 4])> {
        let mut packets: Vec<_> = (1..=4)
            .map(|i| (timestamp, payload(code, false, i * 400)))
            .collect();
        packets.extend((0..3).map(|_| (timestamp, payload(code, true, 1600))));
        packets
    }

    fn digits(rx: &mut Receiver, packets: &[(u32, [u8; 4])]) -> String {
        packets
            .iter()
            .filter_map(|(ts, p)| rx.on_packet(*ts, p))
            .collect()
    }

    #[test]
    fn a_payload_is_read_field_by_field() {
        let event = Event::parse(&[11, 0x80 | 0x0A, 0x03, 0x20]).unwrap();
        assert_eq!(
            event,
            Event {
                code: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(event.digit(), Some('#'));
        assert_eq!(Event::parse(&[1, 2, 3]), Err(BadEvent::Length(3)));
        assert_eq!(Event::parse(&[1, 2, 3, 4, 5]), Err(BadEvent::Length(5)));
    }

    #[test]
    fn every_dtmf_code_has_its_key_and_others_have_none() {
        let keys: String = (0..16)
            .filter_map(|code| Event::parse(&[code, 0, 0, 0]).unwrap().digit())
            .collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(Event::parse(&[16, 0, 0, 0]).unwrap().digit(), None);
    }

    #[test]
    fn one_press_is_one_digit_whatever_the_redundancy() {
        let mut rx = Receiver::default();
        assert_eq!(digits(&mut rx, &press(5, 1000)), "5");
    }

    #[test]
    fn the_same_key_twice_is_two_digits() {
        let mut rx = Receiver::default();
        let mut packets = press(1, 1000);
        packets.extend(press(1, 3000));
        packets.extend(press(11, 5000));
        assert_eq!(digits(&mut rx, &packets), "11#");
    }

    #[test]
    fn a_lost_start_or_lost_ends_lose_no_digit() {
        let mut rx = Receiver::default();
        // Only the end packets of the first press arrive, only the start
        // of the second.
        let mut packets: Vec<_> = press(2, 1000).into_iter().skip(4).collect();
        packets.push(press(3, 3000)[0]);
        assert_eq!(digits(&mut rx, &packets), "23");
    }

    #[test]
    fn bad_payloads_and_other_events_are_counted_not_reported() {
        let mut rx = Receiver::default();
        assert_eq!(rx.on_packet(1, &[1, 2]), None);
        assert_eq!(rx.on_packet(2, &payload(16, false, 0)), None);
        assert_eq!(rx.ignored, 2);
        assert_eq!(rx.on_packet(3, &payload(0, false, 0)), Some('0'));
    }
}
