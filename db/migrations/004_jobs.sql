-- 004_jobs.sql: background jobs of the admin interface (an uploaded bundle
-- becomes one import job): their state, the upload's size and the final
-- report. The import itself keeps its own row in imports (import_id).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('import')),
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 255),
    actor TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    import_id INTEGER,
    report TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;
