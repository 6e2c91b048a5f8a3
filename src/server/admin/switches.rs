//! `GET /switches` and `PUT /switches/{name}`: the script's switches and
//! their states, and a supervisor's flip, kept in the database before it
//! is put on the runtime's switch states (so a flip answered 200 is there
//! after a restart), logged, and in force from the next call.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::common::{Admin, asker, error, off_path, param};
use crate::runtime::Flip;

/// One switch as the API shows it.
#[derive(Serialize)]
pub struct SwitchState {
    pub name: String,
    pub on: bool,
    /// Whether the program in force declares it (a switch an earlier
    /// version declared keeps its state, unread, until one declares it
    /// again).
    pub declared: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The last flip, if anyone flipped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `PUT /switches/{name}`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlipBody {
    on: bool,
    #[serde(default)]
    by: Option<String>,
}

/// What a flip answers: the switch now, and whether it was on before.
#[derive(Serialize)]
struct Flipped {
    #[serde(flatten)]
    switch: SwitchState,
    was: bool,
}

/// The program's switches in its order, then any other switch set on the
/// board.
fn states(admin: &Admin) -> Vec<SwitchState> {
    let program = admin.runtime.program();
    let mut board = admin.runtime.switches().all();
    let mut out: Vec<SwitchState> = (program.checked().switches.iter())
        .map(|s| {
            let flip = board.remove(&s.name);
            SwitchState {
                name: s.name.clone(),
                on: flip.as_ref().is_some_and(|f| f.on),
                declared: true,
                description: s.description.clone(),
                changed: flip.as_ref().map(|f| f.at),
                by: flip.map(|f| f.by),
            }
        })
        .collect();
    out.extend(board.into_iter().map(|(name, f)| SwitchState {
        name,
        on: f.on,
        declared: false,
        description: None,
        changed: Some(f.at),
        by: Some(f.by),
    }));
    out
}

pub(super) async fn list(State(admin): State<Arc<Admin>>) -> Response {
    axum::Json(states(&admin)).into_response()
}

pub(super) async fn flip(
    State(admin): State<Arc<Admin>>,
    name: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Response {
    let name = match param(name) {
        Ok(name) => name,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let ask: FlipBody = match serde_json::from_slice(&bytes) {
        Ok(ask) => ask,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not a switch flip ({e}); send {{\"on\": true}} or {{\"on\": false}}"
                ),
            );
        }
    };
    let program = admin.runtime.program();
    let description = match program.checked().find_switch(&name) {
        Ok(id) => program.checked().switch(id).description.clone(),
        Err(why) => return error(StatusCode::NOT_FOUND, format!("the script in force {why}")),
    };
    let flip = Flip {
        on: ask.on,
        at: jiff::Timestamp::now(),
        by: asker(ask.by),
    };
    // Kept first: the board changes only once the flip is on disk. One
    // lock serves both, so two flips reach the disk and the board in the
    // same order.
    let keeper = Arc::clone(&admin);
    let kept = off_path(move || {
        let mut store = keeper
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.flip(&name, &flip)?;
        let was = keeper.runtime.switches().set(&name, flip.clone());
        Ok::<_, crate::server::records::StoreError>((name, flip, was))
    })
    .await;
    let (name, flip, was) = match kept {
        Ok(Ok(kept)) => kept,
        Ok(Err(e)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the flip was not kept, so it is not in force: {e}"),
            );
        }
        Err(response) => return response,
    };
    let was = was.is_some_and(|f| f.on);
    tracing::info!(switch = %name, on = flip.on, was, by = %flip.by, "switch flipped");
    println!(
        "dialect serve: switch {name} {} (was {}), by {}",
        on_off(flip.on),
        on_off(was),
        flip.by
    );
    let switch = SwitchState {
        name,
        on: flip.on,
        declared: true,
        description,
        changed: Some(flip.at),
        by: Some(flip.by),
    };
    axum::Json(Flipped { switch, was }).into_response()
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}
