//! Behaviour diff (DESIGN.md §6): what the model does differently between a baseline and a
//! candidate recording. Owns loading the two sides (two cassette files or two directories),
//! normalising away what is volatile ([`normalise`]), pairing and comparing ([`compare`]) and
//! printing the result as text, JSON, JUnit or Markdown ([`render`]).
//!
//! Synchronous and free of tokio; cassette pairs are compared on a few plain threads because
//! reading YAML dominates the cost. It reads files and never writes any: accepting or
//! rejecting a baseline is the `review` command's job.

pub mod compare;
pub mod normalise;
pub mod render;
pub mod rules;
pub mod text;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::cassette::files::{self, CassetteError};
use crate::cassette::matcher::MatchRules;

pub use compare::{CassetteReport, Change, Entry, Outcome, Report, Totals};
pub use rules::{DiffRules, TextRule, Tolerance};

/// Why a comparison could not run. Every variant names the path that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Cassette(#[from] CassetteError),
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{baseline} is a {baseline_kind} but {candidate} is a {candidate_kind}: \
         compare two cassette files or two directories of cassettes"
    )]
    Mismatch {
        baseline: PathBuf,
        baseline_kind: &'static str,
        candidate: PathBuf,
        candidate_kind: &'static str,
    },
}

/// Compares two cassette files, or two directories of cassettes (paired by cassette name).
pub fn run(
    baseline: &Path,
    candidate: &Path,
    rules: &DiffRules,
    matching: &MatchRules,
) -> Result<Report, DiffError> {
    let jobs = match (is_dir(baseline)?, is_dir(candidate)?) {
        (false, false) => vec![Job {
            name: None,
            baseline: Some(baseline.to_path_buf()),
            candidate: Some(candidate.to_path_buf()),
        }],
        (true, true) => {
            let mut names = std::collections::BTreeMap::new();
            for (name, path) in files::list(baseline)? {
                names.entry(name.to_string()).or_insert((None, None)).0 = Some(path);
            }
            for (name, path) in files::list(candidate)? {
                names.entry(name.to_string()).or_insert((None, None)).1 = Some(path);
            }
            names
                .into_iter()
                .map(|(name, (baseline, candidate))| Job {
                    name: Some(name),
                    baseline,
                    candidate,
                })
                .collect()
        }
        (a, b) => {
            let kind = |dir: bool| if dir { "directory" } else { "file" };
            return Err(DiffError::Mismatch {
                baseline: baseline.to_path_buf(),
                baseline_kind: kind(a),
                candidate: candidate.to_path_buf(),
                candidate_kind: kind(b),
            });
        }
    };
    let cassettes = run_jobs(jobs, rules, matching)?;
    Ok(Report {
        baseline: baseline.to_path_buf(),
        candidate: candidate.to_path_buf(),
        cassettes,
    })
}

/// Compares one cassette with its pending version (either may be absent), as `review`,
/// `pending` and `vcr record --pending` do.
pub fn cassette(
    name: &str,
    baseline: Option<&Path>,
    candidate: Option<&Path>,
    rules: &DiffRules,
    matching: &MatchRules,
) -> Result<CassetteReport, DiffError> {
    let job = Job {
        name: Some(name.to_string()),
        baseline: baseline.map(Path::to_path_buf),
        candidate: candidate.map(Path::to_path_buf),
    };
    let mut reports = run_jobs(vec![job], rules, matching)?;
    Ok(reports.remove(0))
}

fn is_dir(path: &Path) -> Result<bool, DiffError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(meta.is_dir()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DiffError::NotFound {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(DiffError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// One cassette to compare; `name` is `None` for two files (named by the baseline's content).
struct Job {
    name: Option<String>,
    baseline: Option<PathBuf>,
    candidate: Option<PathBuf>,
}

/// Runs the jobs on up to one thread per core and returns their reports in job order; the
/// first failing job (in job order, so the error is the same every run) fails the whole run.
fn run_jobs(
    jobs: Vec<Job>,
    rules: &DiffRules,
    matching: &MatchRules,
) -> Result<Vec<CassetteReport>, DiffError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<CassetteReport, DiffError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    // With a single job, both of its files are read in parallel instead.
    let parallel_sides = jobs.len() == 1;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(index) else { break };
                let result = run_job(job, rules, matching, parallel_sides);
                if let Ok(mut results) = results.lock() {
                    results[index] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(DiffError::Io {
                    path: PathBuf::new(),
                    source: std::io::Error::other("a comparison thread stopped early"),
                })
            })
        })
        .collect()
}

fn run_job(
    job: &Job,
    rules: &DiffRules,
    matching: &MatchRules,
    parallel_sides: bool,
) -> Result<CassetteReport, DiffError> {
    let load = |path: &Option<PathBuf>| -> Result<Option<(PathBuf, crate::cassette::Cassette)>, DiffError> {
        match path {
            Some(path) => Ok(Some((path.clone(), files::load(path)?))),
            None => Ok(None),
        }
    };
    let (old, new) = if parallel_sides {
        std::thread::scope(|scope| {
            let new = scope.spawn(|| load(&job.candidate));
            let old = load(&job.baseline);
            let new = new.join().unwrap_or_else(|_| {
                Err(DiffError::Io {
                    path: job.candidate.clone().unwrap_or_default(),
                    source: std::io::Error::other("reading the cassette failed"),
                })
            });
            (old, new)
        })
    } else {
        (load(&job.baseline), load(&job.candidate))
    };
    let (old, new) = (old?, new?);
    let name = match (&job.name, &old, &new) {
        (Some(name), _, _) => name.clone(),
        (None, Some((_, cassette)), _) | (None, None, Some((_, cassette))) => {
            cassette.cassette.clone()
        }
        (None, None, None) => String::new(),
    };
    let normalise = |side: Option<(PathBuf, crate::cassette::Cassette)>| {
        side.map(|(path, cassette)| {
            (
                path,
                normalise::cassette(cassette.interactions, rules, matching),
            )
        })
    };
    Ok(compare::cassette(
        name,
        normalise(old),
        normalise(new),
        rules,
        matching,
    ))
}
