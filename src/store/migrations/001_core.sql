-- Evidence in: packages, sets, files, content-addressed blobs, components, findings.
CREATE TABLE blob (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);

CREATE TABLE package (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE evidence_set (
    id INTEGER PRIMARY KEY,
    package_id INTEGER REFERENCES package(id),
    image TEXT,                -- reference as the evidence names it (registry/repo:tag or @digest)
    repository TEXT,           -- image reference without tag/digest, for diffing versions
    digest TEXT UNIQUE,        -- sha256:<hex>; NULL when no evidence names one
    source TEXT NOT NULL,      -- the PATH given to import
    image_user TEXT,           -- OCI config User, when a config was given
    imported_at TEXT NOT NULL
);

CREATE TABLE evidence_file (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored INTEGER NOT NULL,   -- 1 when the bytes are in `blob`
    format TEXT,
    spec_version TEXT,
    status TEXT NOT NULL,      -- parsed|failed|unrecognised|unsupported-version|refused
    message TEXT,
    named_digests TEXT NOT NULL DEFAULT '[]',  -- JSON array of image digests the file names
    doc_kind TEXT,
    scanner TEXT,
    scanner_version TEXT,
    db_built TEXT,
    scanned_at TEXT,
    imported_at TEXT NOT NULL,
    UNIQUE (set_id, sha256)
);
CREATE INDEX evidence_file_sha ON evidence_file(sha256);

CREATE TABLE component (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    purl TEXT,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    licenses TEXT NOT NULL DEFAULT '[]',   -- JSON array
    cpes TEXT NOT NULL DEFAULT '[]',       -- JSON array
    locations TEXT NOT NULL DEFAULT '[]',  -- JSON array of {"file","path"}
    direct INTEGER,                        -- 1, 0, NULL = unknown
    in_sbom INTEGER NOT NULL DEFAULT 0,    -- seen in an SBOM
    in_scan INTEGER NOT NULL DEFAULT 0,    -- seen in a scan report
    UNIQUE (set_id, key)
);

CREATE TABLE dependency (
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    from_key TEXT NOT NULL,   -- component key, or '@subject'
    to_key TEXT NOT NULL,
    PRIMARY KEY (set_id, from_key, to_key)
) WITHOUT ROWID;

CREATE TABLE finding (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    component_key TEXT NOT NULL,
    severity TEXT NOT NULL,            -- highest of the scanners' views
    severity_rank INTEGER NOT NULL,    -- 5 critical .. 0 unknown, for sorting
    severity_disagrees INTEGER NOT NULL DEFAULT 0,
    cvss_v2_vector TEXT,
    cvss_v3_vector TEXT,
    cvss_v3_score REAL,
    cvss_v4_vector TEXT,
    epss REAL,
    epss_percentile REAL,
    epss_date TEXT,
    kev INTEGER,
    fixed_versions TEXT NOT NULL DEFAULT '[]',
    fix_state TEXT NOT NULL,
    title TEXT,
    description TEXT,
    scanners TEXT NOT NULL DEFAULT '[]',   -- JSON array of scanner names
    UNIQUE (set_id, vuln_id, component_key)
);
CREATE INDEX finding_set_sev ON finding(set_id, severity_rank DESC, vuln_id, id);

CREATE TABLE finding_source (
    finding_id INTEGER NOT NULL REFERENCES finding(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL REFERENCES evidence_file(id) ON DELETE CASCADE,
    scanner TEXT NOT NULL,
    view TEXT NOT NULL,     -- JSON of model::ScannerView
    PRIMARY KEY (finding_id, file_id)
) WITHOUT ROWID;

CREATE TABLE setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Hash-chained, append-only audit log: hash = sha256(prev_hash || JCS(entry)).
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,     -- canonical JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
