-- Raw evidence bytes are stored deflate-compressed (JSON reports shrink ~4x, and every
-- page of an import goes through the WAL and then the database file). `encoding` says how
-- `data` holds the bytes; `size` stays the length of the original bytes, and `sha256`
-- their digest. Rows written before this migration keep 'identity' (the bytes as they are).
-- The table is rebuilt rather than altered so that `data` stays the LAST column: SQLite
-- only keeps a zeroblob() unexpanded (the import writes blobs into a zero-filled row
-- through incremental I/O) when it ends the record; an added column after it made every
-- import allocate the whole blob in zeros (peak RSS 388 MiB at 524 MB of Trivy).
CREATE TABLE blob_v13 (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    encoding TEXT NOT NULL DEFAULT 'identity' CHECK (encoding IN ('identity', 'deflate')),
    data BLOB NOT NULL
);
INSERT INTO blob_v13(sha256, size, encoding, data) SELECT sha256, size, 'identity', data FROM blob;
DROP TABLE blob;
ALTER TABLE blob_v13 RENAME TO blob;
