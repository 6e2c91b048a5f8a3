//! B2BUA mode: Dialect answers each call itself and runs it through the
//! call runtime, one [`SipChannel`] per call.
//!
//! The [`Switchboard`] is the SIP transports' [`Handler`]: it turns a new
//! INVITE into a call task (answered 100 Trying at once), hands every
//! later request and every response of a call's dialogs to that task by
//! Call-ID, answers REGISTER (the registrar, as in redirect mode) and
//! OPTIONS itself, and 481 to requests of dialogs it does not hold. Call
//! tasks send through the UDP socket's outbox, so the socket's
//! transaction table records their answers (a final answer is sent again
//! until its ACK, a repeated request gets it again).
//!
//! `board` is the state every call shares; `channel` the call's side of
//! SIP and media; `legs` the calls this server places to agents' phones;
//! `reoffer` the re-INVITEs a call sends to pass hold across the bridge;
//! `prompts` the recordings a call plays.

pub mod board;
pub mod channel;
pub mod legs;
pub mod prompts;
pub mod reoffer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::answer::{ALLOW, register};
use crate::runtime::Arrival;
use crate::sip::ingress::{Handler, Incoming};
use crate::sip::message::{Method, ReceivedResponse};
use crate::sip::outbox::{OutboxReceiver, Outgoing};
use crate::sip::response::{Response, response};
pub use board::{Calls, Event, Settings, Switchboard};
pub use channel::{NewCall, SipChannel};

/// Starts a call for a new INVITE: its task runs the call through the
/// runtime. Returns the 100 Trying to send now.
fn start_call(board: &Arc<Switchboard>, incoming: &Incoming<'_>) -> Response {
    let req = incoming.request;
    let Some(call_id) = req.call_id() else {
        return response(req, 400, "Missing Call-ID").finish();
    };
    let Some(local) = board.local() else {
        return response(req, 503, "Service Unavailable").finish();
    };
    let (tx, rx) = mpsc::unbounded_channel();
    board.route(call_id, tx.clone());
    board.calls.started.fetch_add(1, Ordering::Relaxed);
    let dialed = req.uri_user().unwrap_or_default();
    let asserted = req.p_asserted_identity();
    let caller = asserted
        .as_ref()
        .or_else(|| req.from())
        .and_then(|a| a.user.clone())
        .unwrap_or_default();
    let arrival = Arrival {
        caller,
        dialed,
        correlation: Some(call_id.to_string()),
    };
    let call = NewCall {
        invite: req.clone(),
        key: incoming.key.clone(),
        reply_to: incoming.reply_to,
        source: incoming.source,
        local,
    };
    let (key, reply_to) = (call.key.clone(), call.reply_to);
    let channel = SipChannel::new(Arc::clone(board), call, rx, tx);
    let board = Arc::clone(board);
    tokio::spawn(async move {
        let mut channel = match channel {
            Ok(c) => c,
            Err(answer) => {
                board.send(Outgoing::Answer {
                    key,
                    response: answer,
                    to: reply_to,
                });
                board.calls.ended.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        board.runtime.run_call(&mut channel, arrival).await;
        // The runtime's record path has handed the record to the database
        // writer (`server::records`), which also prints it.
        channel.finish().await;
        board.calls.ended.fetch_add(1, Ordering::Relaxed);
    });
    response(req, 100, "Trying").finish()
}

/// The handler needs the switchboard in an `Arc` to start calls.
pub struct Board(pub Arc<Switchboard>);

impl Handler for Board {
    fn handle(&self, incoming: &Incoming<'_>) -> Option<Response> {
        let board = &self.0;
        let req = incoming.request;
        let method = req.method();
        let call_id = req.call_id().unwrap_or("");
        let in_dialog = req.to().is_some_and(|t| t.tag.is_some());
        let known = *method != Method::Register && board.knows(call_id);
        if known {
            if *method == Method::Cancel {
                board.deliver(call_id, Event::Cancel);
                return Some(response(req, 200, "OK").finish());
            }
            let event = Event::Request {
                request: Box::new(req.clone()),
                key: incoming.key.clone(),
                reply_to: incoming.reply_to,
            };
            if board.deliver(call_id, event) {
                return None;
            }
        }
        if *method == Method::Ack {
            return None;
        }
        if *method != Method::Options && req.max_forwards() == Some(Some(0)) {
            return Some(response(req, 483, "Too Many Hops").finish());
        }
        match method {
            Method::Invite if !in_dialog && incoming.transport.reliable() => Some(
                response(req, 503, "Service Unavailable")
                    .header(
                        "Warning",
                        "399 dialect \"b2bua mode takes calls over UDP only\"",
                    )
                    .finish(),
            ),
            Method::Invite if !in_dialog => {
                if board.is_closing() {
                    board.calls.refused.fetch_add(1, Ordering::Relaxed);
                    return Some(
                        response(req, 503, "Service Unavailable")
                            .header("Retry-After", &board.rate.retry_after_s.to_string())
                            .finish(),
                    );
                }
                if !board.rate.admit(board.started.elapsed().as_secs()) {
                    return Some(
                        response(req, 503, "Service Unavailable")
                            .header("Retry-After", &board.rate.retry_after_s.to_string())
                            .finish(),
                    );
                }
                Some(start_call(board, incoming))
            }
            Method::Register => {
                if !board.rate.admit(board.started.elapsed().as_secs()) {
                    return Some(
                        response(req, 503, "Service Unavailable")
                            .header("Retry-After", &board.rate.retry_after_s.to_string())
                            .finish(),
                    );
                }
                let answer = register(&board.registrar, req, board.now_ms());
                if answer.code == 200
                    && let Some(user) = req.to().and_then(|t| t.user.as_deref())
                {
                    board.presence(user);
                }
                Some(answer)
            }
            Method::Options => Some(
                response(req, 200, "OK")
                    .header("Allow", ALLOW)
                    .header("Accept", "application/sdp")
                    .finish(),
            ),
            Method::Other(_) => Some(
                response(req, 501, "Not Implemented")
                    .header("Allow", ALLOW)
                    .finish(),
            ),
            Method::Cancel => Some(response(req, 481, "Call/Transaction Does Not Exist").finish()),
            _ if in_dialog => Some(response(req, 481, "Call/Transaction Does Not Exist").finish()),
            _ => Some(
                response(req, 405, "Method Not Allowed")
                    .header("Allow", ALLOW)
                    .finish(),
            ),
        }
    }

    fn ack(&self, incoming: &Incoming<'_>) -> bool {
        let call_id = incoming.request.call_id().unwrap_or("");
        self.0.deliver(
            call_id,
            Event::Request {
                request: Box::new(incoming.request.clone()),
                key: incoming.key.clone(),
                reply_to: incoming.reply_to,
            },
        )
    }

    fn response(&self, answer: ReceivedResponse, _source: SocketAddr) -> bool {
        let Some(call_id) = answer.call_id().map(str::to_string) else {
            return false;
        };
        self.0.deliver(&call_id, Event::Response(Box::new(answer)))
    }

    fn attach(&self, local: SocketAddr) -> Option<OutboxReceiver> {
        // Calls send through the first UDP socket; the others only answer.
        self.0.attach(local)
    }
}
