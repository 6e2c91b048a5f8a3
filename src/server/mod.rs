//! The server: what wires the language to SIP. `config` reads
//! `dialect.toml`; `redirect` turns a program's decision for an INVITE
//! into the answer redirect mode sends.

pub mod config;
pub mod redirect;
