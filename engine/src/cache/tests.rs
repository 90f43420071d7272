use bytes::Bytes;
use proptest::prelude::*;

use super::*;

const O: usize = CACHE_BATCH_OVERHEAD_BYTES;

/// A batch of `len` bytes whose contents name it, so that reads can be compared.
fn data(log_id: u64, base_offset: i64, len: usize) -> Bytes {
    let mut bytes = format!("{log_id}:{base_offset}:").into_bytes();
    bytes.resize(len.max(bytes.len()), b'.');
    bytes.truncate(len);
    Bytes::from(bytes)
}

/// Inserts batches of `len` bytes covering `[base, base + count)` each.
fn fill(cache: &mut BatchCache, log_id: u64, batches: &[(i64, i64)], len: usize) {
    for &(base, last) in batches {
        assert!(cache.insert(log_id, base, last, data(log_id, base, len)));
    }
}

fn bases(run: Option<Vec<Bytes>>, len: usize, log_id: u64) -> Option<Vec<i64>> {
    run.map(|batches| {
        batches
            .iter()
            .map(|b| {
                (0..10_000)
                    .find(|base| *b == data(log_id, *base, len))
                    .expect("a batch this test inserted")
            })
            .collect()
    })
}

#[test]
fn reads_start_with_the_batch_that_contains_the_offset() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19), (20, 29)], 100);
    assert_eq!(
        bases(cache.read(1, 0, 1 << 20), 100, 1),
        Some(vec![0, 10, 20])
    );
    assert_eq!(
        bases(cache.read(1, 15, 1 << 20), 100, 1),
        Some(vec![10, 20])
    );
    assert_eq!(bases(cache.read(1, 29, 1 << 20), 100, 1), Some(vec![20]));
    assert_eq!(cache.read(1, 30, 1 << 20), None);
    assert_eq!(cache.read(1, -1, 1 << 20), None);
    assert_eq!(cache.read(2, 0, 1 << 20), None);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (3, 3));
}

#[test]
fn the_first_batch_is_returned_whole_then_more_while_they_fit() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19), (20, 29)], 100);
    assert_eq!(bases(cache.read(1, 0, 0), 100, 1), Some(vec![0]));
    assert_eq!(bases(cache.read(1, 0, 199), 100, 1), Some(vec![0]));
    assert_eq!(bases(cache.read(1, 0, 200), 100, 1), Some(vec![0, 10]));
}

#[test]
fn reads_stop_at_a_gap() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (20, 29)], 100);
    assert_eq!(bases(cache.read(1, 5, 1 << 20), 100, 1), Some(vec![0]));
    assert_eq!(cache.read(1, 15, 1 << 20), None);
    assert_eq!(bases(cache.read(1, 20, 1 << 20), 100, 1), Some(vec![20]));
}

#[test]
fn eviction_drops_the_oldest_insert_across_logs_and_keeps_the_bound() {
    let mut cache = BatchCache::new(3 * (100 + O));
    fill(&mut cache, 1, &[(0, 0)], 100);
    fill(&mut cache, 2, &[(0, 0)], 100);
    fill(&mut cache, 1, &[(1, 1)], 100);
    assert_eq!(cache.stats().bytes, 3 * (100 + O));
    fill(&mut cache, 2, &[(1, 1)], 100);
    assert_eq!(cache.read(1, 0, 1000), None);
    assert_eq!(bases(cache.read(2, 0, 1000), 100, 2), Some(vec![0, 1]));
    // A larger batch evicts as many as it needs.
    fill(&mut cache, 3, &[(0, 0)], 200 + O);
    assert_eq!(cache.read(2, 0, 1000), None);
    assert_eq!(cache.read(1, 1, 1000), None);
    assert_eq!(bases(cache.read(2, 1, 1000), 100, 2), Some(vec![1]));
    let stats = cache.stats();
    assert_eq!((stats.evictions, stats.batches), (3, 2));
    assert!(stats.bytes <= cache.bytes_max());
}

#[test]
fn a_batch_larger_than_the_cache_is_not_cached() {
    let mut cache = BatchCache::new(1000);
    fill(&mut cache, 1, &[(0, 0)], 100);
    assert!(!cache.insert(1, 1, 1, data(1, 1, 1000)));
    assert_eq!(bases(cache.read(1, 0, 1000), 100, 1), Some(vec![0]));
    assert!(!cache.insert(1, 5, 4, data(1, 5, 10))); // inverted offsets
    assert_eq!(cache.stats().batches, 1);
}

#[test]
fn truncation_drops_the_batch_that_contains_the_offset_and_all_after() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19), (20, 29)], 100);
    fill(&mut cache, 2, &[(0, 9)], 100);
    cache.truncate(1, 15);
    assert_eq!(bases(cache.read(1, 0, 1 << 20), 100, 1), Some(vec![0]));
    cache.truncate(1, 10);
    assert_eq!(cache.stats().batches, 2);
    cache.truncate(1, 0);
    assert_eq!(cache.read(1, 0, 1 << 20), None);
    assert_eq!(cache.stats().bytes, 100 + O);
    cache.truncate(7, 0);
    assert_eq!(bases(cache.read(2, 0, 1 << 20), 100, 2), Some(vec![0]));
}

#[test]
fn an_insert_replaces_what_it_overlaps() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19), (20, 29)], 100);
    // The log was truncated at 15 and appended again, without a truncate call.
    fill(&mut cache, 1, &[(10, 12)], 100);
    assert_eq!(bases(cache.read(1, 0, 1 << 20), 100, 1), Some(vec![0, 10]));
    assert_eq!(cache.read(1, 20, 1 << 20), None);
    assert_eq!(cache.stats().batches, 2);
}

#[test]
fn removing_a_log_releases_its_bytes() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19)], 100);
    fill(&mut cache, 2, &[(0, 9)], 50);
    cache.remove_log(1);
    assert_eq!(cache.read(1, 0, 1 << 20), None);
    assert_eq!(cache.stats().bytes, 50 + O);
    assert_eq!(cache.stats().evictions, 0);
}

/// Every batch in insertion order, evicted from the front: the behaviour, written plainly.
#[derive(Default)]
struct Model {
    batches: Vec<(u64, i64, i64, Bytes)>,
    bytes_max: usize,
    evictions: u64,
}

impl Model {
    fn bytes(&self) -> usize {
        self.batches.iter().map(|b| b.3.len() + O).sum()
    }

    fn truncate(&mut self, log_id: u64, from_offset: i64) {
        self.batches.retain(|b| b.0 != log_id || b.2 < from_offset);
    }

    fn insert(&mut self, log_id: u64, base: i64, last: i64, data: Bytes) -> bool {
        if last < base {
            return false;
        }
        self.truncate(log_id, base);
        if data.len() + O > self.bytes_max {
            return false;
        }
        while self.bytes() + data.len() + O > self.bytes_max {
            self.batches.remove(0);
            self.evictions += 1;
        }
        self.batches.push((log_id, base, last, data));
        true
    }

    fn read(&self, log_id: u64, from: i64, max_bytes: usize) -> Option<Vec<Bytes>> {
        let mut log: Vec<_> = self.batches.iter().filter(|b| b.0 == log_id).collect();
        log.sort_by_key(|b| b.1);
        let first = log.iter().position(|b| b.1 <= from && from <= b.2)?;
        let mut run = vec![log[first].3.clone()];
        let mut total = log[first].3.len();
        for pair in log[first..].windows(2) {
            if pair[1].1 != pair[0].2 + 1 || total + pair[1].3.len() > max_bytes {
                break;
            }
            total += pair[1].3.len();
            run.push(pair[1].3.clone());
        }
        Some(run)
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Append the next batch of a log: (log, offsets in it, length, skip offsets before it).
    Append(u64, i64, usize, i64),
    Read(u64, i64, usize),
    Truncate(u64, i64),
    Remove(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0u64..3, 1i64..5, 0usize..400, prop_oneof![9 => Just(0i64), 1 => 1i64..3])
            .prop_map(|(log, count, len, gap)| Op::Append(log, count, len, gap)),
        6 => (0u64..3, 0i64..120, 0usize..1_000).prop_map(|(log, from, max)| Op::Read(log, from, max)),
        1 => (0u64..3, 0i64..120).prop_map(|(log, from)| Op::Truncate(log, from)),
        1 => (0u64..3).prop_map(Op::Remove),
    ]
}

proptest! {
    #[test]
    fn cache_matches_the_model(bytes_max in 0usize..3_000, ops in proptest::collection::vec(op(), 1..300)) {
        let mut cache = BatchCache::new(bytes_max);
        let mut model = Model { bytes_max, ..Model::default() };
        let mut next_offsets = [0i64; 3];
        for op in ops {
            match op {
                Op::Append(log, count, len, gap) => {
                    let base = next_offsets[log as usize] + gap;
                    let last = base + count - 1;
                    next_offsets[log as usize] = last + 1;
                    let batch = data(log, base, len);
                    prop_assert_eq!(cache.insert(log, base, last, batch.clone()), model.insert(log, base, last, batch));
                }
                Op::Read(log, from, max) => {
                    prop_assert_eq!(cache.read(log, from, max), model.read(log, from, max));
                }
                Op::Truncate(log, from) => {
                    cache.truncate(log, from);
                    model.truncate(log, from);
                    // The log continues from the truncation point.
                    next_offsets[log as usize] = next_offsets[log as usize].min(from);
                }
                Op::Remove(log) => {
                    cache.remove_log(log);
                    model.batches.retain(|b| b.0 != log);
                }
            }
            let stats = cache.stats();
            prop_assert!(stats.bytes <= bytes_max);
            prop_assert_eq!(stats.bytes, model.bytes());
            prop_assert_eq!(stats.batches, model.batches.len());
            prop_assert_eq!(stats.evictions, model.evictions);
            prop_assert_eq!(cache.logs.values().map(BTreeMap::len).sum::<usize>(), cache.insertions.len());
            prop_assert!(cache.logs.values().all(|batches| !batches.is_empty()));
        }
    }
}

#[test]
fn a_batch_cached_in_parts_is_read_whole_and_charged_whole() {
    let mut cache = BatchCache::new(1 << 20);
    let (head, rest) = (Bytes::from_static(b"head"), Bytes::from_static(b"the rest"));
    assert!(cache.insert_parts(1, 0, 9, head, rest));
    fill(&mut cache, 1, &[(10, 19)], 100);
    assert_eq!(cache.stats().bytes, 12 + 100 + 2 * O);
    let whole = Bytes::from_static(b"headthe rest");
    let run = cache.read(1, 5, 1 << 20).expect("cached");
    assert_eq!(run, vec![whole.clone(), data(1, 10, 100)]);
    // The first batch is whole even beyond max_bytes; the next one does not fit.
    assert_eq!(cache.read(1, 0, 50), Some(vec![whole]));
    assert_eq!(cache.stats().bytes, 12 + 100 + 2 * O);
}

#[test]
fn reads_below_an_end_offset_leave_out_the_batches_from_it() {
    let mut cache = BatchCache::new(1 << 20);
    fill(&mut cache, 1, &[(0, 9), (10, 19), (20, 29)], 100);
    assert_eq!(
        bases(cache.read_below(1, 0, 1 << 20, 20), 100, 1),
        Some(vec![0, 10])
    );
    assert_eq!(
        bases(cache.read_below(1, 0, 1 << 20, 11), 100, 1),
        Some(vec![0, 10])
    );
    assert_eq!(
        bases(cache.read_below(1, 0, 1 << 20, 1), 100, 1),
        Some(vec![0])
    );
    assert_eq!(cache.read_below(1, 0, 1 << 20, 0), None);
    assert_eq!(cache.read_below(1, 25, 1 << 20, 20), None);
}
