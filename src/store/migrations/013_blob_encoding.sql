-- Raw evidence bytes are stored deflate-compressed (JSON reports shrink ~4x, and every
-- page of an import goes through the WAL and then the database file). `encoding` says how
-- `data` holds the bytes; `size` stays the length of the original bytes, and `sha256`
-- their digest. Rows written before this migration keep 'identity' (the bytes as they are).
ALTER TABLE blob ADD COLUMN encoding TEXT NOT NULL DEFAULT 'identity'
    CHECK (encoding IN ('identity', 'deflate'));
