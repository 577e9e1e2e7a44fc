-- 014_fleet.sql: site rules get a name an administrator knows them by ('' =
-- none).
ALTER TABLE sites ADD COLUMN name TEXT NOT NULL DEFAULT ''
    CHECK (length(name) <= 63);

-- Default loads keyed by (model, protocol), as CUCM's Device Defaults: a
-- model that runs SIP and SCCP (protocols 'SIP SCCP') has one for each;
-- models.protocol stays the protocol a device of the model runs unless it
-- says otherwise (devices.protocol, NULL = the model's). models.default_load
-- moves here.
ALTER TABLE models ADD COLUMN protocols TEXT NOT NULL DEFAULT 'SIP'
    CHECK (protocols IN ('SIP', 'SCCP', 'SIP SCCP'));
UPDATE models SET protocols = protocol;
-- The 79xx desk phones and the 69xx family run either protocol.
UPDATE models SET protocols = 'SIP SCCP' WHERE device_type IN
    (369, 307, 348, 8, 7, 115, 309, 434, 435, 30018, 308, 404, 436, 30006, 119, 437,
     547, 548, 495, 496, 497, 564);
CREATE TABLE model_loads (
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('SIP', 'SCCP')),
    load TEXT NOT NULL COLLATE NOCASE CHECK (length(load) BETWEEN 1 AND 255),
    PRIMARY KEY (model_id, protocol)
) STRICT;
CREATE INDEX model_loads_load ON model_loads (load);
INSERT INTO model_loads (model_id, protocol, load)
    SELECT id, protocol, default_load FROM models WHERE default_load IS NOT NULL;
DROP INDEX models_default_load;
ALTER TABLE models DROP COLUMN default_load;
ALTER TABLE devices ADD COLUMN protocol TEXT
    CHECK (protocol IS NULL OR protocol IN ('SIP', 'SCCP'));
