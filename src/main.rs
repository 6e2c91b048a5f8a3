//! The `dialect` binary; all work happens in `dialect::cli`.

/// mimalloc rather than glibc's malloc: a call through the B2BUA makes and
/// frees many small buffers on several threads (docs/decisions.md,
/// "mimalloc for the binary").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dialect::cli::main()
}
