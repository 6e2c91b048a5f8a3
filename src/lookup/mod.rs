//! Lookup data, apart from compiled code: reading CSV text and typed cells
//! (`read.rs`), the rows of a program's lookups as [`LookupTables`]
//! (`tables.rs`), and loading those tables from the sources a script names
//! (`sources.rs`: through the loader that read the script, or again from
//! the `Sources` kept from that load, without the script).
//!
//! A `program::Program` holds no rows. Whoever runs calls holds the program
//! and its tables side by side, so a customer CSV can be read again and
//! swapped in without compiling the script (`Runtime::reload_data`).

pub mod read;
mod sources;
mod tables;

pub use read::{
    CsvRow, CsvTable, duration_ms, parse_cell, parse_duration, parse_key, parse_key_in, read_csv,
};
pub use sources::{Founds, LoadError, Sources, load_tables};
pub use tables::{DataMismatch, LookupTables};
