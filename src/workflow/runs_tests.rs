//! The sorter against `sort_by` on the same records (stable), in memory and spilled.

use super::*;

fn collect(s: &Sorter) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = s.iter().unwrap();
    let mut out = Vec::new();
    while let Some((k, p)) = it.next().unwrap() {
        out.push((k.to_vec(), p.to_vec()));
    }
    out
}

/// Records with many equal keys (the payload numbers them in push order).
fn records(n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut x: u32 = 12345;
    (0..n)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let mut k = Vec::new();
            key_str(&mut k, format!("k{}", (x >> 16) % 97).as_bytes());
            key_u64(&mut k, u64::from((x >> 8) % 3));
            (k, i.to_le_bytes().to_vec())
        })
        .collect()
}

/// Purl-like keys sharing their first 15 to 40 bytes, of different lengths, many equal:
/// orders decided past the 32-byte prefix, by the key read from the buffer.
fn long_records(n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut x: u32 = 777;
    (0..n)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let name = ["a", "async-1", "async-1001", "async-10019"][(x >> 20) as usize % 4];
            let tail = "x".repeat((x >> 12) as usize % 30);
            let s = format!("pkg:deb/debian/{name}@{}{tail}", (x >> 16) % 7);
            let mut k = Vec::new();
            key_str(&mut k, s.as_bytes());
            (k, i.to_le_bytes().to_vec())
        })
        .collect()
}

fn check(budget: usize, n: u32) -> usize {
    check_records(budget, records(n))
}

fn check_records(budget: usize, recs: Vec<(Vec<u8>, Vec<u8>)>) -> usize {
    let mut s = Sorter::new(budget);
    for (k, p) in &recs {
        s.push(k, p).unwrap();
    }
    s.finish();
    let mut want = recs.clone();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(collect(&s), want);
    // A second pass reads the same.
    assert_eq!(collect(&s), want);
    s.spilled()
}

#[test]
fn keys_that_tie_on_their_prefix_order_by_the_whole_key_and_stay_stable() {
    assert_eq!(check_records(1 << 20, long_records(3000)), 0);
    assert!(check_records(2000, long_records(3000)) > 10);
}

#[test]
fn one_run_in_memory_never_spills() {
    assert_eq!(check(1 << 20, 2000), 0);
}

#[test]
fn many_runs_with_a_tiny_budget_merge_stably() {
    // ~40 bytes a record: a 200-byte budget spills every few records.
    assert!(check(200, 3000) > 100);
    // A budget smaller than one record: one record per run.
    assert!(check(1, 300) >= 299);
}

#[test]
fn nothing_pushed_reads_nothing() {
    let mut s = Sorter::new(10);
    s.finish();
    assert!(collect(&s).is_empty());
}

#[test]
fn reading_before_finish_is_an_error() {
    let mut s = Sorter::new(10);
    s.push(b"a", b"").unwrap();
    assert!(s.iter().is_err());
}

#[test]
fn a_record_larger_than_the_read_buffer_comes_back_whole() {
    let mut s = Sorter::new(16);
    let big = vec![7u8; READ * 3 + 5];
    s.push(b"b", &big).unwrap();
    s.push(b"a", b"x").unwrap();
    s.push(b"c", b"y").unwrap();
    s.finish();
    let got = collect(&s);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], (b"a".to_vec(), b"x".to_vec()));
    assert_eq!(got[1].1, big);
}

#[test]
fn string_keys_order_as_the_strings_and_read_back() {
    let words: [&[u8]; 6] = [b"", b"a", b"a\0", b"a\0b", b"ab", b"\0\0"];
    let mut enc: Vec<Vec<u8>> = words
        .iter()
        .map(|w| {
            let mut k = Vec::new();
            key_str(&mut k, w);
            key_u64(&mut k, 9);
            k
        })
        .collect();
    for (w, k) in words.iter().zip(&enc) {
        let (s, rest) = read_key_str(k).unwrap();
        assert_eq!(s.as_ref(), *w);
        assert_eq!(read_key_u64(rest).unwrap().0, 9);
        assert_eq!(key_str_len(k), Some(k.len() - 8));
    }
    enc.sort();
    let back: Vec<Vec<u8>> = enc
        .iter()
        .map(|k| read_key_str(k).unwrap().0.into_owned())
        .collect();
    let mut want: Vec<Vec<u8>> = words.iter().map(|w| w.to_vec()).collect();
    want.sort();
    assert_eq!(back, want);
}
