-- Narrow finding rows for the gate. The gate reads every finding of a set (a million at
-- scale) but never its title or description, which were ~400 of a row's ~860 bytes: a scan
-- of the set read twice the pages it needed. The long text moves to finding_text (read
-- only when a finding is shown or exported), and finding is rebuilt rather than altered
-- with DROP COLUMN, because DROP COLUMN shortens each row in place and leaves the pages
-- half empty, so the scan would read as many pages as before.
-- fix_disagrees: the scanners name different fixed versions (computed at import), so the
-- gate's fix cross-check no longer reads every scanner view of the set.
-- Runs with foreign keys off (see store::migrate): dropping the old finding table must not
-- cascade into finding_source, finding_judgement or finding_text.
CREATE TABLE finding_text (
    finding_id INTEGER PRIMARY KEY REFERENCES finding(id) ON DELETE CASCADE,
    title TEXT,
    description TEXT
);
INSERT INTO finding_text(finding_id, title, description)
    SELECT id, title, description FROM finding
    WHERE title IS NOT NULL OR description IS NOT NULL
    ORDER BY id;

CREATE TABLE finding_v10 (
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
    scanners TEXT NOT NULL DEFAULT '[]',   -- JSON array of scanner names
    fix_disagrees INTEGER NOT NULL DEFAULT 0,
    UNIQUE (set_id, vuln_id, component_key)
);
INSERT INTO finding_v10(id, set_id, vuln_id, aliases, component_key, severity, severity_rank,
        severity_disagrees, cvss_v2_vector, cvss_v3_vector, cvss_v3_score, cvss_v4_vector, epss,
        epss_percentile, epss_date, kev, fixed_versions, fix_state, scanners, fix_disagrees)
    SELECT f.id, f.set_id, f.vuln_id, f.aliases, f.component_key, f.severity, f.severity_rank,
        f.severity_disagrees, f.cvss_v2_vector, f.cvss_v3_vector, f.cvss_v3_score, f.cvss_v4_vector, f.epss,
        f.epss_percentile, f.epss_date, f.kev, f.fixed_versions, f.fix_state, f.scanners,
        f.scanners LIKE '%,%' AND EXISTS (
            SELECT 1 FROM finding_source s WHERE s.finding_id = f.id AND json_valid(s.view)
            GROUP BY s.finding_id
            HAVING COUNT(DISTINCT s.scanner) > 1
               AND COUNT(DISTINCT COALESCE(json_extract(s.view, '$.fixed_versions'), '[]')) > 1)
    FROM finding f
    ORDER BY f.id;
DROP TABLE finding;
ALTER TABLE finding_v10 RENAME TO finding;
CREATE INDEX finding_set_sev ON finding(set_id, severity_rank DESC, vuln_id, id);
CREATE INDEX finding_set_component ON finding(set_id, component_key, vuln_id);
CREATE TRIGGER finding_fts_delete AFTER DELETE ON finding BEGIN
    DELETE FROM finding_fts WHERE rowid = old.id;
END;
