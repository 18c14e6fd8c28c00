//! The `simrace` command; everything lives in [`simrace::cli`].

/// The search allocates and frees many small nodes (states, wakeup trees, clocks);
/// mimalloc does that faster than the system allocator (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    simrace::cli::main()
}
