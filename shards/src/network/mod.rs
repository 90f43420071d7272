//! Per-shard network: every shard binds the listen address with SO_REUSEPORT (glommio's
//! listener sets it) and the kernel spreads connections; a connection stays on its shard.

mod connection;
mod read_buffer;

use std::rc::Rc;
use std::time::Duration;

use glommio::net::TcpListener;

use crate::error::BrokerError;
use crate::limits::SHUTDOWN_POLL_MS;
use crate::shard::Shard;

/// Refuses an address another process listens on. The shards bind with SO_REUSEPORT, which
/// would let a second broker (another data directory, same user) bind beside the first and
/// take half of its connections; a plain bind first fails with "address in use" instead.
/// Port 0 picks a port per socket, so there is nothing to check.
pub fn check_address_free(address: std::net::SocketAddr) -> Result<(), BrokerError> {
    if address.port() == 0 {
        return Ok(());
    }
    std::net::TcpListener::bind(address)
        .map(drop)
        .map_err(|source| BrokerError::Bind { address, source })
}

pub fn bind(address: std::net::SocketAddr) -> Result<TcpListener, BrokerError> {
    TcpListener::bind(address).map_err(|error| BrokerError::Bind {
        address,
        source: error.into(),
    })
}

/// Accepts connections until the shard shuts down; each connection is a task of its own.
pub async fn accept_loop(shard: Rc<Shard>, listener: TcpListener) {
    let connections = Rc::new(glommio::sync::Gate::new());
    // One accept stays pending across the shutdown polls. Dropping it when the poll's timer
    // won could drop a connection the kernel had already accepted for it: the client's
    // requests then went unanswered until its own timeout.
    let mut accept = Box::pin(listener.accept());
    loop {
        let accepted = futures::future::select(
            &mut accept,
            Box::pin(glommio::timer::sleep(Duration::from_millis(
                SHUTDOWN_POLL_MS,
            ))),
        )
        .await;
        if shard.is_shutting_down() {
            break;
        }
        let stream = match accepted {
            futures::future::Either::Left((result, _)) => {
                accept = Box::pin(listener.accept());
                match result {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::warn!(shard = shard.id(), "accept failed: {error}");
                        glommio::timer::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
            }
            futures::future::Either::Right(_) => continue,
        };
        let shard = shard.clone();
        // A dropped task is a cancelled one: detach it; the gate still tracks it.
        match connections.spawn(async move { connection::serve(shard, stream).await }) {
            Ok(task) => {
                task.detach();
            }
            Err(error) => tracing::warn!("connection not served: {error}"),
        }
    }
    // Stop accepting first, then wait for the open connections to finish what they read.
    drop(accept);
    drop(listener);
    let drained = futures::future::select(
        Box::pin(connections.close()),
        Box::pin(glommio::timer::sleep(Duration::from_millis(
            crate::limits::SHUTDOWN_DRAIN_MS_MAX,
        ))),
    )
    .await;
    if let futures::future::Either::Right(_) = drained {
        tracing::warn!(
            shard = shard.id(),
            "connections still busy at shutdown; closing anyway"
        );
    }
}
