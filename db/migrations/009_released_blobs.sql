-- 009_released_blobs.sql: the blobs this catalog stored (an import records
-- each one it writes) or once referenced and let go of. Garbage collection
-- removes only these, once no file refers to them: a blob this catalog never
-- knew (a new, empty or replaced catalog.db) is kept as an orphan.
-- The triggers delete, then insert: a trigger's OR REPLACE would yield to
-- the firing statement's own conflict policy (an upsert's ABORT).
CREATE TABLE released_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    released_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER files_release_on_delete AFTER DELETE ON files
BEGIN
    DELETE FROM released_blobs WHERE sha256 = OLD.sha256;
    INSERT INTO released_blobs (sha256, released_at)
    VALUES (OLD.sha256, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER files_release_on_replace AFTER UPDATE OF sha256 ON files
WHEN OLD.sha256 != NEW.sha256
BEGIN
    DELETE FROM released_blobs WHERE sha256 = OLD.sha256;
    INSERT INTO released_blobs (sha256, released_at)
    VALUES (OLD.sha256, CAST(strftime('%s', 'now') AS INTEGER));
END;
