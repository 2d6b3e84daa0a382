//! What the harness accepts from one client before it answers with an
//! error or drops the connection: sizes, counts and times.
//!
//! The plain-HTTP listener lives here rather than in `axum::serve` for two
//! reasons. `axum::serve` sets no timer, so a client that sends its headers
//! byte by byte would hold a connection and a task for as long as it likes;
//! hyper-util's connection builder, driven by hand, takes a header-read
//! timeout. And hyper answers an oversized request line or header section
//! itself, with a bare 414 or 431 and no body, before any handler runs; the
//! listener therefore reads the first request head of each connection
//! itself, so that such a request gets an error in AWS's XML shape. Later
//! requests on a kept-alive connection are checked by the handler up to
//! hyper's own ceilings (64 KiB of request line, [`HYPER_BUFFER_BYTES`] of
//! head), which lie above the harness's limits. The accept loop and the
//! graceful shutdown are shared with the HTTPS listener, in the `listener`
//! module.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::aws::{AwsError, Params, Service};
use crate::listener::Transport;
use crate::state::AppState;

/// Longest request line (method, path with query string, version), in
/// bytes. A GET that carries a 20,000-character token in its query string
/// fits with room to spare.
pub const MAX_REQUEST_LINE_BYTES: usize = 32 * 1024;
/// Largest request head (request line and headers), in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most distinct parameters one query request may carry. The largest
/// legitimate IAM request (100 client ids, 5 thumbprints, 50 tags) stays far
/// below it.
pub const MAX_PARAMETERS: usize = 1000;
/// Longest parameter name, in bytes. The longest name any modelled request
/// uses (`Tags.member.50.Value`, `PolicyArns.member.10.arn`) has about 25.
pub const MAX_PARAMETER_NAME_BYTES: usize = 256;
/// hyper's read buffer: above [`MAX_HEAD_BYTES`], so that the handler, not
/// hyper, answers heads between the two sizes.
pub const HYPER_BUFFER_BYTES: usize = 2 * MAX_HEAD_BYTES;

/// Time allowances for slow clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time from a connection's first byte (or the end of the previous
    /// request) until the request head is complete.
    pub header_read_timeout: Duration,
    /// Time to receive a request body once the head is in.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    /// Generous for any real client on loopback, short enough that a
    /// stalled one frees its connection quickly.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// The message of every invented query-shape error, after AWS's
/// description of `InvalidQueryParameter`, with the detail after it.
fn query_error(detail: &str) -> String {
    format!("The AWS query string is malformed or does not adhere to AWS standards: {detail}")
}

/// Checks the decoded parameters of a query request: how many, how long
/// their names are, and that none is given twice.
pub fn check_params(params: &Params, service: Service) -> Result<(), AwsError> {
    let invalid = |detail: String| {
        AwsError::sender(
            service,
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameter",
            query_error(&detail),
        )
    };
    if params.len() > MAX_PARAMETERS {
        return Err(invalid(format!(
            "the request has {} parameters; send at most {MAX_PARAMETERS}",
            params.len()
        )));
    }
    if let Some(name) = params
        .names()
        .find(|name| name.len() > MAX_PARAMETER_NAME_BYTES)
    {
        return Err(invalid(format!(
            "a parameter name is {} bytes long (starting {:?}); names are at most {MAX_PARAMETER_NAME_BYTES} bytes",
            name.len(),
            name.chars().take(32).collect::<String>()
        )));
    }
    if let Some(name) = params.duplicates().first() {
        return Err(invalid(format!(
            "the parameter {} is given more than once; give each parameter once",
            name.chars().take(64).collect::<String>()
        )));
    }
    Ok(())
}

/// The error for a request line longer than [`MAX_REQUEST_LINE_BYTES`].
pub fn request_line_too_long(service: Service, length: usize) -> AwsError {
    AwsError::sender(
        service,
        StatusCode::URI_TOO_LONG,
        "InvalidQueryParameter",
        query_error(&format!(
            "the request line is {length} bytes; the harness reads at most {MAX_REQUEST_LINE_BYTES}. Send long parameters in a POST body"
        )),
    )
}

/// The error for a request head larger than [`MAX_HEAD_BYTES`].
pub fn head_too_large(service: Service, length: usize) -> AwsError {
    AwsError::sender(
        service,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "RequestHeaderSectionTooLarge",
        format!(
            "The request headers are {length} bytes or more; the harness reads at most {MAX_HEAD_BYTES}"
        ),
    )
}

/// The error for a body that did not arrive within the body-read timeout.
pub fn body_timeout(service: Service, limit: Duration) -> AwsError {
    AwsError::sender(
        service,
        StatusCode::BAD_REQUEST,
        "RequestTimeout",
        format!(
            "Your socket connection to the server was not read from or written to within the timeout period ({} ms).",
            limit.as_millis()
        ),
    )
}

/// The hyper-util connection builder with the harness's limits, shared by
/// the HTTP and HTTPS listeners.
pub fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HYPER_BUFFER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    builder
}

/// Serves `app` over plain HTTP on `listener` until `shutdown` completes,
/// with each request carrying the peer address as
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo).
pub async fn serve_plain(
    listener: TcpListener,
    state: Arc<AppState>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = state.options().limits;
    let builder = connection_builder(&limits);
    let transport = PlainHttp { state, limits };
    crate::listener::serve(listener, transport, builder, app, shutdown).await
}

/// Plain HTTP for the shared accept loop: each connection's first request
/// head is read and checked before hyper gets the connection.
#[derive(Clone)]
struct PlainHttp {
    state: Arc<AppState>,
    limits: Limits,
}

impl Transport for PlainHttp {
    type Stream = Prefixed;

    const PROTOCOL: &'static str = "HTTP";

    fn open(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<Prefixed>> + Send {
        first_head(tcp, &self.state, &self.limits, peer)
    }
}

/// Reads the first request head of a connection. Returns the stream with
/// the bytes read so far put back in front, or `None` after answering an
/// oversized head, or when the client sent nothing in time.
async fn first_head(
    mut tcp: TcpStream,
    state: &AppState,
    limits: &Limits,
    peer: SocketAddr,
) -> Option<Prefixed> {
    let mut buffer = Vec::with_capacity(4096);
    let read = tokio::time::timeout(limits.header_read_timeout, async {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(rejection) = oversized(&buffer) {
                return Err(Some(rejection));
            }
            if buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(());
            }
            match tcp.read(&mut chunk).await {
                Ok(0) if buffer.is_empty() => return Err(None),
                // A head cut short goes to hyper, which answers it.
                Ok(0) => return Ok(()),
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(_) => return Err(None),
            }
        }
    })
    .await;
    match read {
        Ok(Ok(())) => Some(Prefixed {
            prefix: buffer,
            position: 0,
            inner: tcp,
        }),
        Ok(Err(Some((status_line_too_long, length)))) => {
            let service = if contains_iam_host(&buffer) {
                Service::Iam
            } else {
                Service::Sts
            };
            let error = if status_line_too_long {
                request_line_too_long(service, length)
            } else {
                head_too_large(service, length)
            };
            tracing::debug!(%peer, %error, "request head rejected");
            let _ = tokio::time::timeout(
                limits.header_read_timeout,
                write_error(&mut tcp, &error, &state.next_request_id()),
            )
            .await;
            linger(&mut tcp).await;
            None
        }
        Ok(Err(None)) => None,
        Err(_) => {
            tracing::debug!(%peer, "request head not complete within the header-read timeout");
            None
        }
    }
}

/// Whether the head read so far is already too large: `(true, length)` for
/// the request line, `(false, length)` for the whole head.
fn oversized(buffer: &[u8]) -> Option<(bool, usize)> {
    let line_end = buffer.windows(2).position(|w| w == b"\r\n");
    let line = line_end.unwrap_or(buffer.len());
    if line > MAX_REQUEST_LINE_BYTES {
        return Some((true, line));
    }
    let head_end = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4);
    let head = head_end.unwrap_or(buffer.len());
    (head > MAX_HEAD_BYTES).then_some((false, head))
}

fn contains_iam_host(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.contains("\r\nhost: iam.") || text.contains("\r\nhost:iam.")
}

/// Writes an error response by hand and closes the write side.
async fn write_error(tcp: &mut TcpStream, error: &AwsError, request_id: &str) -> io::Result<()> {
    let body = error.to_xml(request_id);
    let status = error.status;
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: text/xml\r\nx-amzn-requestid: {request_id}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    tcp.write_all(head.as_bytes()).await?;
    tcp.write_all(body.as_bytes()).await?;
    tcp.shutdown().await
}

/// Reads and drops what the client still sends, for a moment, before the
/// connection closes. Closing with unread bytes makes the kernel reset the
/// connection, and a reset can discard the error reply before the client
/// reads it.
async fn linger(tcp: &mut TcpStream) {
    let mut sink = [0u8; 8192];
    let mut left = LINGER_BYTES;
    let drain = async {
        while left > 0 {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drain).await;
}

/// How long and how much [`linger`] reads at most.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;

/// A TCP stream with bytes already read put back in front of it.
struct Prefixed {
    prefix: Vec<u8>,
    position: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.position < this.prefix.len() {
            let rest = &this.prefix[this.position..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.position += n;
            if this.position == this.prefix.len() {
                this.prefix = Vec::new();
                this.position = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_heads_are_found_before_the_end_arrives() {
        assert_eq!(oversized(b"GET / HTTP/1.1\r\n"), None);
        let long_line = vec![b'a'; MAX_REQUEST_LINE_BYTES + 1];
        assert_eq!(
            oversized(&long_line),
            Some((true, MAX_REQUEST_LINE_BYTES + 1))
        );
        let mut long_head = b"GET / HTTP/1.1\r\n".to_vec();
        long_head.resize(MAX_HEAD_BYTES + 1, b'x');
        assert!(matches!(oversized(&long_head), Some((false, _))));
    }

    #[test]
    fn duplicates_and_long_names_are_rejected() {
        let twice = Params::decode(b"Action=A&Action=B");
        let error = check_params(&twice, Service::Sts).unwrap_err();
        assert_eq!(error.code, "InvalidQueryParameter");
        assert!(error.message.contains("Action is given more than once"));
        let long = format!("{}=1", "n".repeat(MAX_PARAMETER_NAME_BYTES + 1));
        assert!(check_params(&Params::decode(long.as_bytes()), Service::Iam).is_err());
        let many: Vec<String> = (0..=MAX_PARAMETERS).map(|i| format!("p{i}=")).collect();
        let many = Params::decode(many.join("&").as_bytes());
        assert!(check_params(&many, Service::Iam).is_err());
        assert!(check_params(&Params::decode(b"Action=A&Version=1"), Service::Sts).is_ok());
    }
}
