-- 016_probes.sql: what the central's probes found at each plain-host load
-- server (issue 15): per (host, load) the state, how many of the load's
-- files answered with the catalog's size, when, and why not complete.
-- Written by loadsd's probe thread, one transaction per (host, load) that
-- moves the fleet generation (015's meta 'fleet_generation': probed_at is
-- the host's freshness in the fleet view), never the provisioning one.
CREATE TABLE probes (
    host TEXT NOT NULL COLLATE NOCASE CHECK (length(host) BETWEEN 1 AND 253),
    load TEXT NOT NULL COLLATE NOCASE CHECK (length(load) BETWEEN 1 AND 255),
    state TEXT NOT NULL CHECK (state IN ('complete', 'incomplete')),
    files_have INTEGER NOT NULL CHECK (files_have >= 0),
    files_total INTEGER NOT NULL CHECK (files_total >= files_have),
    probed_at INTEGER NOT NULL,
    why TEXT NOT NULL DEFAULT '' CHECK (length(why) <= 255),
    PRIMARY KEY (host, load)
) STRICT, WITHOUT ROWID;
