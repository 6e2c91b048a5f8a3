//! The admin HTTP API (axum), on 127.0.0.1 by default (docs/api.yaml):
//! status, the versions put in force, reload (with `force` and
//! `dry_run`), rollback and the switches: a flip is written to the
//! database before it is put on the runtime's board (so a flip answered
//! 200 is there after a restart), logged, and in force from the next call. Every endpoint but `GET /health` wants the bearer token,
//! compared in constant time; a missing or wrong one is 401. Errors are
//! JSON, `{"error": "..."}`, and bad bodies are 4xx, never 5xx.
//!
//! The token is `admin_token` in the configuration, else the contents of
//! a token file (`dialect.token` beside the call-record database),
//! written with 0600 permissions at first start.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use crate::runtime::{Flip, Runtime};
use crate::server::records::RecordStore;
use crate::server::reload::{NoRollback, Refused, Reloader};

/// What the API reads and acts on.
pub struct Admin {
    pub reloader: Arc<Reloader>,
    pub runtime: Arc<Runtime>,
    pub token: String,
    pub started: Instant,
    pub mode: &'static str,
    /// The database that keeps the switches' flips.
    pub store: std::sync::Mutex<RecordStore>,
}

/// The token file's name, beside the call-record database.
pub const TOKEN_FILE: &str = "dialect.token";

/// The token in `path`, or a new one written there (0600) when the file
/// does not exist.
pub fn token(path: &Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim().to_string();
            if token.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the admin token file {} is empty", path.display()),
                ));
            }
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            writeln!(file, "{token}")?;
            Ok(token)
        }
        Err(e) => Err(e),
    }
}

/// Equal strings, in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
struct Error {
    error: String,
}

fn error(status: StatusCode, reason: impl Into<String>) -> Response {
    (
        status,
        axum::Json(Error {
            error: reason.into(),
        }),
    )
        .into_response()
}

async fn authorize(State(admin): State<Arc<Admin>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if same(token.trim().as_bytes(), admin.token.as_bytes()) => {
            next.run(request).await
        }
        Some(_) => error(StatusCode::UNAUTHORIZED, "wrong token"),
        None => error(
            StatusCode::UNAUTHORIZED,
            "no token: send `Authorization: Bearer TOKEN` (the token is in the server's token file)",
        ),
    }
}

/// The API's routes over `admin`.
pub fn router(admin: Arc<Admin>) -> Router {
    let guarded = Router::new()
        .route("/status", get(status))
        .route("/versions", get(versions))
        .route("/reload", post(reload))
        .route("/rollback", post(rollback))
        .route("/switches", get(switches))
        .route("/switches/{name}", put(flip))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&admin),
            authorize,
        ));
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .merge(guarded)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .with_state(admin)
}

#[derive(Serialize)]
struct Status {
    mode: &'static str,
    version: String,
    uptime_s: u64,
    calls_in_progress: usize,
}

async fn status(State(admin): State<Arc<Admin>>) -> Response {
    let version = admin
        .runtime
        .program()
        .version()
        .map(|v| v.to_string())
        .unwrap_or_default();
    axum::Json(Status {
        mode: admin.mode,
        version,
        uptime_s: admin.started.elapsed().as_secs(),
        calls_in_progress: admin.runtime.calls_in_progress(),
    })
    .into_response()
}

async fn versions(State(admin): State<Arc<Admin>>) -> Response {
    axum::Json(admin.reloader.versions()).into_response()
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

/// A request's JSON body, the default when it is empty; otherwise the
/// reason for a 400, saying what to send.
fn body<T: serde::de::DeserializeOwned + Default>(
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

/// Who asked, for the history: the body's `by`, else the API.
fn asker(by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty() && b.len() <= 100)
        .unwrap_or_else(|| "admin API".into())
}

/// Runs `work` on the blocking pool (a reload loads and compiles).
async fn off_path<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request did not finish: {e}"),
        )
    })
}

async fn reload(State(admin): State<Arc<Admin>>, bytes: Bytes) -> Response {
    let ask: ReloadBody = match body(&bytes, "reload", r#"{"force": false, "dry_run": false}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let by = asker(ask.by);
    let reloader = Arc::clone(&admin.reloader);
    match off_path(move || reloader.reload(&by, ask.force, ask.dry_run)).await {
        Ok(Ok(reloaded)) => axum::Json(reloaded).into_response(),
        Ok(Err(refused)) => {
            let kind = match &refused {
                Refused::Script(_) => "script",
                Refused::Tests { .. } => "tests",
                Refused::Setup(_) => "setup",
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(RefusedBody {
                    error: refused.to_string(),
                    refused: kind,
                }),
            )
                .into_response()
        }
        Err(answer) => answer,
    }
}

async fn rollback(State(admin): State<Arc<Admin>>, bytes: Bytes) -> Response {
    let ask: RollbackBody = match body(&bytes, "rollback", r#"{"to": "VERSION"}"#) {
        Ok(ask) => ask,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let by = asker(ask.by);
    let reloader = Arc::clone(&admin.reloader);
    let to = ask.to;
    match off_path(move || reloader.rollback(to.as_deref(), &by)).await {
        Ok(Ok(back)) => axum::Json(back).into_response(),
        Ok(Err(e @ NoRollback::Setup(_))) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(answer) => answer,
    }
}

// ------------------------------------------------------------ switches ----
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

async fn switches(State(admin): State<Arc<Admin>>) -> Response {
    axum::Json(states(&admin)).into_response()
}

async fn flip(
    State(admin): State<Arc<Admin>>,
    UrlPath(name): UrlPath<String>,
    bytes: Bytes,
) -> Response {
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
    let declared = &program.checked().switches;
    if !declared.iter().any(|s| s.name == name) {
        let names = declared.iter().map(|s| s.name.as_str());
        let reason = match crate::diagnostic::did_you_mean(&name, names) {
            Some(s) => {
                format!("the script in force declares no switch `{name}`; did you mean `{s}`?")
            }
            None if declared.is_empty() => {
                format!("the script in force declares no switches (asked for `{name}`)")
            }
            None => format!(
                "the script in force declares no switch `{name}` (its switches: {})",
                (declared.iter().map(|s| s.name.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return error(StatusCode::NOT_FOUND, reason);
    }
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
    let switch = states(&admin)
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or(SwitchState {
            name,
            on: flip.on,
            declared: true,
            description: None,
            changed: Some(flip.at),
            by: Some(flip.by),
        });
    axum::Json(Flipped { switch, was }).into_response()
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }

    #[test]
    fn a_token_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dialect-token-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(TOKEN_FILE);
        let first = token(&path).unwrap();
        assert_eq!(first.len(), 48);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(token(&path).unwrap(), first, "read back, not made again");
        std::fs::write(&path, "\n").unwrap();
        assert!(token(&path).is_err(), "an empty token file is refused");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
