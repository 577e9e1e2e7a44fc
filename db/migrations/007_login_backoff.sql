-- 007_login_backoff.sql: login throttling per user and address, per
-- address, and a per-user backoff: each key keeps its latest failure.
ALTER TABLE login_attempts ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
