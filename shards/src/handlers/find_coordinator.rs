//! FindCoordinator: this broker coordinates every group (the shard that owns a group's
//! `__consumer_offsets` partition serves it, reached through the mesh). Transactions and share
//! groups are not implemented, so their coordinator keys are refused.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::find_coordinator_response::Coordinator;
use pinlog_protocol::generated::{FindCoordinatorRequest, FindCoordinatorResponse, ResponseBody};

use crate::shard::Shard;

/// FindCoordinator batches keys from v4.
const BATCHED_VERSION: i16 = 4;
const KEY_TYPE_GROUP: i8 = 0;

pub fn handle(shard: &Rc<Shard>, request: FindCoordinatorRequest, version: i16) -> ResponseBody {
    let (host, port) = shard.config().advertised();
    let node_id = shard.config().node_id;
    let (error, message) = if request.key_type == KEY_TYPE_GROUP {
        (ErrorCode::None, None)
    } else {
        (
            ErrorCode::CoordinatorNotAvailable,
            Some(format!(
                "coordinator key type {} is not supported: pinlog has no transactions or share groups",
                request.key_type
            )),
        )
    };
    let found = error == ErrorCode::None;
    if version >= BATCHED_VERSION {
        return ResponseBody::FindCoordinator(FindCoordinatorResponse {
            coordinators: request
                .coordinator_keys
                .into_iter()
                .map(|key| Coordinator {
                    key,
                    node_id: if found { node_id } else { -1 },
                    host: if found { host.clone() } else { String::new() },
                    port: if found { port } else { -1 },
                    error_code: error.code(),
                    error_message: message.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
    }
    ResponseBody::FindCoordinator(FindCoordinatorResponse {
        error_code: error.code(),
        error_message: message,
        node_id: if found { node_id } else { -1 },
        host: if found { host } else { String::new() },
        port: if found { port } else { -1 },
        ..Default::default()
    })
}
