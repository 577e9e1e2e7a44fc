-- 017_inventory.sql: the firmware inventory: per phone (MAC), the last config
-- it fetched (when, the load its loadInformation named) and the last load it
-- fetched files of (how many of its files, first and last time). Written by
-- loadsd from what it served (and what branches report), at most every 5 s;
-- not audited. Addresses join phones to MACs through their config fetches.
CREATE TABLE phone_inventory (
    mac TEXT PRIMARY KEY CHECK (length(mac) = 12),
    addr TEXT NOT NULL CHECK (length(addr) BETWEEN 2 AND 45),
    config_at INTEGER NOT NULL,
    config_load TEXT NOT NULL CHECK (length(config_load) <= 255),
    fw_load TEXT NOT NULL CHECK (length(fw_load) <= 255),
    files_done INTEGER NOT NULL CHECK (files_done >= 0),
    files_total INTEGER NOT NULL CHECK (files_total >= 0),
    fw_first INTEGER NOT NULL,
    fw_last INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 63)
) STRICT;
