//! The admin API's calls in progress: the runtime's registry of calls
//! (`Runtime::calls`), each with who called, what was dialed, when, the
//! program version it runs and where it is now. Redirect mode answers
//! each INVITE at once and keeps no call, so there the list is empty.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::common::Admin;
use crate::runtime::Place;

#[derive(Serialize)]
struct CallJson {
    /// The runtime's number for the call.
    id: u64,
    /// The SIP Call-ID of the caller's dialog, when the channel has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_call_id: Option<String>,
    caller: String,
    dialed: String,
    started_at: jiff::Timestamp,
    duration_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    program_version: Option<Arc<str>>,
    /// The version a reload moved the call to while it waited in a queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    moved_to_version: Option<Arc<str>>,
    /// Where the call is: `state` and what it names.
    #[serde(flatten)]
    place: Place,
    /// How long the caller has waited in the queue, when queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    waited_ms: Option<i64>,
}

/// `GET /calls`: the calls in progress, in the order they arrived.
pub(super) async fn list(State(admin): State<Arc<Admin>>) -> Response {
    let now_ms = admin.runtime.clock().elapsed_ms();
    let calls: Vec<CallJson> = admin
        .runtime
        .calls()
        .into_iter()
        .map(|live| {
            let info = live.call;
            CallJson {
                id: info.id,
                sip_call_id: info.correlation.clone(),
                caller: info.caller.clone(),
                dialed: info.dialed.clone(),
                started_at: info.arrived,
                duration_ms: (now_ms - info.arrived_ms).max(0),
                program_version: info.program_version.clone(),
                moved_to_version: live.moved_to_version.clone(),
                waited_ms: match &live.place {
                    Place::Queued { since_ms, .. } => Some((now_ms - since_ms).max(0)),
                    _ => None,
                },
                place: live.place,
            }
        })
        .collect();
    Json(calls).into_response()
}
