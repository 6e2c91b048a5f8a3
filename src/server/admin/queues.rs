//! The admin API's queues: each queue of the version in force with its
//! waiting callers, its agents and its statistics, as the ACD counts them
//! for decisions (`Acd::queue_view`).
//!
//! Statistics are counted for a call, whose facts a queue's filters may
//! read (the caller's number, lookup rows, the time): here for a call
//! with no number and no lookup row, at the current time. Callers of a
//! queue that a reload removed still wait under their old version, and
//! are not shown.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::common::{Admin, error, param};
use crate::checked::QueueId;
use crate::facts::Facts;
use crate::runtime::acd::{QueueAgent, WaitingCaller};

/// A queue's statistics, as decisions read them (`queue.NAME.waiting`...).
#[derive(Serialize)]
struct Stats {
    waiting: i64,
    available: i64,
    agents: i64,
    longest_wait_ms: i64,
    expected_wait_ms: i64,
}

#[derive(Serialize)]
struct QueueJson {
    name: String,
    stats: Stats,
    callers: Vec<WaitingCaller>,
    agents: Vec<QueueAgent>,
}

/// The queues of the version in force, whose name `only` is if given.
fn queues(admin: &Admin, only: Option<&str>) -> Vec<QueueJson> {
    let runtime = &admin.runtime;
    let program = runtime.program();
    let checked = program.checked();
    let mut facts = Facts::new(&program.ir().layout);
    facts.set_time(&checked.zones, runtime.clock().now());
    checked
        .queues
        .iter()
        .enumerate()
        .filter(|(_, q)| only.is_none_or(|name| q.name == name))
        .map(|(i, q)| {
            let view =
                (runtime.acd()).queue_view(&program, QueueId(i as u32), &facts, runtime.aht_ms());
            let s = view.stats;
            QueueJson {
                name: q.name.clone(),
                stats: Stats {
                    waiting: s.waiting,
                    available: s.available,
                    agents: s.agents,
                    longest_wait_ms: s.longest_wait_ms,
                    expected_wait_ms: s.expected_wait_ms,
                },
                callers: view.callers,
                agents: view.agents,
            }
        })
        .collect()
}

/// `GET /queues`: every queue, in the script's order.
pub(super) async fn list(State(admin): State<Arc<Admin>>) -> Response {
    Json(queues(&admin, None)).into_response()
}

/// `GET /queues/{name}`.
pub(super) async fn one(
    State(admin): State<Arc<Admin>>,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let name = match param(name) {
        Ok(name) => name,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    match queues(&admin, Some(&name)).pop() {
        Some(q) => Json(q).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("there is no queue `{name}` in the version in force"),
        ),
    }
}
