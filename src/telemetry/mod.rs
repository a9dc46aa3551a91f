//! What traceforge tells the systems that watch it: structured logs ([`logs`]) and the one
//! event per server request ([`request`]). The only code that knows the log formats; the
//! servers and the proxy hand it fields and never write log lines themselves.

pub mod logs;
pub mod request;
