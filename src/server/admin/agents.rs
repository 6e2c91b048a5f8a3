//! The admin API's agents: the roster's agents with their states and
//! phones, and a supervisor's login, logout, pause and unpause.
//!
//! In redirect mode these go straight to the ACD. In B2BUA mode an
//! agent's login follows their phone's registration (the switchboard's
//! presence), so login and logout go through the switchboard: an agent a
//! supervisor logged out stays out whatever their phone does, until a
//! supervisor logs them in, and a login is refused (409) while no phone
//! of theirs is registered (docs/decisions.md says why). Pause and
//! unpause are the ACD's in both modes.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::common::{Admin, ByBody, Phones, asker, body, error, param};
use crate::checked::AgentState;
use crate::runtime::AcdError;
use crate::runtime::acd::Agent;
use crate::server::b2bua::board::LoginRefused;

/// An agent as the API shows them.
#[derive(Serialize)]
struct AgentJson {
    id: String,
    name: String,
    extension: String,
    sip_user: String,
    skills: toml::Table,
    state: AgentState,
    logged_in: bool,
    /// Whether a phone of theirs is registered now.
    phone_registered: bool,
    /// B2BUA mode: a supervisor logged them out, and their phone's
    /// registration will not log them in until a supervisor does.
    #[serde(skip_serializing_if = "Option::is_none")]
    held_out: Option<bool>,
    /// They left the roster in a reload while ringing or on a call, and
    /// are forgotten once that call is over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    departing: bool,
}

fn json(admin: &Admin, a: &Agent) -> AgentJson {
    AgentJson {
        id: a.spec.id.clone(),
        name: a.spec.name.clone(),
        extension: a.spec.extension.clone(),
        sip_user: a.spec.sip_user.clone(),
        skills: a.spec.skills.clone(),
        state: a.state,
        logged_in: a.state != AgentState::LoggedOut,
        phone_registered: admin.phones.is_registered(&a.spec.sip_user),
        held_out: match &admin.phones {
            Phones::B2bua(board) => Some(board.is_held_out(&a.spec.id)),
            Phones::Redirect { .. } => None,
        },
        departing: a.departing,
    }
}

/// The agent `id` as the API shows them, or a 404.
fn agent(admin: &Admin, id: &str) -> Response {
    match admin
        .runtime
        .acd()
        .agents()
        .iter()
        .find(|a| a.spec.id == id && !a.departing)
    {
        Some(a) => Json(json(admin, a)).into_response(),
        None => unknown(id),
    }
}

fn unknown(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        AcdError::UnknownAgent(id.to_string()).to_string() + " in the roster",
    )
}

/// `GET /agents`: every agent, in roster order.
pub(super) async fn list(State(admin): State<Arc<Admin>>) -> Response {
    let agents: Vec<AgentJson> = (admin.runtime.acd().agents().iter())
        .map(|a| json(&admin, a))
        .collect();
    Json(agents).into_response()
}

/// `GET /agents/{id}`.
pub(super) async fn one(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    match param(id) {
        Ok(id) => agent(&admin, &id),
        Err(reason) => error(StatusCode::BAD_REQUEST, reason),
    }
}

/// A supervisor's operation on an agent.
#[derive(Clone, Copy)]
enum Op {
    Login,
    Logout,
    Pause,
    Unpause,
}

impl Op {
    fn done(self) -> &'static str {
        match self {
            Op::Login => "logged in",
            Op::Logout => "logged out",
            Op::Pause => "paused",
            Op::Unpause => "unpaused",
        }
    }
}

/// Why an operation was refused: the agent is unknown (404) or their
/// state or phone does not allow it (409).
fn refused(e: LoginRefused) -> Response {
    match e {
        LoginRefused::Acd(AcdError::UnknownAgent(id)) => unknown(&id),
        e => error(StatusCode::CONFLICT, e.to_string()),
    }
}

async fn operate(
    admin: Arc<Admin>,
    id: Result<Path<String>, PathRejection>,
    bytes: Bytes,
    op: Op,
) -> Response {
    let id = match param(id) {
        Ok(id) => id,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let ask: ByBody = match body(&bytes, "agent", r#"{"by": "NAME"}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let acd = admin.runtime.acd();
    let done = match (op, &admin.phones) {
        (Op::Login, Phones::B2bua(board)) => board.log_in(&id),
        (Op::Logout, Phones::B2bua(board)) => board.log_out(&id).map_err(LoginRefused::from),
        (Op::Login, Phones::Redirect { .. }) => acd.login(&id).map_err(LoginRefused::from),
        (Op::Logout, Phones::Redirect { .. }) => acd.logout(&id).map_err(LoginRefused::from),
        (Op::Pause, _) => acd.pause(&id).map_err(LoginRefused::from),
        (Op::Unpause, _) => acd.unpause(&id).map_err(LoginRefused::from),
    };
    match done {
        Ok(()) => {
            println!(
                "dialect serve: agent `{id}` {} (by {})",
                op.done(),
                asker(ask.by)
            );
            agent(&admin, &id)
        }
        Err(e) => refused(e),
    }
}

/// `POST /agents/{id}/login`.
pub(super) async fn login(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Response {
    operate(admin, id, bytes, Op::Login).await
}

/// `POST /agents/{id}/logout`.
pub(super) async fn logout(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Response {
    operate(admin, id, bytes, Op::Logout).await
}

/// `POST /agents/{id}/pause`.
pub(super) async fn pause(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Response {
    operate(admin, id, bytes, Op::Pause).await
}

/// `POST /agents/{id}/unpause`.
pub(super) async fn unpause(
    State(admin): State<Arc<Admin>>,
    id: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Response {
    operate(admin, id, bytes, Op::Unpause).await
}
