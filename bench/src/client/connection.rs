//! One pipelined connection: a writer task sends queued frames in order, a reader task hands
//! each response frame to the call waiting for its correlation id.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::channel::oneshot;
use futures::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::net::TcpStream;
use glommio::sync::Semaphore;
use pinlog_protocol::frame::{split_frame, FRAME_PREFIX_BYTES};
use pinlog_protocol::generated::{
    ApiKey, RequestBody, RequestHeader, ResponseBody, ResponseHeader,
};
use pinlog_protocol::header::encode_request;
use pinlog_protocol::wire::{Message, Reader};

use super::{
    ClientError, COALESCE_BYTES_MAX, CONNECT_TIMEOUT_MS, READ_CHUNK_BYTES, REQUESTS_IN_FLIGHT_MAX,
    RESPONSE_BYTES_MAX, RESPONSE_GRACE_MS,
};

type ResponseSender = oneshot::Sender<Result<Bytes, ClientError>>;

/// A request frame on its way to the writer; `written` fires once it is on the socket.
struct Outgoing {
    chunks: Vec<Bytes>,
    written: Option<oneshot::Sender<()>>,
}

/// What the reader task and the calls share.
struct Shared {
    address: String,
    pending: RefCell<HashMap<i32, ResponseSender>>,
    /// Why the connection stopped working, once it has.
    broken: RefCell<Option<String>>,
}

impl Shared {
    fn fail(&self, reason: String) {
        let error = ClientError::Broken {
            address: self.address.clone(),
            reason: reason.clone(),
        };
        self.broken.borrow_mut().get_or_insert(reason);
        for (_, waiter) in self.pending.borrow_mut().drain() {
            let _ = waiter.send(Err(error.clone()));
        }
    }

    fn check(&self) -> Result<(), ClientError> {
        match &*self.broken.borrow() {
            Some(reason) => Err(ClientError::Broken {
                address: self.address.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// A connection to one broker, shared by the tasks of one executor. Dropping the last `Rc`
/// closes the socket's write side; the reader task ends when the broker closes.
pub struct Connection {
    shared: Rc<Shared>,
    client_id: String,
    outgoing: LocalSender<Outgoing>,
    slots: Semaphore,
    next_correlation_id: Cell<i32>,
}

impl Connection {
    /// Connects to the first of a bootstrap list (`host:port[,host:port...]`, Kafka's
    /// `bootstrap.servers`) that answers, trying them in order.
    pub async fn connect_bootstrap(
        bootstrap: &str,
        client_id: &str,
    ) -> Result<Rc<Connection>, ClientError> {
        let mut last_error = None;
        for address in bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match Connection::connect(address, client_id).await {
                Ok(connection) => return Ok(connection),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| ClientError::Connect {
            address: bootstrap.to_string(),
            reason: "no broker address given".to_string(),
        }))
    }

    /// Connects to `address` (`host:port`) and starts the reader and writer tasks on the
    /// current glommio executor.
    pub async fn connect(address: &str, client_id: &str) -> Result<Rc<Connection>, ClientError> {
        let connect_error = |reason: String| ClientError::Connect {
            address: address.to_string(),
            reason,
        };
        let socket_address = std::net::ToSocketAddrs::to_socket_addrs(address)
            .map_err(|error| connect_error(error.to_string()))?
            .next()
            .ok_or_else(|| connect_error("the name resolves to no address".to_string()))?;
        let stream =
            TcpStream::connect_timeout(socket_address, Duration::from_millis(CONNECT_TIMEOUT_MS))
                .await
                .map_err(|error| connect_error(error.to_string()))?;
        stream
            .set_nodelay(true)
            .map_err(|error| connect_error(error.to_string()))?;
        let (reader, writer) = stream.split();
        let shared = Rc::new(Shared {
            address: address.to_string(),
            pending: RefCell::new(HashMap::new()),
            broken: RefCell::new(None),
        });
        let (outgoing, queue) = local_channel::new_bounded(REQUESTS_IN_FLIGHT_MAX);
        glommio::spawn_local(write_frames(writer, queue, shared.clone())).detach();
        glommio::spawn_local(read_frames(reader, shared.clone())).detach();
        Ok(Rc::new(Connection {
            shared,
            client_id: client_id.to_string(),
            outgoing,
            slots: Semaphore::new(REQUESTS_IN_FLIGHT_MAX as u64),
            next_correlation_id: Cell::new(1),
        }))
    }

    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// Sends `body` at `version` and waits up to `wait_ms` plus [`RESPONSE_GRACE_MS`] for the
    /// response.
    pub async fn call(
        &self,
        version: i16,
        body: RequestBody,
        wait_ms: u64,
    ) -> Result<ResponseBody, ClientError> {
        let api = body.api_key();
        let _slot = self
            .slots
            .acquire_permit(1)
            .await
            .map_err(|_| self.closed())?;
        let (correlation_id, chunks) = self.encode(version, &body)?;
        let (sender, receiver) = oneshot::channel();
        self.shared.check()?;
        self.shared
            .pending
            .borrow_mut()
            .insert(correlation_id, sender);
        if let Err(error) = self.enqueue(chunks, None).await {
            self.shared.pending.borrow_mut().remove(&correlation_id);
            return Err(error);
        }
        let waited_ms = wait_ms + RESPONSE_GRACE_MS;
        let answered = glommio::timer::timeout(Duration::from_millis(waited_ms), async {
            Ok(receiver.await)
        })
        .await;
        let frame = match answered {
            Ok(Ok(result)) => result?,
            Ok(Err(_)) => return Err(self.closed()),
            Err(_) => {
                self.shared.pending.borrow_mut().remove(&correlation_id);
                return Err(ClientError::Timeout {
                    address: self.address().to_string(),
                    api,
                    waited_ms,
                });
            }
        };
        self.decode(api, version, frame)
    }

    /// Sends `body`, which the broker does not answer (Produce with acks=0); resolves once the
    /// frame is on the socket.
    pub async fn send_unanswered(
        &self,
        version: i16,
        body: RequestBody,
    ) -> Result<(), ClientError> {
        let _slot = self
            .slots
            .acquire_permit(1)
            .await
            .map_err(|_| self.closed())?;
        let (_, chunks) = self.encode(version, &body)?;
        self.shared.check()?;
        let (sender, receiver) = oneshot::channel();
        self.enqueue(chunks, Some(sender)).await?;
        // A broker that stops reading without closing would block the write for minutes.
        let written = glommio::timer::timeout(Duration::from_millis(RESPONSE_GRACE_MS), async {
            Ok(receiver.await)
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(self.closed()),
            Err(_) => {
                self.shared.fail(format!(
                    "a request was not written within {RESPONSE_GRACE_MS} ms"
                ));
                Err(self.closed())
            }
        }
    }

    fn encode(&self, version: i16, body: &RequestBody) -> Result<(i32, Vec<Bytes>), ClientError> {
        let correlation_id = self.next_correlation_id.get();
        self.next_correlation_id
            .set(correlation_id.wrapping_add(1).max(1));
        let header = RequestHeader {
            request_api_key: body.api_key() as i16,
            request_api_version: version,
            correlation_id,
            client_id: Some(self.client_id.clone()),
            ..Default::default()
        };
        let chunks = encode_request(&header, body).map_err(|error| ClientError::Encode {
            api: body.api_key(),
            reason: error.to_string(),
        })?;
        Ok((correlation_id, chunks))
    }

    async fn enqueue(
        &self,
        chunks: Vec<Bytes>,
        written: Option<oneshot::Sender<()>>,
    ) -> Result<(), ClientError> {
        self.outgoing
            .send(Outgoing { chunks, written })
            .await
            .map_err(|_| self.closed())
    }

    fn decode(&self, api: ApiKey, version: i16, frame: Bytes) -> Result<ResponseBody, ClientError> {
        let decode_error = |reason: String| ClientError::Decode {
            address: self.address().to_string(),
            api,
            reason,
        };
        let mut reader = Reader::new(frame, ResponseHeader::NAME, version);
        ResponseHeader::decode(&mut reader, api.response_header_version(version))
            .map_err(|error| decode_error(error.to_string()))?;
        ResponseBody::decode(api, &mut reader, version)
            .map_err(|error| decode_error(error.to_string()))
    }

    fn closed(&self) -> ClientError {
        ClientError::Broken {
            address: self.address().to_string(),
            reason: self
                .shared
                .broken
                .borrow()
                .clone()
                .unwrap_or_else(|| "the connection closed".to_string()),
        }
    }
}

async fn write_frames(
    mut writer: WriteHalf<TcpStream>,
    queue: LocalReceiver<Outgoing>,
    shared: Rc<Shared>,
) {
    let mut gathered: Vec<u8> = Vec::with_capacity(COALESCE_BYTES_MAX);
    while let Some(outgoing) = queue.recv().await {
        if let Err(error) = write_chunks(&mut writer, &mut gathered, &outgoing.chunks).await {
            shared.fail(format!("writing: {error}"));
            break;
        }
        if let Some(written) = outgoing.written {
            let _ = written.send(());
        }
    }
    let _ = writer.close().await;
}

async fn write_chunks(
    writer: &mut WriteHalf<TcpStream>,
    gathered: &mut Vec<u8>,
    chunks: &[Bytes],
) -> std::io::Result<()> {
    for chunk in chunks {
        if gathered.len() + chunk.len() <= COALESCE_BYTES_MAX {
            gathered.extend_from_slice(chunk);
            continue;
        }
        if !gathered.is_empty() {
            writer.write_all(gathered).await?;
            gathered.clear();
        }
        if chunk.len() <= COALESCE_BYTES_MAX {
            gathered.extend_from_slice(chunk);
        } else {
            writer.write_all(chunk).await?;
        }
    }
    if !gathered.is_empty() {
        writer.write_all(gathered).await?;
        gathered.clear();
    }
    Ok(())
}

async fn read_frames(mut reader: ReadHalf<TcpStream>, shared: Rc<Shared>) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    // Reads land here and are copied into `buf`: zeroing `buf`'s spare room before every
    // read would cost more than the copy (most reads are small produce acknowledgements).
    let mut landing = vec![0u8; READ_CHUNK_BYTES];
    let reason = loop {
        loop {
            match split_frame(&mut buf, RESPONSE_BYTES_MAX) {
                Ok(Some(frame)) => deliver(&shared, frame),
                Ok(None) => break,
                Err(error) => {
                    shared.fail(format!("reading a response: {error}"));
                    return;
                }
            }
        }
        match reader.read(&mut landing).await {
            Ok(0) => break "the broker closed the connection".to_string(),
            Ok(read) => buf.extend_from_slice(&landing[..read]),
            Err(error) => break format!("reading: {error}"),
        }
    };
    shared.fail(reason);
}

/// Hands `frame` to the call waiting for its correlation id; a frame nobody waits for (its
/// call timed out) is dropped.
fn deliver(shared: &Shared, frame: Bytes) {
    let Some(id) = frame.get(..FRAME_PREFIX_BYTES) else {
        shared.fail(format!(
            "a {}-byte response frame has no header",
            frame.len()
        ));
        return;
    };
    let correlation_id = i32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    if let Some(waiter) = shared.pending.borrow_mut().remove(&correlation_id) {
        let _ = waiter.send(Ok(frame));
    }
}
