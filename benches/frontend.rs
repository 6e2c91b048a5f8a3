//! Front-end throughput: parsing, checking, and both, on generated scripts
//! of about 100 KB and 1 MB (`dialect::synth::large_script`).
//!
//! Targets: parse+check at 5 MB/s or more on one core, and a 100 KB script
//! parsed and checked in under 20 ms. Run with
//!
//! ```text
//! cargo bench --features bench --bench frontend
//! cargo bench --features bench --bench frontend -- 100KB     # only the 100 KB groups
//! ```
//!
//! Criterion prints throughput in binary units (MiB/s; 1 MiB/s = 1.049 MB/s).
//! docs/performance.md records the figures.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use dialect::check::{self, Options};
use dialect::load::{Loader, MemoryFs};
use dialect::source::FileId;
use dialect::syntax;
use dialect::synth::{LOOKUP_CSV, LOOKUP_SOURCE, Size, large_script};

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

criterion::criterion_group!(benches, frontend);
criterion::criterion_main!(benches);
