//! The built-in deterministic LLM upstream (`traceforge mock-llm`); filled in by the next commit.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;

use crate::server::{json_response, HttpResponse};

#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    pub first_event_delay: Duration,
    pub event_delay: Duration,
}

pub async fn handle(_config: Arc<MockConfig>, _request: http::Request<Incoming>) -> HttpResponse {
    json_response(501, &serde_json::json!({"error": "mock-llm is not built yet"}))
}
