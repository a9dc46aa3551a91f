//! The command line, as clap derive structs. No I/O here: the doc comments are the `--help` text,
//! and `commands/` turns these values into work through `settings`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Record, replay and inspect LLM API traffic through a local proxy.
///
/// traceforge sits between your code and OpenAI, Anthropic or any OpenAI-compatible server.
/// `vcr record` captures real traffic into reviewable YAML cassettes (secrets stripped);
/// `vcr replay` serves them back offline and fails loudly on any request never recorded.
///
/// Exit codes: 0 success, 1 check failed (replay miss, verify problem, diff changed), 2 usage,
/// config or I/O error, 99 load threshold or baseline failed, 130 interrupted; with `-- CMD`, the
/// wrapped command's own status.
#[derive(Debug, Parser)]
#[command(
    name = "traceforge",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Configuration file [default: traceforge.yaml in the current directory, if present]
    #[arg(long, global = true, value_name = "FILE", env = "TRACEFORGE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Trace database [default: .traceforge/traces.db]
    #[arg(long, global = true, value_name = "PATH", env = "TRACEFORGE_DB")]
    pub db: Option<PathBuf>,

    /// File holding the PII key (64 hex digits) [default: $TRACEFORGE_PII_KEY]
    #[arg(long, global = true, value_name = "FILE")]
    pub pii_key_file: Option<PathBuf>,

    /// Print only errors and warnings (no status lines; no per-request log events unless
    /// TRACEFORGE_LOG says so)
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Log more: -v logs one line per server request (info), -vv debug. TRACEFORGE_LOG, in
    /// env-filter syntax (`info`, `warn,traceforge::request=info`), overrides -v and --quiet
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// How the log on stderr is written: text (the usual `traceforge: warning: …` lines), or
    /// json (one object per line; the default level becomes info, one event per request)
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value_t = LogFormat::Text,
        env = "TRACEFORGE_LOG_FORMAT"
    )]
    pub log_format: LogFormat,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record, replay, import and inspect cassettes
    #[command(subcommand)]
    Vcr(VcrCommand),
    /// Run the built-in deterministic LLM server (OpenAI Chat, OpenAI Responses, Anthropic
    /// Messages; plain and streaming), the upstream the demo and the tests record against
    MockLlm(MockLlmArgs),
    /// Record a short session against the mock LLM, replay it offline, and show what happened
    Demo(DemoArgs),
    /// Show how the model's behaviour changed between two recordings, and fail on it
    ///
    /// Compares two cassette files, or two directories of cassettes paired by name.
    /// Interactions are paired by normalised request (then by position within one endpoint) and
    /// compared by what the model did: assistant text (word-level diff), tool calls and their
    /// arguments, finish reason, model, status, token usage and latency against tolerances;
    /// streams by their assembled result. Volatile fields (ids, created, system_fingerprint,
    /// headers such as request ids, rate limits and dates) never count, and tool-call ids are
    /// renumbered. Rules come from `diff:` in traceforge.yaml, overridden by the flags below.
    ///
    /// Exit 0 when nothing changed, 1 when an interaction changed, is missing or is new, 2 on an
    /// error.
    Diff(DiffArgs),
    /// Walk the pending cassettes (from `vcr record --pending`): accept, reject or skip each
    ///
    /// Shows each pending cassette's behaviour diff against its original and reads one key:
    /// a accept, r reject, s skip, A accept all, R reject all, q quit. Without a terminal it
    /// prints the diffs and the `traceforge accept`/`reject` commands to run instead, and exits
    /// 1 when anything is pending.
    Review(ReviewArgs),
    /// Accept pending cassettes: NAME.yaml.pending replaces NAME.yaml [default: all pending]
    Accept(PendingNamesArgs),
    /// Reject pending cassettes: delete NAME.yaml.pending, keep NAME.yaml [default: all pending]
    Reject(PendingNamesArgs),
    /// List the pending cassettes and how each differs from its original
    Pending(PendingArgs),
    /// Query the trace database: list, show, search, export
    #[command(subcommand)]
    Traces(TracesCommand),
    /// Sessions (X-TraceForge-Session-ID) and their step trees
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Maintain the trace database: check, stats, backup, vacuum, prune
    #[command(subcommand)]
    Db(DbCommand),
    /// Run k6-style load scenarios (YAML) against a URL or an in-process replay server
    ///
    /// Executors, checks and thresholds use k6's names and grammar; latencies go into HDR
    /// histograms, with LLM stream metrics (llm_ttft, llm_itl, llm_tpot, llm_output_tokens).
    /// Prints a k6-like summary to stdout (or Markdown: --format markdown, --summary-markdown),
    /// writes a self-contained HTML report with --report, and records each finished run in the
    /// trace database's history (`traceforge load history`). Exit 0 when every threshold (and the baseline
    /// comparison) passes, 99 when one fails, 2 on a bad scenario, 130 on Ctrl-C (after printing
    /// the summary so far).
    ///
    /// https targets are verified against the bundled Mozilla roots, or against the
    /// certificates of the PEM file SSL_CERT_FILE names; `insecureSkipTLSVerify: true` in the
    /// scenario skips verification.
    Load(LoadArgs),
    /// Find, protect and reveal PII and secrets in cassettes; list the redaction audit
    ///
    /// What is protected is configured under `pii:` in traceforge.yaml (mode off | mask |
    /// pseudonymize; detectors; custom patterns and term lists; allowed values). Pseudonymised
    /// values are reversible only with the key: TRACEFORGE_PII_KEY or --pii-key-file.
    #[command(subcommand)]
    Pii(PiiCommand),
    /// Check, list and test policies (policy-as-code)
    ///
    /// Policies live under .traceforge/policies/ (--policies, TRACEFORGE_POLICIES, `policies:`):
    /// global/*.json, organizations/ORG/*.json, organizations/ORG/services/SERVICE/*.json
    /// (or YAML). TRACEFORGE_DISABLE_POLICY_ENFORCEMENT=true is the proxy's emergency switch.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Evaluate every policy, enforced or not, against every recorded interaction
    ///
    /// Reports each finding by cassette, interaction, JSON path, policy, rule and severity,
    /// never the value. Exit 0 clean, 1 findings at or above --fail-on, 2 a bad policy. Under
    /// CI with the emergency switch set it refuses (exit 2) unless --allow-disabled.
    Check(PolicyCheckArgs),
    /// Show the rules in force for a scope and the file each comes from
    List(PolicyListArgs),
    /// Run the policy unit tests under POLICIES/tests/ (an input and the expected decisions
    /// each), like `opa test`
    Test(PolicyTestArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// Cassettes to check [default: all]
    pub names: Vec<String>,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Directory holding the policies [default: .traceforge/policies]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_POLICIES")]
    pub policies: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = PolicyFormat::Text)]
    pub format: PolicyFormat,

    /// Fail (exit 1) on findings of this severity or above
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,

    /// Check even when TRACEFORGE_DISABLE_POLICY_ENFORCEMENT is set under CI
    #[arg(long)]
    pub allow_disabled: bool,

    /// Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)
    #[arg(long, value_name = "BYTES", default_value_t = 60_000)]
    pub max_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// One line per finding
    Text,
    /// A versioned JSON document
    Json,
    /// JUnit XML: one test case per interaction with findings
    Junit,
    /// GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct PolicyListArgs {
    /// The organization (as X-TraceForge-Organization-ID would say)
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,

    /// The service (as X-TraceForge-Service-ID would say)
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,

    /// Directory holding the policies [default: .traceforge/policies]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_POLICIES")]
    pub policies: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Directory holding the policies [default: .traceforge/policies]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_POLICIES")]
    pub policies: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PiiCommand {
    /// Print a new PII key (64 hex digits) for TRACEFORGE_PII_KEY or --pii-key-file
    Keygen,
    /// Report unprotected PII and secrets in cassettes, never their values; exit 1 if any
    ///
    /// Each finding names the cassette, the interaction, the JSON path and the detector.
    /// `vcr verify` runs the same checks.
    Scan(PiiScanArgs),
    /// Rewrite cassettes with their PII and secrets protected in the configured mode
    ///
    /// Atomic per file and idempotent: a protected cassette is left as it is. The trace
    /// database keeps what it held; rebuild it with `traceforge vcr rebuild-from-cassettes`.
    Redact(PiiCassettesArgs),
    /// Print a cassette with the originals of its pseudonyms restored (needs the key)
    ///
    /// Every reveal is entered in the trace database's audit.
    Reveal(PiiRevealArgs),
    /// List the redaction audit: every value masked or pseudonymised, oldest first
    ///
    /// One entry per value: when, the cassette and interaction, the JSON path and byte span it
    /// stood at, the detector that found it, what was done (mask or pseudonymize) and a keyed
    /// hash of the value (never the value). Read from the trace database, where the audit is
    /// append-only and outlives re-recorded traces; `vcr rebuild-from-cassettes` restores it
    /// from the cassettes and `db check` reports an edited or deleted entry.
    Audit(PiiAuditArgs),
}

#[derive(Debug, Args)]
pub struct PiiAuditArgs {
    /// Only this cassette (a glob such as 'checkout/*' works too)
    #[arg(long, value_name = "NAME")]
    pub cassette: Option<String>,
    /// Only the values of this trace (an id from `traces list`)
    #[arg(long, value_name = "ID")]
    pub trace: Option<i64>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PiiScanArgs {
    /// Cassettes to scan [default: all]
    pub names: Vec<String>,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PiiCassettesArgs {
    /// Cassettes to rewrite [default: all]
    pub names: Vec<String>,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PiiRevealArgs {
    /// The cassette to print
    pub name: String,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum VcrCommand {
    /// Proxy to the real upstreams and record every interaction into cassettes
    ///
    /// With `-- CMD ARGS…`, starts CMD with OPENAI_BASE_URL, ANTHROPIC_BASE_URL and
    /// TRACEFORGE_PROXY_URL pointing at the proxy, waits for it, writes the cassettes, prints a
    /// summary and exits with CMD's status. Without CMD, serves until Ctrl-C.
    Record(RecordArgs),
    /// Answer every request from cassettes, offline; a request never recorded is a miss
    ///
    /// A miss answers 404 with an error in the provider's shape, prints the nearest recorded
    /// request and how it differs, and makes the run exit 1.
    Replay(ReplayArgs),
    /// Convert cassettes from another tool into traceforge cassettes
    Import(ImportArgs),
    /// List cassettes with their interaction counts
    List(ListArgs),
    /// Print one cassette in a readable form
    Show(ShowArgs),
    /// Check cassettes: well-formed, no secrets, no incomplete streams (exit 1 on a problem)
    Verify(VerifyArgs),
    /// Build a fresh trace database from every cassette and swap it in atomically
    ///
    /// Works when the old database is missing, truncated, garbage or lost its WAL: the old file
    /// is never read. A cassette that cannot be read is reported by file and line and skipped
    /// (`--strict` makes it fatal and leaves the old database untouched).
    RebuildFromCassettes(RebuildArgs),
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Fail on the first unreadable cassette instead of skipping it
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline: a cassette file, or a directory of cassettes
    #[arg(value_name = "BASELINE")]
    pub baseline: PathBuf,

    /// The candidate: a cassette file, or a directory of cassettes (the same kind as BASELINE)
    #[arg(value_name = "CANDIDATE")]
    pub candidate: PathBuf,

    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,

    /// How assistant text is compared: exact, whitespace or similarity>=N (0-1)
    #[arg(long, value_name = "RULE")]
    pub text: Option<String>,

    /// Let a number move this much: NAME=SPEC, NAME one of input_tokens, output_tokens, latency;
    /// SPEC a percentage, an amount or both, e.g. output_tokens=10%|20, latency=25%|50ms
    /// (repeatable)
    #[arg(long = "tolerance", value_name = "NAME=SPEC")]
    pub tolerances: Vec<String>,

    /// Also ignore this JSON path in request and response bodies, e.g. '$.service_tier'
    /// (repeatable)
    #[arg(long = "ignore", value_name = "PATH")]
    pub ignore: Vec<String>,

    /// Markdown: cut the report to at most this many bytes (GitHub comments hold 65,536)
    #[arg(long, value_name = "BYTES", default_value_t = 60_000)]
    pub max_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A summary table, then each change (coloured on a terminal)
    Text,
    /// A versioned JSON document listing every interaction
    Json,
    /// JUnit XML: one test case per interaction
    Junit,
    /// GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and pull-request comments
    Markdown,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PendingNamesArgs {
    /// Cassette names (as `traceforge pending` lists them) [default: every pending cassette]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum TracesCommand {
    /// List traces, newest first
    List(TracesListArgs),
    /// Show one trace: by id, or CASSETTE#INTERACTION for the recorded one
    Show(TracesShowArgs),
    /// Full-text search over prompts and responses, best match first
    Search(TracesSearchArgs),
    /// Write every trace as one JSON object per line
    Export(TracesExportArgs),
}

#[derive(Debug, Args)]
pub struct TracesListArgs {
    /// Only cassettes matching this glob (e.g. 'checkout/*')
    #[arg(long, value_name = "GLOB")]
    pub cassette: Option<String>,
    /// Only this model
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Only this organization (X-TraceForge-Organization-ID)
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Only this service (X-TraceForge-Service-ID)
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Only traces from the last DURATION (e.g. 7d, 12h)
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// At most N traces
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TracesShowArgs {
    /// Trace id, or CASSETTE#INTERACTION
    pub id: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TracesSearchArgs {
    /// Words to look for in prompts and responses
    pub query: String,
    /// At most N results
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TracesExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,

    #[command(flatten)]
    pub otlp: OtlpArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line
    Jsonl,
    /// One OpenTelemetry span per trace, sent over OTLP/HTTP protobuf to the endpoint
    /// (--otlp-endpoint or the OTEL_EXPORTER_OTLP_* variables)
    Otlp,
}

/// Span export over OTLP/HTTP protobuf (one GenAI span per interaction).
#[derive(Debug, Args)]
pub struct OtlpArgs {
    /// Export one OpenTelemetry span per interaction to this OTLP/HTTP base URL (`/v1/traces`
    /// is appended), e.g. http://localhost:4318 [default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    /// as is, else $OTEL_EXPORTER_OTLP_ENDPOINT, else `otlp.endpoint`; headers from
    /// $OTEL_EXPORTER_OTLP_HEADERS, service name from $OTEL_SERVICE_NAME]
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// Put prompts and answers into the spans (gen_ai.input.messages, gen_ai.output.messages),
    /// as stored: after the secret and PII rules
    #[arg(long)]
    pub otlp_content: bool,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions, newest first
    List(SessionsListArgs),
    /// Show a session's steps as a tree (from X-TraceForge-Parent-Step-ID)
    Show(SessionsShowArgs),
}

#[derive(Debug, Args)]
pub struct SessionsListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SessionsShowArgs {
    /// Session id (X-TraceForge-Session-ID)
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Integrity check and schema version (exit 1 on damage, with the fix)
    ///
    /// Also recomputes the redaction audit's hash chain: an edited or deleted audit entry is
    /// damage, named by its id.
    ///
    /// With --cassettes, also checks that the rows say what the cassettes say: rows naming
    /// interactions no cassette holds, interactions without a row, rows of interactions
    /// recorded again since, redactions a cassette records that the audit lacks. Any of them
    /// is drift (exit 1); `vcr rebuild-from-cassettes` cures it.
    Check(DbCheckArgs),
    /// Size, rows, time span and per-model counts
    Stats(DbStatsArgs),
    /// Copy the database with SQLite's online backup (safe while the proxy writes)
    Backup(DbBackupArgs),
    /// Reclaim free space
    Vacuum,
    /// Delete traces older than a duration
    Prune(DbPruneArgs),
}

#[derive(Debug, Args)]
pub struct DbCheckArgs {
    /// Also compare the rows with the cassettes in this directory
    #[arg(long, value_name = "DIR")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DbStatsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DbBackupArgs {
    /// Where to write the copy (must not exist)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct DbPruneArgs {
    /// Delete traces seen longer ago than this (e.g. 90d)
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
}

/// Options shared by record and replay.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Cassette for requests without an X-TraceForge-Cassette header
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub cassette: String,

    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,

    /// Write the bound address (host:port) to this file once listening
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,

    /// Request fields that must be equal for a recorded interaction to answer a request
    #[arg(
        long = "match",
        value_name = "FIELDS",
        value_delimiter = ',',
        help = "Request fields compared when matching (comma-separated) [default: method,upstream,path,query,body]"
    )]
    pub match_fields: Vec<String>,

    /// Directory holding the policies enforced at the proxy [default: .traceforge/policies]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_POLICIES")]
    pub policies: Option<PathBuf>,

    /// Do not write traces to the trace database
    #[arg(long)]
    pub no_traces: bool,

    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(flatten)]
    pub otlp: OtlpArgs,

    /// Command to run with the proxy's environment; its exit status becomes ours
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,

    /// When to forward and record [default: new-episodes; required when CI is set]
    #[arg(long, value_enum)]
    pub mode: Option<RecordMode>,

    /// Add or override an upstream: NAME=URL (repeatable), e.g. ollama=http://127.0.0.1:11434;
    /// https upstreams are verified against the bundled roots, or the PEM file SSL_CERT_FILE names
    #[arg(long = "upstream", value_name = "NAME=URL")]
    pub upstreams: Vec<String>,

    /// Give up on an upstream that sends nothing for this long (e.g. 30s, 500ms) [default: 600s]
    #[arg(long, value_name = "DURATION")]
    pub upstream_timeout: Option<String>,

    /// Replay the last matching interaction again when a request repeats more often than recorded
    #[arg(long)]
    pub allow_repeats: bool,

    /// Leave existing cassettes untouched: write one whose behaviour changed beside it as
    /// NAME.yaml.pending for `traceforge review` (usually with --mode all)
    #[arg(long)]
    pub pending: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,

    /// Replay the last matching interaction again when a request repeats more often than recorded
    #[arg(long)]
    pub allow_repeats: bool,
}

/// vcrpy's record modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordMode {
    /// Record when the cassette does not exist yet; otherwise replay it and refuse new requests
    Once,
    /// Replay what matches, record everything else
    NewEpisodes,
    /// Always forward and rewrite the cassette with this run's interactions
    All,
    /// Replay only; never forward
    None,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Format of the files to import
    #[arg(long, value_enum)]
    pub from: ImportFormat,

    /// Files to import; each becomes the cassette named after its file stem
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Directory to write cassettes into [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Cassette name to use (only with a single FILE)
    #[arg(long, value_name = "NAME")]
    pub cassette: Option<String>,

    /// Overwrite cassettes that already exist
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// vcrpy and pytest-recording YAML cassettes
    Vcrpy,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Cassette name (as listed by `vcr list`)
    pub name: String,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Cassettes to check [default: all]
    pub names: Vec<String>,

    /// Directory holding the cassettes [default: cassettes]
    #[arg(long, value_name = "DIR", env = "TRACEFORGE_CASSETTES")]
    pub cassettes: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct MockLlmArgs {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,

    /// Write the bound address (host:port) to this file once listening
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,

    /// Delay before the first streamed event (e.g. 200ms)
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub first_event_delay: String,

    /// Delay between streamed events (e.g. 20ms)
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub event_delay: String,

    #[command(flatten)]
    pub serve: ServeArgs,
}

/// How a traceforge server is operated: its health and metrics address, and its stop.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Also serve /_traceforge/livez, /_traceforge/readyz and /_traceforge/metrics on this
    /// address (port 0 picks a free port); it keeps answering while the server drains
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,

    /// Write the --metrics-listen address (host:port) to this file once listening
    #[arg(long, value_name = "FILE", requires = "metrics_listen")]
    pub metrics_ready_file: Option<PathBuf>,

    /// On SIGTERM or Ctrl-C, how long requests in flight (streams included) may take to
    /// finish; streams still open then are ended and recorded as incomplete
    #[arg(long, value_name = "DURATION", default_value = "20s")]
    pub drain_timeout: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's cassettes in this directory instead of a temporary one
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,

    /// The scenario file (YAML; see "Load testing" in the README)
    #[arg(value_name = "SCENARIO.yaml", required = true)]
    pub scenario: Option<PathBuf>,

    /// Base URL (http:// or https://) of the system under test, available to the scenario as
    /// ${TARGET}
    #[arg(long, value_name = "URL", conflicts_with = "replay")]
    pub target: Option<String>,

    /// Serve the cassettes in DIR from an in-process replay server and load-test that; ${TARGET}
    /// is its /openai prefix, ${OPENAI_BASE_URL}, ${ANTHROPIC_BASE_URL} and
    /// ${TRACEFORGE_PROXY_URL} are set as for `vcr replay`
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,

    /// With --replay: answer at once, or with the recorded time to first byte and event timing
    #[arg(long, value_enum, default_value_t = LoadLatency::None, requires = "replay")]
    pub latency: LoadLatency,

    /// Set a ${NAME} variable for the scenario (repeatable); overrides the environment
    #[arg(long = "env", short = 'e', value_name = "NAME=VALUE")]
    pub env: Vec<String>,

    /// Write the end-of-test summary as JSON (k6's handleSummary shape, with a version)
    #[arg(long, value_name = "FILE")]
    pub summary_export: Option<PathBuf>,

    /// Compare this run with a baseline saved by --save-baseline; a regression fails the run
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Save this run's histograms, aggregates and environment as a baseline
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,

    /// With --baseline: the largest tolerated change in the bad direction (e.g. 10%)
    #[arg(long, value_name = "PERCENT", default_value = "10%")]
    pub max_regression: String,

    /// Write every metric sample as one JSON object per line (k6's JSON output format)
    #[arg(long, value_name = "FILE.ndjson")]
    pub out: Option<PathBuf>,

    /// Write a self-contained HTML report (charts over time, thresholds, baseline, history
    /// trend); it fetches nothing when opened
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    /// The end-of-test summary on stdout: the k6-like text, or GitHub-flavoured Markdown for
    /// $GITHUB_STEP_SUMMARY and pull-request comments
    #[arg(long, value_enum, default_value_t = LoadFormat::Text)]
    pub format: LoadFormat,

    /// Also write the Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY"; appended to when
    /// the file exists, as GitHub expects)
    #[arg(long, value_name = "FILE")]
    pub summary_markdown: Option<PathBuf>,

    /// Markdown: cut the summary to at most this many bytes (GitHub comments hold 65,536)
    #[arg(long, value_name = "BYTES", default_value_t = crate::markup::MARKDOWN_BUDGET)]
    pub max_bytes: usize,

    /// Do not record this run in the trace database's load history
    #[arg(long)]
    pub no_history: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadFormat {
    /// The k6-like summary tables
    Text,
    /// GitHub-flavoured Markdown, cut to --max-bytes
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// The recorded runs per scenario: each metric's trend as a table with sparklines
    ///
    /// Every finished `traceforge load` run records its summary (scenario file name, git
    /// commit, time, requests, requests/s, error rate, latency p50/p95/p99, TTFT p50/p95,
    /// thresholds) in the trace database (--db).
    History(LoadHistoryArgs),
}

#[derive(Debug, Args)]
pub struct LoadHistoryArgs {
    /// Only this scenario (its file name, e.g. chat.yaml)
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<String>,

    /// How many of the most recent runs to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: usize,

    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadLatency {
    /// Answer every request as fast as possible
    None,
    /// Wait the recorded time to first byte, then send each streamed event at its recorded offset
    Recorded,
}
