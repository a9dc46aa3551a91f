//! The request defaults the provider APIs document, which matching treats as absent: an SDK
//! that starts spelling out `"stream": false` or `"n": 1` sends the same request as the older
//! one that left them out, and must still replay its recordings. Only top-level fields with a
//! documented default are listed; values are canonical JSON (see [`super::matcher::canonical`]).
//! Data only: nothing here touches a body.

/// Defaults of one API, found by the end of the request path.
struct Api {
    path_suffix: &'static str,
    defaults: &'static [(&'static str, &'static str)],
}

/// Sources: the API references of OpenAI Chat Completions, Responses, Completions and
/// Embeddings, and Anthropic Messages ("Defaults to …" of each parameter).
const APIS: &[Api] = &[
    Api {
        path_suffix: "/chat/completions",
        defaults: &[
            ("frequency_penalty", "0"),
            ("logprobs", "false"),
            ("n", "1"),
            ("parallel_tool_calls", "true"),
            ("presence_penalty", "0"),
            ("service_tier", "\"auto\""),
            ("store", "false"),
            ("stream", "false"),
            ("temperature", "1"),
            ("top_p", "1"),
        ],
    },
    Api {
        path_suffix: "/responses",
        defaults: &[
            ("background", "false"),
            ("parallel_tool_calls", "true"),
            ("service_tier", "\"auto\""),
            ("store", "true"),
            ("stream", "false"),
            ("temperature", "1"),
            ("top_p", "1"),
            ("truncation", "\"disabled\""),
        ],
    },
    Api {
        path_suffix: "/completions",
        defaults: &[
            ("best_of", "1"),
            ("echo", "false"),
            ("frequency_penalty", "0"),
            ("n", "1"),
            ("presence_penalty", "0"),
            ("stream", "false"),
            ("temperature", "1"),
            ("top_p", "1"),
        ],
    },
    Api {
        path_suffix: "/embeddings",
        defaults: &[("encoding_format", "\"float\"")],
    },
    Api {
        path_suffix: "/messages",
        defaults: &[("stream", "false"), ("temperature", "1")],
    },
];

/// The documented default of `field` for requests to `path` (without its query), as canonical
/// JSON, if it has one.
pub(crate) fn default_of(path: &str, field: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    // `/chat/completions` ends in `/completions` too: the first, most specific suffix wins.
    let api = APIS.iter().find(|api| path.ends_with(api.path_suffix))?;
    api.defaults
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, value)| *value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_found_by_the_most_specific_api() {
        assert_eq!(default_of("/v1/chat/completions", "n"), Some("1"));
        assert_eq!(default_of("/v1/chat/completions", "echo"), None);
        assert_eq!(default_of("/v1/completions", "echo"), Some("false"));
        assert_eq!(default_of("/v1/messages", "stream"), Some("false"));
        assert_eq!(default_of("/v1/responses/", "store"), Some("true"));
        assert_eq!(default_of("/v1/models", "stream"), None);
        assert_eq!(default_of("/v1/messages", "max_tokens"), None);
    }

    #[test]
    fn every_default_is_canonical_json() {
        for api in APIS {
            for (name, value) in api.defaults {
                let parsed: serde_json::Value = serde_json::from_str(value).unwrap();
                assert_eq!(super::super::matcher::canonical(&parsed), *value, "{name}");
            }
        }
    }
}
