//! Trace database benchmark helper (run by benches/traces.sh):
//!
//! `trace_db cassettes DIR COUNT PER` — writes COUNT cassettes of PER synthetic interactions
//!                          each, a third of them streamed, with traceforge's own writer (so
//!                          the files are exactly what `vcr record` writes);
//! `trace_db fill DB N`   — writes N synthetic recorded interactions through the same
//!                          `TraceDb::write` path the writer thread and rebuild use;
//! `trace_db search DB Q` — runs Q two-word full-text searches (as `traces search` does,
//!                          BM25-ranked, 20 results with snippets) and prints p50/p99/max.
//!
//! The text is drawn from a fixed 30,000-word vocabulary with Zipf-distributed frequencies and a
//! fixed-seed generator, so every run builds the same database and asks the same questions.

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use traceforge::cassette::{files, Cassette, CassetteName, Interaction};
use traceforge::store::bulk::BulkLoad;
use traceforge::store::{TraceDb, TraceRow};

const WORDS: &[&str] = &[
    "refund",
    "policy",
    "order",
    "shipping",
    "delivery",
    "invoice",
    "account",
    "password",
    "reset",
    "billing",
    "subscription",
    "cancel",
    "upgrade",
    "plan",
    "premium",
    "gold",
    "member",
    "discount",
    "coupon",
    "warranty",
    "return",
    "exchange",
    "damaged",
    "missing",
    "package",
    "tracking",
    "address",
    "payment",
    "card",
    "declined",
    "charge",
    "credit",
    "support",
    "agent",
    "escalate",
    "ticket",
    "priority",
    "urgent",
    "customer",
    "service",
    "weather",
    "paris",
    "london",
    "tokyo",
    "flight",
    "hotel",
    "booking",
    "reservation",
    "summary",
    "translate",
    "explain",
    "example",
    "python",
    "rust",
    "error",
    "stack",
    "trace",
    "database",
    "query",
    "index",
    "latency",
    "throughput",
    "model",
    "prompt",
];

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Sentence-like text with word frequencies following Zipf's law, as natural text does.
    fn text(&mut self, vocabulary: &Vocabulary, words: usize) -> String {
        let mut out = String::new();
        for k in 0..words {
            if k > 0 {
                out.push(' ');
            }
            out.push_str(vocabulary.sample(self));
        }
        out
    }
}

/// 30,000 words, the n-th most common drawn with weight 1/n: the 64 domain words above are the
/// most frequent, then pronounceable made-up words.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new() -> Vocabulary {
        const SYLLABLES: &[&str] = &[
            "ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "den", "mar", "pol", "quin", "ser",
            "tor", "ul", "zen", "bri", "cal", "dro", "fen",
        ];
        let mut words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
        let mut n = 0usize;
        while words.len() < 30_000 {
            let (a, b, c) = (n % 20, (n / 20) % 20, n / 400);
            words.push(format!(
                "{}{}{}",
                SYLLABLES[a],
                SYLLABLES[b],
                SYLLABLES[c % 20]
            ));
            n += 1;
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 1.0);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let at = self.cumulative.partition_point(|&c| c < x);
        &self.words[at.min(self.words.len() - 1)]
    }
}

fn row(rng: &mut Rng, vocabulary: &Vocabulary, i: u64) -> TraceRow {
    let prompt_words = 12 + rng.below(30);
    let prompt = rng.text(vocabulary, prompt_words);
    let response_words = 20 + rng.below(60);
    let response = rng.text(vocabulary, response_words);
    TraceRow {
        cassette: format!("suite/cassette-{:04}", i / 1000),
        interaction_id: i % 1000 + 1,
        recorded_at: format!("2026-11-{:02}T10:{:02}:{:02}Z", 1 + i % 20, i % 60, (i / 60) % 60),
        upstream: "openai".into(),
        provider: "openai",
        model: Some(["gpt-4o-mini", "gpt-4o", "claude-haiku-4-5"][rng.below(3)].into()),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        status: 200,
        latency_ms: Some(100 + rng.below(900) as u64),
        ttfb_ms: Some(50 + rng.below(200) as u64),
        input_tokens: Some(12 + rng.below(30) as u64),
        output_tokens: Some(20 + rng.below(60) as u64),
        organization: Some("acme".into()),
        service: Some("support".into()),
        session: Some(format!("s-{}", i / 7)),
        step: Some((i % 7).to_string()),
        parent_step: (!i.is_multiple_of(7)).then(|| (i % 7 - 1).to_string()),
        request_json: format!("{{\"method\":\"POST\",\"body\":{{\"json\":{{\"messages\":[{{\"role\":\"user\",\"content\":\"{prompt}\"}}]}}}}}}"),
        response_json: format!("{{\"status\":200,\"body\":{{\"json\":{{\"content\":\"{response}\"}}}}}}"),
        prompt,
        response,
        redactions: Vec::new(),
        decisions: Vec::new(),
    }
}

fn interaction(
    rng: &mut Rng,
    vocabulary: &Vocabulary,
    i: u64,
) -> Result<Interaction, serde_json::Error> {
    let prompt_words = 8 + rng.below(22);
    let prompt = rng.text(vocabulary, prompt_words);
    let answer_words = 20 + rng.below(40);
    let answer = rng.text(vocabulary, answer_words);
    let streamed = i.is_multiple_of(3);
    let request = json!({
        "method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
        "headers": {"authorization": "REDACTED", "content-type": "application/json"},
        "body": {"json": {"model": "gpt-4o-mini", "stream": streamed, "messages": [
            {"role": "system", "content": "You are a helpful support agent."},
            {"role": "user", "content": prompt}]}}
    });
    let usage = json!({"prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60});
    let response = if streamed {
        let words: Vec<&str> = answer.split(' ').collect();
        let mut events: Vec<serde_json::Value> = words
            .chunks(6)
            .enumerate()
            .map(|(k, chunk)| json!({"at_ms": 100 + 20 * k, "data": {"json": {
                "id": format!("chatcmpl-{i}"), "object": "chat.completion.chunk", "created": 1_700_000_000,
                "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": {"content": chunk.join(" ")}, "finish_reason": null}]}}}))
            .collect();
        events.push(json!({"at_ms": 400, "data": {"json": {"id": format!("chatcmpl-{i}"), "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": "gpt-4o-mini", "choices": [], "usage": usage}}}));
        events.push(json!({"at_ms": 401, "data": {"text": "[DONE]"}}));
        json!({"status": 200, "headers": {"content-type": "text/event-stream"}, "stream": events})
    } else {
        json!({"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {
            "id": format!("chatcmpl-{i}"), "object": "chat.completion", "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": usage}}})
    };
    serde_json::from_value(json!({
        "id": i + 1, "recorded_at": "2026-11-21T10:00:00Z", "request": request, "response": response,
        "timing": {"ttfb_ms": 100, "total_ms": 400},
        "usage": {"model": "gpt-4o-mini", "input_tokens": 20, "output_tokens": 40}
    }))
}

fn cassettes(dir: &Path, count: u64, per: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let vocabulary = Vocabulary::new();
    let mut bytes = 0u64;
    for c in 0..count {
        let name = format!("suite/c{c:04}");
        let mut cassette = Cassette::new(&name);
        for i in 0..per {
            cassette
                .interactions
                .push(interaction(&mut rng, &vocabulary, i)?);
        }
        let path = CassetteName::parse(&name)?.path_in(dir);
        files::save(&path, &cassette)?;
        bytes += std::fs::metadata(&path)?.len();
    }
    println!(
        "wrote {count} cassettes, {} interactions, {:.0} MiB",
        count * per,
        bytes as f64 / 1048576.0
    );
    Ok(())
}

fn fill(db_path: &Path, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_file(db_path);
    let mut load = BulkLoad::start(TraceDb::open(db_path)?, "bench")?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let vocabulary = Vocabulary::new();
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        batch.push(row(&mut rng, &vocabulary, i));
        if batch.len() == batch.capacity() || i + 1 == n {
            load.add(std::mem::replace(&mut batch, Vec::with_capacity(10_000)))?;
        }
    }
    load.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "filled {n} traces in {seconds:.1}s ({:.0}/s)",
        n as f64 / seconds
    );
    Ok(())
}

fn search(db_path: &Path, queries: usize) -> Result<(), Box<dyn std::error::Error>> {
    let db = TraceDb::open_existing(db_path)?;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let vocabulary = Vocabulary::new();
    // Warm the page cache the way a second query would find it.
    db.search("refund policy", 20, "[", "]")?;
    let mut times = Vec::with_capacity(queries);
    let mut hits = 0usize;
    for _ in 0..queries {
        // Two content words, as a person searches: frequency ranks 20..2000 (the top 20 play
        // the part of stop words such as "the" and "to").
        let first = &vocabulary.words[20 + rng.below(1980)];
        let second = &vocabulary.words[20 + rng.below(1980)];
        let query = format!("{first} {second}");
        let started = Instant::now();
        hits += db.search(&query, 20, "[", "]")?.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "search: {queries} two-word queries, {hits} results: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.50),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["fill", db, n] => n
            .parse()
            .map_err(|e| format!("N: {e}").into())
            .and_then(|n| fill(Path::new(db), n)),
        ["cassettes", dir, count, per] => match (count.parse(), per.parse()) {
            (Ok(count), Ok(per)) => cassettes(Path::new(dir), count, per),
            _ => Err("COUNT and PER must be whole numbers".into()),
        },
        ["search", db, q] => q
            .parse()
            .map_err(|e| format!("Q: {e}").into())
            .and_then(|q| search(Path::new(db), q)),
        _ => Err(
            "usage: trace_db cassettes DIR COUNT PER | trace_db fill DB N | trace_db search DB QUERIES"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
