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
/// Exit codes: 0 success, 1 check failed (replay miss, verify problem), 2 usage, config or I/O
/// error, 130 interrupted; with `-- CMD`, the wrapped command's own status.
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

    /// Print only errors
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
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
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
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

    /// Add or override an upstream: NAME=URL (repeatable), e.g. ollama=http://127.0.0.1:11434
    #[arg(long = "upstream", value_name = "NAME=URL")]
    pub upstreams: Vec<String>,

    /// Give up on an upstream that sends nothing for this long (e.g. 30s, 500ms) [default: 600s]
    #[arg(long, value_name = "DURATION")]
    pub upstream_timeout: Option<String>,

    /// Replay the last matching interaction again when a request repeats more often than recorded
    #[arg(long)]
    pub allow_repeats: bool,
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
