//! Records the tests produce, derived from their index so that every run sends the same bytes,
//! and the byte-exact comparison of what came back.

use std::collections::BTreeMap;

/// A record as produced and as consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A record as a consumer saw it, with where it was.
#[derive(Debug, Clone)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub record: Record,
}

/// The `index`-th test record: always keyed; values of 0 to ~0.6 KiB mixing compressible text
/// with bytes of every value, a null value now and then; zero to three headers, among them
/// an empty and a null one.
pub fn keyed_record(index: usize) -> Record {
    let key = format!("key-{index:08}").into_bytes();
    let value = (index % 101 != 7).then(|| {
        let text = format!("value {index} of pinlog's round trip; ");
        let mut value = text.repeat(index % 8).into_bytes();
        value.extend((0..index % 256).map(|byte| byte as u8));
        value
    });
    let headers = (0..index % 4)
        .map(|header| match header {
            0 => ("index".to_string(), Some(index.to_le_bytes().to_vec())),
            1 => ("empty".to_string(), Some(Vec::new())),
            _ => ("null".to_string(), None),
        })
        .collect();
    Record {
        key: Some(key),
        value,
        headers,
    }
}

/// Asserts that each partition holds exactly its expected records, in order, at offsets
/// 0, 1, 2, ... `expected` maps a partition to its records in production order.
pub fn assert_partitions_match(expected: &BTreeMap<i32, Vec<Record>>, consumed: &[Consumed]) {
    let mut by_partition: BTreeMap<i32, Vec<&Consumed>> = BTreeMap::new();
    for record in consumed {
        by_partition
            .entry(record.partition)
            .or_default()
            .push(record);
    }
    let unexpected: Vec<_> = by_partition
        .keys()
        .filter(|partition| !expected.contains_key(partition))
        .collect();
    assert!(
        unexpected.is_empty(),
        "records from partitions {unexpected:?}"
    );
    for (partition, records) in expected {
        let got = by_partition.remove(partition).unwrap_or_default();
        assert_eq!(
            got.len(),
            records.len(),
            "partition {partition}: record count"
        );
        for (position, (want, got)) in records.iter().zip(&got).enumerate() {
            assert_eq!(
                got.offset, position as i64,
                "partition {partition}: offset of the record at position {position}"
            );
            assert_eq!(
                &got.record, want,
                "partition {partition}, offset {}: record differs",
                got.offset
            );
        }
    }
}
