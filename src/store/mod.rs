//! The store: the only module that speaks SQL. SQLite through rusqlite, WAL (a rollback
//! journal for an import that has the store to itself, see `journal`), foreign keys,
//! busy timeout, append-only migrations tracked in `PRAGMA user_version`. Each area of the
//! product has its own file of typed functions; nothing above this layer sees rusqlite.

pub mod audit;
mod blobs;
mod component_write;
pub mod exports;
mod finding_summary;
#[cfg(test)]
mod fix_flag_tests;
mod gate_rows;
mod import_findings;
mod imports;
mod journal;
mod json_text;
pub mod judge;
#[cfg(test)]
mod judge_tests;
#[cfg(test)]
mod migrate_010_tests;
mod queries;
pub mod review;
mod stored_view;
pub mod str_array;
pub mod verify;
mod view_chunks;
mod view_filter;
mod views;
pub use views::{Cursor, ViewFilter, ViewSort};

pub use blobs::{pack_file, PackedBlob, ReadTap};
pub use imports::{ComponentFeed, FileRow, FindingStream, ImportWrite, SetWrite};
pub use queries::{
    ComponentRow, EvidenceFileRow, FindingQuery, FindingRow, FindingSort, SetRow, SourceRow,
};

use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "store {path} has schema version {found}, newer than this dossier understands ({known}); \
         upgrade dossier instead of opening it with an older one"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("store is busy (another dossier holds the lock longer than the timeout): {0}")]
    Busy(rusqlite::Error),
    #[error("store: {0}")]
    Sql(rusqlite::Error),
    #[error("store: {0}")]
    Invalid(String),
    #[error("no evidence set matches '{0}'")]
    NoSuchSet(String),
    #[error("'{query}' is ambiguous: it matches sets {candidates}")]
    AmbiguousSet { query: String, candidates: String },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy(e)
            }
            _ => Self::Sql(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Append-only: never edit a migration once it has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_core.sql"),
    include_str!("migrations/002_verify.sql"),
    include_str!("migrations/003_judge.sql"),
    include_str!("migrations/004_review.sql"),
    include_str!("migrations/005_export.sql"),
    include_str!("migrations/006_tui.sql"),
    include_str!("migrations/007_views_fts.sql"),
    include_str!("migrations/008_verify_windows.sql"),
    include_str!("migrations/009_import_speed.sql"),
    include_str!("migrations/010_finding_text.sql"),
    include_str!("migrations/011_drop_views_fts.sql"),
    include_str!("migrations/012_gate_component_id.sql"),
    include_str!("migrations/013_blob_encoding.sql"),
    include_str!("migrations/014_exact_fix_flag.sql"),
    include_str!("migrations/015_view_chunks.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a writer waits for another process's transaction before "store busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Page size of a new store file. An import in WAL mode writes every page twice (WAL, then
/// the checkpoint), and at SQLite's default of 4 KiB a 110 MB report made ~21k WAL frames and a
/// b-tree page split per ~4 KB: 32 KiB cut its commit from 0.28 s to 0.15 s and its rows
/// from 0.47 s to 0.42 s (BENCHMARKS.md, ninth run). Stores made before keep their 4 KiB.
pub const PAGE_SIZE: i64 = 32 * 1024;

/// `DOSSIER_PAGE_SIZE` overrides `PAGE_SIZE` for new stores, for measuring.
fn page_size() -> i64 {
    std::env::var("DOSSIER_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|p| (512..=65536).contains(p) && (*p as u64).is_power_of_two())
        .unwrap_or(PAGE_SIZE)
}

pub struct Store {
    conn: rusqlite::Connection,
    path: PathBuf,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Invalid(format!(
                        "cannot create the store directory {}: {e}",
                        dir.display()
                    ))
                })?;
            }
        }
        let conn = rusqlite::Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Self::init(conn, path.to_path_buf())
    }

    pub fn open_in_memory() -> Result<Self> {
        let conn = rusqlite::Connection::open_in_memory()?;
        Self::init(conn, PathBuf::from(":memory:"))
    }

    fn init(mut conn: rusqlite::Connection, path: PathBuf) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if path.as_os_str() != ":memory:" {
            // Only a new file takes it (SQLite ignores the pragma once the first page exists).
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if pages == 0 {
                conn.pragma_update(None, "page_size", page_size())?;
            }
            journal::open_wal(&conn)?;
        }
        migrate(&mut conn, &path)?;
        Ok(Self { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For the store's own area modules only.
    pub(crate) fn conn(&self) -> &rusqlite::Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut rusqlite::Connection {
        &mut self.conn
    }

    /// `PRAGMA integrity_check`; `Ok(())` when SQLite answers "ok".
    pub fn integrity_check(&self) -> Result<()> {
        let r: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if r == "ok" {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!("integrity_check: {r}")))
        }
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO setting(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

fn migrate(conn: &mut rusqlite::Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // SQLite's procedure for rebuilding a table (migration 010 rebuilds `finding`): foreign
    // keys off, which only takes effect outside a transaction, so that dropping the old
    // table does not cascade into its children; then `foreign_key_check` before the commit
    // proves the rebuilt schema still holds every reference.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = apply_migrations(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    applied
}

fn apply_migrations(conn: &mut rusqlite::Connection) -> Result<()> {
    use rusqlite::OptionalExtension;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(StoreError::Invalid(format!(
            "migration left rows in {table} that reference nothing; nothing was changed"
        )));
    }
    tx.commit()?;
    Ok(())
}

pub fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_store_reaches_latest_version_and_newer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        {
            let s = Store::open(&p).unwrap();
            let v: i64 = s
                .conn()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, SCHEMA_VERSION);
            s.conn()
                .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        match Store::open(&p) {
            Err(StoreError::TooNew { found, .. }) => assert_eq!(found, SCHEMA_VERSION + 1),
            Err(e) => panic!("wrong error {e}"),
            Ok(_) => panic!("a newer store must be refused"),
        }
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        drop(Store::open(&p).unwrap());
        let s = Store::open(&p).unwrap();
        s.integrity_check().unwrap();
    }

    fn page_size(s: &Store) -> i64 {
        s.conn()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_store_takes_the_large_page_size_and_an_old_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        assert_eq!(page_size(&Store::open(&new).unwrap()), 32 * 1024);
        assert_eq!(page_size(&Store::open(&new).unwrap()), 32 * 1024);

        // A store made with SQLite's default page size, as every store was before.
        let old = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&old).unwrap();
            c.pragma_update(None, "page_size", 4096).unwrap();
            let _: String = c
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .unwrap();
            c.execute_batch("CREATE TABLE before_dossier(x)").unwrap();
        }
        let s = Store::open(&old).unwrap();
        assert_eq!(page_size(&s), 4096);
        s.integrity_check().unwrap();
        let v: i64 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
