//! The `traceforge` binary: everything lives in the library so tests and benches run the same code.

fn main() -> std::process::ExitCode {
    traceforge::main()
}
