//! The admin API's server endpoints: status, the versions put in force,
//! reload (with `force` and `dry_run`) and rollback.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::common::{Admin, asker, body, error, off_path};
use crate::server::reload::{NoRollback, Refused};

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

/// A refused reload: why, and for a script with errors the diagnostics.
#[derive(Serialize)]
struct RefusedBody {
    error: String,
    refused: &'static str,
}

pub(super) async fn reload(State(admin): State<Arc<Admin>>, bytes: Bytes) -> Response {
    let ask: ReloadBody = match body(&bytes, "reload", r#"{"force": false, "dry_run": false}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let by = asker(ask.by);
    let reloader = Arc::clone(&admin.reloader);
    match off_path(move || reloader.reload(&by, ask.force, ask.dry_run)).await {
        Ok(Ok(reloaded)) => Json(reloaded).into_response(),
        Ok(Err(refused)) => {
            let kind = match &refused {
                Refused::Script(_) => "script",
                Refused::Tests { .. } => "tests",
                Refused::Setup(_) => "setup",
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(RefusedBody {
                    error: refused.to_string(),
                    refused: kind,
                }),
            )
                .into_response()
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
