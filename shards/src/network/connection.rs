//! One client connection: read frames, serve each request as a task of its own (so pipelined
//! requests run concurrently), and write responses strictly in request order.
//!
//! Order: the reader queues, per request, the receiving end of its response in a bounded
//! channel; the writer takes them in that order and waits for each. Back-pressure: a request's
//! bytes hold permits of the shard's in-flight budget until its response is written, and the
//! reader takes the permits before reading on, so a shard over budget stops reading sockets.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use futures::channel::oneshot;
use futures::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::net::TcpStream;
use glommio::sync::StaticPermit;
use pinlog_protocol::frame::FRAME_PREFIX_BYTES;

use super::read_buffer::ReadBuffer;
use crate::handlers::{self, Outcome};
use crate::limits::{
    CONNECTION_READ_BUFFER_BYTES, CONNECTION_REQUESTS_IN_FLIGHT_MAX, SHUTDOWN_POLL_MS,
};
use crate::shard::Shard;

/// Responses smaller than this are copied into one buffer and written together; larger
/// chunks (record data) are written from where they are.
const COALESCE_BYTES_MAX: usize = 16 * 1024;

struct Reply {
    outcome: Outcome,
    /// Held until the response is written: the request's share of the shard's budget.
    budget: StaticPermit,
}

type Slot = oneshot::Receiver<Reply>;

pub async fn serve(shard: Rc<Shard>, stream: TcpStream) {
    let peer_address = stream.peer_addr().ok();
    let peer = peer_address.map_or_else(|| "unknown peer".into(), |a| a.to_string());
    // Kafka reports a member's client host as "/ip".
    let client_host: Rc<str> =
        peer_address.map_or_else(|| "/unknown".into(), |a| format!("/{}", a.ip()).into());
    let _ = stream.set_nodelay(true);
    // Reads wake up now and then so that an idle connection notices a shutdown.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(SHUTDOWN_POLL_MS)));
    let (mut reader, writer) = stream.split();
    let (slots, pending) = local_channel::new_bounded::<Slot>(CONNECTION_REQUESTS_IN_FLIGHT_MAX);
    let closed = Rc::new(Cell::new(false));
    let writer_task = glommio::spawn_local(write_responses(
        writer,
        pending,
        closed.clone(),
        peer.clone(),
    ));
    if let Err(reason) = read_requests(&shard, &mut reader, &slots, &closed, &client_host).await {
        tracing::warn!(shard = shard.id(), %peer, "closing the connection: {reason}");
    }
    drop(slots);
    writer_task.await;
}

async fn read_requests(
    shard: &Rc<Shard>,
    reader: &mut ReadHalf<TcpStream>,
    slots: &LocalSender<Slot>,
    closed: &Cell<bool>,
    client_host: &Rc<str>,
) -> Result<(), String> {
    let frame_bytes_max = shard.config().request_bytes_max;
    let budget_max = shard.config().shard_inflight_bytes_max as u64;
    let mut buf = ReadBuffer::with_capacity(CONNECTION_READ_BUFFER_BYTES);
    loop {
        while let Some(frame) = buf
            .split_frame(frame_bytes_max)
            .map_err(|e| e.to_string())?
        {
            let units = ((frame.len() + FRAME_PREFIX_BYTES) as u64).min(budget_max);
            let Ok(budget) = shard.inflight_bytes().acquire_static_permit(units).await else {
                return Ok(()); // the budget closes only at shutdown
            };
            dispatch(shard, frame, budget, slots, client_host.clone()).await?;
        }
        if closed.get() {
            return Ok(());
        }
        if shard.is_shutting_down() {
            tracing::debug!(shard = shard.id(), "closing a connection at shutdown");
            return Ok(());
        }
        let want = buf
            .bytes_wanted(frame_bytes_max, CONNECTION_READ_BUFFER_BYTES)
            .map_err(|e| e.to_string())?;
        let read = reader.read(buf.spare(want)).await;
        buf.commit(*read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => {
                return if buf.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "the peer closed the connection inside a request ({} bytes read)",
                        buf.len()
                    ))
                };
            }
            Ok(_) => {}
            Err(error) if is_timeout(&error) => {}
            Err(error) => return Err(format!("reading: {error}")),
        }
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    )
}

async fn dispatch(
    shard: &Rc<Shard>,
    frame: Bytes,
    budget: StaticPermit,
    slots: &LocalSender<Slot>,
    client_host: Rc<str>,
) -> Result<(), String> {
    let (sender, receiver) = oneshot::channel();
    slots
        .send(receiver)
        .await
        .map_err(|_| "the response writer stopped".to_string())?;
    let shard = shard.clone();
    glommio::spawn_local(async move {
        let outcome = handlers::handle(&shard, frame, &client_host).await;
        let _ = sender.send(Reply { outcome, budget });
    })
    .detach();
    Ok(())
}

async fn write_responses(
    mut writer: WriteHalf<TcpStream>,
    pending: LocalReceiver<Slot>,
    closed: Rc<Cell<bool>>,
    peer: String,
) {
    let mut out: Vec<u8> = Vec::with_capacity(COALESCE_BYTES_MAX);
    while let Some(slot) = pending.recv().await {
        let Ok(reply) = slot.await else {
            continue;
        };
        let (chunks, close_reason) = match reply.outcome {
            Outcome::Respond(chunks) => (chunks, None),
            Outcome::Silent => (Vec::new(), None),
            Outcome::Close { response, reason } => (response.unwrap_or_default(), Some(reason)),
        };
        if let Err(error) = write_chunks(&mut writer, &mut out, chunks).await {
            tracing::warn!(%peer, "closing the connection: writing: {error}");
            closed.set(true);
            break;
        }
        drop(reply.budget);
        if let Some(reason) = close_reason {
            tracing::warn!(%peer, "closing the connection: {reason}");
            closed.set(true);
            break;
        }
    }
    let _ = writer.close().await;
    // Whatever is still queued is dropped with its budget permits.
    drop(pending);
}

async fn write_chunks(
    writer: &mut WriteHalf<TcpStream>,
    out: &mut Vec<u8>,
    chunks: Vec<Bytes>,
) -> std::io::Result<()> {
    for chunk in chunks {
        if chunk.len() < COALESCE_BYTES_MAX {
            if out.len() + chunk.len() > COALESCE_BYTES_MAX {
                writer.write_all(out).await?;
                out.clear();
            }
            out.extend_from_slice(&chunk);
        } else {
            if !out.is_empty() {
                writer.write_all(out).await?;
                out.clear();
            }
            writer.write_all(&chunk).await?;
        }
    }
    if !out.is_empty() {
        writer.write_all(out).await?;
        out.clear();
    }
    Ok(())
}
