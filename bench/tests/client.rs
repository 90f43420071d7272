//! pinlog-bench's own client against the real pinlog broker: pipelined produce, fetch back,
//! offsets, and a broker that goes away.

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use glommio::LocalExecutorBuilder;
use pinlog_bench::client::{
    ClientError, Connection, FetchPosition, FetchSpec, ProduceBatch, EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
};
use pinlog_protocol::records::batches::Batches;
use pinlog_protocol::records::builder::{BatchBuilder, NewRecord};

mod support;

use support::Broker;

const PARTITIONS: i32 = 4;
const REQUESTS: usize = 200;

fn run<T, F>(task: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + 'static,
{
    LocalExecutorBuilder::default()
        .spawn(task)
        .expect("an executor")
        .join()
        .expect("the executor's result")
}

/// A batch of two records whose values name the request and the partition.
fn batch(request: usize, partition: i32) -> Bytes {
    let value = |n: usize| {
        Some(Bytes::from(format!(
            "request {request} partition {partition} record {n}"
        )))
    };
    BatchBuilder::new()
        .record(NewRecord {
            value: value(0),
            ..Default::default()
        })
        .record(NewRecord {
            value: value(1),
            ..Default::default()
        })
        .build()
        .expect("a valid batch")
}

#[test]
fn pipelined_produce_requests_are_all_acknowledged_and_read_back_byte_for_byte() {
    let broker = Broker::start("pipelined");
    let address = broker.bootstrap().to_string();
    run(move || async move {
        let connection = Connection::connect(&address, "client-test")
            .await
            .expect("connect");
        let topic: Rc<str> = "pipelined".into();
        connection
            .create_topics(&[(topic.to_string(), PARTITIONS)], 1, 10_000)
            .await
            .expect("create");
        let metadata = connection
            .metadata(Some(&[topic.to_string()]))
            .await
            .expect("metadata");
        assert_eq!(
            metadata.topics[&*topic].partitions.len(),
            PARTITIONS as usize
        );
        // All requests in flight at once: each task queues its request before any answer.
        let sends: Vec<_> = (0..REQUESTS)
            .map(|request| {
                let connection = connection.clone();
                let topic = topic.clone();
                glommio::spawn_local(async move {
                    let batches = (0..PARTITIONS)
                        .map(|partition| ProduceBatch {
                            topic: topic.clone(),
                            partition,
                            records: batch(request, partition),
                        })
                        .collect();
                    connection.produce(-1, 10_000, batches).await
                })
            })
            .collect();
        let mut offsets = Vec::new();
        for send in sends {
            for result in send.await.expect("produce") {
                assert_eq!(result.error_code, 0, "{result:?}");
                offsets.push((result.partition, result.base_offset));
            }
        }
        offsets.sort_unstable();
        for partition in 0..PARTITIONS {
            let bases: Vec<i64> = offsets
                .iter()
                .filter(|(p, _)| *p == partition)
                .map(|(_, o)| *o)
                .collect();
            let expected: Vec<i64> = (0..REQUESTS as i64).map(|n| n * 2).collect();
            assert_eq!(bases, expected, "partition {partition}");
        }
        let partitions: Vec<(Rc<str>, i32)> = (0..PARTITIONS).map(|p| (topic.clone(), p)).collect();
        let ends = connection
            .list_offsets(&partitions, LATEST_TIMESTAMP)
            .await
            .expect("ends");
        assert!(
            ends.iter().all(|(_, _, end)| *end == 2 * REQUESTS as i64),
            "{ends:?}"
        );
        let starts = connection
            .list_offsets(&partitions, EARLIEST_TIMESTAMP)
            .await
            .expect("starts");
        assert!(starts.iter().all(|(_, _, start)| *start == 0), "{starts:?}");

        // Read everything back and compare each record's value.
        let mut next = vec![0i64; PARTITIONS as usize];
        while next.iter().any(|&offset| offset < 2 * REQUESTS as i64) {
            let spec = FetchSpec {
                max_wait_ms: 100,
                min_bytes: 1,
                max_bytes: 1 << 20,
                partitions: (0..PARTITIONS)
                    .map(|partition| FetchPosition {
                        topic: topic.clone(),
                        partition,
                        offset: next[partition as usize],
                        partition_max_bytes: 64 << 10,
                    })
                    .collect(),
            };
            for fetched in connection.fetch(spec).await.expect("fetch") {
                assert_eq!(fetched.error_code, 0);
                for batch in Batches::new(fetched.records.clone()) {
                    let Ok(batch) = batch else {
                        break; // a partial batch at the end of the response
                    };
                    for record in batch.records(1 << 20).expect("records") {
                        let record = record.expect("a record");
                        let offset = batch.base_offset() + i64::from(record.offset_delta);
                        if offset < next[fetched.partition as usize] {
                            continue;
                        }
                        assert_eq!(offset, next[fetched.partition as usize]);
                        let expected = format!(
                            "request {} partition {} record {}",
                            offset / 2,
                            fetched.partition,
                            offset % 2
                        );
                        assert_eq!(record.value.as_deref(), Some(expected.as_bytes()));
                        next[fetched.partition as usize] = offset + 1;
                    }
                }
            }
        }
    });
}

#[test]
fn a_broker_that_dies_fails_the_calls_in_flight_instead_of_hanging_them() {
    let mut broker = Broker::start("dies");
    let address = broker.bootstrap().to_string();
    let connection_ready = std::sync::mpsc::channel::<()>();
    let (ready, wait_ready) = connection_ready;
    let (killed, wait_killed) = std::sync::mpsc::channel::<()>();
    let handle = LocalExecutorBuilder::default()
        .spawn(move || async move {
            let connection = Connection::connect(&address, "client-test")
                .await
                .expect("connect");
            connection
                .create_topics(&[("dies".to_string(), 1)], 1, 10_000)
                .await
                .expect("create");
            // A long poll on an empty partition is in flight when the broker dies.
            let spec = FetchSpec {
                max_wait_ms: 20_000,
                min_bytes: 1,
                max_bytes: 1 << 20,
                partitions: vec![FetchPosition {
                    topic: "dies".into(),
                    partition: 0,
                    offset: 0,
                    partition_max_bytes: 1 << 20,
                }],
            };
            let poll = glommio::spawn_local({
                let connection = connection.clone();
                async move { connection.fetch(spec).await }
            });
            ready.send(()).expect("test thread");
            while wait_killed.try_recv().is_err() {
                glommio::timer::sleep(Duration::from_millis(10)).await;
            }
            let started = Instant::now();
            let outcome = poll.await;
            let after = connection.metadata(None).await;
            (outcome.map(|_| ()), after.map(|_| ()), started.elapsed())
        })
        .expect("an executor");
    wait_ready.recv().expect("the client connected");
    std::thread::sleep(Duration::from_millis(200));
    broker.kill();
    killed.send(()).expect("client thread");
    let (poll, after, waited) = handle.join().expect("the client's outcome");
    assert!(matches!(poll, Err(ClientError::Broken { .. })), "{poll:?}");
    assert!(
        matches!(after, Err(ClientError::Broken { .. })),
        "{after:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
}
