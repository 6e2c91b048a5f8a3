//! The event stream: every state change of calls and agents, and the one
//! summary record each call ends with. CDRs, live statistics, the simulator
//! and the dashboard all read this stream.

use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::mpsc;

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
    pub call: u64,
    pub caller: String,
    pub dialed: String,
    /// Milliseconds since the runtime's clock started.
    pub started_ms: i64,
    pub ended_ms: i64,
    pub disposition: Disposition,
    /// The steps the call took, as script words (`route inbound`, `menu main`, `queue billing`).
    pub path: Vec<String>,
    /// The last queue the call waited in.
    pub queue: Option<String>,
    /// The agent (or extension) that answered.
    pub agent: Option<String>,
    /// Time spent waiting in queues.
    pub wait_ms: i64,
    /// Time spent talking once answered.
    pub talk_ms: i64,
    pub tags: Vec<String>,
    /// The call's way through the script (entry, routes, menus, keys,
    /// actions), step for step as `dialect test` and `explain` walk it.
    /// Shared, so that the `CallEnded` event's copy costs nothing.
    #[serde(skip)]
    pub steps: std::sync::Arc<[crate::flow::Step]>,
}

impl Summary {
    /// The record of a call that begins at `started_ms`: `failed` until
    /// the call says how it ended.
    pub fn begun(call: u64, caller: String, dialed: String, started_ms: i64) -> Summary {
        Summary {
            call,
            caller,
            dialed,
            started_ms,
            ended_ms: started_ms,
            disposition: Disposition::Failed,
            path: Vec::new(),
            queue: None,
            agent: None,
            wait_ms: 0,
            talk_ms: 0,
            tags: Vec::new(),
            steps: std::sync::Arc::from([]),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    CallArrived {
        call: u64,
        caller: String,
        dialed: String,
        at_ms: i64,
    },
    MenuInput {
        call: u64,
        menu: String,
        keys: String,
        at_ms: i64,
    },
    Queued {
        call: u64,
        queue: String,
        priority: u32,
        at_ms: i64,
    },
    Offered {
        call: u64,
        queue: String,
        agents: Vec<String>,
        at_ms: i64,
    },
    Answered {
        call: u64,
        agent: String,
        queue: Option<String>,
        waited_ms: i64,
        at_ms: i64,
    },
    Abandoned {
        call: u64,
        queue: Option<String>,
        waited_ms: i64,
        at_ms: i64,
    },
    Overflowed {
        call: u64,
        queue: String,
        at_ms: i64,
    },
    /// A waiting caller left the queue because every agent who could take
    /// the call logged out or left the roster; its `no agents` actions run.
    /// (A caller turned away by `no agents` on arrival never joined, and
    /// gets no event.)
    NoAgents {
        call: u64,
        queue: String,
        at_ms: i64,
    },
    AgentState {
        agent: String,
        state: AgentState,
        at_ms: i64,
    },
    CallEnded(Summary),
}

/// A subscriber called in place for each event, on the publishing task.
pub type Sink = Box<dyn Fn(&Event) + Send + Sync>;

/// Publishes events to every subscriber.
#[derive(Default)]
pub struct EventBus {
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
    sinks: Mutex<Vec<Sink>>,
}

impl EventBus {
    /// Adds a subscriber that sees each event as it is published, without
    /// a copy or a task switch (the simulator's statistics). It must be
    /// quick and must not publish.
    pub fn sink(&self, sink: Sink) {
        if let Ok(mut sinks) = self.sinks.lock() {
            sinks.push(sink);
        }
    }

    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(tx);
        }
        rx
    }

    pub fn publish(&self, event: Event) {
        if let Ok(sinks) = self.sinks.lock() {
            for sink in sinks.iter() {
                sink(&event);
            }
        }
        if let Ok(mut subs) = self.subscribers.lock() {
            // Subscribers that went away are dropped.
            subs.retain(|s| s.send(event.clone()).is_ok());
        }
    }
}
