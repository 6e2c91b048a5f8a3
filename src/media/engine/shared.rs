//! What the engine's tasks share: the server-wide registry of streams with
//! its counters and cache of encoded prompts, and each stream's state (what
//! it sends, under the ticker's lock; what it expects and where received
//! audio goes, under the receive task's lock).
//!
//! Lock order: a stream's `rx` may be held while taking a (possibly other)
//! stream's `tx`, never the other way round; sinks and the digit queue are
//! taken last.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use super::record::{Channel, Mono, Stereo, lock};
use crate::media::dtmf;
use crate::media::g711;
use crate::media::ports::{Port, Ports};
use crate::media::prompt::{FRAME, Prompt};
use crate::media::rtp::{Header, Outgoing, Packet};
use crate::media::sdp::{Codec, Negotiated};

/// The media engine's settings.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The address RTP sockets bind and SDP announces.
    pub ip: IpAddr,
    /// The RTP port range (even ports are used).
    pub ports: RangeInclusive<u16>,
    /// How long a connected stream whose remote sends may go without
    /// receiving RTP before [`silent`] resolves.
    ///
    /// [`silent`]: super::stream::Stream::silent
    pub media_timeout: Duration,
    /// Where recordings go (the SIP side builds their paths from it).
    pub record_dir: PathBuf,
}

impl Default for MediaConfig {
    fn default() -> MediaConfig {
        MediaConfig {
            ip: IpAddr::from([127, 0, 0, 1]),
            ports: 20_000..=30_999,
            media_timeout: Duration::from_secs(30),
            record_dir: PathBuf::from("recordings"),
        }
    }
}

/// The engine's counters, summed over every stream it has had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaCounters {
    pub streams_open: u64,
    pub streams_opened: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Datagrams from another address than the negotiated remote's (or
    /// before any): ignored.
    pub unexpected_source: u64,
    /// Datagrams from the remote that are not RTP.
    pub malformed: u64,
    /// RTP packets with a payload type neither negotiated codec nor
    /// telephone-event (comfort noise, say): ignored.
    pub other_payload: u64,
    /// Sends the socket refused (a full buffer).
    pub send_errors: u64,
    /// Packets relayed by bridges, and of them transcoded.
    pub relayed: u64,
    pub transcoded: u64,
    pub dtmf_digits: u64,
    /// Ticks of the 20 ms ticker, and those that started 5 ms or more
    /// late.
    pub ticks: u64,
    pub late_ticks: u64,
    pub max_tick_lateness_us: u64,
    /// The longest a tick took to send every stream's frame.
    pub max_tick_work_us: u64,
}

/// One stream's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    pub sent: u64,
    pub received: u64,
    pub from_unexpected_source: u64,
    pub malformed: u64,
    pub other_payload: u64,
    pub dtmf: u64,
    /// Packets this stream received and relayed to its bridge's other side.
    pub relayed: u64,
    pub send_errors: u64,
}

/// Counters as atomics, bumped by the tasks.
#[derive(Debug, Default)]
pub(crate) struct Atomics {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub unexpected_source: AtomicU64,
    pub malformed: AtomicU64,
    pub other_payload: AtomicU64,
    pub dtmf: AtomicU64,
    pub relayed: AtomicU64,
    pub transcoded: AtomicU64,
    pub send_errors: AtomicU64,
}

impl Atomics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Encoded prompts by the prompt's address, with a weak reference that
/// keeps the address from being reused while the entry lives.
type PromptCache = HashMap<usize, (Weak<Prompt>, Arc<Encoded>)>;

/// The engine's state shared by the ticker, the streams and their tasks.
pub(crate) struct Inner {
    pub config: MediaConfig,
    pub ports: Arc<Ports>,
    /// When the engine started: times are kept as milliseconds since.
    pub epoch: Instant,
    /// Ticks of the ticker so far (the RTP clock of every stream).
    pub tick: AtomicU64,
    pub streams: Mutex<BTreeMap<u64, Arc<StreamShared>>>,
    /// Bumped when `streams` changes, so the ticker copies it only then.
    pub version: AtomicU64,
    next_id: AtomicU64,
    random: Mutex<crate::random::Rng>,
    prompts: Mutex<PromptCache>,
    pub counters: Atomics,
    pub opened: AtomicU64,
    pub ticks: AtomicU64,
    pub late_ticks: AtomicU64,
    pub max_lateness_us: AtomicU64,
    pub max_work_us: AtomicU64,
}

impl Inner {
    pub(crate) fn new(config: MediaConfig) -> Inner {
        let seed = getrandom::u64().unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        Inner {
            ports: Arc::new(Ports::new(config.ip, config.ports.clone())),
            config,
            epoch: Instant::now(),
            tick: AtomicU64::new(0),
            streams: Mutex::new(BTreeMap::new()),
            version: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            random: Mutex::new(crate::random::Rng::new(seed)),
            prompts: Mutex::new(HashMap::new()),
            counters: Atomics::default(),
            opened: AtomicU64::new(0),
            ticks: AtomicU64::new(0),
            late_ticks: AtomicU64::new(0),
            max_lateness_us: AtomicU64::new(0),
            max_work_us: AtomicU64::new(0),
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(crate) fn random(&self) -> u64 {
        lock(&self.random).next_u64()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn register(&self, stream: Arc<StreamShared>) {
        lock(&self.streams).insert(stream.id, stream);
        self.changed();
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unregister(&self, id: u64) {
        lock(&self.streams).remove(&id);
        self.changed();
    }

    /// Tells the ticker to look again at which streams it sends (after a
    /// stream is connected, bridged or unbridged; call it after the
    /// change).
    pub(crate) fn changed(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    /// A prompt's frames in both laws, encoded on first use and kept while
    /// the prompt lives. The key is the prompt's address: the entry's weak
    /// reference keeps that allocation from being reused by another prompt.
    pub(crate) fn encoded(&self, prompt: &Arc<Prompt>) -> Arc<Encoded> {
        let key = Arc::as_ptr(prompt) as usize;
        let mut cache = lock(&self.prompts);
        if let Some((_, encoded)) = cache.get(&key) {
            return encoded.clone();
        }
        cache.retain(|_, (weak, _)| weak.strong_count() > 0);
        let encoded = Arc::new(Encoded::new(prompt.samples()));
        cache.insert(key, (Arc::downgrade(prompt), encoded.clone()));
        encoded
    }

    pub(crate) fn counters(&self) -> MediaCounters {
        let c = &self.counters;
        MediaCounters {
            streams_open: lock(&self.streams).len() as u64,
            streams_opened: get(&self.opened),
            packets_sent: get(&c.sent),
            packets_received: get(&c.received),
            unexpected_source: get(&c.unexpected_source),
            malformed: get(&c.malformed),
            other_payload: get(&c.other_payload),
            send_errors: get(&c.send_errors),
            relayed: get(&c.relayed),
            transcoded: get(&c.transcoded),
            dtmf_digits: get(&c.dtmf),
            ticks: get(&self.ticks),
            late_ticks: get(&self.late_ticks),
            max_tick_lateness_us: get(&self.max_lateness_us),
            max_tick_work_us: get(&self.max_work_us),
        }
    }
}

/// A prompt encoded once in each law, so a tick only copies bytes.
#[derive(Debug)]
pub(crate) struct Encoded {
    ulaw: Box<[u8]>,
    alaw: Box<[u8]>,
}

impl Encoded {
    fn new(samples: &[i16]) -> Encoded {
        let (mut ulaw, mut alaw) = (Vec::new(), Vec::new());
        g711::encode_into(samples, g711::ulaw_encode, &mut ulaw);
        g711::encode_into(samples, g711::alaw_encode, &mut alaw);
        Encoded {
            ulaw: ulaw.into(),
            alaw: alaw.into(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ulaw.len()
    }

    fn bytes(&self, codec: Codec) -> &[u8] {
        match codec {
            Codec::Pcmu => &self.ulaw,
            Codec::Pcma => &self.alaw,
        }
    }
}

/// A 20 ms frame of silence in a law.
pub(crate) fn silence(codec: Codec) -> u8 {
    match codec {
        Codec::Pcmu => g711::ulaw_encode(0),
        Codec::Pcma => g711::alaw_encode(0),
    }
}

pub(crate) fn decoder(codec: Codec) -> fn(u8) -> i16 {
    match codec {
        Codec::Pcmu => g711::ulaw_decode,
        Codec::Pcma => g711::alaw_decode,
    }
}

pub(crate) fn encoder(codec: Codec) -> fn(i16) -> u8 {
    match codec {
        Codec::Pcmu => g711::ulaw_encode,
        Codec::Pcma => g711::alaw_encode,
    }
}

/// Copies the next frame from `at` as `prompt::Cursor::next_frame` does
/// with samples: once, the last frame is padded with silence and the call
/// after it returns false; looped, it wraps mid-frame (an empty prompt is
/// silence).
pub(crate) fn next_frame(
    audio: &Encoded,
    codec: Codec,
    at: &mut usize,
    looped: bool,
    frame: &mut [u8; FRAME],
) -> bool {
    let bytes = audio.bytes(codec);
    let quiet = silence(codec);
    if !looped && *at >= bytes.len() {
        return false;
    }
    let mut filled = 0;
    while filled < FRAME {
        if *at >= bytes.len() {
            if !looped || bytes.is_empty() {
                frame[filled..].fill(quiet);
                return true;
            }
            *at = 0;
        }
        let n = (FRAME - filled).min(bytes.len() - *at);
        frame[filled..filled + n].copy_from_slice(&bytes[*at..*at + n]);
        filled += n;
        *at += n;
    }
    true
}

/// What a stream is playing.
pub(crate) enum Playing {
    Once {
        audio: Arc<Encoded>,
        at: usize,
    },
    Loop {
        audio: Arc<Encoded>,
        at: usize,
        key: String,
    },
    Silence,
}

/// Where and how a stream sends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Destination {
    pub addr: SocketAddr,
    pub payload_type: u8,
    pub codec: Codec,
    pub dtmf: Option<u8>,
}

impl Destination {
    /// Whether anything can be sent there (`c=0.0.0.0` or port 0: no).
    pub(crate) fn reachable(&self) -> bool {
        !self.addr.ip().is_unspecified() && self.addr.port() != 0
    }
}

/// The sending side of a stream, under the ticker's lock.
pub(crate) struct Tx {
    pub destination: Option<Destination>,
    pub playing: Playing,
    /// Where each looped music stopped, by key.
    pub loops: HashMap<String, usize>,
    pub out: Outgoing,
    /// While bridged the ticker sends nothing: the other side's receive
    /// task sends what it relays.
    pub bridged: bool,
    /// The numbering of relayed packets: the source's SSRC and the offsets
    /// that map its sequence and timestamp onto ours.
    pub relay: Option<RelayMap>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct RelayMap {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
}

impl Tx {
    /// Leaves what plays now (keeping a loop's place) for `next`; the next
    /// packet carries the marker bit.
    pub(crate) fn replace(&mut self, next: Playing) {
        if let Playing::Loop { at, key, .. } = std::mem::replace(&mut self.playing, next) {
            self.loops.insert(key, at);
        }
        self.out.marker = true;
    }

    /// The header for a relayed packet sent at `tick`: the source's
    /// numbering mapped onto this stream's, a new source (another SSRC)
    /// continuing where this stream was.
    pub(crate) fn relay_header(&mut self, packet: &Packet, payload_type: u8, tick: u64) -> Header {
        let map = match self.relay {
            Some(map) if map.ssrc == packet.ssrc => map,
            _ => {
                let elapsed = tick.saturating_sub(self.out.tick).max(1);
                let now = self
                    .out
                    .timestamp
                    .wrapping_add((elapsed as u32).wrapping_mul(FRAME as u32));
                let map = RelayMap {
                    ssrc: packet.ssrc,
                    sequence: self.out.sequence.wrapping_sub(packet.sequence),
                    timestamp: now.wrapping_sub(packet.timestamp),
                };
                self.out.marker = true;
                self.relay = Some(map);
                map
            }
        };
        let sequence = packet.sequence.wrapping_add(map.sequence);
        let timestamp = packet.timestamp.wrapping_add(map.timestamp);
        // Only a newer packet moves the numbering on (reordered ones keep
        // their place).
        if sequence.wrapping_sub(self.out.sequence) as i16 >= 0 {
            self.out.sequence = sequence.wrapping_add(1);
            self.out.timestamp = timestamp;
            self.out.tick = tick;
        }
        Header {
            payload_type,
            marker: std::mem::take(&mut self.out.marker) || packet.marker,
            sequence,
            timestamp,
            ssrc: self.out.ssrc,
        }
    }
}

/// Where a bridged stream's received packets go.
pub(crate) struct Relay {
    pub to: Weak<StreamShared>,
    pub record: Option<(Arc<Mutex<Stereo>>, Channel)>,
}

/// The receiving side of a stream, under its receive task's lock.
pub(crate) struct Rx {
    /// The negotiated remote: packets from elsewhere are ignored.
    pub remote: Option<Negotiated>,
    pub dtmf: dtmf::Receiver,
    pub record: Option<Arc<Mutex<Mono>>>,
    pub relay: Option<Relay>,
}

/// One stream, shared by its handle, its receive task, the ticker and a
/// bridge.
pub(crate) struct StreamShared {
    pub id: u64,
    pub socket: Port,
    pub local: SocketAddr,
    pub tx: Mutex<Tx>,
    pub rx: Mutex<Rx>,
    pub digits: Mutex<VecDeque<char>>,
    pub digit_ready: Notify,
    /// True while a `Source::Once` plays.
    pub once: watch::Sender<bool>,
    /// Notified when the remote or its direction changes.
    pub changed: Notify,
    /// When RTP was last received from the remote (or the stream was
    /// connected), in ms since the engine's epoch.
    pub last_received_ms: AtomicU64,
    /// Whether the remote sends (connected, sendrecv or sendonly).
    pub expect: AtomicBool,
    /// Set on drop: the ticker skips the stream.
    pub closed: AtomicBool,
    pub counters: Atomics,
}

impl StreamShared {
    pub(crate) fn new(id: u64, socket: Port, out: Outgoing) -> StreamShared {
        StreamShared {
            id,
            local: socket.local(),
            socket,
            tx: Mutex::new(Tx {
                destination: None,
                playing: Playing::Silence,
                loops: HashMap::new(),
                out,
                bridged: false,
                relay: None,
            }),
            rx: Mutex::new(Rx {
                remote: None,
                dtmf: dtmf::Receiver::default(),
                record: None,
                relay: None,
            }),
            digits: Mutex::new(VecDeque::new()),
            digit_ready: Notify::new(),
            once: watch::Sender::new(false),
            changed: Notify::new(),
            last_received_ms: AtomicU64::new(0),
            expect: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            counters: Atomics::default(),
        }
    }

    /// Whether the ticker has frames to send on this stream: open,
    /// connected to a reachable address and not bridged.
    pub(crate) fn sends(&self) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        let tx = lock(&self.tx);
        !tx.bridged && tx.destination.is_some_and(|d| d.reachable())
    }

    pub(crate) fn push_digit(&self, digit: char) {
        lock(&self.digits).push_back(digit);
        self.digit_ready.notify_one();
    }

    pub(crate) fn counters(&self) -> StreamCounters {
        let c = &self.counters;
        StreamCounters {
            sent: get(&c.sent),
            received: get(&c.received),
            from_unexpected_source: get(&c.unexpected_source),
            malformed: get(&c.malformed),
            other_payload: get(&c.other_payload),
            dtmf: get(&c.dtmf),
            relayed: get(&c.relayed),
            send_errors: get(&c.send_errors),
        }
    }
}
