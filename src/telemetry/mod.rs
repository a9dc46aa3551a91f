//! What traceforge tells the systems that operate and watch it: the Prometheus metrics
//! registry ([`metrics`]), structured logs ([`logs`]), the one event per server request
//! ([`request`]) and OTLP trace export ([`otlp`]). This folder is the only code that knows
//! those formats; the proxy, the store and the servers hand it counts, fields and finished
//! interactions and never format an exposition, a log line or a span themselves, and it never
//! changes traffic.

pub mod logs;
pub mod metrics;
pub mod otlp;
pub mod request;
