//! InitProducerId for idempotent producers: a producer id never handed out before (ids come
//! in blocks recorded in the metadata log, so they survive restarts), or, when the client
//! names its current id and epoch (KIP-360), the same id with the epoch bumped.
//! Transactions are not implemented: a transactional id is refused.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::{InitProducerIdRequest, InitProducerIdResponse, ResponseBody};

use crate::shard::Shard;

/// The largest epoch; a producer at it gets a fresh id instead of a bump, as Kafka does.
const EPOCH_MAX: i16 = i16::MAX - 1;

pub async fn handle(shard: &Rc<Shard>, request: InitProducerIdRequest) -> ResponseBody {
    let answer = |error: ErrorCode, producer_id: i64, producer_epoch: i16| {
        ResponseBody::InitProducerId(InitProducerIdResponse {
            error_code: error.code(),
            producer_id,
            producer_epoch,
            ..Default::default()
        })
    };
    if request.transactional_id.is_some() {
        return answer(ErrorCode::TransactionalIdAuthorizationFailed, -1, -1);
    }
    let bump = request.producer_id >= 0 && (0..EPOCH_MAX).contains(&request.producer_epoch);
    if bump {
        return answer(
            ErrorCode::None,
            request.producer_id,
            request.producer_epoch + 1,
        );
    }
    if request.producer_id >= 0 && request.producer_epoch < 0 {
        return answer(ErrorCode::InvalidProducerEpoch, -1, -1);
    }
    match shard.new_producer_id().await {
        Ok(producer_id) => answer(ErrorCode::None, producer_id, 0),
        Err(error) => answer(error, -1, -1),
    }
}
