//! The calls in progress, for whoever asks what is going on now (the
//! admin API's `GET /calls`): each call's identity and where it is (in a
//! menu, waiting in a queue, ringing agents, talking). A call enters the
//! registry where the runtime counts it in (`Runtime::run_call`) and
//! leaves it where it is counted out, so every channel's calls are here
//! (B2BUA calls, simulated ones, tests'); redirect mode keeps no calls.
//!
//! The registry is in shards by call id, each a `Mutex<HashMap>`: a call
//! costs an insert and a remove, and a few updates of its place on the
//! way, each under its shard's lock, which other calls rarely share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use super::record::CallInfo;

/// Where a call is now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Place {
    /// Arrived; the program has not asked for anything yet.
    Arrived,
    /// A prompt plays (`play`, outside a menu).
    Playing { prompt: String },
    /// In a menu: its prompt plays or the caller's keys are awaited.
    Menu { menu: String },
    /// Waiting in a queue since `since_ms` (the runtime's clock, which
    /// means nothing outside it: whoever shows it says how long).
    Queued {
        queue: String,
        #[serde(skip_serializing)]
        since_ms: i64,
    },
    /// Agents or extensions ring for the call (`queue` when a queue
    /// offered it).
    Ringing {
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        agents: Vec<String>,
    },
    /// Talking with `agent` (an agent's id, or an extension outside the
    /// roster).
    Talking {
        agent: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
    },
    /// Leaving a message.
    Voicemail { mailbox: String },
    /// Handed on to a number.
    Transferring { number: String },
}

/// A call in progress, as [`Live::calls`] returns it.
#[derive(Clone, Debug, Serialize)]
pub struct LiveCall {
    pub call: Arc<CallInfo>,
    pub place: Place,
    /// The version a reload moved the call to while it waited in a queue
    /// (its record's `moved_to_version`); `None` while it runs the
    /// version it started with.
    pub moved_to_version: Option<Arc<str>>,
}

/// The registry of calls in progress (see the module's comment).
pub struct Live {
    shards: [Shard; SHARDS],
}

const SHARDS: usize = 16;

/// A shard alone on its cache lines.
#[derive(Default)]
#[repr(align(128))]
struct Shard(Mutex<HashMap<u64, LiveCall>>);

impl Default for Live {
    fn default() -> Live {
        Live {
            shards: std::array::from_fn(|_| Shard::default()),
        }
    }
}

impl Live {
    fn shard(&self, id: u64) -> MutexGuard<'_, HashMap<u64, LiveCall>> {
        self.shards[(id % SHARDS as u64) as usize]
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// A call began.
    pub(super) fn start(&self, call: Arc<CallInfo>) {
        let id = call.id;
        self.shard(id).insert(
            id,
            LiveCall {
                call,
                place: Place::Arrived,
                moved_to_version: None,
            },
        );
    }

    /// The call `id` moved on.
    pub(super) fn set(&self, id: u64, place: Place) {
        if let Some(c) = self.shard(id).get_mut(&id) {
            c.place = place;
        }
    }

    /// A reload moved the call `id` to `version`.
    pub(super) fn moved(&self, id: u64, version: Option<Arc<str>>) {
        if let Some(c) = self.shard(id).get_mut(&id) {
            c.moved_to_version = version;
        }
    }

    /// The call `id` ended.
    pub(super) fn end(&self, id: u64) {
        self.shard(id).remove(&id);
    }

    /// Every call in progress, by the runtime's call number (the order
    /// they arrived in).
    pub fn calls(&self) -> Vec<LiveCall> {
        let mut all: Vec<LiveCall> = self
            .shards
            .iter()
            .flat_map(|s| {
                let shard = s.0.lock().unwrap_or_else(|p| p.into_inner());
                shard.values().cloned().collect::<Vec<_>>()
            })
            .collect();
        all.sort_by_key(|c| c.call.id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: u64) -> Arc<CallInfo> {
        Arc::new(CallInfo {
            id,
            caller: "+15125550123".into(),
            dialed: "+18005550100".into(),
            correlation: Some(format!("call-{id}")),
            arrived: jiff::Timestamp::UNIX_EPOCH,
            arrived_ms: 0,
            program_version: None,
            switches: Vec::new(),
        })
    }

    #[test]
    fn calls_come_and_go_in_arrival_order_with_their_place() {
        let live = Live::default();
        for id in [17, 1, 2] {
            live.start(info(id));
        }
        live.set(
            2,
            Place::Queued {
                queue: "sales".into(),
                since_ms: 5,
            },
        );
        live.set(99, Place::Arrived);
        let calls = live.calls();
        let ids: Vec<u64> = calls.iter().map(|c| c.call.id).collect();
        assert_eq!(ids, [1, 2, 17]);
        assert_eq!(
            calls[1].place,
            Place::Queued {
                queue: "sales".into(),
                since_ms: 5
            }
        );
        live.end(2);
        live.end(2);
        assert_eq!(live.calls().len(), 2);
        let json = serde_json::to_value(&live.calls()[0].place).unwrap();
        assert_eq!(json["state"], "arrived");
    }
}
