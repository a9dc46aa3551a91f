//! Whether the trace database still says what the cassettes say. Rows are derived from
//! cassettes, so a row naming an interaction no cassette holds, an interaction without a row,
//! or a row recorded at another time than its interaction is drift; so is a redaction a
//! cassette records that the audit lacks (the audit may hold more: it outlives re-recordings),
//! and a row whose policy decisions are not its interaction's (a database upgraded from before
//! decisions were stored, whose cassettes already held them).
//! `db check --cassettes` reports it and `vcr rebuild-from-cassettes` cures it. Reads cassettes
//! and the database synchronously; nothing is changed.

use std::collections::BTreeMap;
use std::path::Path;

use super::{StoreError, TraceDb};
use crate::cassette::files::{self, CassetteError};
use crate::cassette::Decision;

/// How the database differs from the cassettes, each entry as `CASSETTE#ID`, sorted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// Rows naming an interaction that no cassette holds.
    pub orphaned: Vec<String>,
    /// Interactions in a cassette that have no row.
    pub missing: Vec<String>,
    /// Rows whose interaction was recorded again since (another `recorded_at`).
    pub stale: Vec<String>,
    /// Redactions a cassette records that the audit table lacks, as
    /// `CASSETTE#ID PATH START..END DETECTOR`.
    pub unaudited: Vec<String>,
    /// Rows whose policy decisions differ from those their interaction records.
    pub decisions: Vec<String>,
    /// Cassettes that could not be read, so were not compared.
    pub unreadable: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.orphaned.is_empty()
            && self.missing.is_empty()
            && self.stale.is_empty()
            && self.unaudited.is_empty()
            && self.decisions.is_empty()
            && self.unreadable.is_empty()
    }
}

/// A redaction as the audit's uniqueness knows it: interaction, place, and detector, time, hash.
type AuditKey = ((String, i64), (String, [i64; 2]), (String, String, String));

/// Why drift could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cassettes(#[from] CassetteError),
}

/// Compares every recorded row of `db` with the cassettes under `dir`.
pub fn check(db: &TraceDb, dir: &Path) -> Result<Drift, DriftError> {
    let mut cassettes: BTreeMap<(String, u64), String> = BTreeMap::new();
    // Only interactions with decisions: most have none, and the rows' side is read whole.
    let mut decided: BTreeMap<(String, u64), Vec<Decision>> = BTreeMap::new();
    // What the audit must hold for each redaction, and how to name it.
    let mut redactions: BTreeMap<AuditKey, String> = BTreeMap::new();
    let mut drift = Drift::default();
    let mut unread = std::collections::BTreeSet::new();
    for (name, path) in files::list(dir)? {
        match files::load(&path) {
            Ok(cassette) => {
                for interaction in cassette.interactions {
                    for r in &interaction.redactions {
                        let key = (
                            (name.as_str().to_string(), interaction.id as i64),
                            (r.path.clone(), r.span.map(|n| n as i64)),
                            (r.detector.clone(), r.at.clone(), r.hmac.clone()),
                        );
                        let label = format!(
                            "{}#{} {} {}..{} {}",
                            name.as_str(),
                            interaction.id,
                            r.path,
                            r.span[0],
                            r.span[1],
                            r.detector
                        );
                        redactions.insert(key, label);
                    }
                    if !interaction.decisions.is_empty() {
                        decided.insert(
                            (name.as_str().to_string(), interaction.id),
                            interaction.decisions,
                        );
                    }
                    cassettes.insert(
                        (name.as_str().to_string(), interaction.id),
                        interaction.recorded_at,
                    );
                }
            }
            Err(e) => {
                unread.insert(name.as_str().to_string());
                drift.unreadable.push(crate::error_chain(&e));
            }
        }
    }
    let mut rows: BTreeMap<(String, u64), String> = BTreeMap::new();
    for (cassette, id, recorded_at) in db.recorded()? {
        rows.insert((cassette, id), recorded_at);
    }
    let label = |(cassette, id): &(String, u64)| format!("{cassette}#{id}");
    let mut stored = db.all_decisions()?;
    for (key, recorded_at) in &rows {
        match cassettes.get(key) {
            // An unreadable cassette's rows cannot be judged.
            None if unread.contains(&key.0) => {}
            None => drift.orphaned.push(label(key)),
            Some(at) if at != recorded_at => drift.stale.push(label(key)),
            Some(_) => {
                if stored.remove(key).unwrap_or_default() != decided.remove(key).unwrap_or_default()
                {
                    drift.decisions.push(label(key));
                }
            }
        }
    }
    for key in cassettes.keys() {
        if !rows.contains_key(key) {
            drift.missing.push(label(key));
        }
    }
    if !redactions.is_empty() {
        for entry in db.audit(None)? {
            redactions.remove(&(
                (entry.cassette, entry.interaction_id),
                (entry.path, entry.span),
                (entry.detector, entry.at, entry.hmac),
            ));
        }
        drift.unaudited = redactions.into_values().collect();
    }
    Ok(drift)
}
