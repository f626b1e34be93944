-- The gate reads a million findings of a set and needs each one's component (name, version,
-- purl, direct): looked up by the component_key string, that lookup (hash and compare of
-- a ~40-byte key, cache misses in a 50,000-entry map) cost as much as reading the row. The
-- import now records the component's row id; the gate indexes an array with it. NULL when
-- the component is missing (the gate then falls back to the key, as before).
ALTER TABLE finding ADD COLUMN component_id INTEGER;
UPDATE finding SET component_id =
    (SELECT c.id FROM component c WHERE c.set_id = finding.set_id AND c.key = finding.component_key);
-- A set's first and last finding id (the gate scans that rowid range) and its finding count
-- in O(log n): MIN(id)/MAX(id) over finding_set_sev walked all of a set's index entries
-- (0.15-0.2 s at a million findings).
CREATE INDEX finding_set ON finding(set_id);
