//! The trace database schema and its version. `PRAGMA user_version` holds the schema version;
//! [`migrate`] brings a new or older database up to [`SCHEMA_VERSION`]: a new one gets every
//! version's statements in one transaction, an older one the statements of the versions it
//! lacks, in place.

use rusqlite::Connection;

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 5;

pub(crate) const V1: &str = "
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,            -- record | replay | rebuild
    started_at  TEXT NOT NULL
);

-- One row per recorded interaction (cassette-backed: a rebuild recreates exactly these).
CREATE TABLE traces (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    cassette       TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    recorded_at    TEXT NOT NULL,
    upstream       TEXT NOT NULL,
    provider       TEXT NOT NULL,
    model          TEXT,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    status         INTEGER NOT NULL,
    latency_ms     INTEGER,
    ttfb_ms        INTEGER,
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    organization   TEXT,
    service        TEXT,
    session        TEXT,
    step           TEXT,
    parent_step    TEXT,
    prompt         TEXT NOT NULL,
    response       TEXT NOT NULL,
    request_json   TEXT NOT NULL,
    response_json  TEXT NOT NULL,
    UNIQUE (cassette, interaction_id)
);
CREATE INDEX traces_recorded_at ON traces (recorded_at);
CREATE INDEX traces_model ON traces (model);
CREATE INDEX traces_session ON traces (session) WHERE session IS NOT NULL;
CREATE INDEX traces_run ON traces (run_id);

-- Replays of a recorded interaction, counted per run and second: replaying is cheap, so its
-- trace must be too.
CREATE TABLE replays (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    trace_id  INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
    seen_at   TEXT NOT NULL,
    count     INTEGER NOT NULL CHECK (count > 0),
    UNIQUE (run_id, trace_id, seen_at)
);
CREATE INDEX replays_trace ON replays (trace_id);
CREATE INDEX replays_seen_at ON replays (seen_at);

CREATE VIRTUAL TABLE traces_fts USING fts5 (
    prompt, response,
    content = 'traces', content_rowid = 'id',
    tokenize = 'porter unicode61'
);
CREATE TRIGGER traces_fts_delete AFTER DELETE ON traces BEGIN
    INSERT INTO traces_fts (traces_fts, rowid, prompt, response)
        VALUES ('delete', old.id, old.prompt, old.response);
END;
CREATE TRIGGER traces_fts_update AFTER UPDATE OF prompt, response ON traces BEGIN
    INSERT INTO traces_fts (traces_fts, rowid, prompt, response)
        VALUES ('delete', old.id, old.prompt, old.response);
    INSERT INTO traces_fts (rowid, prompt, response) VALUES (new.id, new.prompt, new.response);
END;
";

/// Version 2: the redaction audit (DESIGN.md §12, [`super::audit`]). No foreign key to
/// `traces`: re-recording a cassette deletes its old trace rows, the audit of what was taken out
/// of them must stay, so `trace_id` names the row written with the redaction and may outlive
/// it. The triggers keep the table append-only against accidents (a stray `DELETE`, a prune);
/// tampering by someone who drops them is caught by the chain, which `db check` recomputes.
pub(crate) const V2: &str = "
CREATE TABLE redactions (
    id             INTEGER PRIMARY KEY,
    trace_id       INTEGER,
    cassette       TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    path           TEXT NOT NULL,
    span_start     INTEGER NOT NULL,
    span_end       INTEGER NOT NULL,
    detector       TEXT NOT NULL,
    action         TEXT NOT NULL,
    at             TEXT NOT NULL,
    hmac           TEXT NOT NULL,
    chain          TEXT NOT NULL,
    UNIQUE (cassette, interaction_id, path, span_start, span_end, detector, at, hmac)
);
CREATE INDEX redactions_trace ON redactions (trace_id);
CREATE TRIGGER redactions_no_update BEFORE UPDATE ON redactions BEGIN
    SELECT RAISE(ABORT, 'the redaction audit is append-only');
END;
CREATE TRIGGER redactions_no_delete BEFORE DELETE ON redactions BEGIN
    SELECT RAISE(ABORT, 'the redaction audit is append-only');
END;
-- The chain's head, so deleting the last rows shows too: updated with every append.
CREATE TABLE redactions_head (
    only  INTEGER PRIMARY KEY CHECK (only = 1),
    rows  INTEGER NOT NULL,
    chain TEXT NOT NULL
);
INSERT INTO redactions_head (only, rows, chain) VALUES (1, 0, '');
CREATE TRIGGER redactions_head_no_delete BEFORE DELETE ON redactions_head BEGIN
    SELECT RAISE(ABORT, 'the redaction audit is append-only');
END;
";

/// Version 3: the policy decisions recorded with each interaction (DESIGN.md §13), as the
/// cassette holds them. Unlike the audit they are part of the recording: a row re-recorded or
/// deleted takes its decisions with it (the writer deletes and re-inserts them on an upsert).
pub(crate) const V3: &str = "
CREATE TABLE decisions (
    id        INTEGER PRIMARY KEY,
    trace_id  INTEGER NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
    policy    TEXT NOT NULL,
    version   TEXT NOT NULL,
    rule      TEXT NOT NULL,
    action    TEXT NOT NULL,
    severity  TEXT NOT NULL,
    path      TEXT NOT NULL,
    entity    TEXT NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE INDEX decisions_trace ON decisions (trace_id);
CREATE INDEX decisions_rule ON decisions (policy, rule);
";

/// Version 4: the history of `traceforge load` runs (DESIGN.md §16, [`super::load_runs`]): one
/// summary row per finished run. Not cassette-backed: `vcr rebuild-from-cassettes` copies the
/// rows over from the old file when it can still be read.
pub(crate) const V4: &str = "
CREATE TABLE load_runs (
    id                INTEGER PRIMARY KEY,
    scenario          TEXT NOT NULL,       -- the scenario file's name
    git_commit        TEXT,
    started_at        TEXT NOT NULL,       -- RFC 3339, UTC
    duration_ms       INTEGER NOT NULL,
    requests          INTEGER NOT NULL,
    rps               REAL NOT NULL,
    error_rate        REAL,
    p50_ms            REAL,
    p95_ms            REAL,
    p99_ms            REAL,
    ttft_p50_ms       REAL,
    ttft_p95_ms       REAL,
    thresholds        INTEGER NOT NULL,
    thresholds_failed INTEGER NOT NULL,
    passed            INTEGER NOT NULL     -- thresholds, baseline and abort: 1 passed, 0 failed
);
CREATE INDEX load_runs_scenario ON load_runs (scenario, started_at);
";

/// Version 5: the redaction audit without its eight-column unique index, which every appended
/// row paid for (an interaction of a chat appends dozens) and which held a copy of every row's
/// text. An interaction's rows are found by the `(cassette, interaction_id)` index instead, and
/// a row already there is skipped by [`super::audit`] (it reads them once per interaction).
/// The table is rebuilt with its rows, ids and chains as they were: the chain does not change.
pub(crate) const V5: &str = "
CREATE TABLE redactions_v5 (
    id             INTEGER PRIMARY KEY,
    trace_id       INTEGER,
    cassette       TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    path           TEXT NOT NULL,
    span_start     INTEGER NOT NULL,
    span_end       INTEGER NOT NULL,
    detector       TEXT NOT NULL,
    action         TEXT NOT NULL,
    at             TEXT NOT NULL,
    hmac           TEXT NOT NULL,
    chain          TEXT NOT NULL
);
INSERT INTO redactions_v5 (id, trace_id, cassette, interaction_id, path, span_start, span_end,
                           detector, action, at, hmac, chain)
    SELECT id, trace_id, cassette, interaction_id, path, span_start, span_end, detector, action,
           at, hmac, chain FROM redactions ORDER BY id;
DROP TABLE redactions;
ALTER TABLE redactions_v5 RENAME TO redactions;
CREATE INDEX redactions_trace ON redactions (trace_id);
CREATE INDEX redactions_interaction ON redactions (cassette, interaction_id);
CREATE TRIGGER redactions_no_update BEFORE UPDATE ON redactions BEGIN
    SELECT RAISE(ABORT, 'the redaction audit is append-only');
END;
CREATE TRIGGER redactions_no_delete BEFORE DELETE ON redactions BEGIN
    SELECT RAISE(ABORT, 'the redaction audit is append-only');
END;
";

/// Adds one decision of a trace row.
pub const INSERT_DECISION: &str = "
INSERT INTO decisions (trace_id, policy, version, rule, action, severity, path, entity, outcome)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Keeps the full-text index in step with inserted traces (dropped while a rebuild fills a new
/// database, which indexes everything in one pass instead).
pub const FTS_INSERT_TRIGGER: &str = "
CREATE TRIGGER traces_fts_insert AFTER INSERT ON traces BEGIN
    INSERT INTO traces_fts (rowid, prompt, response) VALUES (new.id, new.prompt, new.response);
END;";

/// The page size of a new database (SQLite ignores it for an existing one).
pub const PAGE_SIZE: &str = "PRAGMA page_size = 16384;";

/// The full-text table a bulk load builds in a side file ([`super::bulk`]): contentless, and
/// otherwise exactly `traces_fts` above (columns, tokenizer), so its index can be adopted as is.
pub const SIDE_FTS: &str = "
CREATE VIRTUAL TABLE traces_fts USING fts5 (
    prompt, response,
    content = '',
    tokenize = 'porter unicode61'
);";

/// Inserts a row into a database being bulk-loaded (fresh, so no conflicts; ids given).
pub const INSERT_TRACE: &str = "
INSERT INTO traces (
    id, run_id, cassette, interaction_id, recorded_at, upstream, provider, model, method, path,
    status, latency_ms, ttfb_ms, input_tokens, output_tokens, organization, service, session,
    step, parent_step, prompt, response, request_json, response_json
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
          ?20, ?21, ?22, ?23, ?24)";

/// Inserts a recorded interaction, or replaces the content of the row a previous recording of
/// the same interaction left (keeping its id, so its replays stay attached).
pub const UPSERT_TRACE: &str = "
INSERT INTO traces (
    run_id, cassette, interaction_id, recorded_at, upstream, provider, model, method, path,
    status, latency_ms, ttfb_ms, input_tokens, output_tokens, organization, service, session,
    step, parent_step, prompt, response, request_json, response_json
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
          ?20, ?21, ?22, ?23)
ON CONFLICT (cassette, interaction_id) DO UPDATE SET
    run_id = excluded.run_id, recorded_at = excluded.recorded_at, upstream = excluded.upstream,
    provider = excluded.provider, model = excluded.model, method = excluded.method,
    path = excluded.path, status = excluded.status, latency_ms = excluded.latency_ms,
    ttfb_ms = excluded.ttfb_ms, input_tokens = excluded.input_tokens,
    output_tokens = excluded.output_tokens, organization = excluded.organization,
    service = excluded.service, session = excluded.session, step = excluded.step,
    parent_step = excluded.parent_step, prompt = excluded.prompt, response = excluded.response,
    request_json = excluded.request_json, response_json = excluded.response_json
RETURNING id";

/// Adds replays of one trace in one second of one run.
pub const ADD_REPLAYS: &str = "
INSERT INTO replays (run_id, trace_id, seen_at, count) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (run_id, trace_id, seen_at) DO UPDATE SET count = count + excluded.count";

/// Creates the schema in a new database, upgrades an older one in place; refuses a database
/// from a newer traceforge.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    if version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    // Several processes may open an old (or new, empty) file at once — parallel test workers
    // recording into one database: the write lock first, then the version again, so exactly
    // one of them upgrades it and the others find it done.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let upgraded = upgrade(conn);
    let end = conn.execute_batch(match upgraded {
        Ok(()) => "COMMIT",
        Err(_) => "ROLLBACK",
    });
    upgraded.and(end)
}

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let version = version(conn)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > SCHEMA_VERSION {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "schema version {version} is newer than this traceforge understands ({SCHEMA_VERSION})"
            )),
        ));
    }
    let missing = match version {
        0 => format!("{V1} {FTS_INSERT_TRIGGER} {V2} {V3} {V4} {V5}"),
        1 => format!("{V2} {V3} {V4} {V5}"),
        2 => format!("{V3} {V4} {V5}"),
        3 => format!("{V4} {V5}"),
        _ => V5.to_string(),
    };
    conn.execute_batch(&format!(
        "{missing} PRAGMA user_version = {SCHEMA_VERSION};"
    ))
}
