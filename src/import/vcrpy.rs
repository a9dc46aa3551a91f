//! Importing vcrpy / pytest-recording cassettes into format v1, so teams can migrate. Handles
//! `!!binary` bodies (usually gzip), compressed bodies, SSE bodies and vcrpy's list-valued
//! headers; the result is shaped exactly as if traceforge had recorded the traffic itself.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use serde_json::Value;

use crate::cassette::redact::Redactor;
use crate::cassette::{
    Body, Cassette, Interaction, Request, Response, FORMAT_VERSION, UNRECORDED_REQUEST_HEADERS,
    UNRECORDED_RESPONSE_HEADERS,
};
use crate::provider::{self, sse};
use crate::yaml;

/// Why a vcrpy file could not be imported; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
}

/// Converts one vcrpy cassette file into a v1 cassette called `name`.
pub fn import_file(path: &Path, name: &str, redactor: &Redactor) -> Result<Cassette, ImportError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: shown.clone(),
        source,
    })?;
    let format_error = |message: String| ImportError::Format {
        path: shown.clone(),
        message,
    };
    let document = yaml::to_json(&text).map_err(|e| format_error(e.located()))?;
    let interactions = document
        .get("interactions")
        .and_then(Value::as_array)
        .ok_or_else(|| format_error("not a vcrpy cassette: no `interactions:` list".into()))?;
    let mut cassette = Cassette {
        version: FORMAT_VERSION,
        cassette: name.to_string(),
        interactions: Vec::with_capacity(interactions.len()),
    };
    for (index, raw) in interactions.iter().enumerate() {
        let mut interaction = convert(raw, index as u64 + 1)
            .map_err(|message| format_error(format!("interaction {}: {message}", index + 1)))?;
        redactor.interaction(&mut interaction);
        cassette.interactions.push(interaction);
    }
    Ok(cassette)
}

fn convert(raw: &Value, id: u64) -> Result<Interaction, String> {
    let request = raw.get("request").ok_or("missing `request`")?;
    let response = raw.get("response").ok_or("missing `response`")?;

    let method = request
        .get("method")
        .and_then(Value::as_str)
        .ok_or("missing `request.method`")?
        .to_ascii_uppercase();
    let uri = request
        .get("uri")
        .and_then(Value::as_str)
        .ok_or("missing `request.uri`")?;
    let url = url::Url::parse(uri).map_err(|e| format!("request.uri {uri:?}: {e}"))?;
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let upstream = upstream_for(url.host_str().unwrap_or(""), &path).to_string();

    let request_headers = headers(request.get("headers"), UNRECORDED_REQUEST_HEADERS);
    let request_body = body_bytes(request.get("body"), &BTreeMap::new())?
        .filter(|bytes| !bytes.is_empty())
        .map(|bytes| Body::from_bytes(&bytes));

    let status = response
        .pointer("/status/code")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("missing `response.status.code`")?;
    let raw_response_headers = headers(response.get("headers"), &[]);
    let bytes = body_bytes(response.pointer("/body/string"), &raw_response_headers)?;
    let response_headers: BTreeMap<String, String> = raw_response_headers
        .into_iter()
        .filter(|(name, _)| !UNRECORDED_RESPONSE_HEADERS.contains(&name.as_str()))
        .collect();
    let is_sse = response_headers
        .get("content-type")
        .is_some_and(|ct| ct.starts_with("text/event-stream"));

    let mut response = Response {
        status,
        headers: response_headers,
        body: None,
        stream: None,
        incomplete: false,
    };
    match bytes {
        Some(bytes) if is_sse => {
            let events = sse::parse_all(&bytes)
                .into_iter()
                .map(|event| event.into_stream_event(0))
                .collect();
            provider::finish_stream(&mut response, events);
        }
        Some(bytes) if !bytes.is_empty() => response.body = Some(Body::from_bytes(&bytes)),
        _ => {}
    }
    let recorded_at = response
        .headers
        .get("date")
        .and_then(|date| chrono::DateTime::parse_from_rfc2822(date).ok())
        .map(|date| crate::cassette::timestamp(date.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    let usage = provider::usage(&response);
    Ok(Interaction {
        id,
        recorded_at,
        request: Request {
            method,
            upstream,
            path,
            headers: request_headers,
            body: request_body,
        },
        response,
        timing: None,
        scope: Default::default(),
        usage,
        redactions: Vec::new(),
        decisions: Vec::new(),
    })
}

/// The upstream name a recorded host maps to: the built-in names for the real APIs, and for
/// anything else (Azure, a local test server) the API the path speaks.
fn upstream_for(host: &str, path: &str) -> &'static str {
    match host {
        "api.openai.com" => "openai",
        "api.anthropic.com" => "anthropic",
        _ => match provider::Provider::detect("", path) {
            provider::Provider::Anthropic => "anthropic",
            provider::Provider::OpenAi => "openai",
        },
    }
}

/// vcrpy stores each header as a list of values; traceforge stores one string per header.
fn headers(raw: Option<&Value>, skip: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(Value::Object(map)) = raw else {
        return out;
    };
    for (name, values) in map {
        let name = name.to_ascii_lowercase();
        if skip.contains(&name.as_str()) {
            continue;
        }
        let value = match values {
            Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
            other => scalar_text(other),
        };
        out.insert(name, value);
    }
    out
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The body bytes, decoded from `!!binary` and from the response's content-encoding.
fn body_bytes(
    raw: Option<&Value>,
    headers: &BTreeMap<String, String>,
) -> Result<Option<Vec<u8>>, String> {
    let bytes = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.as_bytes().to_vec(),
        Some(Value::Object(map)) if map.contains_key(yaml::BINARY_KEY) => {
            let data = map[yaml::BINARY_KEY].as_str().unwrap_or_default();
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| format!("`!!binary` body is not valid base64: {e}"))?
        }
        // pytest-recording can store a parsed JSON body.
        Some(other) => serde_json::to_vec(other).map_err(|e| e.to_string())?,
    };
    let encoding = match headers.get("content-encoding") {
        Some(encoding) => encoding.trim().to_ascii_lowercase(),
        // vcrpy's decode_compressed_response drops the header; the gzip magic remains.
        None if bytes.starts_with(&[0x1f, 0x8b]) => "gzip".to_string(),
        None => "identity".to_string(),
    };
    decode(&bytes, &encoding).map(Some)
}

fn decode(bytes: &[u8], encoding: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let result = match encoding {
        "identity" | "" => return Ok(bytes.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out),
        "deflate" => {
            // "deflate" is zlib-wrapped in practice, raw deflate in some servers.
            let zlib = flate2::read::ZlibDecoder::new(bytes).read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(bytes).read_to_end(&mut out)
            } else {
                zlib
            }
        }
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
        "zstd" => zstd::stream::read::Decoder::new(bytes).and_then(|mut d| d.read_to_end(&mut out)),
        other => return Err(format!("unsupported content-encoding {other:?}")),
    };
    match result {
        Ok(_) => Ok(out),
        // vcrpy's decode_compressed_response filter stores the body already decoded while
        // keeping the header; trust the bytes when they do not decode.
        Err(_) => Ok(bytes.to_vec()),
    }
}
