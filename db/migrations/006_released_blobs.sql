-- 006_released_blobs.sql: the blobs this catalog once referenced and let go
-- of. Garbage collection removes only these: a blob no catalog ever
-- referenced (a new, empty or replaced catalog.db) is kept as an orphan.
CREATE TABLE released_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    released_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER files_release_on_delete AFTER DELETE ON files
BEGIN
    INSERT OR REPLACE INTO released_blobs (sha256, released_at)
    VALUES (OLD.sha256, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER files_release_on_replace AFTER UPDATE OF sha256 ON files
WHEN OLD.sha256 != NEW.sha256
BEGIN
    INSERT OR REPLACE INTO released_blobs (sha256, released_at)
    VALUES (OLD.sha256, CAST(strftime('%s', 'now') AS INTEGER));
END;
