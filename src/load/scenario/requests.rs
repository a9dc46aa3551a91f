//! What an iteration sends and checks: request templates from inline `request`/`requests`
//! (with `${VARS}` substituted, URLs and headers validated, JSON bodies and `stream: true`) or
//! from every recorded interaction of a cassette directory, and the `checks` on each response.
//! Errors are placed in the text by the [`Builder`]; the scenarios and executors around them are
//! `build`'s. Reading the cassettes is the only I/O.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use serde_json::Value;

use super::locate::Builder;
use super::plan::{
    CassetteTarget, Check, Condition, RequestTemplate, ScenarioError, DEFAULT_TIMEOUT,
};
use super::shape::{RawCheck, RawFromCassettes, RawRequest};
use crate::cassette::matcher::JsonPath;
use crate::cassette::{files, Body, CassetteName};

impl Builder<'_> {
    /// Replaces `${NAME}` (and `${NAME:-default}`) from the variables; `$${` is a literal `${`.
    fn substitute(&self, keys: &[&str], text: &str) -> Result<String, ScenarioError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(literal) = after.strip_prefix("${") {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(inner) = after.strip_prefix('{') else {
                out.push('$');
                rest = after;
                continue;
            };
            let Some(close) = inner.find('}') else {
                return Err(self.error_at_text(
                    keys,
                    &rest[at..],
                    format!("`${{` without a closing `}}` in {text:?}"),
                ));
            };
            let expression = &inner[..close];
            let (name, default) = match expression.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expression, None),
            };
            match (self.options.vars.get(name), default) {
                (Some(value), _) => out.push_str(value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    let hint = if name == "TARGET" {
                        " (pass --target URL or --replay DIR, or set it with --env TARGET=URL)"
                    } else {
                        " (set it in the environment or with --env NAME=VALUE)"
                    };
                    return Err(self.error_at_text(
                        keys,
                        &format!("${{{expression}}}"),
                        format!("${{{name}}} is not set{hint}"),
                    ));
                }
            }
            rest = &inner[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn substitute_json(&self, keys: &[&str], value: Value) -> Result<Value, ScenarioError> {
        Ok(match value {
            Value::String(s) => Value::String(self.substitute(keys, &s)?),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|v| self.substitute_json(keys, v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, self.substitute_json(keys, v)?)))
                    .collect::<Result<_, ScenarioError>>()?,
            ),
            other => other,
        })
    }

    fn url(&self, keys: &[&str], text: &str) -> Result<url::Url, ScenarioError> {
        let url = url::Url::parse(text).map_err(|e| {
            self.error_at(
                &[keys, &["url"]].concat(),
                format!("{text:?} is not a URL: {e}"),
            )
        })?;
        let at = [keys, &["url"]].concat();
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(self.error_at(
                &at,
                format!("{text:?}: scheme {scheme:?} is not http or https"),
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(self.error_at(&at, format!("{text:?} has no host")));
        };
        if scheme == "https" {
            crate::tls::server_name(host)
                .map_err(|message| self.error_at(&at, format!("{text:?}: {message}")))?;
        }
        Ok(url)
    }

    fn headers(
        &self,
        keys: &[&str],
        headers: &BTreeMap<String, String>,
        into: &mut http::HeaderMap,
    ) -> Result<(), ScenarioError> {
        for (name, value) in headers {
            let at = [keys, &["headers", name.as_str()]].concat();
            let value = self.substitute(&at, value)?;
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| self.error_at(&at, format!("{name:?} is not a header name")))?;
            let value = http::HeaderValue::from_str(&value)
                .map_err(|_| self.error_at(&at, format!("{value:?} is not a header value")))?;
            into.insert(name, value);
        }
        Ok(())
    }

    pub(super) fn request(
        &self,
        keys: &[&str],
        raw: RawRequest,
    ) -> Result<RequestTemplate, ScenarioError> {
        let url_text = self.substitute(&[keys, &["url"]].concat(), &raw.url)?;
        let url = self.url(keys, &url_text)?;
        let mut headers = http::HeaderMap::new();
        self.headers(keys, &raw.headers, &mut headers)?;
        let mut body = match raw.body {
            Some(value) => Some(self.substitute_json(&[keys, &["body"]].concat(), value)?),
            None => None,
        };
        if raw.stream == Some(true) {
            match &mut body {
                Some(Value::Object(map)) => {
                    map.entry("stream").or_insert(Value::Bool(true));
                }
                _ => {
                    return Err(self.error_at(
                        &[keys, &["stream"]].concat(),
                        "`stream: true` needs a JSON object `body` to set \"stream\" in".into(),
                    ))
                }
            }
        }
        let body = match body {
            None => Bytes::new(),
            Some(Value::String(text)) => Bytes::from(text),
            Some(value) => {
                if !headers.contains_key(http::header::CONTENT_TYPE) {
                    headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                }
                Bytes::from(value.to_string())
            }
        };
        let method = match raw.method {
            Some(method) => http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|_| {
                    self.error_at(
                        &[keys, &["method"]].concat(),
                        format!("{method:?} is not an HTTP method"),
                    )
                })?,
            None if body.is_empty() => http::Method::GET,
            None => http::Method::POST,
        };
        Ok(RequestTemplate {
            method,
            name: raw.name.unwrap_or_else(|| url.to_string()),
            url,
            headers,
            body,
            timeout: raw.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0),
        })
    }

    /// Every recorded request of every cassette under the directory, in cassette-name and
    /// interaction order.
    pub(super) fn cassette_requests(
        &self,
        keys: &[&str],
        raw: RawFromCassettes,
    ) -> Result<Vec<RequestTemplate>, ScenarioError> {
        let dir_text = self.substitute(keys, &raw.dir)?;
        let dir = self.path.parent().unwrap_or(Path::new(".")).join(&dir_text);
        let target = match &self.options.cassette_target {
            Some(target) => target.clone(),
            None => match self.options.vars.get("TARGET") {
                Some(base) => CassetteTarget::Upstream(base.clone()),
                None => {
                    return Err(self.error_at(
                        keys,
                        "requests from cassettes need somewhere to go: pass --target URL or \
                         --replay DIR"
                            .into(),
                    ))
                }
            },
        };
        let mut extra = http::HeaderMap::new();
        self.headers(keys, &raw.headers, &mut extra)?;
        let listed = files::list(&dir).map_err(|e| self.error_at(keys, e.to_string()))?;
        let mut out = Vec::new();
        for (name, file) in listed {
            let cassette = files::load(&file).map_err(|e| self.error_at(keys, e.to_string()))?;
            for interaction in &cassette.interactions {
                out.push(self.recorded_request(keys, &target, &name, interaction, &extra)?);
            }
        }
        if out.is_empty() {
            return Err(self.error_at(
                keys,
                format!("no recorded interactions in {}", dir.display()),
            ));
        }
        Ok(out)
    }

    fn recorded_request(
        &self,
        keys: &[&str],
        target: &CassetteTarget,
        cassette: &CassetteName,
        interaction: &crate::cassette::Interaction,
        extra: &http::HeaderMap,
    ) -> Result<RequestTemplate, ScenarioError> {
        /// Headers that describe the recorded connection, not the request.
        const SKIPPED: &[&str] = &[
            "content-length",
            "host",
            "transfer-encoding",
            "connection",
            "accept-encoding",
            "keep-alive",
        ];
        let recorded = &interaction.request;
        let url_text = match target {
            CassetteTarget::Replay(base) => format!(
                "{}/{}{}",
                base.trim_end_matches('/'),
                recorded.upstream,
                recorded.path
            ),
            CassetteTarget::Upstream(base) => {
                format!("{}{}", base.trim_end_matches('/'), recorded.path)
            }
        };
        let url = self.url(keys, &url_text)?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &recorded.headers {
            if SKIPPED.contains(&name.to_ascii_lowercase().as_str()) || value == "REDACTED" {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        if let CassetteTarget::Replay(_) = target {
            if let Ok(value) = http::HeaderValue::from_str(cassette.as_str()) {
                headers.insert(crate::proxy::CASSETTE_HEADER, value);
            }
        }
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        let body = recorded
            .body
            .as_ref()
            .map(Body::to_bytes)
            .unwrap_or_default();
        if matches!(recorded.body, Some(Body::Json(_)))
            && !headers.contains_key(http::header::CONTENT_TYPE)
        {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        let method = http::Method::from_bytes(recorded.method.as_bytes()).map_err(|_| {
            self.error_at(
                keys,
                format!(
                    "cassette {cassette} interaction {}: {:?} is not an HTTP method",
                    interaction.id, recorded.method
                ),
            )
        })?;
        Ok(RequestTemplate {
            method,
            name: format!("{cassette}#{}", interaction.id),
            url,
            headers,
            body: Bytes::from(body),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    pub(super) fn check(&self, keys: &[&str], raw: RawCheck) -> Result<Check, ScenarioError> {
        let mut conditions = Vec::new();
        if let Some(status) = raw.status {
            let name = format!(
                "status is {}",
                status
                    .0
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
            conditions.push((name, Condition::Status(status.0)));
        }
        if let Some(text) = raw.body_contains {
            conditions.push((
                format!("body contains {text:?}"),
                Condition::BodyContains(text),
            ));
        }
        if let Some(text) = raw.body_not_contains {
            conditions.push((
                format!("body does not contain {text:?}"),
                Condition::BodyNotContains(text),
            ));
        }
        if let Some(pattern) = raw.body_matches {
            let regex = regex::Regex::new(&pattern).map_err(|e| {
                self.error_at(
                    &[keys, &["body_matches"]].concat(),
                    format!("invalid regular expression: {e}"),
                )
            })?;
            conditions.push((
                format!("body matches /{pattern}/"),
                Condition::BodyMatches(regex),
            ));
        }
        if let Some(path) = raw.json {
            let parsed = JsonPath::parse(&path)
                .map_err(|e| self.error_at(&[keys, &["json"]].concat(), e))?;
            let name = match &raw.equals {
                Some(value) => format!("{path} == {value}"),
                None => format!("{path} exists"),
            };
            conditions.push((
                name,
                Condition::Json {
                    path: parsed,
                    equals: raw.equals.clone(),
                },
            ));
        } else if raw.equals.is_some() {
            return Err(self.error_at(
                &[keys, &["equals"]].concat(),
                "`equals` needs `json: $.path` to compare".into(),
            ));
        }
        if conditions.len() != 1 {
            return Err(self.error_at(
                keys,
                "a check needs exactly one of `status`, `body_contains`, `body_not_contains`, \
                 `body_matches` or `json`"
                    .into(),
            ));
        }
        let (default_name, condition) = conditions.remove(0);
        Ok(Check {
            name: raw.name.unwrap_or(default_name),
            condition,
        })
    }
}
