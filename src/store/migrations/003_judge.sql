-- Judging: threat data (FIRST EPSS, CISA KEV) with the dates they are valid for, and the
-- verdict history (every gate run: verdict, policy sha256, evaluation date).
CREATE TABLE threat_epss (
    cve TEXT PRIMARY KEY,
    epss REAL NOT NULL,
    percentile REAL
) WITHOUT ROWID;

CREATE TABLE threat_kev (
    cve TEXT PRIMARY KEY,
    vendor_project TEXT,
    product TEXT,
    date_added TEXT NOT NULL,
    due_date TEXT,
    ransomware TEXT
) WITHOUT ROWID;

-- One row per kind ('epss', 'kev'): the file the current data came from and its dates.
CREATE TABLE threat_source (
    kind TEXT PRIMARY KEY CHECK (kind IN ('epss', 'kev')),
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    version TEXT NOT NULL,     -- EPSS model_version, KEV catalogVersion
    data_date TEXT NOT NULL,   -- EPSS score_date, KEV dateReleased
    rows INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE verdict (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('PASS', 'CONDITIONAL', 'FAIL')),
    policy_name TEXT NOT NULL,
    policy_sha256 TEXT NOT NULL,
    as_of TEXT NOT NULL,
    evaluated_at TEXT NOT NULL,
    counts TEXT NOT NULL,      -- JSON
    reasons TEXT NOT NULL      -- JSON array
);
CREATE INDEX verdict_set ON verdict(set_id, id);
