//! What the mock model says, whatever API dialect asked: the answer text quoted from the last
//! user message, the tool call it makes instead, the token counts, and the ids derived from a
//! hash of the request body. Pure functions of the request: no clock, no randomness, no I/O,
//! so the same body always gets byte-identical answers.

use serde_json::Value;

use super::schema;

/// Unix time of 2025-01-01T00:00:00Z: `created` timestamps fall within the year after it.
const EPOCH: u64 = 1_735_689_600;
const YEAR_SECONDS: u64 = 365 * 24 * 60 * 60;
/// How many words of the prompt the answer quotes.
const QUOTED_WORDS: usize = 8;
/// Longest text delta a stream sends; longer words are split.
const MAX_PIECE_CHARS: usize = 16;

/// Tool-call arguments are streamed in pieces of this many characters, in every dialect.
pub(super) const ARGUMENT_PIECE_CHARS: usize = 8;

/// Ids and timestamps derived from the request body, so they are stable across runs,
/// platforms and Rust releases (FNV-1a, not `DefaultHasher`, whose output may change).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    seed: u64,
}

impl Ids {
    pub(crate) fn of(body: &[u8]) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in body {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ids { seed: hash }
    }

    /// 24 hex digits for an id; `salt` tells apart the ids of one response (message, call…).
    pub(crate) fn hex(&self, salt: u64) -> String {
        let a = mix(self.seed ^ salt);
        let b = mix(a ^ 0x5eed);
        format!("{a:016x}{:08x}", b >> 32)
    }

    /// A `created` timestamp in the year after 2025-01-01.
    pub(crate) fn created(&self) -> u64 {
        EPOCH + mix(self.seed) % YEAR_SECONDS
    }
}

/// SplitMix64's finaliser: spreads one hash into independent-looking ids.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Salts for [`Ids::hex`], one per kind of id in a response.
pub(crate) mod salt {
    pub(crate) const RESPONSE: u64 = 1;
    pub(crate) const ITEM: u64 = 2;
    pub(crate) const CALL: u64 = 3;
    pub(crate) const REQUEST: u64 = 4;
}

/// The token rule, the same for every dialect: one token per whitespace-separated word.
pub(crate) fn tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The conversation as the mock reads it, whichever dialect carried it.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    /// Text of the last user message: what the answer quotes and tool arguments draw on.
    pub prompt: String,
    /// The tool results, when the conversation ends with them.
    pub tool_result: Option<String>,
    /// Words in every system prompt, message and tool result: the input token count.
    pub input_words: u64,
}

impl Conversation {
    /// Counts `text` towards the input tokens.
    pub(crate) fn count(&mut self, text: &str) {
        self.input_words += tokens(text);
    }
}

/// The text of a message's `content`: a string, or the `text` of each part of an array
/// (`text`, `input_text`, `output_text` parts alike); images and the like add nothing.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| match part {
                Value::String(text) => Some(text.as_str()),
                _ => part.get("text").and_then(Value::as_str),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A function the client offered, with its JSON Schema for the arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tool<'a> {
    pub name: &'a str,
    pub schema: Option<&'a Value>,
}

/// Whether and which tool the client asks the model to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    /// Call the first tool, unless the conversation ends with a tool result.
    Auto,
    /// Never call a tool.
    None,
    /// Always call a tool (the first).
    Required,
    /// Always call this tool.
    Named(String),
}

/// The shape the client asked the text to take.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Format<'a> {
    Text,
    /// Any JSON object (`json_object` mode).
    JsonObject,
    /// JSON matching this schema (structured outputs).
    JsonSchema(&'a Value),
}

/// Everything that decides the answer.
#[derive(Debug)]
pub(crate) struct Question<'a> {
    pub conversation: Conversation,
    pub tools: Vec<Tool<'a>>,
    pub choice: ToolChoice,
    pub format: Format<'a>,
    /// The client's output token limit; longer text is cut to it.
    pub max_tokens: Option<u64>,
}

/// A tool call the mock decided to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedCall {
    pub name: String,
    /// The arguments as compact JSON text.
    pub arguments: String,
}

/// What the mock model answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The assistant's text; empty when it calls a tool instead.
    pub text: String,
    pub call: Option<PlannedCall>,
    /// The text was cut at the client's token limit.
    pub truncated: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// Decides the answer. The only error is a named tool that is not among the tools offered,
/// which the real APIs reject too; the message says so in the client's terms.
pub(crate) fn answer(question: &Question<'_>) -> Result<Answer, String> {
    let conversation = &question.conversation;
    let call = match &question.choice {
        _ if question.tools.is_empty() => None,
        ToolChoice::None => None,
        ToolChoice::Auto if conversation.tool_result.is_some() => None,
        ToolChoice::Auto | ToolChoice::Required => question.tools.first(),
        ToolChoice::Named(name) => Some(
            question
                .tools
                .iter()
                .find(|tool| tool.name == name)
                .ok_or_else(|| format!("tool_choice names '{name}', which is not in 'tools'"))?,
        ),
    };
    let call = call.map(|tool| PlannedCall {
        name: tool.name.to_string(),
        arguments: schema::example_arguments(tool.schema, &conversation.prompt).to_string(),
    });
    let (text, truncated) = match &call {
        Some(_) => (String::new(), false),
        None => limit(compose(question), question.max_tokens),
    };
    let output_tokens = tokens(&text)
        + call
            .as_ref()
            .map_or(0, |c| tokens(&c.name) + tokens(&c.arguments));
    Ok(Answer {
        text,
        call,
        truncated,
        input_tokens: conversation.input_words.max(1),
        output_tokens,
    })
}

fn compose(question: &Question<'_>) -> String {
    let conversation = &question.conversation;
    let prose = match &conversation.tool_result {
        Some(result) => format!(
            "Mock answer using the tool result: {}. The tool returned {}. \
             This reply is deterministic: the same request always gets the same words.",
            quote(result),
            count_words(result),
        ),
        None => format!(
            "Mock answer to: {}. Your message had {}. \
             This reply is deterministic: the same request always gets the same words.",
            quote(&conversation.prompt),
            count_words(&conversation.prompt),
        ),
    };
    match question.format {
        Format::Text => prose,
        Format::JsonObject => serde_json::json!({ "answer": prose }).to_string(),
        Format::JsonSchema(schema) => {
            schema::example_value(schema, &conversation.prompt).to_string()
        }
    }
}

/// The first words of `text`, without trailing punctuation.
fn quote(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return "an empty prompt".to_string();
    }
    let mut quoted = words[..words.len().min(QUOTED_WORDS)].join(" ");
    let trimmed = quoted
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .len();
    quoted.truncate(trimmed);
    if words.len() > QUOTED_WORDS {
        quoted.push_str("...");
    }
    if quoted.is_empty() {
        "a prompt of punctuation".to_string()
    } else {
        quoted
    }
}

fn count_words(text: &str) -> String {
    match tokens(text) {
        1 => "1 word".to_string(),
        n => format!("{n} words"),
    }
}

fn limit(text: String, max_tokens: Option<u64>) -> (String, bool) {
    match max_tokens {
        Some(max) if tokens(&text) > max => {
            let kept: Vec<&str> = text
                .split_whitespace()
                .take(usize::try_from(max).unwrap_or(usize::MAX))
                .collect();
            (kept.join(" "), true)
        }
        _ => (text, false),
    }
}

/// Splits text into stream deltas the way models send them: one word per piece with its
/// leading space, long words in pieces. Concatenated, the pieces are exactly `text`.
pub(crate) fn text_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        let piece = if i == 0 {
            word.to_string()
        } else {
            format!(" {word}")
        };
        pieces.extend(chunks(&piece, MAX_PIECE_CHARS));
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// Splits text into pieces of at most `size` characters (never inside a character).
pub(crate) fn chunks(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn question(prompt: &str) -> Question<'static> {
        let mut conversation = Conversation {
            prompt: prompt.to_string(),
            ..Conversation::default()
        };
        conversation.count(prompt);
        Question {
            conversation,
            tools: Vec::new(),
            choice: ToolChoice::Auto,
            format: Format::Text,
            max_tokens: None,
        }
    }

    #[test]
    fn ids_are_stable_and_distinct_per_salt() {
        let ids = Ids::of(b"{\"model\":\"m\"}");
        assert_eq!(ids.hex(1), Ids::of(b"{\"model\":\"m\"}").hex(1));
        assert_ne!(ids.hex(1), ids.hex(2));
        assert_ne!(ids.hex(1), Ids::of(b"{\"model\":\"n\"}").hex(1));
        assert_eq!(ids.hex(1).len(), 24);
        assert!((EPOCH..EPOCH + YEAR_SECONDS).contains(&ids.created()));
    }

    #[test]
    fn the_answer_quotes_the_prompt_and_counts_words() {
        let answer = answer(&question("Tell me a joke about opentelemetry!")).unwrap();
        assert!(answer.text.starts_with(
            "Mock answer to: Tell me a joke about opentelemetry. Your message had 6 words."
        ));
        assert_eq!(answer.input_tokens, 6);
        assert_eq!(answer.output_tokens, tokens(&answer.text));
        assert!(answer.call.is_none());
        let long =
            super::answer(&question("one two three four five six seven eight nine")).unwrap();
        assert!(long
            .text
            .contains("one two three four five six seven eight..."));
        let empty = super::answer(&question("")).unwrap();
        assert!(empty.text.contains("an empty prompt"));
        assert_eq!(empty.input_tokens, 1);
    }

    #[test]
    fn max_tokens_cuts_the_text() {
        let mut q = question("hello there");
        q.max_tokens = Some(3);
        let answer = answer(&q).unwrap();
        assert_eq!(answer.text, "Mock answer to:");
        assert!(answer.truncated);
        assert_eq!(answer.output_tokens, 3);
    }

    #[test]
    fn tool_choice_decides_the_call() {
        let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        let mut q = question("What is the weather in Paris?");
        q.tools = vec![
            Tool {
                name: "get_weather",
                schema: Some(&schema),
            },
            Tool {
                name: "get_time",
                schema: None,
            },
        ];
        let call = answer(&q).unwrap().call.unwrap();
        assert_eq!(call.name, "get_weather");
        assert_eq!(call.arguments, r#"{"city":"Paris"}"#);
        q.choice = ToolChoice::Named("get_time".into());
        assert_eq!(answer(&q).unwrap().call.unwrap().arguments, "{}");
        q.choice = ToolChoice::Named("nope".into());
        assert!(answer(&q).unwrap_err().contains("nope"));
        q.choice = ToolChoice::None;
        assert!(answer(&q).unwrap().call.is_none());
        // After a tool result the model answers in text, unless a call is forced.
        q.choice = ToolChoice::Auto;
        q.conversation.tool_result = Some("sunny, 21 degrees".into());
        let after = answer(&q).unwrap();
        assert!(after.call.is_none());
        assert!(after
            .text
            .starts_with("Mock answer using the tool result: sunny, 21 degrees."));
        q.choice = ToolChoice::Required;
        assert!(answer(&q).unwrap().call.is_some());
    }

    #[test]
    fn structured_formats_give_json_text() {
        let schema = json!({"type": "object", "properties": {"joke": {"type": "string"}, "rating": {"type": "integer"}}, "required": ["joke", "rating"]});
        let mut q = question("Tell me a joke about tracing");
        q.format = Format::JsonSchema(&schema);
        let value: Value = serde_json::from_str(&answer(&q).unwrap().text).unwrap();
        assert_eq!(value, json!({"joke": "tracing", "rating": 1}));
        q.format = Format::JsonObject;
        let value: Value = serde_json::from_str(&answer(&q).unwrap().text).unwrap();
        assert!(value["answer"]
            .as_str()
            .unwrap()
            .starts_with("Mock answer to:"));
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        for text in [
            "Mock answer to: hi.",
            "",
            "a  b",
            "{\"averyveryverylongkey\":\"x y\"}",
            "é ü 日本語",
        ] {
            let pieces = text_pieces(text);
            assert_eq!(pieces.concat(), text);
            assert!(pieces
                .iter()
                .all(|p| !p.is_empty() && p.chars().count() <= MAX_PIECE_CHARS));
        }
        assert_eq!(text_pieces("Mock answer"), vec!["Mock", " answer"]);
        assert_eq!(chunks("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }
}
