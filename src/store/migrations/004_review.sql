-- Review decisions: waivers (the signed documents and their state) and dispositions
-- (append-only history; the newest row per finding is the current decision).
CREATE TABLE waiver (
    id INTEGER PRIMARY KEY,
    waiver_id TEXT NOT NULL UNIQUE,       -- the document's `id`
    set_id INTEGER REFERENCES evidence_set(id) ON DELETE SET NULL,  -- set it was created from, if any
    vulnerability TEXT NOT NULL,
    scope_image TEXT,
    scope_digest TEXT,                    -- sha256:<hex> from scope_image
    scope_repository TEXT,
    scope_purl TEXT,
    justification_type TEXT NOT NULL,
    expires TEXT NOT NULL,                -- YYYY-MM-DD, stops applying at 00:00 UTC
    document TEXT NOT NULL,               -- RFC 8785 JSON of the whole document (with signature)
    state TEXT NOT NULL CHECK (state IN ('pending', 'signed', 'rejected', 'revoked')),
    state_reason TEXT,
    signer_keyid TEXT,
    source_file TEXT,                     -- file it was imported from or written to
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX waiver_digest ON waiver(scope_digest);
CREATE INDEX waiver_repository ON waiver(scope_repository);
CREATE INDEX waiver_set ON waiver(set_id);

CREATE TABLE disposition (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    component_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'patched', 'not_affected', 'false_positive', 'waived')),
    justification TEXT,                   -- VEX not_affected justification
    note TEXT,
    waiver_id TEXT,                       -- for `waived`: the waiver document id
    actor TEXT NOT NULL,
    actor_role TEXT,
    key_fingerprint TEXT,
    at TEXT NOT NULL
);
CREATE INDEX disposition_finding ON disposition(set_id, vuln_id, component_key, id);
