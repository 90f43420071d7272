//! The channel mesh between shards: requests for partitions (or metadata) that another shard
//! owns, and their replies.
//!
//! Every shard has a bounded lock-free channel to every other shard (glommio's full mesh). A
//! request carries an id; the receiving shard runs it as a task of its own and sends the reply
//! back with the same id; the sender's pending table hands the reply to the waiting future.
//! Receive loops never wait on a send, so two shards filling each other's channels cannot
//! deadlock.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::oneshot;
use glommio::channels::channel_mesh::{Receivers, Senders};
use glommio::sync::Semaphore;

use crate::controller::{ControllerReply, ControllerRequest};
use crate::group_manager::{GroupReply, GroupRequest};
use crate::limits::MESH_PENDING_REPLIES_MAX;
use crate::metadata::MetadataRecord;
use crate::partition_ops::{PartitionResult, PartitionTask, WaitTarget};

/// What one shard asks another.
#[derive(Debug)]
pub enum ShardRequest {
    /// Operations on partitions the receiver owns; answered in the same order.
    Partitions(Vec<PartitionTask>),
    /// Answer when any of these partitions has data at its offset, or after `max_wait_ms`.
    WaitForData {
        targets: Vec<WaitTarget>,
        max_wait_ms: u64,
    },
    /// A cluster metadata change, for the controller (shard 0).
    Controller(ControllerRequest),
    /// The controller's applied records, for every other shard.
    Apply(Vec<MetadataRecord>),
    /// A consumer-group request, for the shard that coordinates the group.
    Group(GroupRequest),
}

#[derive(Debug)]
pub enum ShardReply {
    Partitions(Vec<PartitionResult>),
    DataReady,
    Controller(ControllerReply),
    Applied,
    Group(GroupReply),
}

#[derive(Debug)]
pub enum MeshMessage {
    Request { id: u64, request: ShardRequest },
    Reply { id: u64, reply: ShardReply },
}

/// The mesh as one shard sees it.
pub struct Mesh {
    senders: Senders<MeshMessage>,
    pending: RefCell<HashMap<u64, oneshot::Sender<ShardReply>>>,
    pending_slots: Rc<Semaphore>,
    next_id: Cell<u64>,
}

/// The peer shard is gone (the process is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("shard {0} does not answer")]
pub struct PeerGone(pub usize);

impl Mesh {
    pub fn new(senders: Senders<MeshMessage>) -> Mesh {
        Mesh {
            senders,
            pending: RefCell::new(HashMap::new()),
            pending_slots: Rc::new(Semaphore::new(MESH_PENDING_REPLIES_MAX as u64)),
            next_id: Cell::new(0),
        }
    }

    /// This shard's id in the mesh.
    pub fn shard_id(&self) -> usize {
        self.senders.peer_id()
    }

    pub fn shard_count(&self) -> usize {
        self.senders.nr_consumers()
    }

    /// Sends `request` to shard `to` and waits for its reply.
    pub async fn call(&self, to: usize, request: ShardRequest) -> Result<ShardReply, PeerGone> {
        let _slot = self
            .pending_slots
            .acquire_permit(1)
            .await
            .map_err(|_| PeerGone(to))?;
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let (sender, receiver) = oneshot::channel();
        self.pending.borrow_mut().insert(id, sender);
        if self
            .senders
            .send_to(to, MeshMessage::Request { id, request })
            .await
            .is_err()
        {
            self.pending.borrow_mut().remove(&id);
            return Err(PeerGone(to));
        }
        receiver.await.map_err(|_| PeerGone(to))
    }

    async fn reply(&self, to: usize, id: u64, reply: ShardReply) {
        if self
            .senders
            .send_to(to, MeshMessage::Reply { id, reply })
            .await
            .is_err()
        {
            tracing::debug!(
                shard = self.shard_id(),
                peer = to,
                "reply dropped: peer gone"
            );
        }
    }

    fn deliver(&self, id: u64, reply: ShardReply) {
        let sender = self.pending.borrow_mut().remove(&id);
        match sender {
            Some(sender) => {
                let _ = sender.send(reply);
            }
            None => tracing::warn!(id, "a mesh reply nobody waits for"),
        }
    }

    /// Stops sending: peers' receive loops end.
    pub fn close(&self) {
        self.senders.close();
        self.pending_slots.close();
    }
}

/// Runs the receive loops: one task per peer, each request served by a task of its own.
pub fn spawn_receivers(
    shard: &Rc<crate::shard::Shard>,
    mut receivers: Receivers<MeshMessage>,
) -> Vec<glommio::task::JoinHandle<()>> {
    receivers
        .streams()
        .into_iter()
        .map(|(peer, stream)| {
            let shard = shard.clone();
            glommio::spawn_local(async move {
                while let Some(message) = stream.recv().await {
                    match message {
                        MeshMessage::Request { id, request } => {
                            let shard = shard.clone();
                            glommio::spawn_local(async move {
                                let reply = shard.serve_mesh_request(request).await;
                                shard.mesh().reply(peer, id, reply).await;
                            })
                            .detach();
                        }
                        MeshMessage::Reply { id, reply } => shard.mesh().deliver(id, reply),
                    }
                }
            })
            .detach()
        })
        .collect()
}
