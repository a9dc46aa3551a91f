//! The `traceforge` binary: everything lives in the library so tests and benches run the same code.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    traceforge::main()
}
