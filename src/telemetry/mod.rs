//! What traceforge tells the systems that operate and watch it: the Prometheus metrics
//! registry ([`metrics`]), structured logs ([`logs`]) and the one event per server request
//! ([`request`]). This folder is the only code that knows those formats; the proxy, the store
//! and the servers hand it counts and fields and never format an exposition or a log line
//! themselves.

pub mod logs;
pub mod metrics;
pub mod request;
