//! One B2BUA call: the runtime's [`Channel`] over the caller's dialog,
//! the calls placed to agents' phones and their RTP streams.
//!
//! Every wait of a call (a prompt playing, keys, hold music, ringing, a
//! bridged conversation) also serves the call's SIP: requests of its
//! dialogs (ACK, BYE, re-INVITE and UPDATE for hold, INFO with keys,
//! OPTIONS), responses to what it sent, and its timers (our 200 sent
//! again until the caller's ACK, agents' INVITEs until they are answered,
//! BYE and CANCEL until theirs). While bridged, a hold (or unhold) from
//! either side goes to the other in a re-INVITE (`reoffer`). A wait ends
//! early when the caller hangs up, cancels, or stops sending RTP for the
//! media timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::board::{Event, Switchboard};
use super::legs::{self, Leg, Pending, Sends, State};
use super::reoffer::{Answered, Reoffer};
use crate::checked::RejectReason;
use crate::media::engine::{self as media, Source, Stream};
use crate::media::prompt::Prompt;
use crate::media::sdp::{self, Codec, Direction, Local};
use crate::runtime::channel::{Announce, Channel, Collect, Collected, Ended, Rang, Ring, Target};
use crate::sip::dialog::{Body, Dialog, Resend};
use crate::sip::message::{self, Method, Request};
use crate::sip::outbox::Outgoing;
use crate::sip::response::{Response, response};
use crate::sip::transaction::Key;

/// The codecs this server takes, in its order of preference.
pub const CODECS: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

/// The methods a B2BUA call takes, for `Allow`.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER";

/// How long a call that has ended waits for the answers to its last
/// requests (BYE, CANCEL) and ACKs the failures of cancelled legs.
const LINGER: Duration = Duration::from_secs(4);

/// How long `transfer` rings the trunk.
const TRANSFER_RING: Duration = Duration::from_secs(60);

/// What one step of a wait did.
enum Step<T> {
    Done(T),
    /// Something of the call's SIP was served; the wait goes on.
    Served,
}

/// Our 200 to an INVITE, sent again until its ACK (RFC 3261 §13.3.1.4).
struct Unacked {
    bytes: Vec<u8>,
    to: SocketAddr,
    resend: Resend,
}

/// What a new call's INVITE brings: the request, its server
/// transaction, where answers go, where it came from and the socket it
/// came to.
pub struct NewCall {
    pub invite: Request,
    pub key: Key,
    pub reply_to: SocketAddr,
    pub source: SocketAddr,
    pub local: SocketAddr,
}

/// A call answered by the B2BUA.
pub struct SipChannel {
    board: Arc<Switchboard>,
    events: mpsc::UnboundedReceiver<Event>,
    /// A sender to the call's own events, for the routes of agents' legs.
    me: mpsc::UnboundedSender<Event>,
    /// The caller's INVITE and its transaction.
    invite: Request,
    key: Key,
    reply_to: SocketAddr,
    dialog: Dialog,
    stream: Option<Arc<Stream>>,
    /// Whether our SDP went in the 200 as an offer (the INVITE had none):
    /// the ACK then carries the answer.
    offered_in_200: bool,
    sdp_version: u64,
    unacked: Option<Unacked>,
    answered: bool,
    /// A final answer other than 200 went to the INVITE.
    refused: bool,
    /// The caller is gone (BYE, CANCEL, media timeout) or was hung up.
    hung_up: bool,
    legs: Vec<Leg>,
    pending: Vec<Pending>,
    /// The re-INVITEs we send the caller (hold relayed from the agent).
    reoffer: Reoffer,
    /// The direction the caller's last SDP stated.
    direction: Direction,
    /// The leg the caller talks to, while bridged.
    bridged: Option<usize>,
}

impl SipChannel {
    /// The channel of a new INVITE; `Err` is the answer to send when the
    /// INVITE cannot open a dialog.
    pub fn new(
        board: Arc<Switchboard>,
        call: NewCall,
        events: mpsc::UnboundedReceiver<Event>,
        me: mpsc::UnboundedSender<Event>,
    ) -> Result<SipChannel, Response> {
        let NewCall {
            invite,
            key,
            reply_to,
            source,
            local,
        } = call;
        let Some(dialog) = Dialog::answering(&invite, source, local) else {
            board.unroute(invite.call_id().unwrap_or(""));
            return Err(response(&invite, 400, "Bad Request").finish());
        };
        Ok(SipChannel {
            board,
            events,
            me,
            invite,
            key,
            reply_to,
            dialog,
            stream: None,
            offered_in_200: false,
            sdp_version: 1,
            unacked: None,
            answered: false,
            refused: false,
            hung_up: false,
            legs: Vec::new(),
            pending: Vec::new(),
            reoffer: Reoffer::new(false),
            direction: Direction::SendRecv,
            bridged: None,
        })
    }

    fn call_id(&self) -> &str {
        &self.dialog.call_id
    }

    fn send(&self, to: SocketAddr, bytes: Vec<u8>) {
        self.board.send(Outgoing::Send { to, bytes });
    }

    fn send_all(&self, out: Sends) {
        for (to, bytes) in out {
            self.send(to, bytes);
        }
    }

    fn answer_request(&self, req: &Request, key: &Key, to: SocketAddr, answer: Response) {
        self.board.send(Outgoing::Answer {
            key: key.clone(),
            response: answer,
            to,
        });
        let _ = req;
    }

    /// A final answer other than 200 to the caller's INVITE.
    fn refuse(&mut self, code: u16, reason: &str, headers: &[(&str, &str)]) {
        if self.answered || self.refused {
            return;
        }
        let mut b = response(&self.invite, code, reason);
        for (name, value) in headers {
            b = b.header(name, value);
        }
        self.board.send(Outgoing::Answer {
            key: self.key.clone(),
            response: b.finish(),
            to: self.reply_to,
        });
        self.refused = true;
        self.hung_up = true;
    }

    /// Our side of the SDP, for a stream.
    fn local_sdp(&mut self, stream: &Stream) -> Local {
        self.sdp_version += 1;
        Local {
            addr: stream.local(),
            session_id: self.sdp_version ^ 0x5d1a_1ec7,
            version: self.sdp_version,
        }
    }

    /// The earliest timer of the call.
    fn deadline(&self) -> Option<Instant> {
        let legs = self.legs.iter().filter_map(Leg::deadline);
        let ok = self.unacked.iter().map(|u| u.resend.next);
        let reoffers = self.legs.iter().map(|l| &l.reoffer);
        legs.chain(ok)
            .chain(legs::pending_deadline(&self.pending))
            .chain(
                std::iter::once(&self.reoffer)
                    .chain(reoffers)
                    .filter_map(Reoffer::deadline),
            )
            .min()
    }

    fn on_timers(&mut self) {
        let now = Instant::now();
        let mut out = Vec::new();
        for leg in &mut self.legs {
            leg.on_timer(now, &mut out);
            leg.reoffer.on_timer(leg.dialog.peer, now, &mut out);
        }
        self.reoffer.on_timer(self.dialog.peer, now, &mut out);
        legs::pending_timers(&mut self.pending, now, &mut out);
        if let Some(u) = &mut self.unacked {
            if now >= u.resend.give_up {
                // No ACK for 64·T1: the session is ended (§13.3.1.4).
                self.unacked = None;
                self.bye_caller();
            } else if now >= u.resend.next {
                out.push((u.to, u.bytes.clone()));
                u.resend.again();
            }
        }
        self.send_all(out);
        self.send_reoffers();
    }

    /// Sends the re-INVITEs that are due, on the dialogs that can take
    /// one: the caller's once our 200 is ACKed, an agent's while answered.
    fn send_reoffers(&mut self) {
        let now = Instant::now();
        let mut out = Vec::new();
        if self.answered
            && !self.hung_up
            && self.unacked.is_none()
            && let Some(stream) = self.stream.clone()
            && let Some(direction) = self.reoffer.due(now)
        {
            let offer = sdp::offer(&self.local_sdp(&stream), &CODECS, direction);
            self.reoffer
                .send(&mut self.dialog, direction, &offer, now, &mut out);
        }
        for i in 0..self.legs.len() {
            let leg = &self.legs[i];
            if leg.state != State::Answered || leg.hung_up {
                continue;
            }
            let stream = Arc::clone(&leg.stream);
            let Some(direction) = self.legs[i].reoffer.due(now) else {
                continue;
            };
            let offer = sdp::offer(&self.local_sdp(&stream), &CODECS, direction);
            let leg = &mut self.legs[i];
            leg.reoffer
                .send(&mut leg.dialog, direction, &offer, now, &mut out);
        }
        self.send_all(out);
    }

    /// The caller's SDP stated `direction`: a change of hold goes on to
    /// the agent the caller talks to.
    fn caller_direction(&mut self, direction: Direction) {
        if std::mem::replace(&mut self.direction, direction) == direction {
            return;
        }
        if let Some(i) = self.bridged {
            self.legs[i].reoffer.want(direction, Instant::now());
            self.send_reoffers();
        }
    }

    /// Agent leg `i`'s SDP stated `direction`: while bridged, a change of
    /// hold goes on to the caller.
    fn leg_direction(&mut self, i: usize, direction: Direction) {
        if std::mem::replace(&mut self.legs[i].direction, direction) == direction {
            return;
        }
        if self.bridged == Some(i) {
            self.reoffer.want(direction, Instant::now());
            self.send_reoffers();
        }
    }

    /// One step of a wait: `fut` ends, or one event or timer is served.
    async fn step<F: Future>(&mut self, fut: Pin<&mut F>) -> Step<F::Output> {
        let deadline = self.deadline();
        // The media timeout counts once answered, until the caller is gone.
        let stream = self
            .stream
            .clone()
            .filter(|_| self.answered && !self.hung_up);
        let silent = async {
            match &stream {
                Some(s) => s.silent().await,
                None => std::future::pending().await,
            }
        };
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            event = self.events.recv() => {
                match event {
                    Some(event) => self.on_event(event),
                    None => self.hung_up = true,
                }
                Step::Served
            }
            () = timer => {
                self.on_timers();
                Step::Served
            }
            () = silent => {
                tracing::info!(call_id = %self.call_id(), "no RTP from the caller: hung up");
                self.bye_caller();
                Step::Served
            }
            out = fut => Step::Done(out),
        }
    }

    /// Waits for `fut` while serving the call; `None` if the caller hung
    /// up first.
    async fn until<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.hung_up {
                return None;
            }
            if let Step::Done(out) = self.step(fut.as_mut()).await {
                return Some(out);
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Cancel => {
                if !self.answered {
                    self.refuse(487, "Request Terminated", &[]);
                }
            }
            Event::Request {
                request,
                key,
                reply_to,
            } => {
                if request.call_id() == Some(self.call_id()) {
                    self.caller_request(&request, &key, reply_to);
                } else if let Some(i) = self.leg_of(request.call_id().unwrap_or("")) {
                    self.leg_request(i, &request, &key, reply_to);
                }
            }
            Event::Response(answer) => {
                if legs::pending_response(&mut self.pending, &answer) {
                    return;
                }
                let invite = answer.cseq().is_some_and(|c| c.method == Method::Invite);
                if !invite {
                    return;
                }
                let mut out = Vec::new();
                let now = Instant::now();
                let call_id = answer.call_id().unwrap_or("");
                if call_id == self.call_id() {
                    let answered = self
                        .reoffer
                        .on_response(&self.dialog, &answer, now, &mut out);
                    if let (Answered::Media(media), Some(stream)) = (answered, &self.stream) {
                        stream.connect(&media);
                    }
                } else if let Some(i) = self.leg_of(call_id) {
                    let leg = &mut self.legs[i];
                    if answer.cseq().map(|c| c.seq) == Some(leg.invite.seq) {
                        leg.on_invite_response(&answer, now, &mut self.pending, &mut out);
                    } else if let Answered::Media(media) =
                        leg.reoffer.on_response(&leg.dialog, &answer, now, &mut out)
                    {
                        leg.stream.connect(&media);
                    }
                }
                self.send_all(out);
                self.send_reoffers();
            }
        }
    }

    fn leg_of(&self, call_id: &str) -> Option<usize> {
        self.legs.iter().position(|l| l.call_id() == call_id)
    }

    /// A request in the caller's dialog.
    fn caller_request(&mut self, req: &Request, key: &Key, to: SocketAddr) {
        let ok = |req: &Request| response(req, 200, "OK").finish();
        match req.method() {
            Method::Ack => {
                if self.unacked.take().is_some() && self.offered_in_200 {
                    self.offered_in_200 = false;
                    match sdp::read_answer(req.body()) {
                        Ok(media) => {
                            if let Some(s) = &self.stream {
                                s.connect(&media);
                            }
                            self.caller_direction(media.direction);
                        }
                        Err(e) => {
                            tracing::info!(call_id = %self.call_id(), error = %e, "no usable SDP in the ACK: hung up");
                            self.bye_caller();
                        }
                    }
                }
                // Our 200 is ACKed: a re-INVITE may go now.
                self.send_reoffers();
            }
            Method::Bye => {
                self.answer_request(req, key, to, ok(req));
                self.unacked = None;
                self.hung_up = true;
            }
            Method::Invite | Method::Update if self.reoffer.busy() => {
                // Glare: our re-INVITE waits for its answer (§14.2).
                self.answer_request(req, key, to, pending(req));
            }
            Method::Invite | Method::Update => {
                let answer = self.reoffer(req);
                let sent = answer.code == 200 && *req.method() == Method::Invite;
                if sent {
                    self.unacked = Some(Unacked {
                        bytes: answer.bytes.clone(),
                        to,
                        resend: Resend::new(false, Instant::now()),
                    });
                }
                self.answer_request(req, key, to, answer);
            }
            Method::Info => {
                let answer = match dtmf_of_info(req) {
                    Some(digit) => {
                        if let Some(s) = &self.stream {
                            s.push_digit(digit);
                        }
                        ok(req)
                    }
                    None => ok(req),
                };
                self.answer_request(req, key, to, answer);
            }
            Method::Options => self.answer_request(
                req,
                key,
                to,
                response(req, 200, "OK").header("Allow", ALLOW).finish(),
            ),
            _ => self.answer_request(
                req,
                key,
                to,
                response(req, 405, "Method Not Allowed")
                    .header("Allow", ALLOW)
                    .finish(),
            ),
        }
    }

    /// A re-INVITE or UPDATE from the caller (hold, unhold, a session
    /// refresh): answered from the caller's stream. An INVITE that comes
    /// while our 200 to the last one waits for its ACK gets 500 with
    /// Retry-After (RFC 3261 §14.2).
    fn reoffer(&mut self, req: &Request) -> Response {
        if *req.method() == Method::Invite && self.unacked.is_some() {
            return response(req, 500, "Server Internal Error")
                .header("Retry-After", "1")
                .finish();
        }
        let Some(stream) = self.stream.clone() else {
            return response(req, 200, "OK").finish();
        };
        let local = self.local_sdp(&stream);
        let body = req.body();
        if body.is_empty() {
            if *req.method() == Method::Update {
                return response(req, 200, "OK").finish();
            }
            // An offer in our 200; its answer comes in the ACK.
            self.offered_in_200 = true;
            let sdp = sdp::offer(&local, &CODECS, Direction::SendRecv);
            return self.ok_with_sdp(req, &sdp);
        }
        match sdp::answer(body, &local, &CODECS) {
            Ok((media, sdp)) => {
                stream.connect(&media);
                self.caller_direction(media.direction);
                self.ok_with_sdp(req, &sdp)
            }
            Err(e) => not_acceptable(req, &e.to_string()),
        }
    }

    fn ok_with_sdp(&self, req: &Request, sdp: &str) -> Response {
        response(req, 200, "OK")
            .header("Contact", &self.dialog.contact())
            .header("Allow", ALLOW)
            .body("application/sdp", sdp.as_bytes())
    }

    /// A request in the dialog with an agent's phone.
    fn leg_request(&mut self, i: usize, req: &Request, key: &Key, to: SocketAddr) {
        match req.method() {
            Method::Ack => {}
            Method::Bye => {
                self.answer_request(req, key, to, response(req, 200, "OK").finish());
                let leg = &mut self.legs[i];
                leg.hung_up = true;
                leg.state = State::Ended;
            }
            Method::Invite | Method::Update if self.legs[i].reoffer.busy() => {
                // Glare: our re-INVITE waits for its answer (§14.2).
                self.answer_request(req, key, to, pending(req));
            }
            Method::Invite | Method::Update if !req.body().is_empty() => {
                let stream = Arc::clone(&self.legs[i].stream);
                let local = self.local_sdp(&stream);
                let answer = match sdp::answer(req.body(), &local, &CODECS) {
                    Ok((media, sdp)) => {
                        stream.connect(&media);
                        self.leg_direction(i, media.direction);
                        response(req, 200, "OK")
                            .header("Contact", &self.legs[i].dialog.contact())
                            .body("application/sdp", sdp.as_bytes())
                    }
                    Err(e) => not_acceptable(req, &e.to_string()),
                };
                self.answer_request(req, key, to, answer);
            }
            _ => self.answer_request(req, key, to, response(req, 200, "OK").finish()),
        }
    }

    /// Hangs the caller up: BYE once answered, else a final answer.
    fn bye_caller(&mut self) {
        if self.hung_up {
            return;
        }
        if !self.answered {
            self.refuse(480, "Temporarily Unavailable", &[]);
            return;
        }
        self.hung_up = true;
        self.unacked = None;
        let sent = self.dialog.request(&Method::Bye, &[], Body::None);
        self.send(self.dialog.peer, sent.bytes.clone());
        self.pending.push(Pending {
            call_id: self.dialog.call_id.clone(),
            branch: sent.branch,
            bytes: sent.bytes,
            to: self.dialog.peer,
            resend: Resend::new(false, Instant::now()),
        });
    }

    /// The caller's stream, answering the call first if it is not yet.
    async fn caller_stream(&mut self) -> Option<Arc<Stream>> {
        if !self.answered && !self.answer().await {
            return None;
        }
        self.stream.clone()
    }

    /// Plays prompts one after the other; false if the caller hung up.
    async fn play_all(&mut self, prompts: Vec<Arc<Prompt>>) -> bool {
        let Some(stream) = self.caller_stream().await else {
            return false;
        };
        for p in prompts {
            stream.play(Source::Once(p));
            let s = Arc::clone(&stream);
            if self
                .until(async move { s.finished().await })
                .await
                .is_none()
            {
                return false;
            }
        }
        true
    }

    /// Places a call to each `(target index, URI)`, offering a new stream.
    fn place(&mut self, calls: &[(usize, String)], auto_answer: bool) {
        let Some(local) = self.board.local() else {
            return;
        };
        let from = format!("sip:{}@{}", self.caller_user(), local);
        let now = Instant::now();
        for (target, uri) in calls {
            let Some(peer) = message::uri_address(uri) else {
                tracing::info!(call_id = %self.call_id(), %uri, "not an address to call: skipped");
                continue;
            };
            let stream = match self.board.media.open() {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    tracing::warn!(error = %e, "no RTP port for an agent's leg");
                    continue;
                }
            };
            let sdp_local = self.local_sdp(&stream);
            let offer = sdp::offer(&sdp_local, &CODECS, Direction::SendRecv);
            let dialog = Dialog::calling(&from, uri, peer, local);
            let leg = Leg::new(*target, dialog, stream, &offer, auto_answer, now);
            self.board.route(leg.call_id(), self.me.clone());
            let (to, bytes) = leg.first();
            self.send(to, bytes);
            self.legs.push(leg);
        }
    }

    fn caller_user(&self) -> String {
        self.invite
            .from()
            .and_then(|f| f.user.clone())
            .filter(|u| {
                u.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c))
            })
            .unwrap_or_else(|| "anonymous".to_string())
    }

    /// Rings the legs placed from `first` on until one answers (its index),
    /// all fail, `timeout` passes, or the caller hangs up; the others are
    /// cancelled.
    async fn ring_legs(&mut self, first: usize, timeout: Duration) -> Result<Option<usize>, ()> {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let placed = self.legs.len() > first;
        let outcome = loop {
            if self.hung_up {
                break Err(());
            }
            if let Some(i) =
                (first..self.legs.len()).find(|&i| self.legs[i].state == State::Answered)
            {
                break Ok(Some(i));
            }
            if placed && !self.legs[first..].iter().any(Leg::is_open) {
                break Ok(None);
            }
            if let Step::Done(()) = self.step(deadline.as_mut()).await {
                break Ok(None);
            }
        };
        let now = Instant::now();
        let mut out = Vec::new();
        for leg in &mut self.legs[first..] {
            leg.cancel(now, &mut self.pending, &mut out);
        }
        self.send_all(out);
        outcome
    }

    /// Connects the caller with the answered leg `i` until one hangs up.
    async fn talk(&mut self, i: usize, whisper: Option<&str>, record: bool) -> Ended {
        let Some(caller) = self.stream.clone() else {
            return Ended::Caller;
        };
        let agent = Arc::clone(&self.legs[i].stream);
        if let Some(w) = whisper {
            agent.play(Source::Once(self.board.prompts.get(w)));
            let a = Arc::clone(&agent);
            let whispered = self.until(async move { a.finished().await }).await;
            if whispered.is_none() {
                self.hang_up_leg(i);
                return Ended::Caller;
            }
        }
        let path = record.then(|| {
            self.board
                .settings
                .recordings
                .join(format!("{}-call.wav", file_safe(self.call_id())))
        });
        let bridge = match media::bridge(&caller, &agent, path.as_deref()) {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::warn!(call_id = %self.call_id(), error = %e, "cannot bridge");
                None
            }
        };
        self.bridged = Some(i);
        // A hold either side asked for before the bridge goes on now.
        let (caller_direction, agent_direction) = (self.direction, self.legs[i].direction);
        if caller_direction != Direction::SendRecv {
            self.legs[i].reoffer.want(caller_direction, Instant::now());
        }
        if agent_direction != Direction::SendRecv {
            self.reoffer.want(agent_direction, Instant::now());
        }
        self.send_reoffers();
        let ended = loop {
            if self.hung_up {
                self.hang_up_leg(i);
                break Ended::Caller;
            }
            if self.legs[i].state != State::Answered || self.legs[i].hung_up {
                break Ended::Other;
            }
            let never = std::future::pending::<()>();
            tokio::pin!(never);
            self.step(never.as_mut()).await;
        };
        self.bridged = None;
        if let Some(b) = bridge
            && let Ok(Some(info)) = b.finish()
        {
            tracing::info!(call_id = %self.call_id(), path = %info.path.display(), "call recorded");
        }
        caller.play(Source::Silence);
        ended
    }

    fn hang_up_leg(&mut self, i: usize) {
        let mut out = Vec::new();
        self.legs[i].bye(Instant::now(), &mut self.pending, &mut out);
        self.send_all(out);
    }

    /// After the runtime is done with the call: hangs up whatever is
    /// still up, waits a little for the last answers, and forgets the
    /// call's routes.
    pub async fn finish(&mut self) {
        if !self.hung_up {
            self.bye_caller();
        }
        // Nothing more to say on any leg: the streams stop sending now
        // rather than while the last answers are awaited.
        for stream in self
            .stream
            .iter()
            .chain(self.legs.iter().map(|l| &l.stream))
        {
            stream.disconnect();
        }
        let now = Instant::now();
        let mut out = Vec::new();
        for leg in &mut self.legs {
            if leg.is_open() {
                leg.cancel(now, &mut self.pending, &mut out);
            } else if leg.state == State::Answered {
                leg.bye(now, &mut self.pending, &mut out);
            }
        }
        self.send_all(out);
        let until = tokio::time::Instant::now() + LINGER;
        while !self.pending.is_empty() || self.legs.iter().any(|l| l.state == State::Cancelling) {
            let deadline = tokio::time::sleep_until(until);
            tokio::pin!(deadline);
            if let Step::Done(()) = self.step(deadline.as_mut()).await {
                break;
            }
        }
        self.board.unroute(&self.dialog.call_id.clone());
        for leg in &self.legs {
            self.board.unroute(leg.call_id());
        }
    }
}

/// 491 Request Pending: a re-INVITE of ours crossed this one (RFC 3261
/// §14.2); the other side sends it again after its glare wait.
fn pending(req: &Request) -> Response {
    response(req, 491, "Request Pending").finish()
}

/// 488 with the reason in a Warning (RFC 3261 §20.43, code 305:
/// incompatible media format).
fn not_acceptable(req: &Request, reason: &str) -> Response {
    let warning = format!("305 dialect \"{}\"", reason.replace('"', "'"));
    response(req, 488, "Not Acceptable Here")
        .header("Warning", &warning)
        .finish()
}

/// The key of a SIP INFO: `application/dtmf-relay` (`Signal=5`) or
/// `application/dtmf` (`5`).
fn dtmf_of_info(req: &Request) -> Option<char> {
    let kind = req.header("Content-Type")?.to_ascii_lowercase();
    let body = std::str::from_utf8(req.body()).ok()?;
    let signal = if kind.starts_with("application/dtmf-relay") {
        body.lines().find_map(|l| {
            let (name, value) = l.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| value.trim())
        })?
    } else if kind.starts_with("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    let mut chars = signal.chars();
    let c = chars.next()?.to_ascii_uppercase();
    (chars.next().is_none() && "0123456789*#ABCD".contains(c)).then_some(c)
}

/// A Call-ID made safe for a file name.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

impl Channel for SipChannel {
    async fn answer(&mut self) -> bool {
        if self.answered {
            return !self.hung_up;
        }
        if self.hung_up {
            return false;
        }
        let stream = match self.board.media.open() {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(call_id = %self.call_id(), error = %e, "no RTP port for a call");
                self.refuse(503, "Service Unavailable", &[("Retry-After", "5")]);
                return false;
            }
        };
        let local = self.local_sdp(&stream);
        let offer = self.invite.body().to_vec();
        let sdp = if offer.is_empty() {
            self.offered_in_200 = true;
            sdp::offer(&local, &CODECS, Direction::SendRecv)
        } else {
            match sdp::answer(&offer, &local, &CODECS) {
                Ok((media, sdp)) => {
                    stream.connect(&media);
                    sdp
                }
                Err(e) => {
                    let warning = format!("305 dialect \"{}\"", e.to_string().replace('"', "'"));
                    self.refuse(488, "Not Acceptable Here", &[("Warning", &warning)]);
                    return false;
                }
            }
        };
        stream.play(Source::Silence);
        let ok = self.ok_with_sdp(&self.invite, &sdp);
        self.unacked = Some(Unacked {
            bytes: ok.bytes.clone(),
            to: self.reply_to,
            resend: Resend::new(false, Instant::now()),
        });
        self.board.send(Outgoing::Answer {
            key: self.key.clone(),
            response: ok,
            to: self.reply_to,
        });
        self.stream = Some(stream);
        self.answered = true;
        true
    }

    async fn play(&mut self, prompt: &str) -> bool {
        let p = self.board.prompts.get(prompt);
        self.play_all(vec![p]).await
    }

    async fn collect(&mut self, request: &Collect) -> Collected {
        let Some(stream) = self.caller_stream().await else {
            return Collected::HungUp;
        };
        let mut playing = false;
        if let Some(p) = &request.prompt {
            stream.play(Source::Once(self.board.prompts.get(p)));
            playing = true;
        }
        let mut got = String::new();
        loop {
            let timeout = Duration::from_millis(
                if got.is_empty() {
                    request.first_timeout_ms
                } else {
                    request.digit_timeout_ms
                }
                .max(0) as u64,
            );
            let s = Arc::clone(&stream);
            let wait_prompt = playing;
            // A key, or the timeout counted from the end of the prompt.
            let next = self
                .until(async move {
                    let late = async {
                        if wait_prompt {
                            s.finished().await;
                        }
                        tokio::time::sleep(timeout).await;
                    };
                    tokio::select! {
                        digit = s.digit() => Some(digit),
                        () = late => None,
                    }
                })
                .await;
            let Some(next) = next else {
                return Collected::HungUp;
            };
            let Some(key) = next else {
                return if got.is_empty() {
                    Collected::Timeout
                } else {
                    Collected::Keys(got)
                };
            };
            if playing {
                // A key stops the prompt.
                stream.play(Source::Silence);
                playing = false;
            }
            if key == '#' && request.hash_ends {
                return Collected::Keys(got);
            }
            got.push(key);
            if request.is_complete(&got) {
                return Collected::Keys(got);
            }
        }
    }

    async fn ring(&mut self, targets: &[Target], ring: Ring) -> Rang {
        if self.hung_up {
            return Rang::HungUp;
        }
        let now_ms = self.board.now_ms();
        let calls: Vec<(usize, String)> = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.sip_user.is_empty())
            .flat_map(|(i, t)| {
                self.board
                    .registrar
                    .contacts(&t.sip_user, now_ms)
                    .into_iter()
                    .map(move |c| (i, c.uri))
            })
            .collect();
        let first = self.legs.len();
        self.place(&calls, ring.auto_answer);
        let timeout = Duration::from_millis(ring.timeout_ms.max(0) as u64);
        match self.ring_legs(first, timeout).await {
            Err(()) => Rang::HungUp,
            Ok(None) => Rang::NoAnswer,
            Ok(Some(i)) => Rang::Answered(self.legs[i].target),
        }
    }

    async fn bridge(&mut self, target: &Target, whisper: Option<&str>, record: bool) -> Ended {
        let _ = target;
        // The leg that answered last is the one the runtime connects.
        let Some(i) = self
            .legs
            .iter()
            .rposition(|l| l.state == State::Answered && !l.hung_up)
        else {
            return Ended::Other;
        };
        self.talk(i, whisper, record).await
    }

    async fn announce(&mut self, what: &Announce) -> bool {
        let prompts = match what {
            Announce::Position(n) => self.board.prompts.position(*n),
            Announce::WaitMinutes(n) => self.board.prompts.wait_minutes(*n),
            Announce::Prompt(p) => vec![self.board.prompts.get(p)],
        };
        self.play_all(prompts).await
    }

    async fn hold(&mut self, music: Option<&str>, ms: i64) -> bool {
        let Some(stream) = self.caller_stream().await else {
            return false;
        };
        match music {
            Some(name) => stream.play(Source::Loop {
                prompt: self.board.prompts.get(name),
                key: name.to_string(),
            }),
            None => stream.play(Source::Silence),
        }
        let ms = Duration::from_millis(ms.max(0) as u64);
        self.until(tokio::time::sleep(ms)).await.is_some()
    }

    async fn voicemail(&mut self, mailbox: &str) -> Option<String> {
        let stream = self.caller_stream().await?;
        if !self.play_all(vec![self.board.prompts.get("beep")]).await {
            return None;
        }
        stream.clear_digits();
        let dir = self.board.settings.recordings.clone();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot make the recordings folder");
        }
        let path = dir.join(format!(
            "{}-{}.wav",
            file_safe(self.call_id()),
            file_safe(mailbox)
        ));
        let recording = match stream.record(&path) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot record voicemail");
                return None;
            }
        };
        let max = self.board.settings.voicemail_max;
        let s = Arc::clone(&stream);
        // Ended by `#`, by the longest message, or by hanging up.
        let _ = self
            .until(async move {
                let hash = async { while s.digit().await != '#' {} };
                tokio::select! {
                    () = hash => {}
                    () = tokio::time::sleep(max) => {}
                }
            })
            .await;
        match recording.finish() {
            Ok(info) => {
                tracing::info!(
                    call_id = %self.call_id(),
                    mailbox,
                    path = %info.path.display(),
                    ms = info.duration_ms,
                    "voicemail recorded"
                );
                Some(info.path.display().to_string())
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "voicemail not saved");
                None
            }
        }
    }

    async fn transfer(&mut self, number: &str) -> bool {
        let uri = self.board.settings.targets.trunk.fill(number);
        if !self.answered {
            // Not answered yet: the caller is sent there (302).
            let contact = format!("<{uri}>");
            self.refuse(302, "Moved Temporarily", &[("Contact", &contact)]);
            return true;
        }
        let first = self.legs.len();
        self.place(&[(0, uri)], false);
        match self.ring_legs(first, TRANSFER_RING).await {
            Ok(Some(i)) => {
                self.talk(i, None, false).await;
                true
            }
            _ => false,
        }
    }

    async fn reject(&mut self, reason: RejectReason) {
        let (code, phrase) = match reason {
            RejectReason::Busy => (486, "Busy Here"),
            RejectReason::Decline => (603, "Decline"),
            RejectReason::Unavailable => (480, "Temporarily Unavailable"),
        };
        if self.answered {
            self.bye_caller();
        } else {
            self.refuse(code, phrase, &[]);
        }
    }

    async fn hangup(&mut self) {
        self.bye_caller();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::{Message, parse};

    fn info(kind: &str, body: &str) -> Request {
        let text = format!(
            "INFO sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>;tag=2\r\nCall-ID: c\r\n\
             CSeq: 3 INFO\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("a request"),
        }
    }

    #[test]
    fn keys_come_from_sip_info() {
        let relay = info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
        assert_eq!(dtmf_of_info(&relay), Some('5'));
        assert_eq!(
            dtmf_of_info(&info("application/dtmf-relay", "Signal= #\r\n")),
            Some('#')
        );
        assert_eq!(dtmf_of_info(&info("application/dtmf", "7")), Some('7'));
        assert_eq!(
            dtmf_of_info(&info("application/dtmf-relay", "Signal=55\r\n")),
            None
        );
        assert_eq!(dtmf_of_info(&info("text/plain", "5")), None);
    }

    #[test]
    fn call_ids_become_file_names() {
        assert_eq!(file_safe("a1/b@c d"), "a1_b_c_d");
    }
}
