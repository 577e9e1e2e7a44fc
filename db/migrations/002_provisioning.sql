-- 002_provisioning.sql: models (device types, PFS capability, default load),
-- common phone profiles, devices, site rules and the enterprise settings (rows
-- of `settings`). NULL in a profile or device column means "inherit".
INSERT INTO settings (key, value) VALUES
    ('peer_firmware_sharing', 'off'),
    ('load_server', ''),
    ('cm_address', '');

-- default_load is a load NAME, not a reference: a load removed with --force
-- keeps its name here so `devices problems` can show what is missing.
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
    name_folded TEXT NOT NULL UNIQUE CHECK (name_folded = lower(name)),
    device_type INTEGER NOT NULL UNIQUE CHECK (device_type BETWEEN 1 AND 4294967295),
    pfs_capable INTEGER NOT NULL CHECK (pfs_capable IN (0, 1)),
    protocol TEXT NOT NULL DEFAULT 'SIP' CHECK (protocol IN ('SIP', 'SCCP')),
    default_load TEXT COLLATE NOCASE
        CHECK (default_load IS NULL OR length(default_load) BETWEEN 1 AND 255)
) STRICT;
CREATE INDEX models_default_load ON models (default_load);

-- Every device type in shared/design/domain.md. Not PFS-capable: 7940, 7960,
-- 7985, 7936, 7937, 7921, 7925, 7926 and the 69xx family. Protocol: SIP for
-- all (the design names no SCCP-only model); admins change what differs.
INSERT INTO models (name, name_folded, device_type, pfs_capable, protocol) VALUES
    ('Cisco 7906', 'cisco 7906', 369, 1, 'SIP'),
    ('Cisco 7911', 'cisco 7911', 307, 1, 'SIP'),
    ('Cisco 7931', 'cisco 7931', 348, 1, 'SIP'),
    ('Cisco 7940', 'cisco 7940', 8, 0, 'SIP'),
    ('Cisco 7960', 'cisco 7960', 7, 0, 'SIP'),
    ('Cisco 7941', 'cisco 7941', 115, 1, 'SIP'),
    ('Cisco 7941G-GE', 'cisco 7941g-ge', 309, 1, 'SIP'),
    ('Cisco 7942', 'cisco 7942', 434, 1, 'SIP'),
    ('Cisco 7945', 'cisco 7945', 435, 1, 'SIP'),
    ('Cisco 7961', 'cisco 7961', 30018, 1, 'SIP'),
    ('Cisco 7961G-GE', 'cisco 7961g-ge', 308, 1, 'SIP'),
    ('Cisco 7962', 'cisco 7962', 404, 1, 'SIP'),
    ('Cisco 7965', 'cisco 7965', 436, 1, 'SIP'),
    ('Cisco 7970', 'cisco 7970', 30006, 1, 'SIP'),
    ('Cisco 7971', 'cisco 7971', 119, 1, 'SIP'),
    ('Cisco 7975', 'cisco 7975', 437, 1, 'SIP'),
    ('Cisco 7921', 'cisco 7921', 365, 0, 'SIP'),
    ('Cisco 7925', 'cisco 7925', 484, 0, 'SIP'),
    ('Cisco 7926', 'cisco 7926', 577, 0, 'SIP'),
    ('Cisco 7936', 'cisco 7936', 30019, 0, 'SIP'),
    ('Cisco 7937', 'cisco 7937', 431, 0, 'SIP'),
    ('Cisco 7985', 'cisco 7985', 302, 0, 'SIP'),
    ('Cisco 8961', 'cisco 8961', 540, 1, 'SIP'),
    ('Cisco 9951', 'cisco 9951', 537, 1, 'SIP'),
    ('Cisco 9971', 'cisco 9971', 493, 1, 'SIP'),
    ('Cisco 8941', 'cisco 8941', 586, 1, 'SIP'),
    ('Cisco 8945', 'cisco 8945', 585, 1, 'SIP'),
    ('Cisco 7811', 'cisco 7811', 36213, 1, 'SIP'),
    ('Cisco 7821', 'cisco 7821', 621, 1, 'SIP'),
    ('Cisco 7841', 'cisco 7841', 622, 1, 'SIP'),
    ('Cisco 7861', 'cisco 7861', 623, 1, 'SIP'),
    ('Cisco 7832', 'cisco 7832', 36247, 1, 'SIP'),
    ('Cisco 8811', 'cisco 8811', 36217, 1, 'SIP'),
    ('Cisco 8841', 'cisco 8841', 683, 1, 'SIP'),
    ('Cisco 8851', 'cisco 8851', 684, 1, 'SIP'),
    ('Cisco 8861', 'cisco 8861', 685, 1, 'SIP'),
    ('Cisco 8845', 'cisco 8845', 36224, 1, 'SIP'),
    ('Cisco 8865', 'cisco 8865', 36225, 1, 'SIP'),
    ('Cisco 8832', 'cisco 8832', 36258, 1, 'SIP'),
    ('Cisco 6901', 'cisco 6901', 547, 0, 'SIP'),
    ('Cisco 6911', 'cisco 6911', 548, 0, 'SIP'),
    ('Cisco 6921', 'cisco 6921', 495, 0, 'SIP'),
    ('Cisco 6941', 'cisco 6941', 496, 0, 'SIP'),
    ('Cisco 6961', 'cisco 6961', 497, 0, 'SIP'),
    ('Cisco 6945', 'cisco 6945', 564, 0, 'SIP');

CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
    name_folded TEXT NOT NULL UNIQUE CHECK (name_folded = lower(name)),
    pfs TEXT CHECK (pfs IS NULL OR pfs IN ('on', 'off')),
    load_server TEXT CHECK (load_server IS NULL OR length(load_server) <= 253),
    template TEXT CHECK (template IS NULL OR length(template) <= 1048576)
) STRICT;

-- mac: 12 upper-case hex digits. load_server '' = none (overrides the levels
-- below); NULL = inherit.
CREATE TABLE devices (
    mac TEXT PRIMARY KEY
        CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9A-F]*'),
    model_id INTEGER NOT NULL REFERENCES models (id),
    profile_id INTEGER REFERENCES profiles (id),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 255),
    pfs TEXT CHECK (pfs IS NULL OR pfs IN ('on', 'off')),
    load_server TEXT CHECK (load_server IS NULL OR length(load_server) <= 253),
    load TEXT COLLATE NOCASE CHECK (load IS NULL OR length(load) BETWEEN 1 AND 255)
) STRICT;
CREATE INDEX devices_model ON devices (model_id);
CREATE INDEX devices_profile ON devices (profile_id);
CREATE INDEX devices_load ON devices (load);

-- Site rules: the requester's address -> load server, longest prefix wins.
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    cidr TEXT NOT NULL UNIQUE,
    family INTEGER NOT NULL CHECK (family IN (4, 6)),
    addr BLOB NOT NULL CHECK (length(addr) = CASE family WHEN 4 THEN 4 ELSE 16 END),
    prefix_len INTEGER NOT NULL
        CHECK (prefix_len BETWEEN 0 AND CASE family WHEN 4 THEN 32 ELSE 128 END),
    load_server TEXT NOT NULL CHECK (length(load_server) BETWEEN 1 AND 253),
    UNIQUE (family, addr, prefix_len)
) STRICT;
