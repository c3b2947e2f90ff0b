"""Tables of the job store (see `oracle.daemon.store`); bump the version on any change."""

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    model_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    seen_block INTEGER NOT NULL,
    seen_block_hash TEXT NOT NULL,
    orphaned INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    reason_code TEXT,
    reason TEXT,
    outputs TEXT,
    proof BLOB,
    calldata BLOB,
    nonce INTEGER,
    tx_hash TEXT,
    mined_block INTEGER,
    mined_block_hash TEXT,
    gas_cost TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE TABLE IF NOT EXISTS transitions (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    at REAL NOT NULL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS txs (
    tx_hash TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    account TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    max_fee INTEGER NOT NULL,
    priority_fee INTEGER NOT NULL,
    gas_limit INTEGER NOT NULL,
    raw BLOB NOT NULL,
    sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_by_job ON txs (job_id, sent_at);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""
