//! HTTPS listener that serves an axum [`Router`] over rustls.
//!
//! `axum::serve` only accepts plain TCP, so this loop accepts TCP, performs
//! the TLS handshake with tokio-rustls and hands the stream to hyper-util's
//! HTTP/1.1 + HTTP/2 connection builder. Two things that `axum::serve` would
//! do are done here by hand: each request gets the peer address as
//! [`ConnectInfo<SocketAddr>`], and HTTP/2 requests get a `Host` header from
//! their `:authority`, so handlers see the same headers on both versions.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::header::HOST;
use axum::http::{HeaderValue, Request};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

/// Time a client has to finish the TLS handshake before the connection is
/// dropped, so that idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Time open connections get to finish their requests after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Pause after an accept error that is not about a single connection (for
/// example too many open files), so the loop does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `app` over TLS on `listener` until `shutdown` completes.
///
/// Handlers can extract [`ConnectInfo<SocketAddr>`] with the client's
/// address, as with `into_make_service_with_connect_info::<SocketAddr>`.
/// Handshake failures, such as an SNI name the resolver rejects, end only
/// that connection. After `shutdown` completes, the listener stops
/// accepting, and open connections get up to ten seconds to finish.
///
/// Returns an error only if the listener's local address cannot be read.
/// Accept errors are logged and retried, because they are usually transient.
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local_addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(config);
    let builder = crate::limits::connection_builder(&crate::limits::Limits::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    tracing::debug!(%local_addr, "TLS listener started");

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(connection) => connection,
            Err(error) if is_connection_error(&error) => {
                tracing::debug!(%local_addr, %error, "accept failed for one connection");
                continue;
            }
            Err(error) => {
                tracing::error!(%local_addr, %error, "accept failed, retrying in 1 s");
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };

        let acceptor = acceptor.clone();
        let builder = builder.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Some(tls) = handshake(&acceptor, tcp, peer).await else {
                return;
            };
            let service = service_fn(move |request: Request<Incoming>| {
                let mut router = app.clone();
                router.call(prepare_request(request, peer))
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, %error, "HTTPS connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::debug!(%local_addr, open = graceful.count(), "TLS listener stopping");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(%local_addr, "HTTPS connections still open after the shutdown grace period");
    }
    Ok(())
}

async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => Some(tls),
        // Per-connection client errors (wrong CA, rejected SNI, port scans)
        // go to debug, because the client sees them itself and the resolver
        // already warns about rejected names.
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out after 10 s");
            None
        }
    }
}

/// Adds the peer address and, for HTTP/2, the `Host` header.
fn prepare_request(mut request: Request<Incoming>, peer: SocketAddr) -> Request<Incoming> {
    request.extensions_mut().insert(ConnectInfo(peer));
    if !request.headers().contains_key(HOST) {
        let authority = request
            .uri()
            .authority()
            .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok());
        if let Some(authority) = authority {
            request.headers_mut().insert(HOST, authority);
        }
    }
    request
}

/// Returns true for errors that concern one incoming connection only, after
/// which accepting the next one can go on at once.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
