//! Policy engine benchmark helper (run by benches/policy.sh; issue 12, "Performance"):
//!
//! `policy generate DIR`            — writes a policy directory: 10 policies over the global,
//!                                    organization and service scopes with 100 rules of all
//!                                    seven types, one of them a `blocked-terms` rule whose
//!                                    `terms_file` lists 10,000 people's names;
//! `policy measure DIR [LOADS] [N]` — loads and compiles DIR LOADS times (default 20; best and
//!                                    median), then evaluates a realistic 10 KB chat request and
//!                                    a 10 KB answer N times each (default 5,000, after a
//!                                    tenth as many unmeasured) through `Enforcer::request` /
//!                                    `Enforcer::response` and `PolicySet::evaluate_request` /
//!                                    `evaluate_response`, in the scope where all 10 apply, and
//!                                    prints p50/p99/max per evaluation beside the same
//!                                    evaluation with no policies;
//! `policy load DIR [LOADS]`        — only the load and compile of `measure`, to run unpinned
//!                                    (the loader compiles on two threads);
//! `policy cassettes DIR COUNT PER` — writes COUNT cassettes of PER recorded chats (a third
//!                                    streamed; scopes mixed so every policy is reached; one
//!                                    in 50 answers holds an e-mail address) with traceforge's
//!                                    own writer, for `traceforge policy check`.
//!
//! Evaluation times are this thread's CPU time (as benches/detect.rs measures), because the
//! machines are shared and wall time there measures the neighbours too; wall time is printed
//! beside it. Load times are the process's CPU time (every thread's) and wall time.
//!
//! It allocates with mimalloc, as the `traceforge` binary does (`src/main.rs`), so that load and
//! evaluation times are the proxy's and `policy check`'s, not the system allocator's.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};
use traceforge::cassette::{files, Body, Cassette, CassetteName, Interaction, Request, Response};
use traceforge::cassette::{Scope, Usage};
use traceforge::policy::enforce::{Enforcement, Enforcer};
use traceforge::policy::PolicySet;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[path = "cpu.rs"]
mod cpu;
use cpu::{cpu_seconds, process_cpu_seconds};

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Charles",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Paul",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Dorothy",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Edward",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Angela",
    "Eric",
    "Shirley",
    "Jonathan",
    "Anna",
    "Stephen",
    "Brenda",
    "Larry",
    "Pamela",
    "Justin",
    "Emma",
    "Scott",
    "Nicole",
    "Brandon",
    "Helen",
    "Benjamin",
    "Samantha",
    "Samuel",
    "Katherine",
    "Gregory",
    "Christine",
    "Alexander",
    "Debra",
    "Frank",
    "Rachel",
    "Patrick",
    "Carolyn",
    "Raymond",
    "Janet",
    "Jack",
    "Catherine",
    "Dennis",
    "Maria",
    "Jerry",
    "Heather",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
];

/// Ordinary support-chat words: none is a name of the term list, so the benchmark text is
/// evaluated in full (nothing blocks it early) and only the rules meant to fire do.
const WORDS: &[&str] = &[
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
    "please",
    "thanks",
    "help",
    "question",
    "issue",
    "problem",
    "error",
    "update",
    "status",
    "week",
    "today",
    "tomorrow",
    "yesterday",
    "morning",
    "received",
    "sent",
    "email",
    "phone",
    "store",
    "online",
    "website",
    "login",
    "profile",
    "settings",
    "the",
    "a",
    "my",
    "your",
    "is",
    "was",
    "and",
    "but",
    "not",
    "can",
    "could",
    "would",
    "should",
    "when",
    "where",
    "why",
    "how",
    "still",
    "again",
    "already",
    "since",
    "about",
    "with",
    "for",
    "from",
    "to",
    "in",
    "on",
    "of",
    "it",
    "this",
    "that",
    "we",
    "you",
    "they",
];

/// A fixed-seed generator (splitmix64), so every run writes the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn words(&mut self, n: usize) -> String {
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(if self.below(12) == 0 { '.' } else { ' ' });
                if out.ends_with('.') {
                    out.push(' ');
                }
            }
            out.push_str(WORDS[self.below(WORDS.len())]);
        }
        out
    }
}

fn write(path: &Path, value: &Value) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")?;
    Ok(())
}

fn rule(id: &str, kind: &str, severity: &str, applies_to: &str, action: &str) -> Value {
    json!({"id": id, "type": kind, "severity": severity, "applies_to": applies_to,
           "action": action, "description": format!("{kind} rule {id}")})
}

/// 60 deny patterns of the kinds teams write: promises, internal names, identifiers.
fn regex_rule(i: usize) -> Value {
    let topics = [
        "refund",
        "discount",
        "credit",
        "upgrade",
        "warranty",
        "compensation",
        "settlement",
        "rebate",
        "voucher",
        "exemption",
    ];
    let topic = topics[i % topics.len()];
    let pattern = match i % 6 {
        0 => format!(r"(?i)\b(full|guaranteed|immediate) {topic}\b"),
        1 => format!(r"(?i)\bwe (promise|guarantee) (you )?an? {topic}\b"),
        2 => format!(r"\b{}-\d{{4,8}}\b", topic.to_ascii_uppercase()),
        3 => format!(r"(?i)\b[a-z0-9-]+\.{topic}\.corp\.internal\b"),
        4 => format!(r"(?i)\bproject {topic}-{i}\b"),
        _ => format!(r"(?i)\bconfidential:? {topic}\b"),
    };
    let mut r = rule(
        &format!("pattern-{i:02}"),
        "regex",
        ["low", "medium", "high"][i % 3],
        ["response", "both", "request"][i % 3],
        ["warn", "block", "redact"][i % 3],
    );
    r["patterns"] = json!([pattern]);
    r
}

/// The policy directory of the benchmark: 10 policies, 100 rules.
fn generate(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    // The 100 rules, by type: 60 regex, 20 blocked-terms (one of them the 10,000 names),
    // 6 no-pii, 2 no-secrets, 5 allowed-models, 5 max-tokens, 2 required-scope.
    let mut rules: Vec<Value> = (0..60).map(regex_rule).collect();
    let mut names = String::from("# People the assistant must never name (benchmark list)\n");
    for first in FIRST {
        for last in LAST {
            let _ = writeln!(names, "{first} {last}");
        }
    }
    let mut terms = rule("named-people", "blocked-terms", "critical", "both", "block");
    terms["terms_file"] = json!("people.txt");
    rules.push(terms);
    let competitors = [
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Tyrell",
        "Cyberdyne",
        "Wonka",
        "Stark",
        "Wayne",
        "Oscorp",
        "Aperture",
        "Massive Dynamic",
        "Gringotts",
        "Monarch",
        "Virtucon",
        "Gekko",
        "Acme Rival",
    ];
    for (i, name) in competitors.iter().enumerate() {
        let mut r = rule(
            &format!("terms-{i:02}"),
            "blocked-terms",
            "medium",
            ["response", "both"][i % 2],
            ["redact", "warn"][i % 2],
        );
        r["terms"] = json!([name, format!("{name} Corp"), format!("{name} Inc")]);
        rules.push(r);
    }
    for (i, entities) in [
        json!(null),
        json!(["email"]),
        json!(["phone"]),
        json!(["credit_card"]),
        json!(["email", "phone"]),
        json!(["ip"]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = rule(
            &format!("pii-{i}"),
            "no-pii",
            "high",
            ["response", "request"][i % 2],
            ["block", "redact"][i % 2],
        );
        if !entities.is_null() {
            r["entities"] = entities;
        }
        rules.push(r);
    }
    rules.push(rule(
        "secrets-in",
        "no-secrets",
        "critical",
        "request",
        "block",
    ));
    rules.push(rule(
        "secrets-out",
        "no-secrets",
        "critical",
        "response",
        "block",
    ));
    for i in 0..5 {
        let mut r = rule(
            &format!("models-{i}"),
            "allowed-models",
            "high",
            "request",
            "block",
        );
        r["models"] = json!(["gpt-4o*", "gpt-4.1*", "o3*", "claude-*"]);
        rules.push(r);
    }
    for i in 0..5 {
        let mut r = rule(
            &format!("cap-{i}"),
            "max-tokens",
            "medium",
            "both",
            "redact",
        );
        r["max"] = json!(4096 * (i + 1));
        rules.push(r);
    }
    for i in 0..2 {
        rules.push(rule(
            &format!("scoped-{i}"),
            "required-scope",
            "high",
            "request",
            "block",
        ));
    }
    assert_eq!(rules.len(), 100);

    // Ten policies: four global, three for the organization, three for its service; the term
    // list, the secret rules and most patterns global, so header-less traffic meets them too.
    let places = [
        ("global", None, None),
        ("global", None, None),
        ("global", None, None),
        ("global", None, None),
        ("organization", Some("org-acme"), None),
        ("organization", Some("org-acme"), None),
        ("organization", Some("org-acme"), None),
        ("service", Some("org-acme"), Some("support-bot")),
        ("service", Some("org-acme"), Some("support-bot")),
        ("service", Some("org-acme"), Some("support-bot")),
    ];
    // Which rules go to which policy: the big list and secrets first, the scope checks to
    // the organization (a global one would block the header-less benchmark traffic).
    let mut buckets: Vec<Vec<Value>> = vec![Vec::new(); 10];
    for r in rules {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        let index = if id == "named-people" || id.starts_with("secrets") {
            0
        } else if id.starts_with("scoped") {
            4
        } else if let Some(n) = id.strip_prefix("pattern-") {
            // 36 global, 12 organization, 12 service
            let n: usize = n.parse().unwrap_or(0);
            match n {
                0..=35 => 1 + n % 3,
                36..=47 => 4 + n % 3,
                _ => 7 + n % 3,
            }
        } else {
            // the rest spread over every policy
            id.bytes().map(usize::from).sum::<usize>() % 10
        };
        buckets[index].push(r);
    }
    for (i, ((scope, org, service), rules)) in places.iter().zip(buckets).enumerate() {
        let id = format!("bench-{scope}-{i}");
        let mut policy = json!({"id": id, "name": format!("Benchmark policy {i}"),
            "version": "1.0.0", "scope": scope, "enforce_at_proxy": true,
            "priority": 100 + 10 * i, "rules": rules});
        let mut folder = dir.to_path_buf();
        match (org, service) {
            (None, _) => folder.push("global"),
            (Some(org), None) => {
                policy["organization_id"] = json!(org);
                folder.push("organizations");
                folder.push(org);
            }
            (Some(org), Some(service)) => {
                policy["organization_id"] = json!(org);
                policy["service_id"] = json!(service);
                folder.push("organizations");
                folder.push(org);
                folder.push("services");
                folder.push(service);
            }
        }
        if i == 0 {
            std::fs::create_dir_all(&folder)?;
            std::fs::write(folder.join("people.txt"), &names)?;
        }
        write(&folder.join(format!("{id}.json")), &policy)?;
    }
    println!(
        "wrote 10 policies, 100 rules, a 10,000-name terms file ({} kB) in {}",
        names.len() / 1000,
        dir.display()
    );
    Ok(())
}

/// A realistic chat request of about `size` bytes: a system prompt, a tool, a conversation
/// with one e-mail address in it (which the request-side `no-pii` rule redacts).
fn chat_request(size: usize) -> Result<Request> {
    let mut rng = Rng(0x1234_5678);
    let mut messages = vec![json!({"role": "system", "content": format!(
        "You are the support assistant of Acme Corp. Be brief and polite. {}",
        rng.words(120))})];
    let mut turn = 0;
    loop {
        let body = json!({"model": "gpt-4o-mini", "max_tokens": 1024, "temperature": 0.2,
            "messages": messages,
            "tools": [{"type": "function", "function": {"name": "lookup_order",
                "description": "Find an order by its number",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                               "required": ["order_id"]}}}]});
        if serde_json::to_vec(&body)?.len() >= size {
            return Ok(serde_json::from_value(json!({
                "method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
                "headers": {"content-type": "application/json"}, "body": {"json": body}}))?);
        }
        let mut text = rng.words(40);
        if turn == 3 {
            text.push_str(" you can reach me at jane.doe@acme-mail.net if needed");
        }
        let role = if turn % 2 == 0 { "user" } else { "assistant" };
        messages.push(json!({"role": role, "content": text}));
        turn += 1;
    }
}

/// A realistic non-streamed chat answer of about `size` bytes, with nothing a rule blocks.
fn chat_response(size: usize) -> Result<Response> {
    let mut rng = Rng(0x8765_4321);
    let mut answer = String::new();
    loop {
        let body = json!({"id": "chatcmpl-bench", "object": "chat.completion",
            "created": 1_700_000_000, "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 2400, "completion_tokens": 600, "total_tokens": 3000}});
        if serde_json::to_vec(&body)?.len() >= size {
            return Ok(serde_json::from_value(json!({"status": 200,
                "headers": {"content-type": "application/json"}, "body": {"json": body}}))?);
        }
        answer.push_str(&rng.words(30));
        answer.push_str(".\n\n");
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q / 100.0).ceil() as usize).max(1);
    sorted[rank - 1]
}

/// Times `n` calls of `run` (after `n / 10` unmeasured), each on a fresh `setup()` value made
/// outside the timed part; prints p50/p99/max of CPU and wall time in ms.
fn time<T, R>(label: &str, n: usize, setup: impl Fn() -> T, run: impl Fn(T) -> R) -> f64 {
    let mut cpu = Vec::with_capacity(n);
    let mut wall = Vec::with_capacity(n);
    let mut results = 0usize;
    for i in 0..n + n / 10 {
        let input = setup();
        let (c, w) = (cpu_seconds(), Instant::now());
        let out = std::hint::black_box(run(input));
        let (c, w) = (cpu_seconds() - c, w.elapsed().as_secs_f64());
        results += usize::from(std::mem::size_of_val(&out) > 0);
        drop(out);
        if i >= n / 10 {
            cpu.push(c * 1e3);
            wall.push(w * 1e3);
        }
    }
    std::hint::black_box(results);
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    let _ = writeln!(
        std::io::stdout(),
        "  {label:42} CPU p50 {:.4} p99 {:.4} max {:.4} ms | wall p50 {:.4} p99 {:.4} max {:.4} ms",
        percentile(&cpu, 50.0),
        percentile(&cpu, 99.0),
        cpu[cpu.len() - 1],
        percentile(&wall, 50.0),
        percentile(&wall, 99.0),
        wall[wall.len() - 1],
    );
    percentile(&cpu, 99.0)
}

/// Loads and compiles `dir` `loads` times and prints CPU (every thread's) and wall times.
/// The loader compiles on several threads, so this runs unpinned in `policy.sh`.
fn load_times(dir: &Path, loads: usize) -> Result<PolicySet> {
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    let mut set = PolicySet::default();
    for _ in 0..loads.max(1) {
        let (c, w) = (process_cpu_seconds(), Instant::now());
        set = traceforge::policy::load(dir)?;
        cpu.push((process_cpu_seconds() - c) * 1e3);
        wall.push(w.elapsed().as_secs_f64() * 1e3);
    }
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    let rules: usize = set.policies().iter().map(|p| p.rules.len()).sum();
    println!(
        "load+compile {} policies, {rules} rules ({} loads): CPU (all threads) best {:.2} \
         median {:.2} ms | wall best {:.2} median {:.2} ms",
        set.policies().len(),
        cpu.len(),
        cpu[0],
        percentile(&cpu, 50.0),
        wall[0],
        percentile(&wall, 50.0),
    );
    Ok(set)
}

fn measure(dir: &Path, loads: usize, n: usize) -> Result<()> {
    let set = load_times(dir, loads)?;

    let scope = Scope {
        organization: Some("org-acme".into()),
        service: Some("support-bot".into()),
        ..Scope::default()
    };
    let in_force = set.effective(Some("org-acme"), Some("support-bot")).len();
    let request = chat_request(10 * 1024)?;
    let response = chat_response(10 * 1024)?;
    let usage = Usage {
        model: Some("gpt-4o-mini".into()),
        input_tokens: Some(2400),
        output_tokens: Some(600),
    };
    let size = |b: &Option<Body>| {
        b.as_ref().map_or(0, |b| match b {
            Body::Json(v) => serde_json::to_vec(v).map_or(0, |v| v.len()),
            Body::Text(t) | Body::Base64(t) => t.len(),
        })
    };
    let findings = set.evaluate_request(&request, &scope);
    let response_findings = set.evaluate_response(&response, Some(&usage), &scope);
    println!(
        "evaluation, {in_force} rules in force for org-acme/support-bot; request body {} bytes \
         ({} findings), response body {} bytes ({} findings); {n} timed runs each, one thread",
        size(&request.body),
        findings.len(),
        size(&response.body),
        response_findings.len(),
    );
    let enforcer = Enforcer::new(set.clone(), Enforcement::On);
    let none = Enforcer::new(PolicySet::default(), Enforcement::On);
    let mut p99 = Vec::new();
    for (label, enforcer) in [("10 policies", &enforcer), ("no policies", &none)] {
        println!("{label}:");
        p99.push(time(
            "Enforcer::request (evaluate + redact)",
            n,
            || request.clone(),
            |mut r| enforcer.request(&mut r, &scope).0.decisions.len(),
        ));
        time(
            "PolicySet::evaluate_request",
            n,
            || (),
            |()| enforcer.set().evaluate_request(&request, &scope).len(),
        );
        time(
            "PolicySet::effective (rules in force)",
            n,
            || (),
            |()| {
                enforcer
                    .set()
                    .effective(Some("org-acme"), Some("support-bot"))
                    .len()
            },
        );
        time(
            "Enforcer::response (evaluate + redact)",
            n,
            || response.clone(),
            |mut r| {
                enforcer
                    .response(&mut r, Some(&usage), &scope)
                    .decisions
                    .len()
            },
        );
        time(
            "PolicySet::evaluate_response",
            n,
            || (),
            |()| {
                enforcer
                    .set()
                    .evaluate_response(&response, Some(&usage), &scope)
                    .len()
            },
        );
    }
    breakdown(dir, &request, &response, &usage, &scope, loads, n / 5)?;
    println!(
        "request p99 (CPU) with policies {:.4} ms, without {:.4} ms: target < 0.5 ms: {}",
        p99[0],
        p99[1],
        if p99[0] < 0.5 { "PASS" } else { "FAIL" }
    );
    Ok(())
}

/// Every file under `dir`, as paths relative to it.
fn walk(dir: &Path, base: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, base, out)?;
        } else {
            out.push(path.strip_prefix(base)?.to_path_buf());
        }
    }
    Ok(())
}

/// Where the time goes: the same directory cut down to one rule type at a time, loaded
/// (best of `loads`) and evaluated (`n` times) like the whole set.
fn breakdown(
    dir: &Path,
    request: &Request,
    response: &Response,
    usage: &Usage,
    scope: &Scope,
    loads: usize,
    n: usize,
) -> Result<()> {
    let mut paths = Vec::new();
    walk(dir, dir, &mut paths)?;
    paths.sort();
    let scratch = std::env::temp_dir().join(format!("policy-bench-{}", std::process::id()));
    println!("by rule type (the same policies with only that type's rules):");
    for kind in [
        "blocked-terms",
        "regex",
        "no-pii",
        "no-secrets",
        "allowed-models",
        "max-tokens",
        "required-scope",
    ] {
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        let mut count = 0;
        for path in &paths {
            let (from, to) = (dir.join(path), scratch.join(path));
            std::fs::create_dir_all(to.parent().unwrap_or(&scratch))?;
            if path.extension().is_some_and(|e| e == "json") {
                let mut policy: Value = serde_json::from_str(&std::fs::read_to_string(&from)?)?;
                if let Some(rules) = policy["rules"].as_array_mut() {
                    rules.retain(|r| r["type"] == kind);
                    count += rules.len();
                }
                write(&to, &policy)?;
            } else {
                std::fs::copy(&from, &to)?;
            }
        }
        let mut best = f64::INFINITY;
        let mut set = PolicySet::default();
        for _ in 0..loads.max(1) {
            let c = process_cpu_seconds();
            set = traceforge::policy::load(&scratch)?;
            best = best.min((process_cpu_seconds() - c) * 1e3);
        }
        println!("{kind} ({count} rules): load+compile CPU (all threads) best {best:.2} ms");
        time(
            "evaluate_request",
            n,
            || (),
            |()| set.evaluate_request(request, scope).len(),
        );
        time(
            "evaluate_response",
            n,
            || (),
            |()| set.evaluate_response(response, Some(usage), scope).len(),
        );
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

fn interaction(rng: &mut Rng, i: u64) -> Result<Interaction> {
    let streamed = i.is_multiple_of(3);
    let (prompt_words, answer_words) = (10 + rng.below(30), 20 + rng.below(60));
    let prompt = rng.words(prompt_words);
    let mut answer = rng.words(answer_words);
    if rng.below(50) == 0 {
        answer.push_str(" write to help@acme-support.net for more");
    }
    let request = json!({
        "method": "POST", "upstream": "openai", "path": "/v1/chat/completions",
        "headers": {"authorization": "REDACTED", "content-type": "application/json"},
        "body": {"json": {"model": "gpt-4o-mini", "stream": streamed, "max_tokens": 512,
            "messages": [{"role": "system", "content": "You are a helpful support agent."},
                         {"role": "user", "content": prompt}]}}
    });
    let usage = json!({"prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60});
    let response = if streamed {
        let words: Vec<&str> = answer.split(' ').collect();
        let mut events: Vec<Value> = words
            .chunks(6)
            .enumerate()
            .map(|(k, chunk)| {
                json!({"at_ms": 100 + 20 * k, "data": {"json": {
                "id": format!("chatcmpl-{i}"), "object": "chat.completion.chunk",
                "created": 1_700_000_000, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": {"content": chunk.join(" ")},
                             "finish_reason": null}]}}})
            })
            .collect();
        events.push(
            json!({"at_ms": 400, "data": {"json": {"id": format!("chatcmpl-{i}"),
            "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "gpt-4o-mini", "choices": [], "usage": usage}}}),
        );
        events.push(json!({"at_ms": 401, "data": {"text": "[DONE]"}}));
        json!({"status": 200, "headers": {"content-type": "text/event-stream"}, "stream": events})
    } else {
        json!({"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {
            "id": format!("chatcmpl-{i}"), "object": "chat.completion", "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                         "finish_reason": "stop"}],
            "usage": usage}}})
    };
    // Half in the service (every policy applies), a quarter in the organization only, a
    // quarter without scope headers (global policies only).
    let scope = match i % 4 {
        0 | 1 => json!({"organization": "org-acme", "service": "support-bot"}),
        2 => json!({"organization": "org-acme"}),
        _ => json!({}),
    };
    Ok(serde_json::from_value(json!({
        "id": i + 1, "recorded_at": "2026-11-21T10:00:00Z", "request": request,
        "response": response, "timing": {"ttfb_ms": 100, "total_ms": 400}, "scope": scope,
        "usage": {"model": "gpt-4o-mini", "input_tokens": 20, "output_tokens": 40}
    }))?)
}

fn cassettes(dir: &Path, count: u64, per: u64) -> Result<()> {
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let mut bytes = 0u64;
    for c in 0..count {
        let name = format!("suite/c{c:04}");
        let mut cassette = Cassette::new(&name);
        for i in 0..per {
            cassette.interactions.push(interaction(&mut rng, i)?);
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |s: &str| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
    let result: Result<()> = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", dir] => generate(Path::new(dir)),
        ["measure", dir, rest @ ..] if rest.len() <= 2 => {
            let loads = rest.first().map_or(Ok(20), |s| number(s));
            let n = rest.get(1).map_or(Ok(5000), |s| number(s));
            match (loads, n) {
                (Ok(loads), Ok(n)) => measure(Path::new(dir), loads, n.max(10)),
                (Err(e), _) | (_, Err(e)) => Err(e.into()),
            }
        }
        ["load", dir, rest @ ..] if rest.len() <= 1 => {
            match rest.first().map_or(Ok(20), |s| number(s)) {
                Ok(loads) => load_times(Path::new(dir), loads).map(drop),
                Err(e) => Err(e.into()),
            }
        }
        ["cassettes", dir, count, per] => match (count.parse(), per.parse()) {
            (Ok(count), Ok(per)) => cassettes(Path::new(dir), count, per),
            _ => Err("COUNT and PER must be whole numbers".into()),
        },
        _ => Err(
            "usage: policy generate DIR | policy measure DIR [LOADS] [N] | \
                  policy load DIR [LOADS] | policy cassettes DIR COUNT PER"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
