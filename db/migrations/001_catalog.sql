-- 001_catalog.sql: the firmware catalog: files (content-addressed), loads,
-- which files a load lists, trust anchors, imports (jobs), audit, settings.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('generation', 1);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO settings (key, value) VALUES ('signature_policy', 'signed');

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'quarantined')),
    signature TEXT NOT NULL CHECK (signature IN ('verified', 'signed', 'none')),
    signer TEXT,
    created_at INTEGER NOT NULL,
    checked_at INTEGER
) STRICT;
CREATE INDEX files_sha256 ON files (sha256);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    report TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

CREATE TABLE loads (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL UNIQUE,
    loads_file_id INTEGER NOT NULL REFERENCES files (id),
    signature TEXT NOT NULL CHECK (signature IN ('verified', 'signed', 'unsigned')),
    signer TEXT,
    approved_by TEXT,
    import_id INTEGER REFERENCES imports (id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE load_files (
    load_id INTEGER NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL REFERENCES files (id),
    PRIMARY KEY (load_id, file_id)
) STRICT;
CREATE INDEX load_files_file ON load_files (file_id);

CREATE TABLE trust (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('vendor', 'approval')),
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    not_after INTEGER NOT NULL,
    pem TEXT NOT NULL,
    added_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    before TEXT,
    after TEXT
) STRICT;
CREATE INDEX audit_at ON audit (at);
