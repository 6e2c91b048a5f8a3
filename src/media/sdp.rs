//! SDP offer/answer (RFC 3264) for the B2BUA's audio: PCMU, PCMA and
//! RFC 4733 telephone-event, parsed and written with `sdp-types`.
//!
//! [`answer`] answers a caller's offer, [`offer`] writes ours to an agent's
//! phone and [`read_answer`] reads the phone's answer; each reading gives a
//! [`Negotiated`]: where to send the remote its audio, in which codec and
//! payload types, and in which direction it wants media. An SDP this side
//! cannot take (unreadable, no audio, audio declined, only codecs it does not
//! speak, an encrypted profile) is an [`SdpError`] whose message the SIP side
//! puts in the 488's Warning header.
//!
//! Hold the old way (RFC 2543: `c=0.0.0.0`) reads as [`Direction::Inactive`]
//! with the unspecified address as remote, to which nothing is sent.
//! `a=ptime` is read and kept, but this side always sends 20 ms frames (a
//! ptime is a wish of the receiver, RFC 4566 §6, and every phone takes 20).

use std::net::{IpAddr, SocketAddr};

use sdp_types::{Attribute, Connection, Media, Origin, Session};

/// The audio codecs this server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name as `a=rtpmap` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec of an `a=rtpmap` encoding name at a clock rate.
    fn from_rtpmap(name: &str, rate: u32) -> Option<Codec> {
        if rate != 8000 {
            return None;
        }
        [Codec::Pcmu, Codec::Pcma]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The codec of a static payload type with no `a=rtpmap`.
    fn from_static(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }
}

/// A media direction attribute (RFC 3264 §5.1), as one side states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The attribute's name: `sendrecv`, `sendonly`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction that answers this one (RFC 3264 §6.1): sendonly is
    /// answered recvonly and the other way round; sendrecv and inactive
    /// stay.
    pub fn mirror(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// Whether the side stating this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    fn from_attribute(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }
}

/// What one side's SDP says about where and how to send it audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// The `c=` address and `m=` port (the unspecified address for hold
    /// the RFC 2543 way).
    pub remote: SocketAddr,
    pub codec: Codec,
    /// The codec's payload type as the remote numbers it.
    pub payload_type: u8,
    /// The remote's telephone-event payload type, if it has one.
    pub dtmf: Option<u8>,
    /// The remote's direction (`c=0.0.0.0` counts as inactive).
    pub direction: Direction,
    /// 20 unless `a=ptime` says otherwise.
    pub ptime_ms: u32,
}

impl Negotiated {
    /// Whether the remote has put the call on hold (it sends only, or
    /// nothing).
    pub fn on_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
    }
}

/// Why an SDP cannot be taken. The SIP side answers each with 488 Not
/// Acceptable Here and the message in a Warning header.
#[derive(Debug, thiserror::Error)]
pub enum SdpError {
    #[error("malformed SDP: {0}")]
    Malformed(String),
    #[error("no audio stream (m=audio over RTP/AVP) in the SDP")]
    NoAudio,
    #[error("the audio stream is declined (m=audio with port 0)")]
    AudioDeclined,
    #[error("audio transport {0} is not supported (only RTP/AVP, unencrypted)")]
    Transport(String),
    #[error("no common codec: offered {offered}; this server takes {accepted}")]
    NoCommonCodec { offered: String, accepted: String },
}

/// Our side of a session: the address in `c=` and `m=`, the `o=` session
/// id and version (the version goes up by one with every new SDP of the
/// session, RFC 3264 §8).
#[derive(Clone, Debug)]
pub struct Local {
    pub addr: SocketAddr,
    pub session_id: u64,
    pub version: u64,
}

/// The telephone-event payload type of our offers.
pub const DTMF_PAYLOAD_TYPE: u8 = 101;

/// Answers an offer: picks the first codec of the offer that is in
/// `accept`, plus telephone-event if offered (with the offer's payload
/// type), and mirrors the direction (sendonly → recvonly, inactive →
/// inactive, recvonly → sendonly). Media lines other than the first usable
/// audio line are declined with port 0, as RFC 3264 §6 asks.
pub fn answer(
    offer: &[u8],
    local: &Local,
    accept: &[Codec],
) -> Result<(Negotiated, String), SdpError> {
    let session = parse(offer)?;
    let index = audio_index(&session)?;
    let media = &session.medias[index];
    let formats = formats(media)?;
    let chosen = formats
        .iter()
        .find_map(|f| f.codec.filter(|c| accept.contains(c)).map(|c| (c, f.pt)));
    let Some((codec, payload_type)) = chosen else {
        return Err(SdpError::NoCommonCodec {
            offered: formats
                .iter()
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            accepted: accept
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let negotiated = Negotiated {
        remote: remote(&session, media)?,
        codec,
        payload_type,
        dtmf: formats.iter().find(|f| f.dtmf).map(|f| f.pt),
        direction: direction(&session, media)?,
        ptime_ms: ptime(&session, media),
    };
    let mut out = session_for(local);
    for (i, offered) in session.medias.iter().enumerate() {
        if i == index {
            out.medias.push(audio_media(
                local,
                &[(codec, payload_type)],
                negotiated.dtmf,
                negotiated.direction.mirror(),
            ));
        } else {
            // Declined: same media and protocol, port 0, one format.
            let fmt = offered.fmt.split_whitespace().next().unwrap_or("0");
            out.medias.push(Media::new(
                offered.media.parse().unwrap_or(sdp_types::MediaType::Audio),
                0,
                offered
                    .proto
                    .parse()
                    .unwrap_or(sdp_types::TransportProto::RtpAvp),
                fmt,
            ));
        }
    }
    Ok((negotiated, write(&out)))
}

/// An offer from us: the codecs in order, telephone-event 101 (events
/// 0-16), `a=ptime:20` and the direction.
pub fn offer(local: &Local, codecs: &[Codec], direction: Direction) -> String {
    let mut session = session_for(local);
    let codecs: Vec<(Codec, u8)> = codecs.iter().map(|&c| (c, c.payload_type())).collect();
    session.medias.push(audio_media(
        local,
        &codecs,
        Some(DTMF_PAYLOAD_TYPE),
        direction,
    ));
    write(&session)
}

/// Reads the answer to one of our offers: its first audio line, the first
/// of its formats that is PCMU or PCMA, its telephone-event if any.
pub fn read_answer(answer: &[u8]) -> Result<Negotiated, SdpError> {
    let session = parse(answer)?;
    let index = audio_index(&session)?;
    let media = &session.medias[index];
    let formats = formats(media)?;
    let Some((codec, payload_type)) = formats.iter().find_map(|f| f.codec.map(|c| (c, f.pt)))
    else {
        return Err(SdpError::NoCommonCodec {
            offered: formats
                .iter()
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            accepted: "PCMU, PCMA".into(),
        });
    };
    Ok(Negotiated {
        remote: remote(&session, media)?,
        codec,
        payload_type,
        dtmf: formats.iter().find(|f| f.dtmf).map(|f| f.pt),
        direction: direction(&session, media)?,
        ptime_ms: ptime(&session, media),
    })
}

fn parse(body: &[u8]) -> Result<Session, SdpError> {
    Session::parse(body).map_err(|e| SdpError::Malformed(e.to_string()))
}

/// The first audio line over plain RTP: an error says why there is none
/// (declined, encrypted, absent).
fn audio_index(session: &Session) -> Result<usize, SdpError> {
    let mut declined = false;
    let mut transport = None;
    for (i, media) in session.medias.iter().enumerate() {
        if !media.media.eq_ignore_ascii_case("audio") {
            continue;
        }
        // RTP/AVPF is RTP/AVP with feedback, which may be ignored.
        if !matches!(
            media.proto.to_ascii_uppercase().as_str(),
            "RTP/AVP" | "RTP/AVPF"
        ) {
            transport.get_or_insert_with(|| media.proto.clone());
            continue;
        }
        if media.port == 0 {
            declined = true;
            continue;
        }
        return Ok(i);
    }
    Err(if declined {
        SdpError::AudioDeclined
    } else if let Some(proto) = transport {
        SdpError::Transport(proto)
    } else {
        SdpError::NoAudio
    })
}

/// One payload format of an `m=` line.
struct Format {
    pt: u8,
    /// As a person would name it: `PCMU/8000`, `opus/48000/2`, or the
    /// bare number when there is no rtpmap for a dynamic type.
    name: String,
    codec: Option<Codec>,
    dtmf: bool,
}

fn formats(media: &Media) -> Result<Vec<Format>, SdpError> {
    let rtpmaps: Vec<(u8, String, u32, String)> = media
        .attributes
        .iter()
        .filter(|a| a.attribute.eq_ignore_ascii_case("rtpmap"))
        .filter_map(|a| read_rtpmap(a.value.as_deref()?))
        .collect();
    let mut out = Vec::new();
    for token in media.fmt.split_whitespace() {
        let pt: u8 = token
            .parse()
            .ok()
            .filter(|&pt| pt < 128)
            .ok_or_else(|| SdpError::Malformed(format!("payload type {token:?} in m=audio")))?;
        let format = match rtpmaps.iter().find(|r| r.0 == pt) {
            Some((_, name, rate, full)) => Format {
                pt,
                name: full.clone(),
                codec: Codec::from_rtpmap(name, *rate),
                dtmf: name.eq_ignore_ascii_case("telephone-event") && *rate == 8000,
            },
            None => Format {
                pt,
                name: Codec::from_static(pt)
                    .map(|c| format!("{}/8000", c.name()))
                    .unwrap_or_else(|| pt.to_string()),
                codec: Codec::from_static(pt),
                dtmf: false,
            },
        };
        out.push(format);
    }
    Ok(out)
}

/// `<pt> <name>/<rate>[/<params>]`: the type, the name, the rate and the
/// text after the type.
fn read_rtpmap(value: &str) -> Option<(u8, String, u32, String)> {
    let (pt, rest) = value.trim().split_once(char::is_whitespace)?;
    let rest = rest.trim();
    let mut parts = rest.split('/');
    let name = parts.next()?.to_string();
    let rate = parts.next()?.parse().ok()?;
    Some((pt.parse().ok()?, name, rate, rest.to_string()))
}

/// The address to send to: the media's `c=` or else the session's, with
/// the `m=` port.
fn remote(session: &Session, media: &Media) -> Result<SocketAddr, SdpError> {
    let connection = media
        .connections
        .first()
        .or(session.connection.as_ref())
        .ok_or_else(|| SdpError::Malformed("no c= line for the audio stream".into()))?;
    let address = connection.connection_address.as_str();
    let ip_text = address.split('/').next().unwrap_or(address);
    let ip: IpAddr = ip_text
        .parse()
        .map_err(|_| SdpError::Malformed(format!("c= address {address:?} is not an IP address")))?;
    Ok(SocketAddr::new(ip, media.port))
}

/// The media's direction attribute, else the session's, else sendrecv;
/// `c=0.0.0.0` is inactive whatever the attribute says.
fn direction(session: &Session, media: &Media) -> Result<Direction, SdpError> {
    if remote(session, media)?.ip().is_unspecified() {
        return Ok(Direction::Inactive);
    }
    let find = |attributes: &[Attribute]| {
        attributes
            .iter()
            .find_map(|a| Direction::from_attribute(&a.attribute))
    };
    Ok(find(&media.attributes)
        .or_else(|| find(&session.attributes))
        .unwrap_or(Direction::SendRecv))
}

fn ptime(session: &Session, media: &Media) -> u32 {
    let find = |attributes: &[Attribute]| {
        attributes
            .iter()
            .filter(|a| a.attribute.eq_ignore_ascii_case("ptime"))
            .find_map(|a| a.value.as_deref()?.trim().parse::<u32>().ok())
            .filter(|&ms| (1..=1000).contains(&ms))
    };
    find(&media.attributes)
        .or_else(|| find(&session.attributes))
        .unwrap_or(20)
}

fn session_for(local: &Local) -> Session {
    let ip = local.addr.ip();
    let mut session = Session::new(
        Origin::with_ip_addr(local.session_id, local.version, ip),
        "dialect",
    );
    session.set_connection(Connection::from_ip_addr(ip));
    session.add_time(sdp_types::Time::new(0, 0));
    session
}

fn audio_media(
    local: &Local,
    codecs: &[(Codec, u8)],
    dtmf: Option<u8>,
    direction: Direction,
) -> Media {
    let fmt: Vec<String> = codecs
        .iter()
        .map(|(_, pt)| pt.to_string())
        .chain(dtmf.map(|pt| pt.to_string()))
        .collect();
    let mut media = Media::new(
        sdp_types::MediaType::Audio,
        local.addr.port(),
        sdp_types::TransportProto::RtpAvp,
        fmt.join(" "),
    );
    for (codec, pt) in codecs {
        media.add_attribute_with_value("rtpmap", format!("{pt} {}/8000", codec.name()));
    }
    if let Some(pt) = dtmf {
        media.add_attribute_with_value("rtpmap", format!("{pt} telephone-event/8000"));
        media.add_attribute_with_value("fmtp", format!("{pt} 0-16"));
    }
    media.add_attribute_with_value("ptime", "20");
    media.add_attribute_from_str(direction.as_str());
    media
}

fn write(session: &Session) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = session.write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        Local {
            addr: "127.0.0.1:20000".parse().unwrap(),
            session_id: 42,
            version: 1,
        }
    }

    const BOTH: &[Codec] = &[Codec::Pcmu, Codec::Pcma];

    /// SIPp's default `uac` scenario: one static codec, with its rtpmap.
    const SIPP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

    /// The same without rtpmap, as SIPp's `uac_pcap` and many gateways
    /// send it.
    const SIPP_BARE: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 8\r\n";

    /// A baresip-like offer: many codecs, opus first, media-level c=.
    const BARESIP: &str = "v=0\r\n\
o=- 1404040455 3296276166 IN IP4 192.168.1.20\r\n\
s=-\r\n\
c=IN IP4 192.168.1.20\r\n\
t=0 0\r\n\
a=tool:baresip 3.10.0\r\n\
m=audio 10344 RTP/AVP 111 9 0 8 101\r\n\
c=IN IP4 10.0.0.5\r\n\
b=AS:96\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendrecv\r\n\
a=label:1\r\n\
a=ssrc:1163578402 cname:8e4b0a92-a2fc-4d3c-9d33-8c1b4bfb2f4d\r\n\
a=rtcp-rsize\r\n\
m=video 10346 RTP/AVP 96\r\n\
a=rtpmap:96 VP8/90000\r\n";

    const OPUS_ONLY: &str = "v=0\r\n\
o=- 1 1 IN IP4 10.0.0.5\r\n\
s=-\r\n\
c=IN IP4 10.0.0.5\r\n\
t=0 0\r\n\
m=audio 4000 RTP/AVP 96 97\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=rtpmap:97 telephone-event/48000\r\n";

    fn with(base: &str, extra: &str) -> String {
        format!("{base}{extra}")
    }

    #[test]
    fn sipp_default_offer_is_answered_pcmu() {
        let (n, body) = answer(SIPP.as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(
            n,
            Negotiated {
                remote: "127.0.0.1:6000".parse().unwrap(),
                codec: Codec::Pcmu,
                payload_type: 0,
                dtmf: None,
                direction: Direction::SendRecv,
                ptime_ms: 20,
            }
        );
        assert_eq!(
            body,
            "v=0\r\n\
o=- 42 1 IN IP4 127.0.0.1\r\n\
s=dialect\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 20000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n"
        );
    }

    #[test]
    fn a_static_type_without_rtpmap_is_its_codec() {
        let (n, body) = answer(SIPP_BARE.as_bytes(), &local(), BOTH).unwrap();
        assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
        assert!(body.contains("m=audio 20000 RTP/AVP 8\r\n"), "{body}");
        // Offered PCMA only, accepting PCMU only: nothing in common.
        let err = answer(SIPP_BARE.as_bytes(), &local(), &[Codec::Pcmu]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no common codec: offered PCMA/8000; this server takes PCMU"
        );
    }

    #[test]
    fn a_many_codec_offer_gets_its_first_known_codec_and_its_dtmf() {
        let (n, body) = answer(BARESIP.as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(n.remote, "10.0.0.5:10344".parse().unwrap(), "media c= wins");
        assert_eq!(
            (n.codec, n.payload_type, n.dtmf),
            (Codec::Pcmu, 0, Some(101))
        );
        assert!(body.contains("m=audio 20000 RTP/AVP 0 101\r\n"), "{body}");
        assert!(body.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(body.contains("a=fmtp:101 0-16\r\n"));
        // The video line is declined, in its place.
        assert!(body.ends_with("m=video 0 RTP/AVP 96\r\n"), "{body}");
        // Our order of preference does not override the offerer's.
        let (n, _) = answer(BARESIP.as_bytes(), &local(), &[Codec::Pcma, Codec::Pcmu]).unwrap();
        assert_eq!(n.codec, Codec::Pcmu);
        let (n, _) = answer(BARESIP.as_bytes(), &local(), &[Codec::Pcma]).unwrap();
        assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    }

    #[test]
    fn only_opus_is_no_common_codec() {
        let err = answer(OPUS_ONLY.as_bytes(), &local(), BOTH).unwrap_err();
        assert!(matches!(err, SdpError::NoCommonCodec { .. }));
        assert_eq!(
            err.to_string(),
            "no common codec: offered opus/48000/2, telephone-event/48000; \
             this server takes PCMU, PCMA"
        );
    }

    #[test]
    fn bad_bodies_are_errors_with_reasons() {
        let cases: &[(&str, &str)] = &[
            ("", "malformed SDP: No version line"),
            ("INVITE sip:x SIP/2.0\r\n", "malformed SDP"),
            ("\u{0}\u{1}garbage", "malformed SDP"),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
                "malformed SDP: no c= line for the audio stream",
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 host.example\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
                "malformed SDP: c= address \"host.example\" is not an IP address",
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 x\r\n",
                "malformed SDP: payload type \"x\" in m=audio",
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n",
                "no audio stream (m=audio over RTP/AVP) in the SDP",
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
                "the audio stream is declined (m=audio with port 0)",
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n",
                "audio transport RTP/SAVP is not supported (only RTP/AVP, unencrypted)",
            ),
        ];
        for (body, want) in cases {
            let err = answer(body.as_bytes(), &local(), BOTH).unwrap_err();
            assert!(err.to_string().starts_with(want), "{body:?}: {err}");
            let err = read_answer(body.as_bytes()).unwrap_err();
            assert!(err.to_string().starts_with(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn hold_offers_are_mirrored() {
        for (attribute, remote_dir, answered) in [
            ("a=sendonly\r\n", Direction::SendOnly, "a=recvonly\r\n"),
            ("a=inactive\r\n", Direction::Inactive, "a=inactive\r\n"),
            ("a=recvonly\r\n", Direction::RecvOnly, "a=sendonly\r\n"),
            ("a=sendrecv\r\n", Direction::SendRecv, "a=sendrecv\r\n"),
        ] {
            let (n, body) = answer(with(SIPP, attribute).as_bytes(), &local(), BOTH).unwrap();
            assert_eq!(n.direction, remote_dir);
            assert_eq!(
                n.on_hold(),
                matches!(remote_dir, Direction::SendOnly | Direction::Inactive)
            );
            assert!(body.ends_with(answered), "{attribute}: {body}");
        }
        // A session-level attribute applies when the media has none.
        let session_level = SIPP.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
        let (n, _) = answer(session_level.as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);
    }

    #[test]
    fn the_unspecified_address_is_hold_the_old_way() {
        let old = SIPP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        let (n, body) = answer(old.as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(n.direction, Direction::Inactive);
        assert!(n.on_hold());
        assert!(n.remote.ip().is_unspecified());
        assert!(body.ends_with("a=inactive\r\n"), "{body}");
    }

    #[test]
    fn ptime_is_read_from_media_or_session() {
        let (n, _) = answer(with(SIPP, "a=ptime:30\r\n").as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(n.ptime_ms, 30);
        let session_level = SIPP.replace("t=0 0\r\n", "t=0 0\r\na=ptime:40\r\n");
        assert_eq!(read_answer(session_level.as_bytes()).unwrap().ptime_ms, 40);
        let (n, _) = answer(with(SIPP, "a=ptime:zero\r\n").as_bytes(), &local(), BOTH).unwrap();
        assert_eq!(n.ptime_ms, 20);
    }

    #[test]
    fn offer_answer_and_read_answer_round_trip() {
        let ours = Local {
            addr: "127.0.0.1:20002".parse().unwrap(),
            session_id: 7,
            version: 3,
        };
        let body = offer(&ours, &[Codec::Pcma, Codec::Pcmu], Direction::SendRecv);
        assert_eq!(
            body,
            "v=0\r\n\
o=- 7 3 IN IP4 127.0.0.1\r\n\
s=dialect\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 20002 RTP/AVP 8 0 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n"
        );
        // The phone answers our offer with the same function the server
        // answers callers with.
        let phone = Local {
            addr: "127.0.0.1:30000".parse().unwrap(),
            session_id: 9,
            version: 1,
        };
        let (at_phone, reply) = answer(body.as_bytes(), &phone, BOTH).unwrap();
        assert_eq!(at_phone.remote, ours.addr);
        assert_eq!((at_phone.codec, at_phone.dtmf), (Codec::Pcma, Some(101)));
        let at_us = read_answer(reply.as_bytes()).unwrap();
        assert_eq!(
            at_us,
            Negotiated {
                remote: phone.addr,
                codec: Codec::Pcma,
                payload_type: 8,
                dtmf: Some(101),
                direction: Direction::SendRecv,
                ptime_ms: 20,
            }
        );
        // A hold offer from us is answered recvonly.
        let hold = offer(&ours, &[Codec::Pcmu], Direction::SendOnly);
        let (_, reply) = answer(hold.as_bytes(), &phone, BOTH).unwrap();
        assert_eq!(
            read_answer(reply.as_bytes()).unwrap().direction,
            Direction::RecvOnly
        );
    }

    /// The fuzz target's property (fuzz/fuzz_targets/sdp.rs) on mutated
    /// real offers, under `cargo test`: nothing panics, and an answered
    /// offer's answer reads back with its codec and mirrored direction.
    #[test]
    fn mutated_offers_never_panic_and_answers_read_back() {
        let mut rng = crate::random::Rng::new(12);
        let seeds = [SIPP, SIPP_BARE, BARESIP, OPUS_ONLY];
        let mut answered = 0;
        for _ in 0..3000 {
            let mut body = seeds[rng.below(seeds.len())].as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                if body.is_empty() {
                    break;
                }
                let at = rng.below(body.len());
                match rng.below(4) {
                    0 => body[at] = rng.next_u64() as u8,
                    1 => {
                        body.remove(at);
                    }
                    2 => body.insert(at, b" \r\n0/:=a".as_slice()[rng.below(8)]),
                    _ => body.truncate(at),
                }
            }
            let _ = read_answer(&body);
            if let Ok((offer, reply)) = answer(&body, &local(), BOTH) {
                let back = read_answer(reply.as_bytes()).unwrap();
                assert_eq!(back.codec, offer.codec);
                assert_eq!(back.direction, offer.direction.mirror());
                answered += 1;
            }
        }
        assert!(answered > 200, "only {answered} answered");
    }

    #[test]
    fn ipv6_addresses_are_read_and_written() {
        let v6 = SIPP
            .replace("c=IN IP4 127.0.0.1", "c=IN IP6 ::1")
            .replace("IN IP4 127.0.0.1\r\ns", "IN IP6 ::1\r\ns");
        let ours = Local {
            addr: "[::1]:20000".parse().unwrap(),
            session_id: 1,
            version: 1,
        };
        let (n, body) = answer(v6.as_bytes(), &ours, BOTH).unwrap();
        assert_eq!(n.remote, "[::1]:6000".parse().unwrap());
        assert!(body.contains("c=IN IP6 ::1\r\n"), "{body}");
    }
}
