//! Fills the in-memory finding index of one set from the store (one sequential read of
//! the narrow columns, each list order from its covering index, the judgement cache) and
//! refreshes its gate classes and dispositions after a re-judge.

use crate::analysis::finding_index::{FindingIndex, IndexFilter};
use crate::store::{Result, Store, ViewFilter, ViewSort};

/// The index's order slot of a list order.
pub fn slot(sort: ViewSort) -> usize {
    match sort {
        ViewSort::Severity => 0,
        ViewSort::Id => 1,
        ViewSort::Component => 2,
    }
}

pub fn index_filter(f: &ViewFilter) -> IndexFilter {
    IndexFilter {
        text: f.text.clone(),
        severities: f.severities.clone(),
        gates: f.gates.clone(),
        dispositions: f.dispositions.clone(),
    }
}

/// Reads everything the list filters and sorts on for `set_id`.
pub fn build(store: &Store, set_id: i64) -> Result<FindingIndex> {
    let mut ix = FindingIndex::new();
    store.for_each_component_ident(set_id, &mut |key, name, purl| {
        ix.add_component(key, name, purl)
    })?;
    store.for_each_finding_ident(set_id, &mut |id, rank, vuln, aliases, key| {
        let rank = u8::try_from(rank.clamp(0, 5)).unwrap_or(0);
        ix.add_finding(id, rank, vuln, aliases, key)
    })?;
    ix.finish();
    for sort in [ViewSort::Severity, ViewSort::Id, ViewSort::Component] {
        let mut ids = Vec::with_capacity(ix.len());
        store.for_each_finding_in_order(set_id, sort, &mut |id| ids.push(id))?;
        ix.set_order(slot(sort), ids);
    }
    load_judgements(store, set_id, &mut ix)?;
    Ok(ix)
}

/// Replaces the index's gate classes and dispositions with the store's judgement cache.
pub fn load_judgements(store: &Store, set_id: i64, ix: &mut FindingIndex) -> Result<()> {
    ix.clear_judgements();
    store.for_each_judgement_mark(set_id, &mut |id, gate, disp| {
        ix.set_judgement(id, gate, disp)
    })
}
