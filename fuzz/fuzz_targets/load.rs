//! Loads a script from a small file system made of one input: scripts that
//! include each other, files that are not UTF-8, FIFOs and devices, files
//! over the size limit or endless, deep include chains, CR line ends and
//! includes outside the script's folder (see `load_files.rs`).

#![no_main]

#[path = "load_files.rs"]
mod load_files;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    load_files::run(data);
});
