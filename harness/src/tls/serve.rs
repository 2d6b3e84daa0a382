//! HTTPS listener that serves an axum [`Router`] over rustls.
//!
//! `axum::serve` only accepts plain TCP, so this listener accepts TCP in the
//! accept loop it shares with the plain-HTTP listener (the `listener`
//! module), performs the TLS handshake with tokio-rustls and hands the
//! stream to hyper-util's HTTP/1.1 + HTTP/2 connection builder. The shared
//! loop gives each request the peer address, as `axum::serve` would. This
//! module gives HTTP/2 requests a `Host` header from their `:authority`, so
//! handlers see the same headers on both versions.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header::HOST;
use axum::http::{HeaderValue, Request};
use hyper::body::Incoming;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::listener::Transport;

/// Time a client has to finish the TLS handshake before the connection is
/// dropped, so that idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` over TLS on `listener` until `shutdown` completes.
///
/// Handlers can extract
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) with the
/// client's address, as with
/// `into_make_service_with_connect_info::<SocketAddr>`.
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
    let transport = Https(TlsAcceptor::from(config));
    let builder = crate::limits::connection_builder(&crate::limits::Limits::default());
    crate::listener::serve(listener, transport, builder, app, shutdown).await
}

/// HTTPS for the shared accept loop: each connection starts with a TLS
/// handshake.
#[derive(Clone)]
struct Https(TlsAcceptor);

impl Transport for Https {
    type Stream = tokio_rustls::server::TlsStream<TcpStream>;

    const PROTOCOL: &'static str = "HTTPS";

    fn open(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<Self::Stream>> + Send {
        handshake(&self.0, tcp, peer)
    }

    fn prepare(request: Request<Incoming>) -> Request<Incoming> {
        host_from_authority(request)
    }

    fn log_started(local_addr: SocketAddr) {
        tracing::debug!(%local_addr, "TLS listener started");
    }

    fn log_connection_error(local_addr: SocketAddr, error: &std::io::Error) {
        tracing::debug!(%local_addr, %error, "accept failed for one connection");
    }

    fn log_stopping(local_addr: SocketAddr, open: usize) {
        tracing::debug!(%local_addr, open, "TLS listener stopping");
    }
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

/// Adds the `Host` header that HTTP/2 requests carry as `:authority`.
fn host_from_authority(mut request: Request<Incoming>) -> Request<Incoming> {
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
