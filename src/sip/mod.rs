//! SIP: the message model, transport and transactions, digest
//! authentication and the registrar. Knows nothing of the language.

pub mod bindings;
pub mod credential;
pub mod digest;
pub mod nonce;
pub mod registrar;
