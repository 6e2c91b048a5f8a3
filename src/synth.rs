//! Generated scripts for benchmarks and property tests.
