//! The admin API's server endpoints: status, the versions put in force,
//! reload (with `force`, `dry_run` and `expect`), rollback, and the diff
//! between two versions held compiled.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::common::{Admin, asker, body, error, off_path};
use crate::server::reload::{Ask, NoDiff, NoRollback, Refused};

#[derive(Serialize)]
struct Status {
    mode: &'static str,
    version: String,
    uptime_s: u64,
    calls_in_progress: usize,
}

pub(super) async fn status(State(admin): State<Arc<Admin>>) -> Response {
    let version = admin
        .runtime
        .program()
        .version()
        .map(|v| v.to_string())
        .unwrap_or_default();
    Json(Status {
        mode: admin.mode,
        version,
        uptime_s: admin.started.elapsed().as_secs(),
        calls_in_progress: admin.runtime.calls_in_progress(),
    })
    .into_response()
}

pub(super) async fn versions(State(admin): State<Arc<Admin>>) -> Response {
    Json(admin.reloader.versions()).into_response()
}

/// `POST /reload`'s body; an empty body asks for a plain reload.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReloadBody {
    #[serde(default)]
    force: bool,
    #[serde(default)]
    dry_run: bool,
    /// The version the asker was shown (by a dry run): refused with 409
    /// when the files now hold another.
    #[serde(default)]
    expect: Option<String>,
    /// Who asks, for the versions' history.
    #[serde(default)]
    by: Option<String>,
}

/// `POST /rollback`'s body; an empty body rolls back one version.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    /// The version to put back; default the one before the version in force.
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    by: Option<String>,
}

/// A refused reload: why, and for a script with errors the diagnostics
/// as `dialect lint --format json` writes them.
#[derive(Serialize)]
struct RefusedBody {
    error: String,
    refused: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<Vec<serde_json::Value>>,
    /// For `stale`: the version expected and the one the files hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    found: Option<String>,
}

pub(super) async fn reload(State(admin): State<Arc<Admin>>, bytes: Bytes) -> Response {
    let ask: ReloadBody = match body(&bytes, "reload", r#"{"force": false, "dry_run": false}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let by = asker(ask.by);
    let reloader = Arc::clone(&admin.reloader);
    let ask = Ask {
        force: ask.force,
        dry_run: ask.dry_run,
        expect: ask.expect,
    };
    match off_path(move || reloader.reload(&by, &ask)).await {
        Ok(Ok(reloaded)) => Json(reloaded).into_response(),
        Ok(Err(refused)) => {
            let mut answer = RefusedBody {
                error: refused.to_string(),
                refused: "setup",
                diagnostics: None,
                expected: None,
                found: None,
            };
            let status = match refused {
                Refused::Script { diagnostics, .. } => {
                    answer.refused = "script";
                    answer.diagnostics = Some(diagnostics);
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Refused::Tests { .. } => {
                    answer.refused = "tests";
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Refused::Setup(_) => StatusCode::UNPROCESSABLE_ENTITY,
                Refused::Stale { expected, found } => {
                    answer.refused = "stale";
                    answer.expected = Some(expected);
                    answer.found = Some(found);
                    StatusCode::CONFLICT
                }
            };
            (status, Json(answer)).into_response()
        }
        Err(answer) => answer,
    }
}

pub(super) async fn rollback(State(admin): State<Arc<Admin>>, bytes: Bytes) -> Response {
    let ask: RollbackBody = match body(&bytes, "rollback", r#"{"to": "VERSION"}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let by = asker(ask.by);
    let reloader = Arc::clone(&admin.reloader);
    let to = ask.to;
    match off_path(move || reloader.rollback(to.as_deref(), &by)).await {
        Ok(Ok(back)) => Json(back).into_response(),
        Ok(Err(e @ NoRollback::Setup(_))) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(answer) => answer,
    }
}

/// `GET /diff`'s query, `from=V&to=V`: two versions held compiled, by
/// their first hex digits; by default the one before the version in force
/// and that one. Anything else is the reason for a 400.
fn diff_query(uri: &Uri) -> Result<(Option<String>, Option<String>), String> {
    let (mut from, mut to) = (None, None);
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "`{pair}`: a version is hex digits, as `dialect versions` lists them"
            ));
        }
        let slot = match key {
            "from" => &mut from,
            "to" => &mut to,
            _ => {
                return Err(format!(
                    "`{key}` is not a parameter; ask /diff, /diff?from=V or /diff?from=V1&to=V2"
                ));
            }
        };
        *slot = Some(value.to_string());
    }
    Ok((from, to))
}

/// `GET /diff?from=V&to=V`: which calls one held version sends elsewhere
/// than another, as `dialect diff` says it (text and JSON).
pub(super) async fn diff(State(admin): State<Arc<Admin>>, uri: Uri) -> Response {
    let (from, to) = match diff_query(&uri) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let reloader = Arc::clone(&admin.reloader);
    match off_path(move || reloader.diff(from.as_deref(), to.as_deref())).await {
        Ok(Ok(compared)) => Json(compared).into_response(),
        Ok(Err(e @ NoDiff::NotHeld(..))) => error(StatusCode::NOT_FOUND, e.to_string()),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(answer) => answer,
    }
}
