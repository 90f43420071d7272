//! Per-shard network: every shard binds the listen address with SO_REUSEPORT (glommio's
//! listener sets it) and the kernel spreads connections; a connection stays on its shard.

mod connection;
mod read_buffer;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use glommio::net::TcpListener;

use crate::error::BrokerError;
use crate::limits::{
    LISTEN_PROBE_ATTEMPTS, LISTEN_PROBE_INTERVAL_MS, LISTEN_PROBE_TIMEOUT_MS, SHUTDOWN_POLL_MS,
};
use crate::shard::Shard;

/// Refuses an address another process listens on. The shards bind with SO_REUSEPORT, which
/// would let a second broker (another data directory, same user) bind beside the first and
/// take half of its connections. A bind test cannot tell (the previous run's connections in
/// TIME_WAIT conflict with any bind without SO_REUSEPORT, and one with it passes beside a live
/// broker too), so this connects: an answer means a listener. Port 0 picks a port per socket:
/// nothing to check.
pub fn check_address_free(address: SocketAddr) -> Result<(), BrokerError> {
    if address.port() == 0 {
        return Ok(());
    }
    let probe = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), address.port())
        }
        _ => address,
    };
    let timeout = Duration::from_millis(LISTEN_PROBE_TIMEOUT_MS);
    // A process killed a moment ago still listens until io_uring drops its pending accept (the
    // ring is torn down after the process is gone): only a listener that keeps answering is
    // another broker.
    for _ in 0..LISTEN_PROBE_ATTEMPTS {
        if std::net::TcpStream::connect_timeout(&probe, timeout).is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(LISTEN_PROBE_INTERVAL_MS));
    }
    Err(BrokerError::Bind {
        address,
        source: std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "address in use: another process listens there",
        ),
    })
}

pub fn bind(address: SocketAddr) -> Result<TcpListener, BrokerError> {
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
