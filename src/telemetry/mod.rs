//! What traceforge tells the systems that watch it: metrics, logs and OTLP trace export. The
//! only code that knows those wire formats; it reads finished interactions and never changes
//! traffic.

pub mod otlp;
