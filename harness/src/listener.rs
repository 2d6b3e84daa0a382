//! The accept loop of the plain-HTTP and HTTPS listeners: accepting TCP
//! connections, serving each with hyper-util's connection builder in a
//! task of its own, and the graceful shutdown. What differs between the two
//! listeners (how a connection opens, what each request gets before it
//! reaches the router, and some debug lines) comes from a [`Transport`].
//! [`bind`] makes the listening socket, with a larger backlog than tokio's.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tower_service::Service as _;

/// Connections the kernel queues for `accept`. tokio's `TcpListener::bind`
/// requests 128 (mio copies std's value). A test suite that opens a few
/// hundred connections at once overflows that, and each dropped connection
/// attempt is retried only after a second. Linux caps the value at
/// `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Time open connections get to finish their requests after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Pause after an accept error that is not about a single connection (for
/// example too many open files), so the loop does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// The part of a listener that [`serve`] does not share: how an accepted
/// connection becomes the stream hyper reads, and what each request gets.
/// `serve` clones the transport once per connection.
pub(crate) trait Transport: Clone + Send + Sync + 'static {
    /// The stream hyper serves once the connection is open.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The protocol in log lines: `HTTP` or `HTTPS`.
    const PROTOCOL: &'static str;

    /// Opens an accepted connection, or returns `None` when it ends before
    /// hyper gets it (a failed handshake, an oversized head).
    fn open(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<Self::Stream>> + Send;

    /// Adds what this transport's requests need before the router, beyond
    /// the peer address that [`serve`] adds to every request. It runs on
    /// every request, so it must add no allocation, lock or boxing beyond
    /// what the router needs from it. The default adds nothing.
    fn prepare(request: Request<Incoming>) -> Request<Incoming> {
        request
    }

    /// Logs the start of the accept loop. The default logs nothing.
    fn log_started(_local_addr: SocketAddr) {}

    /// Logs an accept error that concerns one connection only, which the
    /// loop skips. The default logs nothing.
    fn log_connection_error(_local_addr: SocketAddr, _error: &io::Error) {}

    /// Logs the end of the accept loop, with the number of connections
    /// still open. The default logs nothing.
    fn log_stopping(_local_addr: SocketAddr, _open: usize) {}
}

/// Binds a listening socket on `addr` with a backlog of
/// [`LISTEN_BACKLOG`], reusing the address as tokio's `bind` does on Unix.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` until `shutdown` completes, opening each
/// connection through `transport` and serving it with `builder`. Each
/// request gets the peer address as [`ConnectInfo<SocketAddr>`], then goes
/// through [`Transport::prepare`] before the router.
///
/// Accept errors that concern one connection are skipped. Other accept
/// errors are logged and retried after a pause, because they are usually
/// transient. After `shutdown` completes, the listener stops accepting,
/// and open connections get up to ten seconds to finish.
///
/// Returns an error only if the listener's local address cannot be read.
pub(crate) async fn serve<T: Transport>(
    listener: TcpListener,
    transport: T,
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let local_addr = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    T::log_started(local_addr);

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(connection) => connection,
            Err(error) if is_connection_error(&error) => {
                T::log_connection_error(local_addr, &error);
                continue;
            }
            Err(error) => {
                tracing::error!(%local_addr, %error, "accept failed, retrying in 1 s");
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };

        let transport = transport.clone();
        let builder = builder.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Some(stream) = transport.open(tcp, peer).await else {
                return;
            };
            let service = service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut router = app.clone();
                router.call(T::prepare(request))
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, %error, "{} connection ended with an error", T::PROTOCOL);
            }
        });
    }

    drop(listener);
    T::log_stopping(local_addr, graceful.count());
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            %local_addr,
            "{} connections still open after the shutdown grace period",
            T::PROTOCOL
        );
    }
    Ok(())
}

/// Returns true for errors that concern one incoming connection only, after
/// which accepting the next one can go on at once.
fn is_connection_error(error: &io::Error) -> bool {
    use io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Plain TCP, with the peer address added to each request.
    #[derive(Clone)]
    struct Tcp;

    impl Transport for Tcp {
        type Stream = TcpStream;

        const PROTOCOL: &'static str = "HTTP";

        fn open(
            &self,
            tcp: TcpStream,
            _peer: SocketAddr,
        ) -> impl Future<Output = Option<TcpStream>> + Send {
            std::future::ready(Some(tcp))
        }
    }

    /// Starts `serve` with [`Tcp`] on a loopback port and a router that
    /// returns the peer address. Returns the address, the shutdown sender
    /// and the server task.
    async fn start() -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let builder = crate::limits::connection_builder(&crate::limits::Limits::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, Tcp, builder, app, async {
            let _ = stopped.await;
        }));
        (addr, stop, task)
    }

    /// Sends one GET on `tcp`, keeping the connection open, and returns the
    /// reply.
    async fn get_root(tcp: &mut TcpStream) -> String {
        tcp.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut reply = Vec::new();
        let mut chunk = [0u8; 1024];
        while !String::from_utf8_lossy(&reply).contains("\r\n\r\n127.0.0.1:") {
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection closed before the reply");
            reply.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    #[tokio::test]
    async fn backlog_holds_hundreds_of_connects() {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = listener.local_addr().unwrap();
        // Nothing accepts, so every connection waits in the backlog. With
        // tokio's default of 128 the rest would have their SYN dropped and
        // retried a second later.
        let connects: Vec<_> = (0..300)
            .map(|_| {
                tokio::spawn(tokio::time::timeout(
                    Duration::from_millis(500),
                    TcpStream::connect(addr),
                ))
            })
            .collect();
        for connect in connects {
            let connected = connect.await.unwrap();
            assert!(matches!(connected, Ok(Ok(_))), "{connected:?}");
        }
        drop(listener);
    }

    #[tokio::test]
    async fn requests_get_the_peer_address() {
        let (addr, _stop, _task) = start().await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let peer = tcp.local_addr().unwrap();
        let reply = get_root(&mut tcp).await;
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with(&peer.to_string()), "{reply}");
        let again = get_root(&mut tcp).await;
        assert!(
            again.ends_with(&peer.to_string()),
            "a kept-alive request: {again}"
        );
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections() {
        let (addr, stop, task) = start().await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        get_root(&mut tcp).await;

        stop.send(()).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("serve returned within 5 s, before the grace period ended")
            .expect("the server task did not panic");
        assert!(result.is_ok(), "{result:?}");
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
        assert!(
            matches!(read, Ok(Ok(0))),
            "the idle connection is closed: {read:?}"
        );
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the listener is closed"
        );
    }

    #[test]
    fn connection_error_kinds() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionReset,
        ] {
            assert!(is_connection_error(&io::Error::from(kind)), "{kind:?}");
        }
        let too_many_files = io::Error::from_raw_os_error(24);
        assert!(!is_connection_error(&too_many_files));
    }
}
