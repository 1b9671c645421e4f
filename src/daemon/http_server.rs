//! The daemon's HTTP accept loop. axum's own `serve` sets no header-read
//! timeout and no connection cap, so a client that connects and says nothing,
//! or sends its headers a byte at a time, held a descriptor forever. Here:
//! at most `max_connections` at once (one more is closed at once), every
//! request's headers — the first, and each on an idle keep-alive connection —
//! must arrive within `header_timeout`, and bodies are read under the same
//! bound (api::read_body). On shutdown, accepting stops, open connections are
//! told to finish their request and close, and the wait for them is bounded.
//! docs/SECURITY.md lists these defences.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::tls::HANDSHAKE_TIMEOUT;

/// What bounds the daemon's connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// How long open connections get to end after shutdown begins.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Serves `app` on connections to `listener` (over TLS with `tls`) until
/// `shutdown` resolves. A connection takes its slot when accepted, before
/// any TLS handshake, so silent TLS clients count against the cap too.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "connection refused: the daemon's connection cap is reached");
            drop(tcp);
            continue;
        };
        let (app, tls, stopping) = (app.clone(), tls.clone(), stopping.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_one(tcp, peer, app, limits, stopping).await,
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(io)) => serve_one(io, peer, app, limits, stopping).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake not finished in time"),
                },
            }
            drop(slot);
        });
    }
    let _ = stop.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(CLOSE_WAIT + Duration::from_secs(1), slots.acquire_many(all)).await;
}

/// One connection, its requests' headers each due within the header timeout.
async fn serve_one<Io>(
    io: Io,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CLOSE_WAIT, connection).await;
        }
    }
}
