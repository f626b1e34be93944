use super::*;
use crate::store::imports::test_support::test_set_write;
use crate::store::{Store, StoreError};
use std::collections::BTreeSet;
use std::path::Path;

fn journal_mode(path: &Path) -> String {
    // A fresh connection reads the file header: what the next process would find.
    let c = Connection::open(path).unwrap();
    let _: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    mode(&c).unwrap()
}

fn sets(path: &Path) -> i64 {
    let c = Connection::open(path).unwrap();
    c.query_row("SELECT count(*) FROM evidence_set", [], |r| r.get(0))
        .unwrap()
}

/// `PRAGMA synchronous`: 1 NORMAL, 2 FULL.
fn sync(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_store_is_opened_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    assert_eq!(journal_mode(&path), "wal");
}

#[test]
fn a_lone_import_commits_through_a_rollback_journal_and_leaves_the_store_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let st = Store::open(&path).unwrap();
    let bulk = Bulk::enter(st.conn()).unwrap();
    assert!(bulk.switched());
    assert_eq!(mode(st.conn()).unwrap(), "delete");
    assert_eq!(sync(st.conn()), 2, "FULL while in rollback mode");
    bulk.leave(st.conn()).unwrap();
    assert_eq!(mode(st.conn()).unwrap(), "wal");
    assert_eq!(sync(st.conn()), 1, "NORMAL again");
    drop(st);
    assert_eq!(journal_mode(&path), "wal");
}

#[test]
fn an_import_through_the_store_lands_and_leaves_no_journal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = Store::open(&path).unwrap();
    st.write_test_set("sha256:aa", &[], &[]);
    st.write_test_set("sha256:bb", &[], &[]);
    // Read from a second connection while the first is still open: both sets are there.
    assert_eq!(sets(&path), 2);
    drop(st);
    assert_eq!(journal_mode(&path), "wal");
    assert!(!dir.path().join("s.db-journal").exists());
}

#[test]
fn a_failed_import_is_rolled_back_and_the_store_is_back_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = Store::open(&path).unwrap();
    st.write_test_set("sha256:aa", &[], &[]);
    let deps = BTreeSet::new();
    let w = test_set_write("sha256:bb", &[], &[], &deps);
    let r = st.write_import(&w, &|_, _| Err(StoreError::Invalid("stop here".into())));
    assert!(matches!(r, Err(StoreError::Invalid(m)) if m == "stop here"));
    assert_eq!(mode(st.conn()).unwrap(), "wal");
    assert_eq!(sets(&path), 1, "the failed set is not in the store");
}

#[test]
fn an_import_keeps_wal_while_another_connection_has_the_store_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = Store::open(&path).unwrap();
    // A reader elsewhere (the TUI, another dossier): it has read, and stays open.
    let other = Store::open(&path).unwrap();
    let bulk = Bulk::enter(st.conn()).unwrap();
    assert!(!bulk.switched(), "SQLite must refuse to leave WAL mode");
    assert_eq!(mode(st.conn()).unwrap(), "wal");
    bulk.leave(st.conn()).unwrap();
    st.write_test_set("sha256:aa", &[], &[]);
    assert_eq!(mode(st.conn()).unwrap(), "wal");
    let seen: i64 = other
        .conn()
        .query_row("SELECT count(*) FROM evidence_set", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn an_in_memory_store_never_switches() {
    let st = Store::open_in_memory().unwrap();
    let bulk = Bulk::enter(st.conn()).unwrap();
    assert!(!bulk.switched());
    assert_eq!(mode(st.conn()).unwrap(), "memory");
}

#[test]
fn opening_a_store_another_import_holds_in_rollback_mode_does_not_wait_for_that_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut st = Store::open(&path).unwrap();
    st.write_test_set("sha256:aa", &[], &[]);
    let bulk = Bulk::enter(st.conn()).unwrap();
    assert!(bulk.switched());
    // The import is under way: it holds the write lock, nothing committed yet.
    st.conn().execute_batch("BEGIN IMMEDIATE").unwrap();
    st.conn()
        .execute(
            "INSERT INTO evidence_set(digest, source, imported_at) VALUES ('sha256:bb', 't', 'now')",
            [],
        )
        .unwrap();
    // Another process opens the store meanwhile: it may not switch it back to WAL (the
    // import holds the lock) and opens in rollback mode instead of waiting the 15 s busy
    // timeout; it reads the last committed state.
    let other = Store::open(&path).unwrap();
    let seen: i64 = other
        .conn()
        .query_row("SELECT count(*) FROM evidence_set", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 1);
    // It may write in rollback mode too (after the import): at FULL, as the import does.
    assert_eq!(mode(other.conn()).unwrap(), "delete");
    assert_eq!(sync(other.conn()), 2);
    drop(other);
    st.conn().execute_batch("COMMIT").unwrap();
    bulk.leave(st.conn()).unwrap();
    drop(st);
    assert_eq!(journal_mode(&path), "wal");
    assert_eq!(sets(&path), 2);
}

#[test]
fn a_store_left_in_rollback_mode_is_put_back_in_wal_mode_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    {
        // What a crash between the import and its switch back leaves behind.
        let c = Connection::open(&path).unwrap();
        let m: String = c
            .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
            .unwrap();
        assert_eq!(m, "delete");
    }
    assert_eq!(journal_mode(&path), "delete");
    drop(Store::open(&path).unwrap());
    assert_eq!(journal_mode(&path), "wal");
}
