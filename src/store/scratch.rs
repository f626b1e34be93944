//! Scratch space for the components of a streamed import: a private SQLite file (unlinked at
//! once, never the store, no journal) where component records, local refs and dependency
//! edges wait, so the merge by key and the ref -> key resolution run as sorted queries in
//! bounded memory instead of maps over every component.

use super::{Result, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

/// Pages the scratch keeps in memory, KiB (SQLite's sorter spills to disk beyond it).
const CACHE_KIB: i64 = 16 * 1024;

/// The pseudo-key of the image in dependency edges (`ingest::merge::SUBJECT`).
const SUBJECT: &str = "@subject";

pub struct Scratch {
    conn: Connection,
}

/// One spooled component row of `Scratch::merged_components`, in (key, rank, seq) order.
pub struct MergeRow<'a> {
    pub key: &'a str,
    pub rec: &'a [u8],
    pub path: &'a str,
    pub is_sbom: bool,
    pub is_scan: bool,
    /// The key has an edge from the subject.
    pub direct: bool,
    /// The key is an endpoint of some edge.
    pub in_graph: bool,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("component scratch file: {e}"))
}

impl Scratch {
    pub fn new() -> Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "dossier-components-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path)?;
        // No journal and an exclusive lock: SQLite never needs the name again, so the file
        // is unlinked now and its space comes back however the import ends.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA temp_store = FILE; PRAGMA cache_size = -{CACHE_KIB};
             CREATE TABLE doc(id INTEGER PRIMARY KEY, rank INTEGER, path TEXT, is_sbom INTEGER, is_scan INTEGER);
             CREATE TABLE comp(doc INTEGER, seq INTEGER, key TEXT, ref TEXT, rec BLOB);
             CREATE TABLE lref(doc INTEGER, ref TEXT, key TEXT, seq INTEGER, PRIMARY KEY(doc, ref)) WITHOUT ROWID;
             CREATE TABLE subj(doc INTEGER, ref TEXT, PRIMARY KEY(doc, ref)) WITHOUT ROWID;
             CREATE TABLE excl(doc INTEGER, ref TEXT, PRIMARY KEY(doc, ref)) WITHOUT ROWID;
             CREATE TABLE edge(doc INTEGER, f TEXT, t TEXT);
             CREATE TABLE dep(f TEXT, t TEXT, PRIMARY KEY(f, t)) WITHOUT ROWID;
             BEGIN;"
        ))?;
        std::fs::remove_file(&path).map_err(io)?;
        Ok(Self { conn })
    }

    /// A new document; its rows are ignored until `place` gives it a rank.
    pub fn new_doc(&mut self) -> Result<i64> {
        self.conn
            .prepare_cached("INSERT INTO doc(rank) VALUES (NULL)")?
            .execute([])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Component `seq` of `doc`: its key, local ref and record. The first component with a
    /// given ref names that ref's key (as the in-memory merge's `or_insert`).
    pub fn component(
        &mut self,
        doc: i64,
        seq: i64,
        key: &str,
        local_ref: Option<&str>,
        rec: &[u8],
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO comp(doc, seq, key, ref, rec) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![doc, seq, key, local_ref, rec])?;
        if let Some(r) = local_ref {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO lref(doc, ref, key, seq) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![doc, r, key, seq])?;
        }
        Ok(())
    }

    pub fn edge(&mut self, doc: i64, from: &str, to: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO edge(doc, f, t) VALUES (?1, ?2, ?3)")?
            .execute(params![doc, from, to])?;
        Ok(())
    }

    /// Refs of `doc` that denote the subject: edges from them start at the image.
    pub fn subject_ref(&mut self, doc: i64, r: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO subj(doc, ref) VALUES (?1, ?2)")?
            .execute(params![doc, r])?;
        Ok(())
    }

    /// Components of `doc` with this ref are not components (the SPDX described roots).
    pub fn exclude(&mut self, doc: i64, r: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO excl(doc, ref) VALUES (?1, ?2)")?
            .execute(params![doc, r])?;
        Ok(())
    }

    /// Each (seq, record) of `doc` whose ref `pick` accepts, in seq order.
    pub fn find(
        &mut self,
        doc: i64,
        pick: &dyn Fn(&str) -> bool,
        f: &mut dyn FnMut(i64, &[u8]),
    ) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, ref, rec FROM comp WHERE doc = ?1 ORDER BY rowid")?;
        let mut rows = st.query([doc])?;
        while let Some(r) = rows.next()? {
            let Some(rf) = r
                .get_ref(1)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?
            else {
                continue;
            };
            if pick(rf) {
                f(
                    r.get(0)?,
                    r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?,
                );
            }
        }
        Ok(())
    }

    /// Number of components of `doc` so far (the next seq).
    pub fn count(&self, doc: i64) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq) + 1, 0) FROM comp WHERE doc = ?1")?
            .query_row([doc], |r| r.get(0))?)
    }

    /// The key of every component of `doc`, by seq (`None` where there is none).
    pub fn keys(&self, doc: i64) -> Result<Vec<Option<String>>> {
        let mut out: Vec<Option<String>> = Vec::new();
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, key FROM comp WHERE doc = ?1 ORDER BY seq")?;
        let mut rows = st.query([doc])?;
        while let Some(r) = rows.next()? {
            let seq = usize::try_from(r.get::<_, i64>(0)?).unwrap_or(usize::MAX);
            if seq >= out.len() && seq < usize::MAX {
                out.resize(seq + 1, None);
            }
            if let Some(x) = out.get_mut(seq) {
                *x = Some(r.get(1)?);
            }
        }
        Ok(out)
    }

    /// Puts `doc` in the merge: its rank (merge order), display path and flags.
    pub fn place(
        &mut self,
        doc: i64,
        rank: i64,
        path: &str,
        is_sbom: bool,
        is_scan: bool,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE doc SET rank = ?2, path = ?3, is_sbom = ?4, is_scan = ?5 WHERE id = ?1",
            )?
            .execute(params![doc, rank, path, is_sbom, is_scan])?;
        Ok(())
    }

    /// Resolves the edges of the placed documents to component keys (refs of the subject
    /// first, then the first component with the ref); keeps each distinct pair once, without
    /// self-edges or edges into the subject. Returns the number of distinct component keys.
    pub fn resolve(&mut self) -> Result<i64> {
        self.conn.execute_batch(&format!(
            "INSERT OR IGNORE INTO dep(f, t)
             SELECT fk, tk FROM (
               SELECT CASE WHEN sf.ref IS NOT NULL THEN '{SUBJECT}' ELSE lf.key END AS fk,
                      CASE WHEN st.ref IS NOT NULL THEN '{SUBJECT}' ELSE lt.key END AS tk
               FROM edge e JOIN doc d ON d.id = e.doc AND d.rank IS NOT NULL
               LEFT JOIN subj sf ON sf.doc = e.doc AND sf.ref = e.f
               LEFT JOIN lref lf ON lf.doc = e.doc AND lf.ref = e.f
               LEFT JOIN subj st ON st.doc = e.doc AND st.ref = e.t
               LEFT JOIN lref lt ON lt.doc = e.doc AND lt.ref = e.t)
             WHERE fk IS NOT NULL AND tk IS NOT NULL AND fk <> tk AND tk <> '{SUBJECT}';
             CREATE INDEX dep_t ON dep(t);"
        ))?;
        Ok(self.conn.query_row(
            "SELECT COUNT(DISTINCT c.key) FROM comp c JOIN doc d ON d.id = c.doc
             WHERE d.rank IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM excl x WHERE x.doc = c.doc AND x.ref = c.ref)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Every resolved edge (after `resolve`), in (from, to) order.
    pub fn dependencies(&self, f: &mut dyn FnMut(&str, &str) -> Result<()>) -> Result<()> {
        let mut st = self.conn.prepare("SELECT f, t FROM dep ORDER BY f, t")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            f(
                r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?,
                r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
            )?;
        }
        Ok(())
    }

    /// True when some resolved edge starts at the subject.
    pub fn has_subject_edges(&self) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM dep WHERE f = ?1 LIMIT 1", [SUBJECT], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    /// Every component row of the placed documents (the excluded refs left out), in
    /// (key, rank, seq) order: the order the in-memory merge meets them.
    pub fn merged_components(&self, f: &mut dyn FnMut(MergeRow<'_>) -> Result<()>) -> Result<()> {
        let mut st = self.conn.prepare(
            "SELECT c.key, c.rec, d.path, d.is_sbom, d.is_scan,
                    EXISTS (SELECT 1 FROM dep WHERE f = ?1 AND t = c.key),
                    EXISTS (SELECT 1 FROM dep WHERE f = c.key) OR EXISTS (SELECT 1 FROM dep WHERE t = c.key)
             FROM comp c JOIN doc d ON d.id = c.doc
             WHERE d.rank IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM excl x WHERE x.doc = c.doc AND x.ref = c.ref)
             ORDER BY c.key, d.rank, c.seq",
        )?;
        let mut rows = st.query([SUBJECT])?;
        while let Some(r) = rows.next()? {
            f(MergeRow {
                key: r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?,
                rec: r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?,
                path: r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?,
                is_sbom: r.get(3)?,
                is_scan: r.get(4)?,
                direct: r.get(5)?,
                in_graph: r.get(6)?,
            })?;
        }
        Ok(())
    }
}
