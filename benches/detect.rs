//! PII detection throughput (run by benches/detect.sh): `detect FILE [RUNS]` compiles the
//! default detectors, runs `Detectors::find` over the whole file RUNS times (default 3) on this
//! thread, and prints the best run's MB/s, the compile time and the findings per kind; then the
//! same with a custom term list of 10,000 names added (`traceforge+terms`).
//!
//! `detect --compile` only compiles, once each, as a command starting up does: the default PII
//! detectors, then the secret rules, and prints `compile pii MS secrets MS` (benches/startup.py
//! runs it in fresh processes, since only the first compile in a process is cold).
//!
//! Rates are per second of this thread's CPU time, as the Python peers' are per second of
//! process CPU time: the benchmark machines are shared, and wall time there measures the
//! neighbours as much as the detector. Wall time is printed beside it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use traceforge::sensitive::{Custom, DetectorConfig, Detectors};

#[path = "cpu.rs"]
mod cpu;
use cpu::cpu_seconds;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--compile") {
        return compile_once();
    }
    let Some(path) = args.get(1) else {
        eprintln!("usage: detect FILE [RUNS]");
        return ExitCode::from(2);
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let terms = Custom::terms(
        "customer",
        (0..10_000)
            .map(|i| format!("Customer {i:05} Holdings"))
            .collect(),
    );
    let with_terms = DetectorConfig {
        custom: vec![terms],
        ..DetectorConfig::default()
    };
    for (label, config) in [
        ("traceforge", DetectorConfig::default()),
        ("traceforge+terms", with_terms),
    ] {
        if let Err(e) = measure(label, &config, &text, runs) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    measure_secrets(&text, runs);
    ExitCode::SUCCESS
}

/// Cold compile times, in the order a command's redactor builds them (settings.rs).
fn compile_once() -> ExitCode {
    let started = Instant::now();
    let detectors = Detectors::new(&DetectorConfig::default());
    let pii = started.elapsed();
    let started = Instant::now();
    let secrets = traceforge::sensitive::Secrets::new();
    let rules = started.elapsed();
    drop((detectors, secrets));
    let _ = writeln!(
        std::io::stdout(),
        "compile pii {:.3} secrets {:.3}",
        pii.as_secs_f64() * 1e3,
        rules.as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}

/// The secret rules alone, and the default PII detectors plus the secret rules: the issue's
/// target is for both together.
fn measure_secrets(text: &str, runs: usize) {
    let started = Instant::now();
    let secrets = traceforge::sensitive::Secrets::new();
    let compile = started.elapsed();
    let pii = Detectors::new(&DetectorConfig::default());
    let mb = text.len() as f64 / 1e6;
    let (mut alone, mut both) = (f64::INFINITY, f64::INFINITY);
    let mut found = 0;
    for _ in 0..runs.max(1) {
        let cpu = cpu_seconds();
        found = secrets.find(text).len();
        alone = alone.min(cpu_seconds() - cpu);
        let cpu = cpu_seconds();
        let pii_found = pii.as_ref().map_or(0, |p| p.find(text).len());
        let _ = secrets.find(text).len() + pii_found;
        both = both.min(cpu_seconds() - cpu);
    }
    let _ = writeln!(
        std::io::stdout(),
        "traceforge secrets: {mb:.1} MB in {alone:.3} s CPU = {:.1} MB/s, {found} findings, \
         compile {:.2} ms",
        mb / alone,
        compile.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        std::io::stdout(),
        "traceforge pii+secrets: {mb:.1} MB in {both:.3} s CPU = {:.1} MB/s",
        mb / both
    );
}

fn measure(
    label: &str,
    config: &DetectorConfig,
    text: &str,
    runs: usize,
) -> Result<(), traceforge::sensitive::DetectorError> {
    let started = Instant::now();
    let detectors = Detectors::new(config)?;
    let compile = started.elapsed();
    let (mut best, mut best_wall) = (f64::INFINITY, f64::INFINITY);
    let mut findings = Vec::new();
    for _ in 0..runs.max(1) {
        let (cpu, wall) = (cpu_seconds(), Instant::now());
        findings = detectors.find(text);
        best = best.min(cpu_seconds() - cpu);
        best_wall = best_wall.min(wall.elapsed().as_secs_f64());
    }
    let mut kinds = BTreeMap::new();
    for f in &findings {
        *kinds.entry(f.kind.name().to_owned()).or_insert(0usize) += 1;
    }
    let mb = text.len() as f64 / 1e6;
    // A closed pipe (`detect FILE | head -1`) ends the output quietly instead of panicking.
    let _ = writeln!(
        std::io::stdout(),
        "{label}: {mb:.1} MB in {best:.3} s CPU ({best_wall:.3} s wall) = {:.1} MB/s, \
         {} findings {kinds:?}, compile {:.2} ms",
        mb / best,
        findings.len(),
        compile.as_secs_f64() * 1e3
    );
    Ok(())
}
