//! What every group of the admin API's handlers shares: the state they
//! read and act on ([`Admin`]), JSON errors, request bodies, and running
//! slow work off the server's threads.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::runtime::Runtime;
use crate::server::b2bua::Switchboard;
use crate::server::records::RecordStore;
use crate::server::reload::Reloader;
use crate::sip::registrar::Registrar;

/// What the API reads and acts on.
pub struct Admin {
    pub reloader: Arc<Reloader>,
    pub runtime: Arc<Runtime>,
    /// Agents' phones, and who decides their logins.
    pub phones: Phones,
    pub token: String,
    pub started: Instant,
    pub mode: &'static str,
    /// The database that keeps the switches' flips.
    pub store: std::sync::Mutex<RecordStore>,
}

/// Agents' phones, by mode: in redirect mode logins are the ACD's alone
/// and the registrar only says which phones to send calls to; in B2BUA
/// mode the switchboard logs agents in while a phone of theirs is
/// registered, and keeps those a supervisor logged out out.
pub enum Phones {
    Redirect {
        registrar: Arc<Registrar>,
        /// The registrar's time is milliseconds since this instant.
        since: Instant,
    },
    B2bua(Arc<Switchboard>),
}

impl Phones {
    /// Whether a phone of the SIP user `user` is registered now.
    pub fn is_registered(&self, user: &str) -> bool {
        match self {
            Phones::Redirect { registrar, since } => {
                !user.is_empty()
                    && registrar.is_registered(user, since.elapsed().as_millis() as u64)
            }
            Phones::B2bua(board) => board.is_registered(user),
        }
    }
}

#[derive(Serialize)]
struct Error {
    error: String,
}

/// A JSON error, `{"error": REASON}`.
pub(super) fn error(status: StatusCode, reason: impl Into<String>) -> Response {
    (
        status,
        Json(Error {
            error: reason.into(),
        }),
    )
        .into_response()
}

/// A path's parameter; otherwise the reason for a 400.
pub(super) fn param<T>(path: Result<axum::extract::Path<T>, PathRejection>) -> Result<T, String> {
    path.map(|p| p.0).map_err(|e| format!("a bad path: {e}"))
}

/// A request's JSON body, the default when it is empty; otherwise the
/// reason for a 400, saying what to send.
pub(super) fn body<T: serde::de::DeserializeOwned + Default>(
    bytes: &[u8],
    what: &str,
    example: &str,
) -> Result<T, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| format!("the body is not a {what} request ({e}); send {example} or nothing"))
}

/// The body of a request that needs nothing but may say who asks.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ByBody {
    #[serde(default)]
    pub(super) by: Option<String>,
}

/// Who asked, for the history: the body's `by`, else the API.
pub(super) fn asker(by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty() && b.len() <= 100)
        .unwrap_or_else(|| "admin API".into())
}

/// Runs `work` on the blocking pool (a reload loads and compiles).
pub(super) async fn off_path<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request did not finish: {e}"),
        )
    })
}
