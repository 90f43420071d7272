//! `pinlog cluster info`: the cluster id, the controller and the brokers (DescribeCluster),
//! the topic and partition counts (Metadata), and the API versions the bootstrap broker
//! advertises (ApiVersions).

use pinlog_protocol::generated::ApiKey;
use serde::Serialize;

use crate::client::{Client, ClientError};
use crate::common::Common;
use crate::table;

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Cluster id, controller, brokers and the API versions the broker serves.
    Info(InfoArgs),
}

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Serialize)]
struct Info {
    cluster_id: String,
    controller_id: i32,
    brokers: Vec<Broker>,
    topics: usize,
    partitions: usize,
    api_versions: Vec<ApiRange>,
}

#[derive(Debug, Serialize)]
struct Broker {
    id: i32,
    host: String,
    port: i32,
    rack: Option<String>,
}

#[derive(Debug, Serialize)]
struct ApiRange {
    /// The API's name, or `unknown` for a key this build does not know.
    api: String,
    key: i16,
    min_version: i16,
    max_version: i16,
}

pub fn run(command: &ClusterCommand) -> Result<(), ClusterError> {
    let ClusterCommand::Info(args) = command;
    let mut client = Client::connect(&args.common.bootstrap)?;
    let cluster = client.describe_cluster()?;
    let metadata = client.metadata(None)?;
    let versions = client.api_versions()?;
    let mut brokers: Vec<Broker> = cluster
        .brokers
        .into_iter()
        .map(|b| Broker {
            id: b.broker_id,
            host: b.host,
            port: b.port,
            rack: b.rack,
        })
        .collect();
    brokers.sort_by_key(|b| b.id);
    let info = Info {
        cluster_id: cluster.cluster_id,
        controller_id: cluster.controller_id,
        brokers,
        topics: metadata.topics.len(),
        partitions: metadata.topics.iter().map(|t| t.partitions.len()).sum(),
        api_versions: versions
            .into_iter()
            .map(|v| ApiRange {
                api: ApiKey::from_i16(v.api_key)
                    .map_or("unknown", ApiKey::name)
                    .to_string(),
                key: v.api_key,
                min_version: v.min_version,
                max_version: v.max_version,
            })
            .collect(),
    };
    if args.common.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    print_text(&info);
    Ok(())
}

fn print_text(info: &Info) {
    println!("Cluster: {}", info.cluster_id);
    println!("Controller: {}", info.controller_id);
    println!("Topics: {} ({} partitions)", info.topics, info.partitions);
    println!();
    let rows: Vec<Vec<String>> = info
        .brokers
        .iter()
        .map(|b| {
            vec![
                b.id.to_string(),
                b.host.clone(),
                b.port.to_string(),
                b.rack.clone().unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(&["BROKER", "HOST", "PORT", "RACK"], &rows)
    );
    println!();
    let rows: Vec<Vec<String>> = info
        .api_versions
        .iter()
        .map(|v| {
            vec![
                v.api.clone(),
                v.key.to_string(),
                v.min_version.to_string(),
                v.max_version.to_string(),
            ]
        })
        .collect();
    print!("{}", table::render(&["API", "KEY", "MIN", "MAX"], &rows));
}
