-- Verify area, second step: trusted_root.json validity windows on trust entries, CT log
-- keys (role ctlog) for certificate SCTs, the policy a verification run used, and the SCT
-- state per result. trusted_key is rebuilt because its role CHECK must admit 'ctlog'.
CREATE TABLE trusted_key_v2 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('pipeline-signer', 'approver', 'reviewer', 'rekor', 'root-ca', 'ctlog')),
    fingerprint TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('public-key', 'certificate')),
    der BLOB NOT NULL,
    pem TEXT NOT NULL,
    subject TEXT,
    source TEXT,
    added_at TEXT NOT NULL,
    valid_from INTEGER,                 -- Unix seconds: trusted_root.json validFor.start (NULL: always)
    valid_until INTEGER,                -- Unix seconds: validFor.end (NULL: open-ended)
    UNIQUE (fingerprint, role)
);
INSERT INTO trusted_key_v2(id, name, role, fingerprint, algorithm, kind, der, pem, subject, source, added_at)
    SELECT id, name, role, fingerprint, algorithm, kind, der, pem, subject, source, added_at FROM trusted_key;
DROP TABLE trusted_key;
ALTER TABLE trusted_key_v2 RENAME TO trusted_key;

ALTER TABLE verification_run ADD COLUMN policy TEXT;      -- "name sha256:<hex>" of the policy whose signature rules applied
ALTER TABLE verification_result ADD COLUMN sct TEXT;      -- verified | absent | invalid | not-checked (certificate signatures)
