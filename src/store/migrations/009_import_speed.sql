-- Import speed: finding_source becomes a rowid table. WITHOUT ROWID suits rows under about
-- 1/20 of a page; the JSON scanner views are 1-2 KB, so each row spilled into its own
-- overflow page and the table took ~3x its data (236 MB for 74 MB of views at 50,000
-- findings), which made it the largest write of an import. Same columns, same key.
CREATE TABLE finding_source_v7 (
    finding_id INTEGER NOT NULL REFERENCES finding(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL REFERENCES evidence_file(id) ON DELETE CASCADE,
    scanner TEXT NOT NULL,
    view TEXT NOT NULL,     -- JSON of model::ScannerView
    PRIMARY KEY (finding_id, file_id)
);
INSERT INTO finding_source_v7(finding_id, file_id, scanner, view)
    SELECT finding_id, file_id, scanner, view FROM finding_source;
DROP TABLE finding_source;
ALTER TABLE finding_source_v7 RENAME TO finding_source;
