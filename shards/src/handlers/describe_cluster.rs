//! DescribeCluster: this broker, which is also the controller.

use std::rc::Rc;

use pinlog_protocol::error_code::ErrorCode;
use pinlog_protocol::generated::describe_cluster_response::DescribeClusterBroker;
use pinlog_protocol::generated::{DescribeClusterRequest, DescribeClusterResponse, ResponseBody};

use crate::shard::Shard;

/// DescribeCluster v1's endpoint types: 1 brokers, 2 controllers.
const ENDPOINT_TYPE_BROKERS: i8 = 1;

pub fn handle(shard: &Rc<Shard>, request: DescribeClusterRequest) -> ResponseBody {
    let (host, port) = shard.config().advertised();
    let node_id = shard.config().node_id;
    let endpoint_type = request.endpoint_type;
    let (error, message) = if matches!(endpoint_type, ENDPOINT_TYPE_BROKERS | 2) {
        (ErrorCode::None, None)
    } else {
        (
            ErrorCode::UnsupportedEndpointType,
            Some(format!("endpoint type {endpoint_type} is unknown")),
        )
    };
    ResponseBody::DescribeCluster(DescribeClusterResponse {
        error_code: error.code(),
        error_message: message,
        endpoint_type,
        cluster_id: shard.metadata().cluster_id.clone(),
        controller_id: node_id,
        brokers: vec![DescribeClusterBroker {
            broker_id: node_id,
            host,
            port,
            rack: None,
            ..Default::default()
        }],
        ..Default::default()
    })
}
