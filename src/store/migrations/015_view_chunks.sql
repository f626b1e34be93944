-- Import speed: scanner views stored in deflated chunks. Each view was ~1 KB of JSON in its
-- own finding_source row (76 MB of a 149 MB store per 108 MB Trivy file, every page written
-- twice through the WAL). A chunk holds the view texts of many consecutive findings of one
-- import (~256 KiB raw), deflated; a finding_source row points into it (chunk, byte offset,
-- byte length) and has no `view`. Rows written before keep their inline `view` and read as
-- before. Chunks belong to a set: deleted with it, and replaced when the set is re-imported.
CREATE TABLE view_chunk (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES evidence_set(id) ON DELETE CASCADE,
    raw_len INTEGER NOT NULL,   -- bytes of view text once inflated
    sha256 BLOB NOT NULL,       -- 32 bytes, of the inflated text
    data BLOB NOT NULL          -- raw deflate (RFC 1951)
);
CREATE INDEX view_chunk_set ON view_chunk(set_id);
CREATE TABLE finding_source_v15 (
    finding_id INTEGER NOT NULL REFERENCES finding(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL REFERENCES evidence_file(id) ON DELETE CASCADE,
    scanner TEXT NOT NULL,
    view TEXT,              -- JSON of model::ScannerView, or NULL when it is in a chunk
    chunk_id INTEGER,       -- view_chunk.id
    chunk_at INTEGER,       -- byte offset of the view text in the inflated chunk
    chunk_len INTEGER,      -- its length in bytes
    PRIMARY KEY (finding_id, file_id),
    CHECK ((view IS NULL) = (chunk_id IS NOT NULL))
);
INSERT INTO finding_source_v15(finding_id, file_id, scanner, view)
    SELECT finding_id, file_id, scanner, view FROM finding_source;
DROP TABLE finding_source;
ALTER TABLE finding_source_v15 RENAME TO finding_source;
