//! The server: what wires the language to SIP. `config` reads
//! `dialect.toml`; `redirect` turns a program's decision for an INVITE
//! into the answer redirect mode sends; `version` is a program's version
//! (a hash of its files); `records` writes call records to SQLite;
//! `reload` puts a new version of the script in force while calls go on,
//! `stamp` says which of the files it read changed since, and `watch`
//! says when they change (`serve --watch`); `admin` is
//! the admin HTTP API.

pub mod admin;
pub mod answer;
pub mod b2bua;
pub mod config;
pub mod listen;
pub mod records;
pub mod redirect;
pub mod reload;
pub mod stamp;
pub mod version;
pub mod watch;

pub use version::{version, version_of};
