//! The built-in metrics: k6's (same names, same meanings, times in milliseconds) plus the LLM
//! stream metrics, each with its kind, the summary block it is shown in and the formula the
//! README and the JSON summary state. Names only: no values, no I/O.

/// k6's four metric types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Rate,
    Trend,
}

impl MetricKind {
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Rate => "rate",
            MetricKind::Trend => "trend",
        }
    }
}

/// Which block of the summary a metric is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Http,
    Llm,
    Execution,
    Network,
    Checks,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Http,
        Group::Llm,
        Group::Execution,
        Group::Network,
        Group::Checks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Http => "HTTP",
            Group::Llm => "LLM",
            Group::Execution => "EXECUTION",
            Group::Network => "NETWORK",
            Group::Checks => "CHECKS",
        }
    }
}

/// Every built-in metric, in the order the summary shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    HttpReqDuration,
    HttpReqFailed,
    HttpReqs,
    HttpReqBlocked,
    HttpReqConnecting,
    HttpReqTlsHandshaking,
    HttpReqSending,
    HttpReqWaiting,
    HttpReqReceiving,
    LlmTtft,
    LlmItl,
    LlmTpot,
    LlmOutputTokens,
    Iterations,
    IterationDuration,
    DroppedIterations,
    Vus,
    VusMax,
    DataReceived,
    DataSent,
    Checks,
}

impl Metric {
    pub const ALL: [Metric; 21] = [
        Metric::HttpReqDuration,
        Metric::HttpReqFailed,
        Metric::HttpReqs,
        Metric::HttpReqBlocked,
        Metric::HttpReqConnecting,
        Metric::HttpReqTlsHandshaking,
        Metric::HttpReqSending,
        Metric::HttpReqWaiting,
        Metric::HttpReqReceiving,
        Metric::LlmTtft,
        Metric::LlmItl,
        Metric::LlmTpot,
        Metric::LlmOutputTokens,
        Metric::Iterations,
        Metric::IterationDuration,
        Metric::DroppedIterations,
        Metric::Vus,
        Metric::VusMax,
        Metric::DataReceived,
        Metric::DataSent,
        Metric::Checks,
    ];

    /// The index of this metric's own series.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::HttpReqs => "http_reqs",
            Metric::HttpReqFailed => "http_req_failed",
            Metric::HttpReqDuration => "http_req_duration",
            Metric::HttpReqBlocked => "http_req_blocked",
            Metric::HttpReqConnecting => "http_req_connecting",
            Metric::HttpReqTlsHandshaking => "http_req_tls_handshaking",
            Metric::HttpReqSending => "http_req_sending",
            Metric::HttpReqWaiting => "http_req_waiting",
            Metric::HttpReqReceiving => "http_req_receiving",
            Metric::LlmTtft => "llm_ttft",
            Metric::LlmItl => "llm_itl",
            Metric::LlmTpot => "llm_tpot",
            Metric::LlmOutputTokens => "llm_output_tokens",
            Metric::Iterations => "iterations",
            Metric::IterationDuration => "iteration_duration",
            Metric::DroppedIterations => "dropped_iterations",
            Metric::Vus => "vus",
            Metric::VusMax => "vus_max",
            Metric::DataReceived => "data_received",
            Metric::DataSent => "data_sent",
            Metric::Checks => "checks",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn kind(self) -> MetricKind {
        match self {
            Metric::HttpReqs
            | Metric::LlmOutputTokens
            | Metric::Iterations
            | Metric::DroppedIterations
            | Metric::DataReceived
            | Metric::DataSent => MetricKind::Counter,
            Metric::HttpReqFailed | Metric::Checks => MetricKind::Rate,
            Metric::Vus | Metric::VusMax => MetricKind::Gauge,
            _ => MetricKind::Trend,
        }
    }

    /// k6's `contains`: what the numbers are (`time` in ms, `data` in bytes, or plain).
    pub fn contains(self) -> &'static str {
        match self.kind() {
            MetricKind::Trend => "time",
            _ if matches!(self, Metric::DataReceived | Metric::DataSent) => "data",
            _ => "default",
        }
    }

    pub fn group(self) -> Group {
        match self {
            Metric::LlmTtft | Metric::LlmItl | Metric::LlmTpot | Metric::LlmOutputTokens => {
                Group::Llm
            }
            Metric::Iterations
            | Metric::IterationDuration
            | Metric::DroppedIterations
            | Metric::Vus
            | Metric::VusMax => Group::Execution,
            Metric::DataReceived | Metric::DataSent => Group::Network,
            Metric::Checks => Group::Checks,
            _ => Group::Http,
        }
    }

    /// How the metric is computed, as the README and the JSON summary state it.
    pub fn formula(self) -> &'static str {
        match self {
            Metric::HttpReqs => "count of HTTP requests sent (including failed ones); rate = count / test duration",
            Metric::HttpReqFailed => "share of requests that got a transport error or a status outside 200-399",
            Metric::HttpReqDuration => "blocked + sending + waiting + receiving: from the request's start (open-model executors: its intended start) to the last response byte, connecting and TLS handshaking excluded",
            Metric::HttpReqBlocked => "from the request's start (open-model executors: its intended start) until it could be written, connecting and TLS handshaking excluded: waiting for a free VU or connection",
            Metric::HttpReqConnecting => "TCP connect time; 0 when the VU's connection was reused",
            Metric::HttpReqTlsHandshaking => "TLS handshake time (https); 0 for http and when the VU's connection was reused",
            Metric::HttpReqSending => "request start to the last request byte written",
            Metric::HttpReqWaiting => "last request byte written to the first response byte read (time to first byte)",
            Metric::HttpReqReceiving => "first response byte to the last",
            Metric::LlmTtft => "first output event (a delta carrying text, reasoning or tool-call content; role-only deltas do not count) minus the start http_req_duration is measured from",
            Metric::LlmItl => "time between consecutive output events of one stream; one sample per gap",
            Metric::LlmTpot => "(http_req_duration - llm_ttft) / (llm_output_tokens - 1), one sample per stream with at least 2 output tokens",
            Metric::LlmOutputTokens => "output tokens per stream: the usage the stream reports (completion_tokens / output_tokens), else the number of output events; rate = tokens / test duration",
            Metric::Iterations => "completed iterations (one request and its checks each); rate = count / test duration",
            Metric::IterationDuration => "iteration end minus its start (open-model executors: its intended start)",
            Metric::DroppedIterations => "arrival-rate iterations not started because every VU (up to maxVUs) was busy",
            Metric::Vus => "active virtual users",
            Metric::VusMax => "allocated virtual users",
            Metric::DataReceived => "bytes read from the network, headers included; rate = bytes / test duration",
            Metric::DataSent => "bytes written to the network, headers included; rate = bytes / test duration",
            Metric::Checks => "share of checks that passed",
        }
    }
}
