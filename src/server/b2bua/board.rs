//! The B2BUA's shared state: the calls in progress by Call-ID (each
//! with its task's event queue), the UDP socket calls send through, the
//! agents whose login follows their registration (unless a supervisor
//! logged them out), and what every call needs (runtime, registrar,
//! media, prompts, settings).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::prompts::Prompts;
use crate::media::engine::Media;
use crate::runtime::{AcdError, Runtime};
use crate::server::answer::Rate;
use crate::server::config::Targets;
use crate::sip::message::{ReceivedResponse, Request};
use crate::sip::outbox::{Outbox, OutboxReceiver, Outgoing};
use crate::sip::registrar::Registrar;
use crate::sip::transaction::Key;

/// What a call's task hears from the switchboard.
#[derive(Debug)]
pub enum Event {
    /// A request of one of the call's dialogs, to answer through the
    /// outbox with `key` (an ACK needs no answer).
    Request {
        request: Box<Request>,
        key: Key,
        reply_to: SocketAddr,
    },
    /// The caller cancelled the INVITE (the CANCEL is answered already).
    Cancel,
    /// A response to a request the call sent.
    Response(Box<ReceivedResponse>),
}

/// How B2BUA calls behave, from `dialect.toml`'s `[media]`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where voicemail and call recordings are written.
    pub recordings: PathBuf,
    /// The longest voicemail message.
    pub voicemail_max: Duration,
    /// Where `transfer` sends a call.
    pub targets: Targets,
}

/// Counts of the B2BUA's calls, for the line `serve` prints when it stops.
#[derive(Debug, Default)]
pub struct Calls {
    pub started: AtomicU64,
    pub ended: AtomicU64,
    /// New calls refused with 503 during a shutdown.
    pub refused: AtomicU64,
}

/// The B2BUA's [`Handler`], shared by every transport and call task.
pub struct Switchboard {
    pub runtime: Arc<Runtime>,
    pub registrar: Arc<Registrar>,
    pub media: Arc<Media>,
    pub prompts: Arc<Prompts>,
    pub settings: Settings,
    pub rate: Rate,
    pub calls: Calls,
    /// The registrar's time is milliseconds since this instant.
    pub started: Instant,
    /// Each Call-ID of a call in progress (the caller's, and those of the
    /// calls placed to agents for it), with the call's event queue.
    routes: Mutex<HashMap<String, mpsc::UnboundedSender<Event>>>,
    /// The UDP socket calls send through, and its address.
    outbox: OnceLock<(SocketAddr, Outbox)>,
    /// Set at shutdown: new INVITEs get 503.
    closing: AtomicBool,
    /// Each roster agent's id by SIP user: an agent is logged in to the
    /// ACD while a phone of theirs is registered. A reload of the roster
    /// replaces it ([`Switchboard::set_agents`]).
    agents: Mutex<HashMap<String, String>>,
    /// The ids of the agents a supervisor logged out (the admin API):
    /// they stay logged out whatever their phones do, until a supervisor
    /// logs them in again.
    held_out: Mutex<HashSet<String>>,
}

/// Agents' ids by SIP user, leaving out agents without one.
fn by_user<'a>(agents: impl Iterator<Item = (&'a str, &'a str)>) -> HashMap<String, String> {
    agents
        .filter(|(user, _)| !user.is_empty())
        .map(|(user, id)| (user.to_string(), id.to_string()))
        .collect()
}

/// Why a supervisor could not log an agent in (B2BUA mode).
#[derive(Debug, thiserror::Error)]
pub enum LoginRefused {
    #[error(transparent)]
    Acd(#[from] AcdError),
    #[error(
        "agent `{0}` has no phone registered: in B2BUA mode calls reach an agent only through \
         a registered phone, so they are logged in once one registers"
    )]
    NoPhone(String),
}

impl Switchboard {
    pub fn new(
        runtime: Arc<Runtime>,
        registrar: Arc<Registrar>,
        media: Arc<Media>,
        prompts: Arc<Prompts>,
        settings: Settings,
        rate: Rate,
    ) -> Switchboard {
        Switchboard {
            runtime,
            registrar,
            media,
            prompts,
            settings,
            rate,
            calls: Calls::default(),
            started: Instant::now(),
            routes: Mutex::new(HashMap::new()),
            outbox: OnceLock::new(),
            closing: AtomicBool::new(false),
            agents: Mutex::new(HashMap::new()),
            held_out: Mutex::new(HashSet::new()),
        }
    }

    /// The roster's agents, by SIP user, whose login follows their
    /// phones' registration.
    pub fn with_agents<'a>(self, agents: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        *self.agent_map() = by_user(agents);
        self
    }

    /// A roster put in force by a reload: its agents' logins follow their
    /// phones from now on. An agent new to the roster whose phone is
    /// already registered is logged in; one whose SIP user changed
    /// follows the new user's phones (the ACD has logged out agents the
    /// roster no longer has).
    pub fn set_agents<'a>(&self, agents: impl Iterator<Item = (&'a str, &'a str)>) {
        *self.agent_map() = by_user(agents);
        self.refresh_presence();
    }

    fn agent_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.agents.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Logs the agent of `user` in while a phone of theirs is registered,
    /// out once none is: in B2BUA mode an agent can be offered calls only
    /// with a phone to ring. An agent a supervisor logged out stays out.
    pub fn presence(&self, user: &str) {
        let Some(id) = self.agent_map().get(user).cloned() else {
            return;
        };
        let id = id.as_str();
        let acd = self.runtime.acd();
        // Already in that state, or busy on a call: nothing to change.
        let _ = if self.is_registered(user) && !self.is_held_out(id) {
            acd.login(id)
        } else {
            acd.logout(id)
        };
    }

    /// Whether a phone of the SIP user `user` is registered now.
    pub fn is_registered(&self, user: &str) -> bool {
        !user.is_empty() && self.registrar.is_registered(user, self.now_ms())
    }

    /// Whether a supervisor logged the agent `id` out (and nobody logged
    /// them in since).
    pub fn is_held_out(&self, id: &str) -> bool {
        self.held().contains(id)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.held_out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A supervisor logs the agent `id` out: they stay out, whatever
    /// their phones do, until a supervisor logs them in. Refused (and
    /// nothing kept) when the ACD refuses the logout.
    pub fn log_out(&self, id: &str) -> Result<(), AcdError> {
        // Held out before the logout, so a registration between the two
        // cannot log them in again.
        let fresh = self.held().insert(id.to_string());
        let done = self.runtime.acd().logout(id);
        if done.is_err() && fresh {
            self.held().remove(id);
        }
        done
    }

    /// A supervisor logs the agent `id` in; refused while no phone of
    /// theirs is registered, since calls could not reach them.
    pub fn log_in(&self, id: &str) -> Result<(), LoginRefused> {
        let acd = self.runtime.acd();
        let user =
            (self.agent_map().iter()).find_map(|(user, agent)| (agent == id).then(|| user.clone()));
        match user.as_deref() {
            Some(user) if self.is_registered(user) => {}
            // Known to the ACD but without a phone (or a SIP user).
            _ if acd.roster().agents.iter().any(|a| a.id == id) => {
                return Err(LoginRefused::NoPhone(id.to_string()));
            }
            _ => return Err(AcdError::UnknownAgent(id.to_string()).into()),
        }
        self.held().remove(id);
        acd.login(id).map_err(LoginRefused::from)
    }

    /// Logs out the agents whose registrations have all expired (run
    /// after the registrar's purge).
    pub fn refresh_presence(&self) {
        let users: Vec<String> = self.agent_map().keys().cloned().collect();
        for user in &users {
            self.presence(user);
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Sends through the UDP socket; false when no socket is open.
    pub fn send(&self, out: Outgoing) -> bool {
        match self.outbox.get() {
            Some((_, outbox)) => outbox.send(out).is_ok(),
            None => false,
        }
    }

    /// The address of the UDP socket calls send from.
    pub fn local(&self) -> Option<SocketAddr> {
        self.outbox.get().map(|(local, _)| *local)
    }

    /// Routes a Call-ID's requests and responses to a call's task.
    pub fn route(&self, call_id: &str, to: mpsc::UnboundedSender<Event>) {
        self.lock().insert(call_id.to_string(), to);
    }

    pub fn unroute(&self, call_id: &str) {
        self.lock().remove(call_id);
    }

    /// Calls in progress (by their caller's Call-ID and the agents' ones).
    pub fn routes(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Event>>> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn deliver(&self, call_id: &str, event: Event) -> bool {
        match self.lock().get(call_id) {
            Some(to) => to.send(event).is_ok(),
            None => false,
        }
    }

    /// Returns once every call task has ended (each hangs up what is
    /// left and waits a little for the last answers), or after a bound.
    pub async fn wait_for_calls(&self) {
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.calls.ended.load(Ordering::Relaxed) < self.calls.started.load(Ordering::Relaxed)
            && tokio::time::Instant::now() < until
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops taking calls: from now on an INVITE gets 503.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Makes the outbox of the UDP socket at `local` the one calls send
    /// through (the first socket that asks); `None` for the others.
    pub fn attach(&self, local: SocketAddr) -> Option<OutboxReceiver> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.outbox.set((local, tx)).ok()?;
        Some(rx)
    }

    /// Whether new calls are refused (a stop was asked for).
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Whether `call_id` is a call in progress.
    pub fn knows(&self, call_id: &str) -> bool {
        self.lock().contains_key(call_id)
    }
}
