//! The trace database schema and its version. `PRAGMA user_version` holds the schema version;
//! [`migrate`] brings a new or older database up to [`SCHEMA_VERSION`].

use rusqlite::Connection;

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

const V1: &str = "
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,            -- record | replay | rebuild
    started_at  TEXT NOT NULL
);

CREATE TABLE traces (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    source         TEXT NOT NULL CHECK (source IN ('recorded', 'replayed')),
    cassette       TEXT NOT NULL,
    interaction_id INTEGER NOT NULL,
    recorded_at    TEXT NOT NULL,          -- when the interaction was recorded
    seen_at        TEXT NOT NULL,          -- when this row's traffic happened (replay time)
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
    response_json  TEXT NOT NULL
);

-- One cassette-backed row per recorded interaction: re-recording replaces it.
CREATE UNIQUE INDEX traces_recorded ON traces (cassette, interaction_id) WHERE source = 'recorded';
CREATE INDEX traces_seen_at ON traces (seen_at);
CREATE INDEX traces_model ON traces (model);
CREATE INDEX traces_session ON traces (session) WHERE session IS NOT NULL;
CREATE INDEX traces_run ON traces (run_id);

CREATE VIRTUAL TABLE traces_fts USING fts5 (
    prompt, response,
    content = 'traces', content_rowid = 'id',
    tokenize = 'porter unicode61'
);
CREATE TRIGGER traces_fts_insert AFTER INSERT ON traces BEGIN
    INSERT INTO traces_fts (rowid, prompt, response) VALUES (new.id, new.prompt, new.response);
END;
CREATE TRIGGER traces_fts_delete AFTER DELETE ON traces BEGIN
    INSERT INTO traces_fts (traces_fts, rowid, prompt, response)
        VALUES ('delete', old.id, old.prompt, old.response);
END;
";

/// Removes the recorded row a new recording of the same interaction replaces.
pub const DELETE_RECORDED: &str =
    "DELETE FROM traces WHERE source = 'recorded' AND cassette = ?1 AND interaction_id = ?2";

pub const INSERT_TRACE: &str = "
INSERT INTO traces (
    run_id, source, cassette, interaction_id, recorded_at, seen_at, upstream, provider, model,
    method, path, status, latency_ms, ttfb_ms, input_tokens, output_tokens, organization,
    service, session, step, parent_step, prompt, response, request_json, response_json
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
          ?20, ?21, ?22, ?23, ?24, ?25)";

/// Creates the schema in a new database; refuses a database from a newer traceforge.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
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
    conn.execute_batch(&format!(
        "BEGIN; {V1} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))
}
