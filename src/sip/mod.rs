//! SIP: messages, transports and server transactions, digest
//! authentication and the registrar. Knows nothing of the language: the
//! server hands it a `Handler` that answers requests.
//!
//! `message` is the only door to rsipstack's message model, `scan` a
//! glance at raw bytes for the transaction key; `response`
//! writes answers as bytes; `validate` decides 400s; `transaction` holds
//! server transactions on a time it is given, `deadlines` their timers;
//! `framing` cuts TCP streams; `ingress` takes one message from bytes to
//! its answer; `transport` owns the UDP and TCP sockets; `counters` counts
//! what happened. `digest`, `credential` and `nonce` authenticate;
//! `registrar` and `bindings` keep where each SIP user can be reached.

pub mod bindings;
pub mod counters;
pub mod credential;
pub mod deadlines;
pub mod dialog;
pub mod digest;
pub mod framing;
pub mod ingress;
pub mod message;
pub mod nonce;
pub mod outbox;
pub mod registrar;
pub mod response;
pub mod scan;
pub mod transaction;
pub mod transport;
pub mod validate;

#[cfg(test)]
mod message_tests;
#[cfg(test)]
mod transaction_tests;
