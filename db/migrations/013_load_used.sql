-- 013_load_used.sql: when a phone last asked for each load's .loads file, so
-- the upstream disk quota removes the pulled load used longest ago (not the
-- one pulled longest ago). Written by loadsd at most every 5 s per load;
-- not audited, and it does not move the generation.
CREATE TABLE load_used (
    name_folded TEXT PRIMARY KEY,
    used_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
