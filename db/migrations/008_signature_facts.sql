-- 008_signature_facts.sql: the facts a load's status is derived from, with
-- the trust store as it is now (never stored as a status that could go
-- stale): what each file's signed header says about its signer and digest,
-- the result of checking each file's signature against each certificate (by
-- fingerprint; facts about immutable bytes), the approval certificate that
-- approved a load, and the last complete load each device was given.
-- files.signature and loads.signature keep what the import saw (history).
ALTER TABLE files ADD COLUMN sig_serial TEXT CHECK (sig_serial IS NULL OR length(sig_serial) <= 128);
ALTER TABLE files ADD COLUMN sig_issuer TEXT CHECK (sig_issuer IS NULL OR length(sig_issuer) <= 255);
ALTER TABLE files ADD COLUMN sig_hash TEXT CHECK (sig_hash IS NULL OR sig_hash IN ('sha1', 'sha256', 'sha512'));

-- result: ok (the signature verifies with that certificate's key), bad (the
-- certificate names the header's signer, and the signature does not verify),
-- not_signer (the certificate is not this header's signer).
CREATE TABLE sig_checks (
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    cert_sha256 TEXT NOT NULL CHECK (length(cert_sha256) = 64),
    result TEXT NOT NULL CHECK (result IN ('ok', 'bad', 'not_signer')),
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (sha256, cert_sha256)
) STRICT;
CREATE INDEX sig_checks_cert ON sig_checks (cert_sha256);

ALTER TABLE loads ADD COLUMN approval_cert TEXT CHECK (approval_cert IS NULL OR length(approval_cert) = 64);
-- Loads approved before this migration: the approval certificate whose
-- subject the import recorded (verify.c writes both the same way).
UPDATE loads SET approval_cert = (SELECT t.sha256 FROM trust t WHERE t.role = 'approval'
                                  AND t.subject = loads.approved_by ORDER BY t.id LIMIT 1)
    WHERE approved_by IS NOT NULL;

-- The last load this device's config named while every file of it was
-- present, intact and allowed: what it is held on when its own load is not.
ALTER TABLE devices ADD COLUMN last_load TEXT COLLATE NOCASE
    CHECK (last_load IS NULL OR length(last_load) BETWEEN 1 AND 255);
