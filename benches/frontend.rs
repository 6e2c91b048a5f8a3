//! Front-end throughput: parsing, checking, and both, on generated scripts
//! of about 100 KB and 1 MB (`dialect::synth::large_script`); and the two
//! reloads a server does, a data-only reload (read the lookup sources, swap
//! the tables) against a script reload (load, check, compile, swap), on
//! the bank example with 5,000 customers and 5,000 accounts and on the
//! generated 100 KB script with 5,000 customers.
//!
//! Targets: parse+check at 5 MB/s or more on one core, and a 100 KB script
//! parsed and checked in under 20 ms. Run with
//!
//! ```text
//! cargo bench --features bench --bench frontend
//! cargo bench --features bench --bench frontend -- 100KB     # only the 100 KB groups
//! cargo bench --features bench --bench frontend -- reload    # only the reloads
//! DIALECT_WRITE_100KB=DIR cargo bench --features bench --bench frontend -- reload
//!                                          # writes the 100 KB script to DIR instead
//! ```
//!
//! Criterion prints throughput in binary units (MiB/s; 1 MiB/s = 1.049 MB/s).
//! docs/performance.md records the figures.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use dialect::check::{self, Options};
use dialect::load::{Loader, MemoryFs};
use dialect::lookup::{Sources, load_tables};
use dialect::program::Program;
use dialect::runtime::{Clock, Roster, Runtime};
use dialect::source::FileId;
use dialect::syntax;
use dialect::synth::{LOOKUP_CSV, LOOKUP_SOURCE, Size, large_script};

/// The allocator of the `dialect` binary (src/main.rs), so that these
/// figures are what `dialect serve` and `dialect lint` do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn script(label: &str, size: Size) -> String {
    let text = large_script(size);
    // A benchmark of a script with errors would measure error recovery.
    let (ast, parse_errors) = syntax::parse(FileId(0), &text);
    let (_, check_errors) = check::check(&[(FileId(0), &ast)], &Options::default());
    assert!(
        parse_errors.is_empty() && check_errors.iter().all(|d| !d.is_error()),
        "the generated {label} script has errors"
    );
    eprintln!(
        "frontend/{label}: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    text
}

fn stages(group: &mut BenchmarkGroup<'_, WallTime>, text: &str) {
    let file = FileId(0);
    let options = Options::default();
    group.throughput(Throughput::Bytes(text.len() as u64));

    group.bench_function("parse", |b| b.iter(|| syntax::parse(file, black_box(text))));

    let (ast, _) = syntax::parse(file, text);
    group.bench_function("check", |b| {
        b.iter(|| check::check(black_box(&[(file, &ast)]), &options))
    });

    group.bench_function("parse+check", |b| {
        b.iter(|| {
            let (ast, _) = syntax::parse(file, black_box(text));
            check::check(&[(file, &ast)], &options)
        })
    });

    // What `dialect lint` does: load through a file system (the source map,
    // the lookup's CSV file), parse and check.
    let fs = MemoryFs::default()
        .with("main.dial", text)
        .with(LOOKUP_SOURCE, LOOKUP_CSV);
    group.bench_function("load+check", |b| {
        b.iter(|| {
            let mut loader = Loader::new(black_box(&fs));
            let id = loader.load(Path::new("main.dial")).expect("in memory");
            loader.check(id, None)
        })
    });
}

fn frontend(c: &mut Criterion) {
    let small = script("100KB", Size::kilobytes(100));
    let large = script("1MB", Size::megabytes(1));

    let mut group = c.benchmark_group("frontend/100KB");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    stages(&mut group, &small);
    group.finish();

    let mut group = c.benchmark_group("frontend/1MB");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15));
    stages(&mut group, &large);
    group.finish();

    // The latency target: one 100 KB script, parsed and checked, in time
    // rather than throughput.
    let mut group = c.benchmark_group("frontend/latency");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("parse+check 100KB", |b| {
        b.iter(|| {
            let (ast, _) = syntax::parse(FileId(0), black_box(&small));
            check::check(&[(FileId(0), &ast)], &Options::default())
        })
    });
    group.finish();
}

/// The bank example with `rows` customers and as many accounts, in memory
/// (so that the figures leave the disk out).
fn bank(rows: usize) -> MemoryFs {
    let mut customers = String::from("phone,account,tier,past_due,card_locked,language\n");
    let mut accounts = String::from("account,tier,past_due\n");
    let tiers = ["standard", "gold", "private"];
    for i in 0..rows {
        let tier = tiers[i % 3];
        let past_due = i % 7 == 0;
        let language = if i % 4 == 0 { "spanish" } else { "english" };
        let _ = writeln!(
            customers,
            "+1512{:07},{},{tier},{past_due},{},{language}",
            i,
            40_000_000 + i,
            i % 50 == 0
        );
        let _ = writeln!(accounts, "{},{tier},{past_due}", 50_000_000 + i);
    }
    MemoryFs::default()
        .with("bank.dial", include_str!("../examples/bank/bank.dial"))
        .with("blocked.csv", include_str!("../examples/bank/blocked.csv"))
        .with("customers.csv", &customers)
        .with("accounts.csv", &accounts)
}

/// The generated 100 KB script (84 routes, 42 queues) with `rows`
/// customers in its lookup.
fn synthetic(rows: usize) -> MemoryFs {
    let mut customers = String::from(LOOKUP_CSV.lines().next().unwrap_or_default());
    customers.push('\n');
    for i in 0..rows {
        let _ = writeln!(
            customers,
            "+1512{i:07},A-{i},{},gold,english,{},3m,2027-01-15,false,+1737{i:07}",
            i % 7 == 0,
            i % 5
        );
    }
    MemoryFs::default()
        .with("main.dial", &large_script(Size::kilobytes(100)))
        .with(LOOKUP_SOURCE, &customers)
}

/// A data-only reload against a script reload, both swapped into a
/// running runtime, for one script; docs/performance.md records the ratio.
fn reloads(c: &mut Criterion, label: &str, fs: &MemoryFs, root: &str, roster: &Roster) {
    let path = Path::new(root);
    let mut loader = Loader::new(fs);
    let id = loader.load(path).expect("in memory");
    let checked = loader.check(id, None);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "the {label} script has errors"
    );
    let tables = load_tables(&loader, &checked.program).expect("rows");
    eprintln!(
        "reload/{label}: {} lookup rows",
        (0..checked.program.lookups.len())
            .map(|l| tables.len(l))
            .sum::<usize>()
    );
    let program = Arc::new(Program::compile(checked.program).expect("compiles"));
    let clock = Clock::starting_at("2026-11-23T16:00:00Z".parse().expect("instant"));
    let rt = Runtime::builder(Arc::clone(&program), roster)
        .clock(clock)
        .build()
        .expect("runtime");

    let mut group = c.benchmark_group(format!("reload/{label}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    // Reads the sources kept from the first load, builds the tables
    // against the running program's declarations, and swaps them in: no
    // parse, no check, no compile.
    let sources = Sources::of(&loader, program.checked());
    group.bench_function("data", |b| {
        b.iter(|| {
            let tables = (sources.read(black_box(fs), rt.program().checked())).expect("rows");
            rt.reload_data(Arc::new(tables)).expect("fits")
        })
    });
    // What a script reload does: the same reading, then check (which reads
    // every row too, for lint's reports) and compile, and a swap of
    // program, tables and the roster's translation.
    group.bench_function("script", |b| {
        b.iter(|| {
            let mut loader = Loader::new(black_box(fs));
            let id = loader.load(path).expect("in memory");
            let checked = loader.check(id, None);
            let tables = load_tables(&loader, &checked.program).expect("rows");
            let program = Program::compile(checked.program).expect("compiles");
            rt.reload(Arc::new(program), Arc::new(tables), None)
                .expect("fits")
        })
    });
    group.finish();
}

fn reload(c: &mut Criterion) {
    // `DIALECT_WRITE_100KB=DIR` writes the 100 KB script and its rows to
    // DIR instead, to reload it through a running `dialect serve`
    // (docs/performance.md, "Reload latency of the 100 KB script").
    if let Ok(dir) = std::env::var("DIALECT_WRITE_100KB") {
        for (path, text) in &synthetic(5_000).files {
            let to = Path::new(&dir).join(path);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).expect("the folder is made");
            }
            std::fs::write(&to, text).expect("the file is written");
        }
        eprintln!("reload: the 100 KB script is in {dir}");
        return;
    }
    let roster = Roster::parse(include_str!("../examples/bank/agents.toml")).expect("roster");
    reloads(c, "bank", &bank(5_000), "bank.dial", &roster);
    reloads(
        c,
        "100KB",
        &synthetic(5_000),
        "main.dial",
        &Roster::default(),
    );
}

criterion::criterion_group!(benches, frontend, reload);
criterion::criterion_main!(benches);
