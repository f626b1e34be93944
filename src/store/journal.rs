//! Which journal a write goes through. The store lives in WAL mode so that readers never
//! wait for a writer; but WAL writes every page of a bulk import twice (to the log, then
//! to the file at the checkpoint). An import that finds no other connection on the store
//! commits through a rollback journal instead, which never journals the pages it appends,
//! and puts the store back in WAL mode when it ends.

use super::{Result, BUSY_TIMEOUT};
use rusqlite::{Connection, ErrorCode};
use std::time::Duration;

/// How long `Store::open` waits to put a store back in WAL mode while another process's
/// import holds it in rollback mode. Not the busy timeout: that import may run for minutes,
/// and the store is usable in rollback mode meanwhile (the import switches back itself).
const REOPEN_WAIT: Duration = Duration::from_millis(200);

fn mode(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))?)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Sets `PRAGMA journal_mode=<to>` waiting at most `wait` for other connections; `Ok(None)`
/// when they kept it from changing.
fn try_set(conn: &Connection, to: &str, wait: Duration) -> Result<Option<String>> {
    conn.busy_timeout(wait)?;
    let r = conn.query_row(&format!("PRAGMA journal_mode={to}"), [], |r| {
        r.get::<_, String>(0)
    });
    conn.busy_timeout(BUSY_TIMEOUT)?;
    match r {
        Ok(m) => Ok(Some(m.to_ascii_lowercase())),
        Err(e) if is_busy(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// On open: WAL, unless another process's import holds the store in rollback mode right
/// now (it switches back when it commits). The page header must have been read first
/// (SQLite reports "delete" for a WAL store it has not read yet).
pub(super) fn open_wal(conn: &Connection) -> Result<()> {
    if mode(conn)? != "wal" {
        let wait = if conn.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))? == 0 {
            BUSY_TIMEOUT
        } else {
            REOPEN_WAIT
        };
        try_set(conn, "WAL", wait)?;
    }
    set_sync(conn)
}

/// NORMAL in WAL mode (a power cut loses at most the last commits, never the file's
/// integrity); FULL with a rollback journal, where NORMAL may, on some file systems, let a
/// power cut at the wrong moment corrupt the file. FULL costs an fsync more per commit.
fn set_sync(conn: &Connection) -> Result<()> {
    let level = match mode(conn)?.as_str() {
        "wal" => "NORMAL",
        _ => "FULL",
    };
    conn.pragma_update(None, "synchronous", level)?;
    Ok(())
}

/// A bulk write in rollback mode, when it could be had; `leave` puts WAL back.
#[must_use]
pub(super) struct Bulk {
    switched: bool,
}

impl Bulk {
    /// Switches to a rollback journal if this connection is the store's only one (SQLite
    /// refuses to leave WAL mode otherwise, at once: no wait) and the store is a WAL file.
    /// `DOSSIER_IMPORT_JOURNAL=wal` keeps WAL, for measuring the difference.
    pub(super) fn enter(conn: &Connection) -> Result<Self> {
        let keep_wal = std::env::var("DOSSIER_IMPORT_JOURNAL").is_ok_and(|v| v == "wal");
        if keep_wal || mode(conn)? != "wal" {
            return Ok(Self { switched: false });
        }
        let switched = try_set(conn, "DELETE", Duration::ZERO)?.as_deref() == Some("delete");
        if switched {
            set_sync(conn)?;
        }
        Ok(Self { switched })
    }

    pub(super) fn switched(&self) -> bool {
        self.switched
    }

    /// Back to WAL. If another process opened the store meanwhile and holds it past the
    /// busy timeout, the store stays in rollback mode (consistent, only less concurrent)
    /// until the next `Store::open` switches it; the error is returned for the caller to
    /// decide, since the import itself has landed.
    pub(super) fn leave(self, conn: &Connection) -> Result<()> {
        if !self.switched {
            return Ok(());
        }
        let back = try_set(conn, "WAL", BUSY_TIMEOUT)?;
        set_sync(conn)?;
        match back.as_deref() {
            Some("wal") => Ok(()),
            other => Err(super::StoreError::Invalid(format!(
                "the store stayed in {} journal mode after an import; the next open puts it back in WAL mode",
                other.unwrap_or("rollback")
            ))),
        }
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
