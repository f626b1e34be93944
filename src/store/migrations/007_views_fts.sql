-- The workstation's views at a million findings.
-- 1. A trigram FTS5 index over the identifier columns only (finding id, aliases as stored,
--    component key, component name, and the purl when it differs from the key), so the
--    case-insensitive substring filter is an index lookup instead of a full scan.
--    Contentless (no second copy of the strings); rowid = finding.id.
CREATE VIRTUAL TABLE finding_fts USING fts5(
    vuln_id, aliases, component_key, name, purl,
    tokenize = 'trigram', content = '', contentless_delete = 1
);
-- Deleting findings (re-import, set removal) removes their index entries.
CREATE TRIGGER finding_fts_delete AFTER DELETE ON finding BEGIN
    DELETE FROM finding_fts WHERE rowid = old.id;
END;
-- Backfill for stores imported before this migration.
INSERT INTO finding_fts(rowid, vuln_id, aliases, component_key, name, purl)
    SELECT f.id, f.vuln_id, f.aliases, f.component_key, c.name, NULLIF(c.purl, f.component_key)
    FROM finding f LEFT JOIN component c ON c.set_id = f.set_id AND c.key = f.component_key;

-- 2. The gate's last judgement of each finding (class, effective disposition, reason), so
--    the findings list filters and pages by gate class and disposition in SQL. A derived
--    cache rewritten whenever a set is judged for the workstation; never evidence.
CREATE TABLE finding_judgement (
    finding_id INTEGER PRIMARY KEY REFERENCES finding(id) ON DELETE CASCADE,
    set_id INTEGER NOT NULL,
    gate TEXT NOT NULL,              -- BLOCK | WARN | INFO
    disposition TEXT NOT NULL,       -- undecided | not_affected | patched | false_positive | waived | ...
    reason TEXT NOT NULL,
    epss REAL,
    kev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX finding_judgement_set ON finding_judgement(set_id);
