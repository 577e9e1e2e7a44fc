-- 010_device_seen.sql: the address each device's config file was last asked
-- from, so the admin page can show what that phone gets (site rules match by
-- address). Written by loadsd only when the address changes; not audited.
CREATE TABLE device_seen (
    mac TEXT PRIMARY KEY REFERENCES devices (mac) ON DELETE CASCADE,
    addr TEXT NOT NULL CHECK (length(addr) BETWEEN 2 AND 45),
    since INTEGER NOT NULL
) STRICT;
