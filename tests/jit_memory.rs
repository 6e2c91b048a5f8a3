//! Compiled programs free their code: compiling and dropping ten thousand
//! programs leaves the process no larger than after the first thousand.

use std::path::Path;

use dialect::ir;
use dialect::jit::Compiled;
use dialect::load::{Loader, MemoryFs};

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[test]
fn compiling_and_dropping_programs_keeps_memory_flat() {
    let text = r#"
        timezone "Europe/Paris"
        hours office { mon..fri 09:00..17:00 }
        queue desk { strategy linear }
        route inbound {
          when caller matches "+33XXXXXXXXX" and open(office) -> queue desk
          otherwise -> voicemail "desk"
        }
        entry "+33 1 23 45 67 89" -> route inbound
    "#;
    let fs = MemoryFs::default().with("main.dial", text);
    let mut loader = Loader::new(&fs);
    let root = loader.load(Path::new("main.dial")).expect("loads");
    let module = ir::lower(&loader.check(root, None).program);

    let mut code_bytes = 0;
    let mut compile_and_drop = |n: usize| {
        for _ in 0..n {
            let compiled = Compiled::new(&module).expect("compiles");
            code_bytes = compiled.code_bytes;
        }
    };
    compile_and_drop(1_000);
    let after_warmup = resident_bytes();
    compile_and_drop(9_000);
    let after_all = resident_bytes();
    let growth = after_all.saturating_sub(after_warmup);
    // Leaking would add at least a page of code per program: 9,000 pages.
    assert!(code_bytes > 0);
    assert!(
        growth < 8 * 1024 * 1024,
        "resident memory grew by {} KiB over 9,000 compilations ({} bytes of code each)",
        growth / 1024,
        code_bytes
    );
}
