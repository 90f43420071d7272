//! Bad input against the real broker: garbage, lying length fields, oversized frames, unknown
//! APIs, truncated and malformed requests. Each gets an error frame (where a correlation id
//! could be read) or a closed connection, and a log line; the broker keeps serving everyone
//! else, and never panics.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{kafka, Broker};

const READ_TIMEOUT: Duration = Duration::from_secs(10);

fn connect(broker: &Broker) -> TcpStream {
    let stream = TcpStream::connect(broker.bootstrap()).expect("connecting to the broker");
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
}

/// A request frame: size, api key, version, correlation id, client id "t", then `body`.
fn frame(api_key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut request = Vec::new();
    request.extend_from_slice(&api_key.to_be_bytes());
    request.extend_from_slice(&version.to_be_bytes());
    request.extend_from_slice(&correlation_id.to_be_bytes());
    request.extend_from_slice(&1i16.to_be_bytes());
    request.push(b't');
    request.extend_from_slice(body);
    let mut framed = (request.len() as i32).to_be_bytes().to_vec();
    framed.extend_from_slice(&request);
    framed
}

/// Everything the broker sends until it closes the connection.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .expect("the broker closes the connection rather than hanging");
    received
}

/// The (correlation id, error code) of a 10-byte error frame.
fn error_frame(bytes: &[u8]) -> (i32, i16) {
    assert_eq!(bytes.len(), 10, "an error frame, got {bytes:?}");
    assert_eq!(i32::from_be_bytes(bytes[0..4].try_into().unwrap()), 6);
    (
        i32::from_be_bytes(bytes[4..8].try_into().unwrap()),
        i16::from_be_bytes(bytes[8..10].try_into().unwrap()),
    )
}

fn assert_still_serving(broker: &Broker) {
    let admin = kafka::admin(broker);
    kafka::create_topic(&admin, "still-serving", 1);
    kafka::wait_for_topics(&admin, &[("still-serving", 1)]);
}

#[test]
fn bad_requests_get_an_error_or_a_closed_connection_and_the_broker_keeps_serving() {
    let broker = Broker::start("bad_input", 2);

    // Unknown API key: UNSUPPORTED_VERSION (35) with the correlation id, then closed.
    let mut stream = connect(&broker);
    stream.write_all(&frame(999, 0, 7, &[])).unwrap();
    assert_eq!(error_frame(&read_until_closed(&mut stream)), (7, 35));

    // A version outside every supported range (Produce v2 and older are not served).
    let mut stream = connect(&broker);
    stream.write_all(&frame(0, 2, 8, &[])).unwrap();
    assert_eq!(error_frame(&read_until_closed(&mut stream)), (8, 35));

    // A Produce v3 declaring 2^31-1 topics in a few bytes: INVALID_REQUEST (42), no allocation.
    let mut body = Vec::new();
    body.extend_from_slice(&(-1i16).to_be_bytes()); // transactional id: null
    body.extend_from_slice(&1i16.to_be_bytes()); // acks
    body.extend_from_slice(&1000i32.to_be_bytes()); // timeout
    body.extend_from_slice(&i32::MAX.to_be_bytes()); // topic count
    let mut stream = connect(&broker);
    stream.write_all(&frame(0, 3, 9, &body)).unwrap();
    assert_eq!(error_frame(&read_until_closed(&mut stream)), (9, 42));

    // A truncated request body: the header is readable, the body is not.
    let mut stream = connect(&broker);
    stream.write_all(&frame(3, 1, 10, &[0, 0])).unwrap();
    assert_eq!(error_frame(&read_until_closed(&mut stream)), (10, 42));

    // A frame too short for a request header: closed without an answer.
    let mut stream = connect(&broker);
    stream.write_all(&[0, 0, 0, 3, 1, 2, 3]).unwrap();
    assert!(read_until_closed(&mut stream).is_empty());

    // A lying length beyond socket.request.max.bytes: closed before anything is allocated.
    let mut stream = connect(&broker);
    stream.write_all(&i32::MAX.to_be_bytes()).unwrap();
    stream.write_all(b"garbage").unwrap();
    assert!(read_until_closed(&mut stream).is_empty());

    // A negative length.
    let mut stream = connect(&broker);
    stream.write_all(&(-5i32).to_be_bytes()).unwrap();
    assert!(read_until_closed(&mut stream).is_empty());

    // Garbage bytes.
    let mut stream = connect(&broker);
    stream
        .write_all(&[0x7f, 0xff, 0xff, 0xff, 0xde, 0xad, 0xbe, 0xef])
        .unwrap();
    assert!(read_until_closed(&mut stream).is_empty());

    // A peer that goes away in the middle of a frame.
    let mut stream = connect(&broker);
    let whole = frame(18, 0, 11, &[]);
    stream.write_all(&whole[..whole.len() - 2]).unwrap();
    drop(stream);

    assert_still_serving(&broker);
    let log = broker.stderr();
    assert!(!log.contains("panicked"), "the broker panicked:\n{log}");
    assert!(
        log.contains("unknown API key 999"),
        "each closed connection logs its cause:\n{log}"
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let broker = Broker::start("pipelined", 2);
    let mut stream = connect(&broker);
    // 50 ApiVersions v0 requests written at once; the answers must come back in order.
    let mut requests = Vec::new();
    for correlation_id in 0..50 {
        requests.extend_from_slice(&frame(18, 0, correlation_id, &[]));
    }
    stream.write_all(&requests).unwrap();
    for expected in 0..50 {
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).unwrap();
        let mut response = vec![0u8; i32::from_be_bytes(size) as usize];
        stream.read_exact(&mut response).unwrap();
        let correlation_id = i32::from_be_bytes(response[0..4].try_into().unwrap());
        assert_eq!(correlation_id, expected);
        assert_eq!(i16::from_be_bytes(response[4..6].try_into().unwrap()), 0);
    }
}

#[test]
fn a_quick_request_behind_a_long_poll_is_answered_after_it() {
    let broker = Broker::start("ordering", 1);
    let admin = kafka::admin(&broker);
    kafka::create_topic(&admin, "quiet", 1);
    kafka::wait_for_topics(&admin, &[("quiet", 1)]);
    // Fetch v4 on an empty partition, waiting up to 300 ms for a byte; then ApiVersions,
    // which the broker finishes first but must answer second.
    let mut fetch = Vec::new();
    fetch.extend_from_slice(&(-1i32).to_be_bytes()); // replica id
    fetch.extend_from_slice(&300i32.to_be_bytes()); // max wait ms
    fetch.extend_from_slice(&1i32.to_be_bytes()); // min bytes
    fetch.extend_from_slice(&(1i32 << 20).to_be_bytes()); // max bytes
    fetch.push(0); // isolation level
    fetch.extend_from_slice(&1i32.to_be_bytes()); // one topic
    fetch.extend_from_slice(&5i16.to_be_bytes());
    fetch.extend_from_slice(b"quiet");
    fetch.extend_from_slice(&1i32.to_be_bytes()); // one partition
    fetch.extend_from_slice(&0i32.to_be_bytes()); // partition 0
    fetch.extend_from_slice(&0i64.to_be_bytes()); // fetch offset
    fetch.extend_from_slice(&(1i32 << 20).to_be_bytes()); // partition max bytes
    let mut stream = connect(&broker);
    let mut both = frame(1, 4, 100, &fetch);
    both.extend_from_slice(&frame(18, 0, 101, &[]));
    stream.write_all(&both).unwrap();
    let mut order = Vec::new();
    for _ in 0..2 {
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).unwrap();
        let mut response = vec![0u8; i32::from_be_bytes(size) as usize];
        stream.read_exact(&mut response).unwrap();
        order.push(i32::from_be_bytes(response[0..4].try_into().unwrap()));
    }
    assert_eq!(order, [100, 101]);
}
