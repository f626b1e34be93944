-- The findings list filters an in-memory finding index per opened set (one sequential
-- read of the narrow columns, then a substring pass in memory), so the trigram FTS5 index
-- of migration 007 is no longer read. It cost ~165 s per million findings at import.
-- The judgement cache (finding_judgement) stays: the index reads its classes from it.
DROP TRIGGER IF EXISTS finding_fts_delete;
DROP TABLE IF EXISTS finding_fts;
