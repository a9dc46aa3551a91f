//! What traceforge tells the systems that operate it: the Prometheus metrics registry
//! ([`metrics`]). This folder is the only code that knows those formats; the proxy, the store
//! and the servers only count things through it and never format an exposition themselves.

pub mod metrics;
