//! Vulnerability ids numbered once each, their bytes in one arena: a streamed import keeps
//! about 30 bytes per distinct id instead of an allocation (and a map entry) per finding.

use std::hash::BuildHasher;

/// The ids by number.
#[derive(Default)]
pub(super) struct Names {
    bytes: String,
    /// Where each id ends in `bytes`; it starts where the one before ends.
    ends: Vec<u64>,
}

impl Names {
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Id number `i`; "" for a number never given out.
    pub(super) fn name(&self, i: u32) -> &str {
        let i = i as usize;
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0) as usize,
            None => 0,
        };
        self.bytes.get(start..end).unwrap_or("")
    }
}

pub(super) struct Interner {
    names: Names,
    /// Numbers, found by their name's hash (SipHash with a random key, kept against
    /// crafted ids).
    table: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl Interner {
    pub(super) fn new() -> Self {
        Self {
            names: Names::default(),
            table: hashbrown::HashTable::new(),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// `x`'s number: the one it was given before, or the next. `None` past 2^32 ids.
    pub(super) fn add(&mut self, x: &str) -> Option<u32> {
        let Self {
            names,
            table,
            hasher,
        } = self;
        let h = hasher.hash_one(x);
        match table.entry(
            h,
            |i| names.name(*i) == x,
            |i| hasher.hash_one(names.name(*i)),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => Some(*e.get()),
            hashbrown::hash_table::Entry::Vacant(v) => {
                let n = u32::try_from(names.ends.len()).ok()?;
                names.bytes.push_str(x);
                names.ends.push(names.bytes.len() as u64);
                v.insert(n);
                Some(n)
            }
        }
    }

    /// The ids by number; the index is no longer needed once the parse is over.
    pub(super) fn into_names(self) -> Names {
        self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_distinct_id_gets_one_number_and_reads_back() {
        let mut it = Interner::new();
        // Includes an empty id, ids that are prefixes of each other and non-ASCII ones.
        let ids = ["CVE-1", "", "CVE-10", "CVE-1", "GHSA-é", "CVE-10", "", "x"];
        let got: Vec<u32> = ids.iter().map(|i| it.add(i).unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 3, 2, 1, 4]);
        // Many more, enough to make the table grow several times.
        let many: Vec<String> = (0..20_000).map(|i| format!("CVE-2024-{i}")).collect();
        let nums: Vec<u32> = many.iter().map(|i| it.add(i).unwrap()).collect();
        for (i, n) in many.iter().zip(&nums).rev() {
            assert_eq!(it.add(i), Some(*n));
        }
        let names = it.into_names();
        assert_eq!(names.len(), 5 + many.len());
        for (i, want) in ["CVE-1", "", "CVE-10", "GHSA-é", "x"].iter().enumerate() {
            assert_eq!(names.name(i as u32), *want);
        }
        for (s, n) in many.iter().zip(&nums) {
            assert_eq!(names.name(*n), s);
        }
        assert_eq!(names.name(u32::MAX), "");
    }
}
