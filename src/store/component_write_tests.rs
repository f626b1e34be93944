use super::*;
use crate::model::{ComponentKey, Location};
use crate::store::Store;

/// A feed of `n` components `k00000`.. (with `dup_at` repeating the previous key) and
/// `deps` edges, failing with `fail` after `fail_after` components, or panicking.
struct Feed {
    n: usize,
    deps: usize,
    dup_at: Option<usize>,
    fail_after: Option<usize>,
    panic_after: Option<usize>,
    /// Components the feed got to hand over before it stopped.
    yielded: usize,
}

fn feed(n: usize, deps: usize) -> Feed {
    Feed {
        n,
        deps,
        dup_at: None,
        fail_after: None,
        panic_after: None,
        yielded: 0,
    }
}

fn comp(i: usize) -> SetComponent {
    SetComponent {
        key: ComponentKey(format!("k{i:05}")),
        purl: (i % 3 != 0).then(|| format!("pkg:npm/p{i}@1")),
        kind: "library".into(),
        name: format!("p\"{i}"),
        version: (i % 5 != 0).then(|| "1.0".to_string()),
        licenses: (0..i % 3).map(|l| format!("L{l}\n")).collect(),
        cpes: vec![format!("cpe:2.3:a:x:p{i}:1:*:*:*:*:*:*:*")],
        locations: vec![Location {
            file: "f.json".into(),
            path: (i % 2 == 0).then(|| format!("/usr/lib/{i}")),
        }],
        direct: [None, Some(true), Some(false)][i % 3],
        in_sbom: i % 2 == 0,
        in_scan: i % 2 == 1,
    }
}

impl ComponentFeed for Feed {
    fn components(&mut self, write: &mut dyn FnMut(&SetComponent) -> Result<()>) -> Result<()> {
        for i in 0..self.n {
            if self.fail_after == Some(i) {
                return Err(StoreError::Invalid("the feed broke at 1500".into()));
            }
            if self.panic_after == Some(i) {
                panic!("a feed that panics");
            }
            let k = if self.dup_at == Some(i) { i - 1 } else { i };
            write(&comp(k))?;
            self.yielded += 1;
        }
        Ok(())
    }

    fn dependencies(&mut self, write: &mut dyn FnMut(&str, &str) -> Result<()>) -> Result<()> {
        for i in 0..self.deps {
            write(&format!("k{i:05}"), &format!("k{:05}", i + 1))?;
        }
        Ok(())
    }
}

fn with_set(
    f: impl FnOnce(&rusqlite::Transaction<'_>, i64) -> Result<ComponentIds>,
) -> Result<(Store, i64)> {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    tx.execute(
        "INSERT INTO evidence_set(source, imported_at) VALUES ('t', 'now')",
        [],
    )
    .unwrap();
    let id = tx.last_insert_rowid();
    f(&tx, id)?;
    tx.commit().unwrap();
    Ok((store, id))
}

type Row = (
    i64,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<bool>,
    bool,
    bool,
);

fn rows(store: &Store) -> (Vec<Row>, Vec<(String, String)>) {
    let c = store
        .conn()
        .prepare("SELECT id, key, purl, type, name, version, licenses, cpes, locations, direct, in_sbom, in_scan FROM component ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<Row>>>()
        .unwrap();
    let d = store
        .conn()
        .prepare("SELECT from_key, to_key FROM dependency ORDER BY from_key, to_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    (c, d)
}

/// The rows a feed writes on its own thread are, ids and order included, the rows the same
/// components give written from the slice on this one (whose column text is serde_json's).
#[test]
fn a_feed_writes_what_the_slice_writes() {
    let n = BATCH * 3 + 17;
    let slice_deps: BTreeSet<(String, String)> =
        [("@subject".to_string(), "k00000".to_string())].into();
    let mut fed_ids = None;
    let (fed, _) = with_set(|tx, id| {
        let mut f = feed(n, 1000);
        fed_ids = write(tx, id, &[], &slice_deps, Some(&mut f))?;
        Ok(None)
    })
    .unwrap();
    let all: Vec<SetComponent> = (0..n).map(comp).collect();
    let mut deps = slice_deps.clone();
    deps.extend((0..1000).map(|i| (format!("k{i:05}"), format!("k{:05}", i + 1))));
    let mut sliced_ids = None;
    let (sliced, _) = with_set(|tx, id| {
        sliced_ids = write(tx, id, &all, &deps, None)?;
        Ok(None)
    })
    .unwrap();
    let (a, ad) = rows(&fed);
    let (b, bd) = rows(&sliced);
    assert_eq!(a.len(), n);
    assert_eq!(a, b);
    // The ids the write hands back are those of the rows it wrote, every one.
    let written: HashMap<Box<str>, i64> = a.iter().map(|r| (r.1.as_str().into(), r.0)).collect();
    assert_eq!(written.len(), n);
    assert_eq!(fed_ids.as_ref(), Some(&written));
    assert_eq!(sliced_ids.as_ref(), Some(&written));
    // The slice's edge and every one of the feed's.
    assert_eq!(ad.len(), 1001);
    assert_eq!(ad[0], ("@subject".to_string(), "k00000".to_string()));
    assert_eq!(ad[1], ("k00000".to_string(), "k00001".to_string()));
    assert_eq!(ad, bd);
    // The column text is serde_json's.
    let c = comp(2);
    let r = a.iter().find(|r| r.1 == "k00002").unwrap();
    assert_eq!(r.6, serde_json::to_string(&c.licenses).unwrap());
    assert_eq!(r.8, serde_json::to_string(&c.locations).unwrap());
}

#[test]
fn a_failing_feed_ends_the_write_with_its_error() {
    let r = with_set(|tx, id| {
        let mut f = feed(5000, 10);
        f.fail_after = Some(1500);
        write(tx, id, &[], &BTreeSet::new(), Some(&mut f))
    });
    let e = r.err().unwrap().to_string();
    assert_eq!(e, "store: the feed broke at 1500");
}

/// The writer fails at the 11th row (a key already written) while the producer still has
/// thousands to send: the write returns SQLite's error, the producer stops (no hang).
#[test]
fn a_failing_writer_ends_the_write_and_the_producer() {
    let mut yielded = 0;
    let r = with_set(|tx, id| {
        let mut f = feed(100_000, 10);
        f.dup_at = Some(10);
        let r = write(tx, id, &[], &BTreeSet::new(), Some(&mut f));
        yielded = f.yielded;
        r
    });
    let e = r.err().unwrap().to_string();
    assert!(
        e.contains("UNIQUE constraint failed: component.set_id, component.key"),
        "{e}"
    );
    // The producer stopped within the batches in flight, long before the end.
    assert!(yielded < BATCH * (AHEAD + 4), "{yielded}");
}

#[test]
fn a_panicking_feed_is_an_error_not_a_panic() {
    let r = with_set(|tx, id| {
        let mut f = feed(5000, 10);
        f.panic_after = Some(700);
        write(tx, id, &[], &BTreeSet::new(), Some(&mut f))
    });
    let e = r.err().unwrap().to_string();
    assert_eq!(e, "store: the component merge thread failed");
}

/// Past the cap the write keeps no ids at all (the findings then look each one up): never a
/// partial map that would leave some findings without their component.
#[test]
fn past_the_cap_no_ids_are_kept() {
    for (cap, n, kept) in [(10, 10, true), (10, 11, false), (0, 1, false), (0, 0, true)] {
        ID_MAP_MAX_FOR_TEST.with(|c| c.set(Some(cap)));
        let mut ids = None;
        with_set(|tx, id| {
            let mut f = feed(n, 0);
            ids = Some(write(tx, id, &[], &BTreeSet::new(), Some(&mut f))?);
            Ok(None)
        })
        .unwrap();
        let ids = ids.unwrap();
        assert_eq!(ids.is_some(), kept, "cap {cap}, {n} components");
        assert_eq!(ids.map_or(n, |m| m.len()), n);
    }
    ID_MAP_MAX_FOR_TEST.with(|c| c.set(None));
}
