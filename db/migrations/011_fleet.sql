-- 011_fleet.sql: site rules get a name an administrator knows them by ('' =
-- none).
ALTER TABLE sites ADD COLUMN name TEXT NOT NULL DEFAULT ''
    CHECK (length(name) <= 63);
