//! The cassettes a running proxy has open: what was on disk (indexed by match key, with a cursor
//! per key so identical requests replay in recorded order), what this run recorded, per-cassette
//! counters for the summary, and flushing to disk. Disk I/O runs on blocking threads.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::rendered::Rendered;
use crate::cassette::files::{self, CassetteError};
use crate::cassette::journal::{self, Journal};
use crate::cassette::matcher::{MatchKey, MatchRules, RequestView};
use crate::cassette::{Cassette, CassetteName, Interaction};
use crate::sensitive::Revealer;

/// Per-cassette counts for the end-of-run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub recorded: u64,
    pub replayed: u64,
    pub missed: u64,
    /// Streams recorded without their terminal event.
    pub incomplete: u64,
    /// Recordings dropped because the client disconnected first.
    pub aborted: u64,
    /// Requests the upstream never answered (502/504).
    pub upstream_errors: u64,
    /// Requests or answers a policy blocked.
    pub blocked: u64,
}

/// What the proxy should do with a request, decided under the cassette's lock.
pub enum Lookup {
    /// Replay this recorded interaction.
    Hit(Arc<Recorded>),
    /// Nothing left to replay for this request.
    Miss(Miss),
}

/// Why a request found nothing to replay.
pub struct Miss {
    /// The key matched recorded interactions, but each was already replayed this run.
    pub exhausted: Option<(u64, usize)>,
}

/// A recorded interaction ready to be served.
pub struct Recorded {
    pub interaction: Arc<Interaction>,
    /// The response as bytes, rendered at its first replay (start-up only parses and indexes).
    rendered: std::sync::OnceLock<Rendered>,
    /// Replays not yet handed to the trace writer: a replay only counts here, and the first one
    /// since the writer last took the count sends it a message (see `store::writer::Pending`).
    pub unsent_replays: Arc<AtomicU64>,
    /// Replays of the interaction this run numbered for their spans (counted only when spans
    /// are exported; a replay the policies block leaves its number unused).
    pub served: AtomicU64,
    /// The interaction with its surrogates' originals restored, made at its first replay with
    /// a key (`None`: it holds no known surrogate).
    revealed: std::sync::OnceLock<Option<Arc<Recorded>>>,
    /// The answer as the policies let it through, for the last (organization, service) that
    /// asked: replaying the same interaction in the same scope gives the same answer, so it is
    /// checked once, not per replay.
    checked: Mutex<Option<(ScopeKey, PolicyOutcome)>>,
    /// The token counters its replays count into, resolved at the first.
    pub tokens: std::sync::OnceLock<crate::telemetry::metrics::ModelTokens>,
}

/// The organization and service a replay's policies are chosen by.
pub type ScopeKey = (Option<String>, Option<String>);

/// What the policies make of a recorded answer.
#[derive(Clone)]
pub enum PolicyOutcome {
    /// Served as recorded. With it, here and in `Changed`, the decision about the answer the
    /// request's log event names (a `warn`, or what rewrote or cut it).
    Unchanged(Option<Arc<crate::cassette::Decision>>),
    /// Rewritten or cut: serve this instead.
    Changed(Arc<Recorded>, Option<Arc<crate::cassette::Decision>>),
    Blocked(Box<crate::policy::Finding>),
}

/// The recorded interactions sharing one match key, in recorded order, and how many of them
/// this run has replayed.
#[derive(Default)]
struct Replays {
    positions: Vec<usize>,
    next: usize,
}

impl Recorded {
    pub(super) fn new(interaction: Arc<Interaction>) -> Recorded {
        Recorded {
            interaction,
            rendered: std::sync::OnceLock::new(),
            unsent_replays: Arc::default(),
            served: AtomicU64::new(0),
            revealed: std::sync::OnceLock::new(),
            checked: Mutex::new(None),
            tokens: std::sync::OnceLock::new(),
        }
    }

    /// What the policies make of this answer in `scope`: `check`'s result, remembered for the
    /// scope that asked last.
    pub fn policy_checked(
        &self,
        scope: ScopeKey,
        check: impl FnOnce() -> PolicyOutcome,
    ) -> PolicyOutcome {
        let mut checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((key, outcome)) = &*checked {
            if *key == scope {
                return outcome.clone();
            }
        }
        let outcome = check();
        *checked = Some((scope, outcome.clone()));
        outcome
    }

    pub fn rendered(&self) -> &Rendered {
        self.rendered
            .get_or_init(|| Rendered::new(&self.interaction.response))
    }

    /// This interaction as the client received it while recording: surrogates replaced by
    /// their originals. `None` when it holds no surrogate `revealer` knows.
    pub fn revealed(&self, revealer: &Revealer) -> Option<&Arc<Recorded>> {
        self.revealed
            .get_or_init(|| {
                let mut interaction = (*self.interaction).clone();
                crate::cassette::reveal::response(revealer, &mut interaction.response)
                    .then(|| Arc::new(Recorded::new(Arc::new(interaction))))
            })
            .as_ref()
    }
}

/// One open cassette.
pub struct OpenCassette {
    pub name: CassetteName,
    /// The name, shared with every trace of this cassette.
    pub label: Arc<str>,
    pub path: PathBuf,
    /// The file existed when the run opened it (decides `once` mode).
    pub existed: bool,
    state: Mutex<State>,
    /// Serialises writes of this cassette's file (each write snapshots the latest state) and
    /// keeps every interaction's rendered YAML, so a rewrite costs a copy, not a serialisation.
    writer: Mutex<RenderedYaml>,
    /// A write is already scheduled; new interactions ride along with it.
    pub(super) flush_scheduled: AtomicBool,
    /// The size of the file this run last wrote (0 before its first write).
    written_bytes: AtomicU64,
    /// Where each recorded interaction goes at once, before its client sees the response end;
    /// opened at the first recording. Taken before `state` by [`OpenCassette::record`].
    journal: Mutex<Option<Journal>>,
    /// Interactions a killed run left in the journal, recovered when this run opened the
    /// cassette, for the trace database (which the killed run may not have reached).
    recovered: Mutex<Vec<Arc<Interaction>>>,
    has_recovered: AtomicBool,
    /// How requests are matched against this cassette: the run's rules, or the ones a test
    /// framework chose for it (control API); `index` is keyed by these.
    rules: RwLock<Rules>,
}

/// The rules a cassette is matched with, and what tells them apart from the run's rules in
/// the match-key cache (empty for the run's own rules).
#[derive(Clone)]
pub struct Rules {
    pub rules: Arc<MatchRules>,
    pub tag: Arc<str>,
}

impl Rules {
    fn new(rules: MatchRules, own: bool) -> Rules {
        let tag = match own {
            true => format!("{:?}", rules),
            false => String::new(),
        };
        Rules {
            rules: Arc::new(rules),
            tag: Arc::from(tag),
        }
    }
}

struct State {
    recorded: Vec<Arc<Recorded>>,
    index: Index,
    fresh: Vec<Arc<Interaction>>,
    counts: Counts,
    dirty: bool,
    /// Recorded requests that protection changes, by their protected key (see
    /// [`OpenCassette::lookup_protected`]).
    protected: Option<Index>,
}

impl OpenCassette {
    fn new(name: CassetteName, path: PathBuf, cassette: Option<Cassette>, rules: Rules) -> Self {
        let existed = cassette.is_some();
        let recorded: Vec<Arc<Recorded>> = cassette
            .map(|c| c.interactions)
            .unwrap_or_default()
            .into_iter()
            .map(|interaction| Arc::new(Recorded::new(Arc::new(interaction))))
            .collect();
        let index = index_of(&recorded, &rules.rules);
        OpenCassette {
            label: Arc::from(name.as_str()),
            name,
            path,
            existed,
            state: Mutex::new(State {
                recorded,
                index,
                fresh: Vec::new(),
                counts: Counts::default(),
                dirty: false,
                protected: None,
            }),
            writer: Mutex::new(RenderedYaml::default()),
            flush_scheduled: AtomicBool::new(false),
            written_bytes: AtomicU64::new(0),
            journal: Mutex::new(None),
            recovered: Mutex::new(Vec::new()),
            has_recovered: AtomicBool::new(false),
            rules: RwLock::new(rules),
        }
    }

    /// The size of the cassette file as this run last wrote it.
    pub fn written_bytes(&self) -> u64 {
        self.written_bytes.load(Ordering::Relaxed)
    }

    /// The rules requests are matched against this cassette with.
    pub fn rules(&self) -> Rules {
        self.with_rules(Rules::clone)
    }

    /// Runs `f` with the rules the cassette is matched with: a request's key is made under
    /// their lock rather than from a copy, whose two reference counts every worker would write.
    pub fn with_rules<R>(&self, f: impl FnOnce(&Rules) -> R) -> R {
        f(&self.rules.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Matches requests with `rules` from now on: the recorded interactions are indexed
    /// again (and their replay cursors start over) when the rules differ from the current ones.
    fn use_rules(&self, rules: Rules) {
        let mut current = self.rules.write().unwrap_or_else(|e| e.into_inner());
        if current.tag == rules.tag {
            return;
        }
        let mut state = self.lock();
        state.index = index_of(&state.recorded, &rules.rules);
        state.protected = None;
        *current = rules;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters more than losing the proxy, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After the run's last write: removes the journal if the cassette holds everything.
    pub fn close_journal(&self) -> Result<(), CassetteError> {
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        match journal.as_mut() {
            Some(journal) => journal.remove_if_empty(),
            None => Ok(()),
        }
    }

    /// The interactions recovered from a killed run's journal, once: later calls get none.
    pub fn take_recovered(&self) -> Vec<Arc<Interaction>> {
        // Checked on every request: the flag keeps replay's hot path off the mutex.
        if !self.has_recovered.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.recovered.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The next recorded answer for `key`, advancing its cursor; a hit is counted as replayed
    /// (under the same lock).
    pub fn lookup(&self, key: &MatchKey, allow_repeats: bool) -> Lookup {
        let mut state = self.lock();
        let State {
            recorded,
            index,
            counts,
            ..
        } = &mut *state;
        counted(next(index, recorded, key, allow_repeats), counts)
    }

    /// [`OpenCassette::lookup`] among the recorded requests that protection changes (`protect`
    /// gives the protected request's key, `None` when protection changes nothing): a live
    /// request is protected before matching, so this is how it finds a request recorded
    /// before `pii:` was on. The index is made at the first call.
    pub fn lookup_protected(
        &self,
        key: &MatchKey,
        allow_repeats: bool,
        protect: impl Fn(&Interaction) -> Option<MatchKey>,
    ) -> Lookup {
        let mut state = self.lock();
        let State {
            recorded,
            protected,
            counts,
            ..
        } = &mut *state;
        let protected = protected.get_or_insert_with(|| {
            let mut index: Index = Index::default();
            for (i, r) in recorded.iter().enumerate() {
                if let Some(key) = protect(&r.interaction) {
                    index.entry(key).or_default().positions.push(i);
                }
            }
            index
        });
        counted(next(protected, recorded, key, allow_repeats), counts)
    }

    /// Every recorded interaction, for nearest-match reports.
    pub fn recorded(&self) -> Vec<Arc<Recorded>> {
        self.lock().recorded.clone()
    }

    pub fn count(&self, update: impl FnOnce(&mut Counts)) {
        update(&mut self.lock().counts);
    }

    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// The file this run writes: `NAME.yaml`, or `NAME.yaml.pending` beside a cassette that
    /// existed (`--pending`).
    fn target(&self, pending: bool) -> PathBuf {
        match pending && self.existed {
            true => files::pending_path(&self.path),
            false => self.path.clone(),
        }
    }

    /// Adds an interaction recorded in this run, giving it the next id, and appends it to the
    /// journal, so it survives a kill from the moment this returns (the batched rewrite of
    /// the cassette comes later). A journal that cannot be written is reported in the result;
    /// the interaction is kept for the rewrite either way. `Recording::replaces` is true for
    /// the first recording of a run that writes the cassette from scratch.
    pub fn record(&self, interaction: Interaction, keep_old: bool, pending: bool) -> Recording {
        // The journal lock is held across the push, so a rewrite that includes this
        // interaction compacts the journal only after it was appended (see `flush`).
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let interaction = self.push(interaction, keep_old);
        // `--pending` leaves the cassette itself alone, whatever it writes beside it.
        let replaces = journal.is_none() && !keep_old && !(pending && self.existed);
        let journal = journal.get_or_insert_with(|| {
            let base = match (keep_old, pending && self.existed) {
                (false, _) => journal::Base::Empty,
                (true, true) => journal::Base::Original,
                (true, false) => journal::Base::Target,
            };
            Journal::new(&self.target(pending), self.name.as_str(), base)
        });
        let journaled = journal.append(&interaction);
        Recording {
            interaction,
            journaled,
            replaces,
        }
    }

    /// Adds an interaction recorded in this run, giving it the next id.
    fn push(&self, mut interaction: Interaction, keep_old: bool) -> Arc<Interaction> {
        let mut state = self.lock();
        let old_max = if keep_old {
            state.recorded.iter().map(|r| r.interaction.id).max()
        } else {
            None
        };
        let fresh_max = state.fresh.iter().map(|i| i.id).max();
        interaction.id = old_max.max(fresh_max).unwrap_or(0) + 1;
        if interaction.response.incomplete {
            state.counts.incomplete += 1;
        }
        state.counts.recorded += 1;
        let interaction = Arc::new(interaction);
        state.fresh.push(interaction.clone());
        state.dirty = true;
        interaction
    }

    /// Writes the cassette if this run recorded anything since the last write. `keep_old`
    /// keeps the interactions that were on disk (every mode but `all`). `pending` writes a
    /// cassette that existed beside its original, as `NAME.yaml.pending` (`--pending`).
    pub fn flush(&self, keep_old: bool, pending: bool) -> Result<(), CassetteError> {
        let mut rendered = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let (old, new, written) = {
            let mut state = self.lock();
            if !state.dirty {
                return Ok(());
            }
            state.dirty = false;
            let old: Vec<Arc<Recorded>> = match keep_old && rendered.old.is_empty() {
                true => state.recorded.clone(),
                false => Vec::new(),
            };
            let written = state.fresh.last().map_or(0, |i| i.id);
            (old, state.fresh[rendered.fresh.len()..].to_vec(), written)
        };
        let invalid = |e: crate::yaml::YamlError| CassetteError::Invalid {
            path: self.path.clone(),
            message: e.message,
        };
        for recorded in old {
            rendered
                .old
                .push(files::render_item(&recorded.interaction).map_err(invalid)?);
        }
        for interaction in new {
            rendered
                .fresh
                .push(files::render_item(&interaction).map_err(invalid)?);
        }
        let mut items: Vec<&str> = Vec::new();
        if keep_old {
            items.extend(rendered.old.iter().map(String::as_str));
        }
        items.extend(rendered.fresh.iter().map(String::as_str));
        let text = files::render_with(self.name.as_str(), &items).map_err(invalid)?;
        files::write_atomically(&self.target(pending), text.as_bytes()).inspect_err(|_| {
            // Try again at the next flush.
            self.lock().dirty = true;
        })?;
        self.written_bytes
            .store(text.len() as u64, Ordering::Relaxed);
        // Everything up to `written` is in the cassette now: the journal keeps only the rest.
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        match journal.as_mut() {
            Some(journal) => journal.compact(written),
            None => Ok(()),
        }
    }
}

/// What [`OpenCassette::record`] did with a new interaction.
pub struct Recording {
    pub interaction: Arc<Interaction>,
    /// Whether it reached the journal.
    pub journaled: Result<(), CassetteError>,
    /// The first recording of a run that replaces the cassette's content.
    pub replaces: bool,
}

/// The YAML of every interaction written so far, in cassette order.
#[derive(Default)]
struct RenderedYaml {
    /// The interactions that were on disk when the cassette opened.
    old: Vec<String>,
    /// The interactions this run recorded.
    fresh: Vec<String>,
}

/// What opening a cassette gave: the cassette, or the load error to answer with.
pub type Opened = Result<Arc<OpenCassette>, Arc<CassetteError>>;

/// Match key → where its recordings are. foldhash: the key is hashed on every replayed
/// request, and SipHash was a visible share of one.
type Index = foldhash::HashMap<MatchKey, Replays>;

/// The recorded interactions by match key under `rules`, in recorded order.
fn index_of(recorded: &[Arc<Recorded>], rules: &MatchRules) -> Index {
    let mut index: Index = Index::default();
    for (position, r) in recorded.iter().enumerate() {
        let key = rules.key(RequestView::from(&r.interaction.request));
        index.entry(key).or_default().positions.push(position);
    }
    index
}

/// Every cassette this run has opened, by name.
pub struct CassetteSet {
    dir: PathBuf,
    rules: Rules,
    /// Cassettes matched with other rules than the run's (control API), by name.
    own_rules: RwLock<HashMap<CassetteName, Rules>>,
    /// This run records: a journal a killed run left is merged into its cassette on disk
    /// before the cassette is used (a replay run merges it in memory only).
    recover: bool,
    /// Held while a recording run reads a cassette from disk: the first requests for a
    /// cassette arrive together, and only one of them may recover its journal and load it (a
    /// second recovery would remove the journal this run is already appending to).
    opening: Mutex<()>,
    open: RwLock<BTreeMap<CassetteName, Opened>>,
}

impl CassetteSet {
    pub fn new(dir: PathBuf, rules: MatchRules, recover: bool) -> Self {
        CassetteSet {
            dir,
            rules: Rules::new(rules, false),
            own_rules: RwLock::new(HashMap::new()),
            recover,
            opening: Mutex::new(()),
            open: RwLock::new(BTreeMap::new()),
        }
    }

    /// The directory the cassettes live in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Matches requests against cassette `name` with `rules` from now on (`None`: the run's
    /// rules again), whether or not it is open yet.
    pub fn set_rules(&self, name: &CassetteName, rules: Option<MatchRules>) {
        let rules = {
            let mut own = self.own_rules.write().unwrap_or_else(|e| e.into_inner());
            match rules {
                Some(rules) if rules != *self.rules.rules => {
                    let rules = Rules::new(rules, true);
                    own.insert(name.clone(), rules.clone());
                    rules
                }
                _ => {
                    own.remove(name);
                    self.rules.clone()
                }
            }
        };
        if let Some(Ok(open)) = self.read().get(name) {
            open.use_rules(rules);
        }
    }

    /// The rules cassette `name` opens with.
    fn rules_for(&self, name: &CassetteName) -> Rules {
        let own = self.own_rules.read().unwrap_or_else(|e| e.into_inner());
        own.get(name).unwrap_or(&self.rules).clone()
    }

    /// Opens every cassette in the directory now, so the first request pays nothing.
    /// Returns the load errors (each names its file); the other cassettes still open.
    /// Reading and indexing YAML is the cost of start-up, so every core takes a share.
    pub fn preload(&self) -> Result<Vec<Arc<CassetteError>>, CassetteError> {
        let names: Vec<CassetteName> = files::list(&self.dir)?
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8);
        let errors = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..workers.min(names.len()) {
                scope.spawn(|| {
                    while let Some(name) = names.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Err(e) = self.open_blocking(name) {
                            errors.lock().unwrap_or_else(|e| e.into_inner()).push(e);
                        }
                    }
                });
            }
        });
        let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
        errors.sort_by_key(|e| e.to_string());
        Ok(errors)
    }

    /// The open cassette called `name`, reading it from disk on first use.
    pub async fn open(self: &Arc<Self>, name: &CassetteName) -> Opened {
        if let Some(opened) = self.opened(name) {
            return opened;
        }
        let set = self.clone();
        let name = name.clone();
        tokio::task::spawn_blocking(move || set.open_blocking(&name))
            .await
            .unwrap_or_else(|e| {
                Err(Arc::new(CassetteError::Invalid {
                    path: PathBuf::new(),
                    message: format!("loading the cassette failed: {e}"),
                }))
            })
    }

    /// The cassette `name` if it has been opened already (or failed to), without waiting.
    pub fn opened(&self, name: &CassetteName) -> Option<Opened> {
        self.read().get(name).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<CassetteName, Opened>> {
        self.open.read().unwrap_or_else(|e| e.into_inner())
    }

    fn open_blocking(&self, name: &CassetteName) -> Opened {
        if let Some(opened) = self.read().get(name) {
            return opened.clone();
        }
        // Replay only reads, so its cassettes load in parallel (preload).
        let _opening = self
            .recover
            .then(|| self.opening.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(opened) = self.read().get(name) {
            return opened.clone();
        }
        let path = name.path_in(&self.dir);
        let opened = self
            .load(&path)
            .map(|(cassette, recovered)| {
                let opened = OpenCassette::new(name.clone(), path, cassette, self.rules_for(name));
                if !recovered.is_empty() {
                    *opened.recovered.lock().unwrap_or_else(|e| e.into_inner()) =
                        recovered.into_iter().map(Arc::new).collect();
                    opened.has_recovered.store(true, Ordering::Release);
                }
                Arc::new(opened)
            })
            .map_err(Arc::new);
        let mut open = self.open.write().unwrap_or_else(|e| e.into_inner());
        open.entry(name.clone()).or_insert(opened).clone()
    }

    /// The cassette at `path` (`None` when there is none yet) and, in a recording run, the
    /// interactions recovered from the journals a killed run left beside it and its pending
    /// file, which are merged into the files first.
    fn load(
        &self,
        path: &std::path::Path,
    ) -> Result<(Option<Cassette>, Vec<Interaction>), CassetteError> {
        let mut recovered = Vec::new();
        if self.recover {
            recovered = journal::recover(path)?;
            recovered.extend(journal::recover(&files::pending_path(path))?);
        }
        Ok((files::load_optional(path)?, recovered))
    }

    /// Every successfully opened cassette, sorted by name.
    pub fn all(&self) -> Vec<Arc<OpenCassette>> {
        self.read()
            .values()
            .filter_map(|o| o.clone().ok())
            .collect()
    }

    /// Every cassette that failed to open, with its error.
    pub fn failed(&self) -> Vec<(CassetteName, Arc<CassetteError>)> {
        self.read()
            .iter()
            .filter_map(|(name, o)| o.clone().err().map(|e| (name.clone(), e)))
            .collect()
    }

    /// Total interactions loaded from disk (for the startup line).
    pub fn loaded_interactions(&self) -> usize {
        self.all().iter().map(|c| c.lock().recorded.len()).sum()
    }
}

/// `lookup`, a hit counted as replayed.
fn counted(lookup: Lookup, counts: &mut Counts) -> Lookup {
    if let Lookup::Hit(_) = lookup {
        counts.replayed += 1;
    }
    lookup
}

/// The next recorded answer for `key` in `index`, advancing its cursor.
fn next(
    index: &mut Index,
    recorded: &[Arc<Recorded>],
    key: &MatchKey,
    allow_repeats: bool,
) -> Lookup {
    let Some(replays) = index.get_mut(key) else {
        return Lookup::Miss(Miss { exhausted: None });
    };
    let count = replays.positions.len();
    let position = if replays.next < count {
        replays.next += 1;
        replays.positions[replays.next - 1]
    } else if allow_repeats {
        replays.positions[count - 1]
    } else {
        let last = &recorded[replays.positions[count - 1]];
        return Lookup::Miss(Miss {
            exhausted: Some((last.interaction.id, count)),
        });
    };
    Lookup::Hit(recorded[position].clone())
}
