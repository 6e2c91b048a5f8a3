//! The event stream: every state change of calls and agents, and the one
//! summary record each call ends with. CDRs, live statistics, the simulator
//! and the dashboard all read this stream.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

use super::record::{CallInfo, Step};
use crate::checked::AgentState;

/// How a call ended. Every call that reaches the runtime ends with exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    /// An agent or extension answered and talked with the caller.
    Answered,
    /// The caller hung up before being answered.
    Abandoned,
    /// The caller was sent to a mailbox.
    Voicemail,
    /// The call was handed to an outside number.
    Transferred,
    /// The script turned the call away (`reject`, or `hangup` after
    /// announcements, or no entry for the number).
    Rejected,
    /// Nobody answered: the extension or every member of a hunt group
    /// rang out, and the script had nothing more to do than hang up.
    Unanswered,
    /// Something went wrong (a transfer failed, a loop without end).
    Failed,
}

impl Disposition {
    pub fn name(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Abandoned => "abandoned",
            Disposition::Voicemail => "voicemail",
            Disposition::Transferred => "transferred",
            Disposition::Rejected => "rejected",
            Disposition::Unanswered => "unanswered",
            Disposition::Failed => "failed",
        }
    }
}

/// The one record a call ends with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub call: Arc<CallInfo>,
    /// Milliseconds since the runtime's clock started.
    pub ended_ms: i64,
    pub disposition: Disposition,
    /// The steps the call took, in order.
    pub path: Vec<Step>,
    /// The last queue the call waited in.
    pub queue: Option<String>,
    /// The agent (or extension) that answered.
    pub agent: Option<String>,
    /// Time spent waiting in queues.
    pub wait_ms: i64,
    /// Time spent talking once answered.
    pub talk_ms: i64,
    /// When the caller was answered (by the script's first prompt or
    /// menu, else by the agent or extension that picked up), in
    /// milliseconds since the runtime's clock started; `None` for a call
    /// never answered.
    pub answered_ms: Option<i64>,
    /// The wrap-up the agent who talked to the caller was given after the
    /// call (the queue's `wrapup`), in milliseconds.
    pub wrapup_ms: i64,
    pub tags: Vec<String>,
    /// Where the caller's voicemail message was kept (a file), if any.
    pub voicemail: Option<String>,
    /// The version of the program the call finished under, when a reload
    /// moved it there while it waited in a queue that version also has
    /// (the call's `program_version` stays the one it started with).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to_version: Option<Arc<str>>,
    /// The call's way through the script in the program's own terms
    /// (entry, routes, menus, keys, actions), step for step as `dialect
    /// test` and `explain` walk it, to compare the two. It points into the
    /// program the call ran (from a move on, into the program it moved
    /// to), so it is not part of the record.
    /// Shared, so that the `CallEnded` event's copy costs nothing.
    #[serde(skip)]
    pub flow: Arc<[crate::flow::Step]>,
}

impl Summary {
    /// The record of a call that has just arrived: `failed` until the
    /// call says how it ended.
    pub fn begun(call: Arc<CallInfo>) -> Summary {
        Summary {
            ended_ms: call.arrived_ms,
            call,
            disposition: Disposition::Failed,
            // Room for a call's usual steps (entry, route, menu, keys,
            // queue, offer, ...), so the path is not moved as it grows.
            path: Vec::with_capacity(PATH_ROOM),
            queue: None,
            agent: None,
            wait_ms: 0,
            talk_ms: 0,
            answered_ms: None,
            wrapup_ms: 0,
            tags: Vec::new(),
            voicemail: None,
            moved_to_version: None,
            flow: Arc::from([]),
        }
    }

    /// When the call arrived, in milliseconds since the runtime's clock
    /// started.
    pub fn started_ms(&self) -> i64 {
        self.call.arrived_ms
    }
}

/// How many steps a call's path has room for when the call arrives.
const PATH_ROOM: usize = 8;

/// A change of state of a call or an agent. Call events carry the call's
/// [`CallInfo`] (shared, so a copy costs a count).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    CallArrived {
        call: Arc<CallInfo>,
        at_ms: i64,
    },
    MenuInput {
        call: Arc<CallInfo>,
        menu: String,
        keys: String,
        at_ms: i64,
    },
    Queued {
        call: Arc<CallInfo>,
        queue: String,
        priority: u32,
        at_ms: i64,
    },
    Offered {
        call: Arc<CallInfo>,
        queue: String,
        agents: Vec<String>,
        at_ms: i64,
    },
    Answered {
        call: Arc<CallInfo>,
        agent: String,
        queue: Option<String>,
        waited_ms: i64,
        at_ms: i64,
    },
    Abandoned {
        call: Arc<CallInfo>,
        queue: Option<String>,
        waited_ms: i64,
        at_ms: i64,
    },
    Overflowed {
        call: Arc<CallInfo>,
        queue: String,
        at_ms: i64,
    },
    /// A waiting caller left the queue because every agent who could take
    /// the call logged out or left the roster; its `no agents` actions run.
    /// (A caller turned away by `no agents` on arrival never joined, and
    /// gets no event.)
    NoAgents {
        call: Arc<CallInfo>,
        queue: String,
        at_ms: i64,
    },
    AgentState {
        agent: String,
        state: AgentState,
        at_ms: i64,
    },
    CallEnded(Arc<Summary>),
}

/// How many events a live subscriber may fall behind by before it misses
/// some, unless the runtime is built with another capacity.
pub const DEFAULT_EVENT_CAPACITY: usize = 4_096;

/// A subscriber called in place for each event, on the publishing task.
pub type Sink = Box<dyn Fn(&Event) + Send + Sync>;

/// Publishes events, by three ways that differ in what they may lose:
///
/// - **sinks** are called in place on the publishing task (the
///   simulator's statistics and the `dialect test` runner): nothing is
///   lost or queued, and they must be quick;
/// - **live subscribers** ([`EventBus::subscribe`]: dashboards, metrics)
///   read from a ring of bounded size; one that falls behind is told how
///   many events it missed ([`broadcast::error::RecvError::Lagged`]) and
///   costs no more memory than the ring;
/// - **record subscribers** ([`EventBus::records`]: the call-record
///   writer) receive every call's summary through a bounded queue; when
///   it is full, the call that ends waits until the writer has taken a
///   record, so no record is ever dropped.
pub struct EventBus {
    /// Read on every event without a lock; replaced whole when a sink is
    /// added (at set-up).
    sinks: ArcSwap<Vec<Arc<Sink>>>,
    live: broadcast::Sender<Event>,
    /// Whether a live subscriber was ever added: until then, publishing
    /// takes no lock for them.
    any_live: std::sync::atomic::AtomicBool,
    records: Mutex<Vec<mpsc::Sender<Arc<Summary>>>>,
    /// Whether any record subscriber was ever added: until then, a call's
    /// end takes no lock for them.
    any_records: std::sync::atomic::AtomicBool,
}

impl Default for EventBus {
    fn default() -> EventBus {
        EventBus::new(DEFAULT_EVENT_CAPACITY)
    }
}

impl EventBus {
    /// A bus whose live subscribers may fall `capacity` events behind.
    pub fn new(capacity: usize) -> EventBus {
        EventBus {
            sinks: ArcSwap::from_pointee(Vec::new()),
            live: broadcast::channel(capacity.max(1)).0,
            any_live: std::sync::atomic::AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            any_records: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Adds a subscriber that sees each event as it is published, without
    /// a copy or a task switch. It must be quick and must not publish.
    pub fn sink(&self, sink: Sink) {
        let sink = Arc::new(sink);
        self.sinks.rcu(|sinks| {
            let mut sinks = Vec::clone(sinks);
            sinks.push(Arc::clone(&sink));
            sinks
        });
    }

    /// A live subscriber: every event from now on, unless it falls more
    /// than the bus's capacity behind, when its next `recv` says how many
    /// it missed and goes on with the oldest event still kept.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        let receiver = self.live.subscribe();
        self.any_live
            .store(true, std::sync::atomic::Ordering::Release);
        receiver
    }

    /// A record subscriber: every call's summary from now on, losing none.
    /// At most `capacity` summaries wait in it; beyond that, calls that end
    /// wait for the subscriber. Dropping the receiver unsubscribes.
    pub fn records(&self, capacity: usize) -> mpsc::Receiver<Arc<Summary>> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        if let Ok(mut records) = self.records.lock() {
            records.push(tx);
            self.any_records
                .store(true, std::sync::atomic::Ordering::Release);
        }
        rx
    }

    /// Publishes an event to sinks and live subscribers.
    pub fn publish(&self, event: Event) {
        for sink in self.sinks.load().iter() {
            sink(&event);
        }
        if self.any_live.load(std::sync::atomic::Ordering::Acquire) {
            // An error only means that nobody listens now.
            let _ = self.live.send(event);
        }
    }

    /// Hands a call's summary to every record subscriber, waiting while
    /// one is full, then publishes it as [`Event::CallEnded`].
    pub async fn record(&self, summary: Arc<Summary>) {
        if !self.any_records.load(std::sync::atomic::Ordering::Acquire) {
            self.publish(Event::CallEnded(summary));
            return;
        }
        let writers: Vec<_> = match self.records.lock() {
            Ok(r) => r.clone(),
            Err(e) => e.into_inner().clone(),
        };
        let mut gone = false;
        for writer in &writers {
            gone |= writer.send(Arc::clone(&summary)).await.is_err();
        }
        if gone && let Ok(mut records) = self.records.lock() {
            records.retain(|w| !w.is_closed());
        }
        self.publish(Event::CallEnded(summary));
    }

    /// Ends every record subscription: each subscriber receives what is
    /// already queued, then the end of its stream.
    pub fn close_records(&self) {
        if let Ok(mut records) = self.records.lock() {
            records.clear();
        }
    }
}
