-- Verify area: the trust store and per-set verification runs.
CREATE TABLE trusted_key (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('pipeline-signer', 'approver', 'reviewer', 'rekor', 'root-ca')),
    fingerprint TEXT NOT NULL,          -- hex sha256 of the SPKI DER (of the certificate's key for certificates)
    algorithm TEXT NOT NULL,            -- ecdsa-p256, ecdsa-p384, rsa-<bits>, ed25519
    kind TEXT NOT NULL CHECK (kind IN ('public-key', 'certificate')),
    der BLOB NOT NULL,                  -- SPKI DER, or the certificate DER
    pem TEXT NOT NULL,
    subject TEXT,                       -- certificate subject
    source TEXT,                        -- the file it was added from
    added_at TEXT NOT NULL,
    UNIQUE (fingerprint, role)
);

CREATE TABLE verification_run (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    run_at TEXT NOT NULL,
    trust_hash TEXT NOT NULL,           -- sha256 over the trust store contents at run time
    actor TEXT NOT NULL,
    evidence_keys TEXT NOT NULL DEFAULT '[]'   -- JSON: keys/certificates found in the evidence
);
CREATE INDEX verification_run_set ON verification_run(set_id, id);

CREATE TABLE verification_result (
    run_id INTEGER NOT NULL REFERENCES verification_run(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,                 -- signature | attestation | bundle
    file TEXT NOT NULL,
    key_fingerprint TEXT,
    key_name TEXT,
    subject_digest TEXT,
    predicate_type TEXT,
    outcome TEXT NOT NULL,              -- verified | bad-signature | untrusted-key | digest-mismatch | unverifiable
    tlog TEXT NOT NULL,                 -- verified | absent | invalid | not-checked
    detail TEXT NOT NULL,
    sbom_file TEXT,
    integrated_time INTEGER,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
