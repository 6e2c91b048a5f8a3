//! The admin HTTP API (axum), on 127.0.0.1 by default (docs/api.yaml).
//! Every endpoint but `GET /health` wants the bearer token, compared in
//! constant time; a missing or wrong one is 401. Errors are JSON,
//! `{"error": "..."}`, and bad requests are 4xx, never 5xx.
//!
//! One file per group of endpoints, each importing only `common` (the
//! state, errors and bodies they share): `reload` (status, versions,
//! reload, rollback, diff), `agents` (the roster's agents, login, logout,
//! pause), `queues` (waiting callers, agents and statistics), `calls`
//! (the calls in progress) and `switches` (list and flip). This file puts their routes together behind
//! the token; a new group is a file and a block of routes here.
//!
//! The token is the contents of a token file (`dialect.token` beside the
//! call-record database), written with 0600 permissions at first start
//! (`token`).

mod agents;
mod calls;
mod common;
mod queues;
mod reload;
mod switches;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};

use self::common::error;
pub use self::common::{Admin, Phones};
pub use self::token::{TOKEN_FILE, token};

async fn authorize(State(admin): State<Arc<Admin>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(t) if token::same(t.trim().as_bytes(), admin.token.as_bytes()) => {
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
        // The server and its versions.
        .route("/status", get(reload::status))
        .route("/versions", get(reload::versions))
        .route("/reload", post(reload::reload))
        .route("/rollback", post(reload::rollback))
        .route("/diff", get(reload::diff))
        // Agents.
        .route("/agents", get(agents::list))
        .route("/agents/{id}", get(agents::one))
        .route("/agents/{id}/login", post(agents::login))
        .route("/agents/{id}/logout", post(agents::logout))
        .route("/agents/{id}/pause", post(agents::pause))
        .route("/agents/{id}/unpause", post(agents::unpause))
        // Queues.
        .route("/queues", get(queues::list))
        .route("/queues/{name}", get(queues::one))
        // Calls in progress.
        .route("/calls", get(calls::list))
        // Switches.
        .route("/switches", get(switches::list))
        .route("/switches/{name}", put(switches::flip))
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
