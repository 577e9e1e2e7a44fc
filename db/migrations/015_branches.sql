-- 015_branches.sql: fleet control (docs/FLEET.md): the branches a central
-- knows (name, the address phones are told, the SHA-256 of its token, its
-- latest report) and what each holds; the fleet settings; a generation of
-- its own, so that a report never rebuilds the provisioning snapshot.
CREATE TABLE branches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
    name_folded TEXT NOT NULL UNIQUE CHECK (name_folded = lower(name)),
    address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 253),
    token_hash TEXT NOT NULL UNIQUE
        CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    created_at INTEGER NOT NULL,
    -- The latest report: received_at by the central's clock (NULL = never),
    -- the branch's version, free space and its own clock's time.
    received_at INTEGER,
    version TEXT NOT NULL DEFAULT '' CHECK (length(version) <= 63),
    free_bytes INTEGER NOT NULL DEFAULT 0 CHECK (free_bytes >= 0),
    reported_time INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A report replaces a branch's rows as a whole. eta_s NULL = unknown.
CREATE TABLE branch_loads (
    branch_id INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    load TEXT NOT NULL COLLATE NOCASE CHECK (length(load) BETWEEN 1 AND 255),
    state TEXT NOT NULL
        CHECK (state IN ('complete', 'staging', 'incomplete', 'quarantined', 'blocked')),
    files_have INTEGER NOT NULL CHECK (files_have >= 0),
    files_total INTEGER NOT NULL CHECK (files_total >= 0),
    bytes_have INTEGER NOT NULL CHECK (bytes_have >= 0),
    bytes_total INTEGER NOT NULL CHECK (bytes_total >= 0),
    eta_s INTEGER CHECK (eta_s IS NULL OR eta_s >= 0),
    PRIMARY KEY (branch_id, load)
) STRICT, WITHOUT ROWID;

INSERT INTO settings (key, value) VALUES
    ('stage_first', 'off'),
    ('fleet_max_age_s', '300'),
    ('probe_load_servers', 'off');

-- A site rule's stage_first: NULL = the enterprise's, 0 off, 1 on.
ALTER TABLE sites ADD COLUMN stage_first INTEGER
    CHECK (stage_first IS NULL OR stage_first IN (0, 1));

-- Moved by branch writes and by reports whose holdings changed; the
-- provisioning generation ('generation') is left alone by them.
INSERT INTO meta (key, value) VALUES ('fleet_generation', 1);
