//! Settings resolved once per run, in precedence order: flags > environment (handled by clap's
//! `env`) > `traceforge.yaml` > defaults. Everything downstream takes a [`Settings`] and never
//! looks at flags or files itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::cassette::matcher::{Field, JsonPath, MatchRules};
use crate::cassette::redact::Redactor;
use crate::cassette::CassetteName;
use crate::proxy::{Mode, ProxyConfig};
use crate::sensitive::{self, DetectorConfig, Detectors, Mode as PiiMode, PiiKey, Protector};
use crate::yaml;

/// The configuration file looked for in the current directory when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "traceforge.yaml";

/// Where policies are read from unless `--policies` or `policies:` say otherwise.
pub const DEFAULT_POLICIES: &str = ".traceforge/policies";

/// The emergency switch's variable (the enterprise design's name).
pub const DISABLE_POLICY_ENFORCEMENT: &str = "TRACEFORGE_DISABLE_POLICY_ENFORCEMENT";

/// `TRACEFORGE_DISABLE_POLICY_ENFORCEMENT`: `true`/`1`/`yes` on, `false`/`0`/`no`/unset off,
/// anything else an error (a typo must not silently keep enforcement on or off).
fn enforcement_disabled() -> Result<bool, SettingsError> {
    match std::env::var(DISABLE_POLICY_ENFORCEMENT) {
        Err(_) => Ok(false),
        Ok(value) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(SettingsError::Flag {
                flag: DISABLE_POLICY_ENFORCEMENT.into(),
                message: format!("expected true or false, found {value:?}"),
            }),
        },
    }
}

/// The upstreams every run knows, before `--upstream` and `upstreams:` add or override.
pub const BUILTIN_UPSTREAMS: &[(&str, &str)] = &[
    ("anthropic", "https://api.anthropic.com"),
    ("openai", "https://api.openai.com"),
];

/// How long the proxy waits on a silent upstream unless `--upstream-timeout` says otherwise: long
/// enough for a slow reasoning model's first token.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(600);

/// A bad flag or configuration file; every variant names where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] yaml::FileError),
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
}

/// The file's shape. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    cassettes: Option<PathBuf>,
    db: Option<PathBuf>,
    policies: Option<PathBuf>,
    #[serde(default)]
    upstreams: BTreeMap<String, String>,
    #[serde(default, rename = "match")]
    matching: MatchConfig,
    #[serde(default)]
    redact: RedactConfig,
    #[serde(default)]
    pii: PiiConfig,
    #[serde(default)]
    diff: DiffConfig,
    #[serde(default)]
    otlp: OtlpConfig,
}

/// `otlp:` — span export, below `--otlp-endpoint`/`--otlp-content` and the `OTEL_*` variables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OtlpConfig {
    /// The base URL (`/v1/traces` is appended), as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    endpoint: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    service_name: Option<String>,
    #[serde(default)]
    content: bool,
}

/// `pii:` — what happens to personal data and secrets (DESIGN.md §12). The shape is pinned by
/// the issue that specified it, so scripts can rely on it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PiiConfig {
    #[serde(default)]
    mode: PiiMode,
    detectors: Option<Vec<sensitive::BuiltIn>>,
    #[serde(default)]
    upstream: sensitive::Upstream,
    #[serde(default)]
    custom: Vec<CustomConfig>,
    #[serde(default)]
    allow: sensitive::Allow,
}

/// A custom detector as written: `pattern`, `terms` or `terms_file` (one term per line, blank
/// lines and `#` comments skipped, relative to the configuration file).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomConfig {
    name: String,
    pattern: Option<String>,
    terms: Option<Vec<String>>,
    terms_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchConfig {
    fields: Option<Vec<String>>,
    #[serde(default)]
    ignore_body_fields: Vec<String>,
    #[serde(default)]
    ignore_query: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedactConfig {
    #[serde(default)]
    headers: Vec<String>,
}

/// `diff:` — what `traceforge diff` and `review` count as a behaviour change. Bad values are
/// reported with their line and column (the types parse themselves while the YAML is read).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffConfig {
    #[serde(default)]
    ignore: Vec<crate::diff::rules::IgnorePath>,
    #[serde(default)]
    tolerance: DiffToleranceConfig,
    text: Option<crate::diff::TextRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffToleranceConfig {
    input_tokens: Option<crate::diff::rules::TokenTolerance>,
    output_tokens: Option<crate::diff::rules::TokenTolerance>,
    latency: Option<crate::diff::rules::LatencyTolerance>,
}

/// Everything a command needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cassettes: PathBuf,
    /// The trace database.
    pub db: PathBuf,
    /// Upstream name → base URL (no trailing slash).
    pub upstreams: BTreeMap<String, String>,
    pub match_rules: MatchRules,
    /// Header names `redact.headers` adds to the built-in credential headers.
    pub redact_headers: Vec<String>,
    pub pii: PiiSettings,
    /// The policy directory (`--policies`, `TRACEFORGE_POLICIES`, `policies:`); `None` for
    /// runs that must not depend on where they start ([`Settings::defaults`]).
    pub policies: Option<PathBuf>,
    /// `TRACEFORGE_DISABLE_POLICY_ENFORCEMENT=true`: the emergency switch, read once here.
    pub policy_enforcement_disabled: bool,
    /// What `diff` and `review` count as a behaviour change (`diff:`).
    pub diff: crate::diff::DiffRules,
    /// Span export, when the command asked for it ([`Overrides::otlp`]) and an endpoint is
    /// configured.
    pub otlp: Option<crate::telemetry::otlp::ExportConfig>,
}

/// The flags that can override the file.
#[derive(Debug, Default)]
pub struct Overrides<'a> {
    pub config: Option<&'a Path>,
    pub cassettes: Option<&'a Path>,
    /// `--policies`.
    pub policies: Option<&'a Path>,
    pub db: Option<&'a Path>,
    pub upstreams: &'a [String],
    pub match_fields: &'a [String],
    /// `diff --text`.
    pub diff_text: Option<&'a str>,
    /// `diff --tolerance METRIC=SPEC`, each.
    pub diff_tolerances: &'a [String],
    /// `diff --ignore PATH`, each (added to `diff.ignore`).
    pub diff_ignore: &'a [String],
    /// `--pii-key-file`: the PII key, read from a file (else `TRACEFORGE_PII_KEY`).
    pub pii_key_file: Option<&'a Path>,
    /// Set by commands that export spans: their `--otlp-*` flags. The `OTEL_*` variables and
    /// `otlp:` are read only then, so a malformed variable never stops other commands.
    pub otlp: Option<OtlpFlags<'a>>,
}

/// `--otlp-endpoint` and `--otlp-content`.
#[derive(Debug, Default, Clone, Copy)]
pub struct OtlpFlags<'a> {
    pub endpoint: Option<&'a str>,
    pub content: bool,
}

/// `pii:` resolved: the mode, what goes upstream, the detectors' configuration (compiled only
/// by commands that protect or scan traffic) and the key, if one was given.
#[derive(Debug, Clone, Default)]
pub struct PiiSettings {
    pub mode: PiiMode,
    pub upstream: sensitive::Upstream,
    pub detectors: DetectorConfig,
    pub key: Option<Arc<PiiKey>>,
    /// Where `pii:` was written (file and text), to place errors found when compiling.
    origin: Option<(PathBuf, Arc<str>)>,
}

/// What one proxy run decides for itself on top of the [`Settings`]: the command's own flags.
#[derive(Debug)]
pub struct ProxyRun<'a> {
    pub mode: Mode,
    /// `--cassette`: the cassette for requests that do not name one.
    pub cassette: &'a str,
    pub allow_repeats: bool,
    /// `--upstream-timeout`, as given.
    pub upstream_timeout: Option<&'a str>,
    /// Whether interactions go to the trace database (`--no-traces` turns it off).
    pub traces: bool,
    pub pending: bool,
}

impl Settings {
    /// Defaults only, without `traceforge.yaml` or the environment: for runs that must not
    /// depend on where they are started (the demo).
    pub fn defaults(cassettes: PathBuf, db: PathBuf) -> Settings {
        Settings {
            cassettes,
            db,
            upstreams: builtin_upstreams(),
            match_rules: MatchRules::default(),
            redact_headers: Vec::new(),
            pii: PiiSettings::default(),
            policies: None,
            policy_enforcement_disabled: false,
            diff: crate::diff::DiffRules::default(),
            otlp: None,
        }
    }

    /// The one place a proxy's configuration is built, for `vcr record`, `vcr replay`,
    /// `load --replay` and the demo alike.
    pub fn proxy(&self, run: ProxyRun<'_>) -> Result<ProxyConfig, SettingsError> {
        let default_cassette =
            CassetteName::parse(run.cassette).map_err(|e| SettingsError::Flag {
                flag: "--cassette".into(),
                message: e.to_string(),
            })?;
        let upstream_timeout = match run.upstream_timeout {
            Some(text) => crate::duration::parse(text).map_err(|e| SettingsError::Flag {
                flag: "--upstream-timeout".into(),
                message: e,
            })?,
            None => DEFAULT_UPSTREAM_TIMEOUT,
        };
        // Replay of pseudonymised cassettes without the key still starts: requests without PII
        // match, and a miss says why the others cannot.
        let keyless_replay = run.mode == Mode::None
            && self.pii.mode == PiiMode::Pseudonymize
            && self.pii.key.is_none();
        let (redactor, pii_note) = if keyless_replay {
            (
                self.build_redactor(PiiMode::Mask, sensitive::Upstream::Original)?,
                Some(
                    "pii.mode is pseudonymize and no key was given (TRACEFORGE_PII_KEY or \
                     --pii-key-file), so a request holding PII cannot match its recording"
                        .to_string(),
                ),
            )
        } else {
            (self.redactor()?, None)
        };
        // A broken policy stops the start, emergency switch or not. The switch is loud (the
        // warning, the header on every response) even when no policy is there to disable.
        let set = self.policy_set().map_err(SettingsError::Policy)?;
        let policies = (!set.is_empty() || self.policy_enforcement_disabled).then(|| {
            let enforcement = if self.policy_enforcement_disabled {
                crate::policy::enforce::Enforcement::Disabled
            } else {
                crate::policy::enforce::Enforcement::On
            };
            crate::policy::enforce::Enforcer::new(set, enforcement)
        });
        Ok(ProxyConfig {
            mode: run.mode,
            cassettes_dir: self.cassettes.clone(),
            default_cassette,
            upstreams: self.upstreams.clone(),
            match_rules: self.match_rules.clone(),
            redactor,
            pii_upstream: self.pii.upstream == sensitive::Upstream::Pseudonymize,
            pii_note,
            policies,
            allow_repeats: run.allow_repeats,
            upstream_timeout,
            traces_db: run.traces.then(|| self.db.clone()),
            pending: run.pending,
            otlp: self.otlp.clone(),
        })
    }

    pub fn resolve(overrides: Overrides<'_>) -> Result<Settings, SettingsError> {
        let (mut file, path, text) = read_file(overrides.config)?;
        // A value serde accepted but traceforge does not: reported at its key's line.
        let invalid = |keys: &[&str], message: String| {
            let path = path
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
            let message = format!("{}: {message}", keys.join("."));
            match yaml::locate::locate_key(&text, keys) {
                Some((line, column)) => SettingsError::Parse(yaml::FileError {
                    path,
                    line: Some(line),
                    column: Some(column),
                    message,
                }),
                None => SettingsError::Invalid { path, message },
            }
        };

        let mut upstreams = builtin_upstreams();
        for (name, url) in &file.upstreams {
            let url = check_upstream(name, url).map_err(|m| invalid(&["upstreams", name], m))?;
            upstreams.insert(name.clone(), url);
        }
        for flag in overrides.upstreams {
            let flag_error = |message: String| SettingsError::Flag {
                flag: format!("--upstream {flag}"),
                message,
            };
            let (name, url) = flag
                .split_once('=')
                .ok_or_else(|| flag_error("expected NAME=URL".into()))?;
            let url = check_upstream(name, url).map_err(flag_error)?;
            upstreams.insert(name.to_string(), url);
        }

        let mut match_rules = MatchRules::default();
        if !overrides.match_fields.is_empty() {
            match_rules.fields =
                parse_fields(overrides.match_fields).map_err(|message| SettingsError::Flag {
                    flag: format!("--match {}", overrides.match_fields.join(",")),
                    message,
                })?;
        } else if let Some(fields) = &file.matching.fields {
            match_rules.fields =
                parse_fields(fields).map_err(|m| invalid(&["match", "fields"], m))?;
        }
        match_rules.ignore_body_fields = file
            .matching
            .ignore_body_fields
            .iter()
            .map(|p| JsonPath::parse(p))
            .collect::<Result<_, _>>()
            .map_err(|m| invalid(&["match", "ignore_body_fields"], m))?;
        match_rules.ignore_query = file.matching.ignore_query.clone();

        let pii = pii_settings(
            std::mem::take(&mut file.pii),
            path.as_deref(),
            &text,
            overrides.pii_key_file,
        )?;

        let cassettes = overrides
            .cassettes
            .map(Path::to_path_buf)
            .or(file.cassettes.clone())
            .unwrap_or_else(|| PathBuf::from("cassettes"));

        let db = overrides
            .db
            .map(Path::to_path_buf)
            .or(file.db.clone())
            .unwrap_or_else(|| PathBuf::from(crate::store::DEFAULT_DB));

        let mut diff = crate::diff::DiffRules {
            ignore: file.diff.ignore.into_iter().map(|p| p.0).collect(),
            ..crate::diff::DiffRules::default()
        };
        if let Some(text) = file.diff.text {
            diff.text = text;
        }
        let tolerance = file.diff.tolerance;
        if let Some(t) = tolerance.input_tokens {
            diff.input_tokens = t.0;
        }
        if let Some(t) = tolerance.output_tokens {
            diff.output_tokens = t.0;
        }
        if let Some(t) = tolerance.latency {
            diff.latency = t.0;
        }
        let flag = |flag: String| move |message: String| SettingsError::Flag { flag, message };
        if let Some(text) = overrides.diff_text {
            diff.text = crate::diff::TextRule::parse(text).map_err(flag("--text".into()))?;
        }
        for spec in overrides.diff_tolerances {
            diff.set_tolerance(spec)
                .map_err(flag(format!("--tolerance {spec}")))?;
        }
        for path in overrides.diff_ignore {
            diff.ignore
                .push(JsonPath::parse(path).map_err(flag("--ignore".into()))?);
        }

        let otlp = match overrides.otlp {
            Some(flags) => otlp_settings(flags, file.otlp, &|name| std::env::var(name).ok())?,
            None => None,
        };

        Ok(Settings {
            cassettes,
            db,
            otlp,
            upstreams,
            match_rules,
            redact_headers: file.redact.headers,
            pii,
            policies: Some(
                overrides
                    .policies
                    .map(Path::to_path_buf)
                    .or(file.policies)
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICIES)),
            ),
            policy_enforcement_disabled: enforcement_disabled()?,
            diff,
        })
    }

    /// The policy directory (the default one when this run has none).
    pub fn policy_dir(&self) -> PathBuf {
        self.policies
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICIES))
    }

    /// The policies of the policy directory, loaded and compiled.
    pub fn policy_set(&self) -> Result<crate::policy::PolicySet, crate::policy::PolicyError> {
        match &self.policies {
            Some(dir) => crate::policy::load(dir),
            None => Ok(crate::policy::PolicySet::default()),
        }
    }

    /// The run's redactor: the detectors compiled, the key checked against the mode.
    pub fn redactor(&self) -> Result<Redactor, SettingsError> {
        self.build_redactor(self.pii.mode, self.pii.upstream)
    }

    /// A redactor that finds what the run's would protect, without needing the key (it masks
    /// instead of pseudonymising): for `vcr verify` and `pii scan`.
    pub fn scanning_redactor(&self) -> Result<Redactor, SettingsError> {
        let mode = match self.pii.mode {
            PiiMode::Off => PiiMode::Off,
            _ => PiiMode::Mask,
        };
        self.build_redactor(mode, sensitive::Upstream::Original)
    }

    fn build_redactor(
        &self,
        mode: PiiMode,
        upstream: sensitive::Upstream,
    ) -> Result<Redactor, SettingsError> {
        let pii = &self.pii;
        let place = |keys: &[&str], message: String| match &pii.origin {
            Some((path, text)) => located(path, text, keys, message),
            None => SettingsError::Invalid {
                path: PathBuf::from(DEFAULT_CONFIG),
                message,
            },
        };
        let detectors = Detectors::new(&pii.detectors).map_err(|e| {
            let key = match e {
                sensitive::DetectorError::AllowPattern { .. } => "allow",
                _ => "custom",
            };
            // A regex error draws a caret under the pattern over several lines: one line here.
            let message = crate::error_chain(&e)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^'))
                .collect::<Vec<_>>()
                .join(" ");
            place(&["pii", key], message)
        })?;
        let needs_key = upstream == sensitive::Upstream::Pseudonymize;
        let protector = match Protector::new(mode, detectors, pii.key.clone()) {
            Ok(_) if needs_key && pii.key.is_none() => Err(sensitive::protect::NoKey),
            other => other,
        }
        .map_err(|e| match mode {
            PiiMode::Pseudonymize => place(&["pii", "mode"], e.to_string()),
            _ => place(&["pii", "upstream"], e.to_string()),
        })?;
        Ok(Redactor::new(&self.redact_headers, Arc::new(protector)))
    }
}

/// The standard OpenTelemetry variables traceforge reads.
pub const OTEL_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const OTEL_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
pub const OTEL_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// Span export resolved: `--otlp-endpoint` (a base URL) > `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
/// (the traces URL as is) > `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL) > `otlp.endpoint`;
/// headers from `OTEL_EXPORTER_OTLP_HEADERS` else `otlp.headers`; the service name from
/// `OTEL_SERVICE_NAME` else `otlp.service_name` else `traceforge`. No endpoint: no export.
fn otlp_settings(
    flags: OtlpFlags<'_>,
    file: OtlpConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<crate::telemetry::otlp::ExportConfig>, SettingsError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let error = |flag: &str, message: String| SettingsError::Flag {
        flag: flag.to_string(),
        message,
    };
    let (source, text, base) = if let Some(flag) = flags.endpoint {
        ("--otlp-endpoint", flag.to_string(), true)
    } else if let Some(url) = env(OTEL_TRACES_ENDPOINT) {
        (OTEL_TRACES_ENDPOINT, url, false)
    } else if let Some(url) = env(OTEL_ENDPOINT) {
        (OTEL_ENDPOINT, url, true)
    } else if let Some(url) = file.endpoint.clone() {
        ("otlp.endpoint", url, true)
    } else {
        return Ok(None);
    };
    let url = otlp_url(text.trim(), base).map_err(|m| error(source, m))?;
    let headers = match env(OTEL_HEADERS) {
        Some(text) => parse_otlp_headers(&text).map_err(|m| error(OTEL_HEADERS, m))?,
        None => {
            let mut headers = Vec::new();
            for (name, value) in &file.headers {
                headers.push(
                    header_pair(name, value)
                        .map_err(|m| error(&format!("otlp.headers.{name}"), m))?,
                );
            }
            headers
        }
    };
    let service_name = env(OTEL_SERVICE_NAME)
        .or(file.service_name)
        .unwrap_or_else(|| "traceforge".to_string());
    Ok(Some(crate::telemetry::otlp::ExportConfig {
        url,
        headers,
        service_name,
        content: flags.content || file.content,
    }))
}

/// An http(s) URL; a base URL gets `/v1/traces` appended to its path.
fn otlp_url(text: &str, base: bool) -> Result<url::Url, String> {
    let mut url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("expected an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or a fragment".into());
    }
    if base {
        let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
}

/// `k=v,k2=v2` with percent-encoded keys and values (the W3C baggage form the OpenTelemetry
/// SDKs read). Errors name the entry by position and its key, never a value.
fn parse_otlp_headers(text: &str) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, String> {
    let mut headers = Vec::new();
    for (index, entry) in text.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = entry.split_once('=') else {
            return Err(format!(
                "entry {} has no '=' (expected KEY=VALUE,…)",
                index + 1
            ));
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s.trim())
                .decode_utf8()
                .map(|s| s.into_owned())
        };
        let name =
            decode(name).map_err(|_| format!("entry {}: the key is not UTF-8", index + 1))?;
        let value = decode(value)
            .map_err(|_| format!("entry {} ({name}): the value is not UTF-8", index + 1))?;
        headers.push(header_pair(&name, &value).map_err(|m| format!("entry {}: {m}", index + 1))?);
    }
    Ok(headers)
}

/// A header name and a (secret) value, checked.
fn header_pair(name: &str, value: &str) -> Result<(http::HeaderName, http::HeaderValue), String> {
    let header = http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{:?} is not a valid header name", name.trim()))?;
    let mut value = http::HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of {header} is not a valid header value"))?;
    value.set_sensitive(true);
    Ok((header, value))
}

/// `message` about `keys` in the file at `path`, at the key's line and column when found.
fn located(path: &Path, text: &str, keys: &[&str], message: String) -> SettingsError {
    let message = format!("{}: {message}", keys.join("."));
    match yaml::locate::locate_key(text, keys) {
        Some((line, column)) => SettingsError::Parse(yaml::FileError {
            path: path.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message,
        }),
        None => SettingsError::Invalid {
            path: path.to_path_buf(),
            message,
        },
    }
}

/// `pii:` resolved against the file it came from and the key's sources.
fn pii_settings(
    file: PiiConfig,
    path: Option<&Path>,
    text: &str,
    key_file: Option<&Path>,
) -> Result<PiiSettings, SettingsError> {
    let config_path = path.map_or_else(|| PathBuf::from(DEFAULT_CONFIG), Path::to_path_buf);
    let mut custom = Vec::with_capacity(file.custom.len());
    for (index, entry) in file.custom.into_iter().enumerate() {
        let terms = match (&entry.terms, &entry.terms_file) {
            (Some(_), Some(_)) => {
                return Err(located(
                    &config_path,
                    text,
                    &["pii", "custom"],
                    format!(
                    "custom detector {index} `{}`: `terms` and `terms_file` cannot both be given",
                    entry.name
                ),
                ))
            }
            (_, Some(terms_file)) => {
                let base = config_path.parent().unwrap_or(Path::new("."));
                let full = base.join(terms_file);
                let list = std::fs::read_to_string(&full).map_err(|e| {
                    located(
                        &config_path,
                        text,
                        &["pii", "custom"],
                        format!(
                            "custom detector {index} `{}`: cannot read terms file {}: {e}",
                            entry.name,
                            full.display()
                        ),
                    )
                })?;
                Some(sensitive::term_lines(&list))
            }
            (terms, None) => terms.clone(),
        };
        custom.push(sensitive::Custom {
            name: entry.name,
            pattern: entry.pattern,
            terms,
        });
    }
    let key = match key_file {
        Some(key_file) => {
            let text = std::fs::read_to_string(key_file).map_err(|e| SettingsError::Flag {
                flag: format!("--pii-key-file {}", key_file.display()),
                message: format!("cannot read it: {e}"),
            })?;
            Some(PiiKey::parse(&text).map_err(|e| SettingsError::Flag {
                flag: format!("--pii-key-file {}", key_file.display()),
                message: e.to_string(),
            })?)
        }
        None => match std::env::var("TRACEFORGE_PII_KEY") {
            Ok(text) if !text.trim().is_empty() => {
                Some(PiiKey::parse(&text).map_err(|e| SettingsError::Flag {
                    flag: "TRACEFORGE_PII_KEY".into(),
                    message: e.to_string(),
                })?)
            }
            _ => None,
        },
    };
    Ok(PiiSettings {
        mode: file.mode,
        upstream: file.upstream,
        detectors: DetectorConfig {
            detectors: file
                .detectors
                .unwrap_or_else(|| sensitive::BuiltIn::ALL.to_vec()),
            allow: file.allow,
            custom,
        },
        key: key.map(Arc::new),
        origin: path.map(|p| (p.to_path_buf(), Arc::from(text))),
    })
}

/// The configuration file (defaults when there is none), its path and its text.
fn read_file(
    explicit: Option<&Path>,
) -> Result<(FileConfig, Option<PathBuf>, String), SettingsError> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok((FileConfig::default(), None, String::new())),
    };
    let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::Io {
        path: path.clone(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok((FileConfig::default(), Some(path), text));
    }
    let file = yaml::from_file_text(&path, &text)?;
    Ok((file, Some(path), text))
}

/// [`BUILTIN_UPSTREAMS`] as the map `Settings::upstreams` starts from.
fn builtin_upstreams() -> BTreeMap<String, String> {
    BUILTIN_UPSTREAMS
        .iter()
        .map(|(name, url)| (name.to_string(), url.to_string()))
        .collect()
}

fn check_upstream(name: &str, url: &str) -> Result<String, String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!(
            "upstream name {name:?} must be letters, digits, '-', '_' or '.'"
        ));
    }
    // The URL may carry a password: errors show it masked.
    let shown = crate::cassette::redact::url(url);
    let parsed =
        url::Url::parse(url).map_err(|e| format!("upstream {name}: URL {shown:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "upstream {name}: URL {shown:?} must be http or https"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn parse_fields(names: &[String]) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    for name in names {
        let field = Field::parse(name)?;
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        return Err("at least one match field is needed".into());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traceforge.yaml");
        std::fs::write(&path, text).unwrap();
        Settings::resolve(Overrides {
            config: Some(&path),
            ..Overrides::default()
        })
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.yaml");
        std::fs::write(
            &path,
            "cassettes: from-file\nupstreams: {openai: 'http://127.0.0.1:9/v1/', local: 'http://127.0.0.1:8'}\nmatch: {fields: [method, path]}\ndiff: {text: whitespace, ignore: [$.a]}\n",
        )
        .unwrap();
        let flags = vec!["local=http://127.0.0.1:7".to_string()];
        let settings = Settings::resolve(Overrides {
            config: Some(&path),
            cassettes: Some(Path::new("from-flag")),
            db: None,
            upstreams: &flags,
            match_fields: &[],
            diff_text: Some("exact"),
            diff_tolerances: &["output_tokens=5".to_string()],
            diff_ignore: &["$.b".to_string()],
            pii_key_file: None,
            policies: None,
            otlp: None,
        })
        .unwrap();
        assert_eq!(settings.diff.text, crate::diff::TextRule::Exact);
        assert_eq!(settings.diff.output_tokens.spec(), "5");
        let ignored: Vec<&str> = settings.diff.ignore.iter().map(|p| p.as_str()).collect();
        assert_eq!(ignored, ["$.a", "$.b"]);
        assert_eq!(settings.cassettes, PathBuf::from("from-flag"));
        assert_eq!(settings.upstreams["openai"], "http://127.0.0.1:9/v1");
        assert_eq!(settings.upstreams["local"], "http://127.0.0.1:7");
        assert_eq!(settings.upstreams["anthropic"], "https://api.anthropic.com");
        assert_eq!(
            settings.match_rules.fields,
            vec![Field::Method, Field::Path]
        );
    }

    #[test]
    fn bad_files_and_flags_name_the_place() {
        let err = with_file("upstreams:\n  openai: 'http://x'\nmatchh: {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("traceforge.yaml:3:"), "{err}");
        assert!(err.contains("unknown field `matchh`"), "{err}");
        let err = with_file("cassettes: c\nupstreams:\n  local: 'ftp://me:hunter2@h'\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "traceforge.yaml:3:3: upstreams.local: upstream local: URL \"ftp://me:***@h"
            ),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let err = with_file("match:\n  fields: [method, colour]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("traceforge.yaml:2:3: match.fields: unknown match field"),
            "{err}"
        );
        let err = with_file("- a\n- b\n").unwrap_err().to_string();
        assert!(
            err.contains("traceforge.yaml:1:1: invalid type: sequence"),
            "{err}"
        );
        let err = with_file("match: {ignore_body_fields: [user]}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("match.ignore_body_fields"), "{err}");
        let err = Settings::resolve(Overrides {
            upstreams: &["nope".to_string()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert_eq!(err, "--upstream nope: expected NAME=URL");
        let err = Settings::resolve(Overrides {
            match_fields: &["body".to_string(), "headers".to_string()],
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("--match body,headers: unknown match field"),
            "{err}"
        );
    }

    #[test]
    fn the_diff_section_resolves_and_bad_values_name_their_line() {
        let settings = with_file(
            "diff:\n  ignore: [$.service_tier]\n  text: whitespace\n  tolerance: {output_tokens: 10%|20, input_tokens: 5, latency: 25%|50ms}\n",
        )
        .unwrap();
        let diff = settings.diff;
        assert_eq!(diff.ignore[0].as_str(), "$.service_tier");
        assert_eq!(diff.text, crate::diff::TextRule::Whitespace);
        assert_eq!(diff.output_tokens.spec(), "10%|20");
        assert_eq!(diff.input_tokens.spec(), "5");
        assert_eq!(diff.latency.spec(), "25%|50ms");
        let cases = [
            ("diff:\n  tolerance:\n    output_tokens: lots\n", "traceforge.yaml:3:20: diff.tolerance.output_tokens: tolerance \"lots\""),
            ("diff:\n  ignore: [$.ok, service_tier]\n", "traceforge.yaml:2:18: diff.ignore[1]: JSON path \"service_tier\" must start with `$`"),
            ("diff:\n  text: fuzzy\n", "traceforge.yaml:2:9: diff.text: text rule \"fuzzy\""),
            ("diff:\n  tolerance: {latency: 50}\n", "diff.tolerance.latency: tolerance \"50\": duration \"50\" needs a unit"),
            ("diff:\n  tolerance: {tokens: 5}\n", "traceforge.yaml:2:15: diff.tolerance: unknown field `tokens`"),
        ];
        for (text, expected) in cases {
            let err = with_file(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}\nexpected: {expected}");
        }
    }

    fn otlp(
        flags: OtlpFlags<'_>,
        file: &str,
        env: &[(&str, &str)],
    ) -> Result<Option<crate::telemetry::otlp::ExportConfig>, String> {
        let file: FileConfig = serde_yaml::from_str(if file.is_empty() { "{}" } else { file })
            .map_err(|e| e.to_string())?;
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        otlp_settings(flags, file.otlp, &|name| env.get(name).cloned()).map_err(|e| e.to_string())
    }

    #[test]
    fn otlp_endpoints_resolve_flag_then_traces_variable_then_base_variable_then_file() {
        let none = OtlpFlags::default();
        assert!(
            otlp(none, "", &[]).unwrap().is_none(),
            "no endpoint, no export"
        );
        let url = |flags, file, env: &[(&str, &str)]| {
            otlp(flags, file, env).unwrap().unwrap().url.to_string()
        };
        let file = "otlp:\n  endpoint: http://file:4318/\n  content: true\n";
        assert_eq!(url(none, file, &[]), "http://file:4318/v1/traces");
        let base = [(OTEL_ENDPOINT, "https://collector:4318/otlp")];
        assert_eq!(
            url(none, file, &base),
            "https://collector:4318/otlp/v1/traces"
        );
        let both = [
            (OTEL_ENDPOINT, "https://collector:4318/otlp"),
            (OTEL_TRACES_ENDPOINT, "http://tempo:4318/custom/traces"),
        ];
        assert_eq!(url(none, file, &both), "http://tempo:4318/custom/traces");
        let flag = OtlpFlags {
            endpoint: Some("http://localhost:6006"),
            content: false,
        };
        assert_eq!(url(flag, file, &both), "http://localhost:6006/v1/traces");
        let config = otlp(none, file, &[]).unwrap().unwrap();
        assert!(config.content, "otlp.content");
        assert_eq!(config.service_name, "traceforge");
        let config = otlp(none, file, &[(OTEL_SERVICE_NAME, "bot")])
            .unwrap()
            .unwrap();
        assert_eq!(config.service_name, "bot");
    }

    #[test]
    fn otlp_headers_are_percent_decoded_and_errors_never_show_a_value() {
        let flags = OtlpFlags {
            endpoint: Some("http://h:4318"),
            content: false,
        };
        let config = otlp(
            flags,
            "",
            &[(
                OTEL_HEADERS,
                "Authorization=Basic%20dXNlcjpwYXNz , x-tenant=a%2Cb,,",
            )],
        )
        .unwrap()
        .unwrap();
        let headers: Vec<(String, String)> = config
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            headers,
            [
                (
                    "authorization".to_string(),
                    "Basic dXNlcjpwYXNz".to_string()
                ),
                ("x-tenant".to_string(), "a,b".to_string())
            ]
        );
        assert!(config.headers.iter().all(|(_, v)| v.is_sensitive()));
        let file = "otlp:\n  headers: {x-api-key: from-file}\n";
        let config = otlp(flags, file, &[]).unwrap().unwrap();
        assert_eq!(config.headers[0].1, "from-file");
        for (value, expected) in [
            (
                "token-s3cret",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 1 has no '=' (expected KEY=VALUE,…)",
            ),
            (
                "a=1,bad name=s3cret",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 2: \"bad name\" is not a valid header name",
            ),
            (
                "k=s3%01cret",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 1: the value of k is not a valid header value",
            ),
        ] {
            let err = otlp(flags, "", &[(OTEL_HEADERS, value)]).unwrap_err();
            assert_eq!(err, expected);
            assert!(!err.contains("s3cret"));
        }
    }

    #[test]
    fn bad_otlp_endpoints_name_where_they_came_from() {
        let none = OtlpFlags::default();
        let flag = OtlpFlags {
            endpoint: Some("localhost:4318"),
            content: false,
        };
        for (flags, env, expected) in [
            (
                flag,
                vec![],
                "--otlp-endpoint: expected an http:// or https:// URL with a host",
            ),
            (
                none,
                vec![(OTEL_ENDPOINT, "not a url")],
                "OTEL_EXPORTER_OTLP_ENDPOINT: not a URL",
            ),
            (
                none,
                vec![(OTEL_TRACES_ENDPOINT, "ftp://h/x")],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http",
            ),
            (
                none,
                vec![(OTEL_ENDPOINT, "http://h:4318/?x=1")],
                "OTEL_EXPORTER_OTLP_ENDPOINT: the URL must not have a query",
            ),
        ] {
            let err = otlp(flags, "", &env).unwrap_err();
            assert!(err.starts_with(expected), "{err}");
        }
    }
}
