//! Every span attribute name traceforge sends, in one table: the OpenTelemetry GenAI semantic
//! conventions of semantic-conventions v1.41.0 (`docs/gen-ai/gen-ai-spans.md`, the last
//! release that carries them; later ones point to the separate semantic-conventions-genai
//! repository), the stable `http.*` and `error.type` names, and traceforge's own `traceforge.*`.
//! A rename upstream is a one-line change here.

macro_rules! attributes {
    ($($(#[doc = $doc:literal])+ $name:ident = $key:literal;)*) => {
        $( $(#[doc = $doc])+ pub const $name: &str = $key; )*
        /// Every attribute above with its description, in table order (README, tests).
        pub const ALL: &[(&str, &str)] = &[$(($key, concat!($($doc),+))),*];
    };
}

attributes! {
    /// What was asked of the model: `chat`, `text_completion`, `embeddings`, … (from the path).
    OPERATION_NAME = "gen_ai.operation.name";
    /// `openai` or `anthropic` (the API dialect of the upstream).
    PROVIDER_NAME = "gen_ai.provider.name";
    /// The model the request named.
    REQUEST_MODEL = "gen_ai.request.model";
    /// The request's `max_tokens` (or `max_completion_tokens`, `max_output_tokens`).
    REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens";
    /// The request's `temperature`.
    REQUEST_TEMPERATURE = "gen_ai.request.temperature";
    /// The request's `top_p`.
    REQUEST_TOP_P = "gen_ai.request.top_p";
    /// Whether the request asked for a stream.
    REQUEST_STREAM = "gen_ai.request.stream";
    /// The model that answered.
    RESPONSE_MODEL = "gen_ai.response.model";
    /// The provider's id of the answer (`chatcmpl-…`, `msg_…`, `resp_…`).
    RESPONSE_ID = "gen_ai.response.id";
    /// Why the model stopped, one entry per answer (string array).
    RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
    /// Seconds from the request to the first byte of a streamed answer.
    RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
    /// Tokens read, as the provider reported them.
    USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
    /// Tokens written, as the provider reported them.
    USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
    /// The session (`X-TraceForge-Session-ID`).
    CONVERSATION_ID = "gen_ai.conversation.id";
    /// The prompt as chat messages (only with `--otlp-content`; secrets and PII protected).
    INPUT_MESSAGES = "gen_ai.input.messages";
    /// The system prompt or instructions (only with `--otlp-content`; protected).
    SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
    /// The answer as chat messages (only with `--otlp-content`; protected).
    OUTPUT_MESSAGES = "gen_ai.output.messages";
    /// The HTTP method of the request.
    HTTP_REQUEST_METHOD = "http.request.method";
    /// The HTTP status the upstream answered.
    HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
    /// On failure: the status code, or `incomplete_stream` for a stream that never ended.
    ERROR_TYPE = "error.type";
    /// The organization (`X-TraceForge-Organization-ID`).
    TF_ORGANIZATION = "traceforge.organization.id";
    /// The service (`X-TraceForge-Service-ID`).
    TF_SERVICE = "traceforge.service.id";
    /// The step (`X-TraceForge-Step-ID`).
    TF_STEP = "traceforge.step.id";
    /// The parent step (`X-TraceForge-Parent-Step-ID`).
    TF_PARENT_STEP = "traceforge.parent_step.id";
    /// The cassette the interaction belongs to.
    TF_CASSETTE = "traceforge.cassette";
    /// The interaction's id in its cassette.
    TF_INTERACTION_ID = "traceforge.interaction.id";
    /// The upstream's name (`openai`, `anthropic`, an `--upstream NAME`).
    TF_UPSTREAM = "traceforge.upstream";
    /// The request path below the upstream, query protected as stored.
    TF_PATH = "traceforge.path";
    /// True when the answer came from a cassette, not from the upstream.
    TF_REPLAYED = "traceforge.replayed";
}

/// The resource attribute naming the service that sends the spans (`OTEL_SERVICE_NAME`).
pub const SERVICE_NAME: &str = "service.name";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_is_named_once_and_described() {
        let mut seen = std::collections::BTreeSet::new();
        for (key, doc) in ALL {
            assert!(seen.insert(*key), "{key} is in the table twice");
            assert!(!doc.trim().is_empty(), "{key} has no description");
            assert!(
                key.starts_with("gen_ai.")
                    || key.starts_with("traceforge.")
                    || key.starts_with("http.")
                    || *key == "error.type",
                "{key}: unknown namespace"
            );
        }
        assert!(seen.contains(CONVERSATION_ID));
        assert_eq!(ALL.len(), 29);
    }

    #[test]
    fn the_readme_lists_every_attribute() {
        let readme = include_str!("../../../README.md");
        for (key, _) in ALL {
            assert!(readme.contains(&format!("`{key}`")), "README lacks `{key}`");
        }
    }
}
