-- 012_device_jobs.sql: device work becomes background jobs too (a bulk
-- change or removal of many devices, a CSV import): the kinds widen, and a
-- job keeps a file for the user (a partial CSV import's rejected rows).
-- SQLite cannot change a CHECK in place: the table is copied.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL
        CHECK (kind IN ('import', 'devices.set', 'devices.delete', 'devices.csv')),
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 255),
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    import_id INTEGER,
    report TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    rejected_csv TEXT
) STRICT;
INSERT INTO jobs_new (id, kind, source, actor, state, size, import_id, report, created_at,
                      finished_at)
    SELECT id, kind, source, actor, state, size, import_id, report, created_at, finished_at
    FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
