//! traceforge's integration tests: one binary (one link, one process per run), a module per
//! area. Every test runs the real `traceforge` binary or the library's servers against
//! in-process fakes on 127.0.0.1:0; nothing leaves the machine.

mod common;

mod cli;
mod diff;
mod examples;
mod import;
mod load;
mod load_report;
mod logs;
mod mock_llm;
mod ops;
mod otlp;
mod pii;
mod pii_audit;
mod pii_cli;
mod policy;
mod policy_proxy;
mod pytest_plugin;
mod python_sdk;
mod review;
mod traces;
mod vcr;
mod workflows;
