//! The component and dependency rows of one import. A `ComponentFeed` (the streamed
//! import's k-way merge and fold) runs on a producer thread that also prepares each row's
//! column text; the SQLite thread only binds and steps, so the two overlap on two cores.

use super::{ComponentFeed, Result, StoreError};
use crate::model::SetComponent;
use rusqlite::params;
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Rows per message: large enough that the channel costs nothing per row, small enough
/// that the batches in flight stay a few hundred KiB.
const BATCH: usize = 512;
/// Batches the producer may be ahead of the writer.
const AHEAD: usize = 4;

/// One `component` row's values, the array columns already JSON text (`json_text`).
#[derive(Debug, Default, Clone)]
pub struct ComponentRow {
    pub key: String,
    pub purl: Option<String>,
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub licenses: String,
    pub cpes: String,
    pub locations: String,
    pub direct: Option<bool>,
    pub in_sbom: bool,
    pub in_scan: bool,
}

fn set_opt(to: &mut Option<String>, from: &Option<String>) {
    match (to.as_mut(), from) {
        (Some(t), Some(f)) => {
            t.clear();
            t.push_str(f);
        }
        _ => *to = from.clone(),
    }
}

fn set(to: &mut String, from: &str) {
    to.clear();
    to.push_str(from);
}

impl ComponentRow {
    /// Fills the row from `c`, reusing its buffers.
    pub fn fill(&mut self, c: &SetComponent) {
        set(&mut self.key, &c.key.0);
        set_opt(&mut self.purl, &c.purl);
        set(&mut self.kind, &c.kind);
        set(&mut self.name, &c.name);
        set_opt(&mut self.version, &c.version);
        super::json_text::strings(&mut self.licenses, &c.licenses);
        super::json_text::strings(&mut self.cpes, &c.cpes);
        super::json_text::locations(&mut self.locations, &c.locations);
        self.direct = c.direct;
        self.in_sbom = c.in_sbom;
        self.in_scan = c.in_scan;
    }
}

/// What the producer sends: a batch (its first `n` entries are meant), or the error that
/// ended the merge.
enum Msg {
    Comps(Vec<ComponentRow>, usize),
    Deps(Vec<(String, String)>, usize),
    Failed(StoreError),
}

/// Batches handed back by the writer, to be filled again.
enum Spent {
    Comps(Vec<ComponentRow>),
    Deps(Vec<(String, String)>),
}

/// The writer went away (it failed, or stopped reading): the producer just stops.
struct Gone;

struct Producer {
    out: SyncSender<Msg>,
    back: Receiver<Spent>,
    comps: Vec<ComponentRow>,
    nc: usize,
    deps: Vec<(String, String)>,
    nd: usize,
    /// Set when a send failed: the writer is gone.
    gone: bool,
}

impl Producer {
    fn send(&mut self, m: Msg) -> std::result::Result<(), Gone> {
        self.out.send(m).map_err(|_| {
            self.gone = true;
            Gone
        })
    }

    /// A spent batch of the kind asked for, or a new one.
    fn recycle(&mut self, comps: bool) {
        while let Ok(s) = self.back.try_recv() {
            match s {
                Spent::Comps(v) if comps => {
                    self.comps = v;
                    return;
                }
                Spent::Deps(v) if !comps => {
                    self.deps = v;
                    return;
                }
                _ => {}
            }
        }
        if comps {
            self.comps = Vec::with_capacity(BATCH);
        } else {
            self.deps = Vec::with_capacity(BATCH);
        }
    }

    fn component(&mut self, c: &SetComponent) -> std::result::Result<(), Gone> {
        if self.nc == self.comps.len() {
            self.comps.push(ComponentRow::default());
        }
        self.comps[self.nc].fill(c);
        self.nc += 1;
        if self.nc == BATCH {
            self.flush_comps()?;
        }
        Ok(())
    }

    fn flush_comps(&mut self) -> std::result::Result<(), Gone> {
        if self.nc > 0 {
            let v = std::mem::take(&mut self.comps);
            let n = std::mem::replace(&mut self.nc, 0);
            self.send(Msg::Comps(v, n))?;
            self.recycle(true);
        }
        Ok(())
    }

    fn dependency(&mut self, f: &str, t: &str) -> std::result::Result<(), Gone> {
        if self.nd == self.deps.len() {
            self.deps.push((String::new(), String::new()));
        }
        let d = &mut self.deps[self.nd];
        set(&mut d.0, f);
        set(&mut d.1, t);
        self.nd += 1;
        if self.nd == BATCH {
            self.flush_deps()?;
        }
        Ok(())
    }

    fn flush_deps(&mut self) -> std::result::Result<(), Gone> {
        if self.nd > 0 {
            let v = std::mem::take(&mut self.deps);
            let n = std::mem::replace(&mut self.nd, 0);
            self.send(Msg::Deps(v, n))?;
            self.recycle(false);
        }
        Ok(())
    }

    /// Runs the feed to its end, sending its rows; an error of the feed is sent on.
    fn run(mut self, feed: &mut (dyn ComponentFeed + Send)) {
        let r = feed
            .components(&mut |c| self.component(c).map_err(|_| gone()))
            .and_then(|()| self.flush_comps().map_err(|_| gone()))
            .and_then(|()| feed.dependencies(&mut |f, t| self.dependency(f, t).map_err(|_| gone())))
            .and_then(|()| self.flush_deps().map_err(|_| gone()));
        if let Err(e) = r {
            if !self.gone {
                let _ = self.out.send(Msg::Failed(e));
            }
        }
    }
}

/// The error a feed sees when the writer stopped reading; never reaches the caller (the
/// writer's own error does).
fn gone() -> StoreError {
    StoreError::Invalid("component write stopped".into())
}

/// Past this many components a set's findings look their component's id up in SQL rather
/// than in a map of every key: 20k keys (~2 MB) cover the packages of a scanned image, and
/// an SBOM of 526k components, which no scan report comes with, would have held ~50 MiB of
/// them at the peak of its import.
const ID_MAP_MAX: usize = 20_000;

#[cfg(test)]
thread_local! {
    /// A smaller `ID_MAP_MAX` for the writes on this thread (0: every id looked up in SQL).
    pub(super) static ID_MAP_MAX_FOR_TEST: std::cell::Cell<Option<usize>> =
        const { std::cell::Cell::new(None) };
}

fn id_map_max() -> usize {
    #[cfg(test)]
    if let Some(n) = ID_MAP_MAX_FOR_TEST.with(std::cell::Cell::get) {
        return n;
    }
    ID_MAP_MAX
}

/// The ids of the components an import wrote, by key, for its findings to name without a
/// lookup per row; `None` when there were too many to keep.
pub(super) type ComponentIds = Option<HashMap<Box<str>, i64>>;

/// Writes `components` and `dependencies`, then what `feed` yields (merged on a producer
/// thread while this one inserts). Returns the ids of the components written.
pub(super) fn write(
    tx: &rusqlite::Transaction<'_>,
    set_id: i64,
    components: &[SetComponent],
    dependencies: &BTreeSet<(String, String)>,
    feed: Option<&mut (dyn ComponentFeed + Send)>,
) -> Result<ComponentIds> {
    let max = id_map_max();
    let mut ids: ComponentIds = Some(HashMap::new());
    let mut ins = tx.prepare(
        "INSERT INTO component(set_id, key, purl, type, name, version, licenses, cpes, locations, direct, in_sbom, in_scan)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut put = |c: &ComponentRow| -> Result<()> {
        ins.execute(params![
            set_id,
            c.key,
            c.purl,
            c.kind,
            c.name,
            c.version,
            c.licenses,
            c.cpes,
            c.locations,
            c.direct,
            c.in_sbom,
            c.in_scan,
        ])?;
        if let Some(m) = ids.as_mut() {
            if m.len() < max {
                m.insert(c.key.as_str().into(), tx.last_insert_rowid());
            } else {
                ids = None;
            }
        }
        Ok(())
    };
    let mut row = ComponentRow::default();
    for c in components {
        row.fill(c);
        put(&row)?;
    }
    let mut dep = tx.prepare(
        "INSERT OR IGNORE INTO dependency(set_id, from_key, to_key) VALUES (?1, ?2, ?3)",
    )?;
    let mut put_dep = |f: &str, t: &str| -> Result<()> {
        dep.execute(params![set_id, f, t])?;
        Ok(())
    };
    let Some(feed) = feed else {
        for (f, t) in dependencies {
            put_dep(f, t)?;
        }
        return Ok(ids);
    };
    std::thread::scope(|s| {
        let (out, rx) = sync_channel::<Msg>(AHEAD);
        let (back, spent) = channel::<Spent>();
        let producer = Producer {
            out,
            back: spent,
            comps: Vec::with_capacity(BATCH),
            nc: 0,
            deps: Vec::with_capacity(BATCH),
            nd: 0,
            gone: false,
        };
        let h = s.spawn(move || producer.run(feed));
        let written = consume(&rx, &back, &mut put, &mut put_dep, dependencies);
        // Whatever happened, the producer must see the writer gone before it is joined.
        drop(rx);
        drop(back);
        let joined = h.join();
        written?;
        joined.map_err(|_| StoreError::Invalid("the component merge thread failed".into()))
    })?;
    Ok(ids)
}

/// The writer's side: the feed's components, the slice's dependencies, the feed's
/// dependencies (the order of the single-thread write).
fn consume(
    rx: &Receiver<Msg>,
    back: &Sender<Spent>,
    put: &mut dyn FnMut(&ComponentRow) -> Result<()>,
    put_dep: &mut dyn FnMut(&str, &str) -> Result<()>,
    dependencies: &BTreeSet<(String, String)>,
) -> Result<()> {
    let mut slice_done = false;
    // The producer's end (its sender dropped) means it finished or panicked; `write`'s
    // join tells which.
    while let Ok(m) = rx.recv() {
        match m {
            Msg::Comps(v, n) => {
                for c in &v[..n] {
                    put(c)?;
                }
                let _ = back.send(Spent::Comps(v));
            }
            Msg::Deps(v, n) => {
                if !std::mem::replace(&mut slice_done, true) {
                    for (f, t) in dependencies {
                        put_dep(f, t)?;
                    }
                }
                for (f, t) in &v[..n] {
                    put_dep(f, t)?;
                }
                let _ = back.send(Spent::Deps(v));
            }
            Msg::Failed(e) => return Err(e),
        }
    }
    if !slice_done {
        for (f, t) in dependencies {
            put_dep(f, t)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "component_write_tests.rs"]
mod tests;
