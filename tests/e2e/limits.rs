//! Request limits over raw HTTP: every malformed, oversized, slow or
//! unexpected request gets an answer in AWS's error shape with a 4xx
//! status, or (a stalled client) loses its connection without holding the
//! server.

use std::time::{Duration, Instant};

use oidc_sts_harness::Harness;
use oidc_sts_harness::limits::{self, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short allowances, so the slow-client cases take a fraction of a second.
const SHORT: Limits = Limits {
    header_read_timeout: Duration::from_millis(400),
    body_read_timeout: Duration::from_millis(400),
};

async fn harness() -> Harness {
    Harness::builder()
        .limits(SHORT)
        .start()
        .await
        .expect("the harness starts on a loopback port")
}

/// Sends raw bytes on a new connection and reads until the server closes.
async fn raw(harness: &Harness, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(harness.addr()).await.expect("connects");
    stream.write_all(bytes).await.expect("writes");
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

fn status(reply: &str) -> u16 {
    reply
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {reply:?}"))
}

/// Asserts an AWS query-protocol error: status, code, XML body.
fn assert_aws_error(reply: &str, expected_status: u16, code: &str) {
    assert_eq!(status(reply), expected_status, "{reply}");
    assert!(
        reply.contains("<ErrorResponse") && reply.contains(&format!("<Code>{code}</Code>")),
        "expected {code} in an ErrorResponse: {reply}"
    );
    assert!(reply.contains("<RequestId>"), "{reply}");
}

fn post(body: &str, content_type: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

#[tokio::test]
async fn query_shape_errors_are_aws_errors() {
    let harness = harness().await;
    let cases: &[(&str, &str, u16, &str)] = &[
        ("Version=2011-06-15", FORM, 400, "MissingAction"),
        (
            "Action=AssumeRoleWithWebIdentity",
            FORM,
            400,
            "MissingParameter",
        ),
        (
            "Action=Frobnicate&Version=2011-06-15",
            FORM,
            400,
            "InvalidAction",
        ),
        (
            "Action=AssumeRoleWithWebIdentity&Version=2010-01-01",
            FORM,
            400,
            "InvalidAction",
        ),
        (
            "Action=AssumeRoleWithWebIdentity&Action=GetCallerIdentity&Version=2011-06-15",
            FORM,
            400,
            "InvalidQueryParameter",
        ),
        // A body that is not a form holds no parameters.
        (
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15",
            "application/json",
            400,
            "MissingAction",
        ),
    ];
    for (body, content_type, expected, code) in cases {
        let reply = raw(&harness, &post(body, content_type)).await;
        assert_aws_error(&reply, *expected, code);
    }

    let many: Vec<String> = (0..=limits::MAX_PARAMETERS)
        .map(|i| format!("p{i}=1"))
        .collect();
    let reply = raw(&harness, &post(&many.join("&"), FORM)).await;
    assert_aws_error(&reply, 400, "InvalidQueryParameter");
    let long_name = format!("{}=1&Action=GetCallerIdentity", "n".repeat(300));
    let reply = raw(&harness, &post(&long_name, FORM)).await;
    assert_aws_error(&reply, 400, "InvalidQueryParameter");

    // The declared length alone is enough to reject the body. Sending the
    // body too would leave unread bytes behind, and the close would reset
    // the connection before the client reads the reply.
    let head = "POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 1048577\r\n\r\n";
    let reply = raw(&harness, head.as_bytes()).await;
    assert_aws_error(&reply, 413, "RequestEntityTooLarge");
}

#[tokio::test]
async fn other_methods_and_get_on_the_query_endpoint() {
    let harness = harness().await;
    for method in ["PUT", "DELETE", "PATCH"] {
        let request = format!(
            "{method} / HTTP/1.1\r\nhost: iam.amazonaws.com\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let reply = raw(&harness, request.as_bytes()).await;
        assert_aws_error(&reply, 400, "InvalidAction");
        assert!(
            reply.contains("https://iam.amazonaws.com/doc/2010-05-08/"),
            "{reply}"
        );
    }
    // GET carries the parameters in the query string, as Envoy sends them.
    let request = "GET /?Action=GetRole&Version=2010-05-08&RoleName=missing HTTP/1.1\r\nhost: iam.amazonaws.com\r\nconnection: close\r\n\r\n";
    let reply = raw(&harness, request.as_bytes()).await;
    assert_aws_error(&reply, 404, "NoSuchEntity");
}

#[tokio::test]
async fn oversized_request_lines_and_heads_get_aws_errors() {
    let harness = harness().await;
    // Beyond hyper's own ceiling for a request line, on a new connection.
    let query = format!(
        "Action=GetCallerIdentity&Version=2011-06-15&X={}",
        "a".repeat(70_000)
    );
    let request =
        format!("GET /?{query} HTTP/1.1\r\nhost: sts.amazonaws.com\r\nconnection: close\r\n\r\n");
    let reply = raw(&harness, request.as_bytes()).await;
    assert_aws_error(&reply, 414, "InvalidQueryParameter");

    let request = format!(
        "POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\nx-padding: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        "p".repeat(limits::MAX_HEAD_BYTES)
    );
    let reply = raw(&harness, request.as_bytes()).await;
    assert_aws_error(&reply, 431, "RequestHeaderSectionTooLarge");

    // A kept-alive connection's later request is checked by the handler.
    let client = reqwest::Client::new();
    let first = client
        .get(format!(
            "{}/?Action=GetCallerIdentity&Version=2011-06-15",
            harness.endpoint()
        ))
        .send()
        .await
        .expect("a response");
    assert!(first.status().is_client_error());
    let long = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15&X={}",
        harness.endpoint(),
        "a".repeat(40_000)
    );
    let second = client.get(long).send().await.expect("a response");
    assert_eq!(second.status().as_u16(), 414);
    let body = second.text().await.expect("a body");
    assert!(
        body.contains("<Code>InvalidQueryParameter</Code>"),
        "{body}"
    );

    // A GET with a token of the longest length STS accepts still fits.
    let token = "a".repeat(20_000);
    let reply = client
        .get(format!(
            "{}/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=session&WebIdentityToken={token}",
            harness.endpoint()
        ))
        .send()
        .await
        .expect("a response");
    let status = reply.status().as_u16();
    let body = reply.text().await.expect("a body");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>InvalidIdentityToken</Code>"), "{body}");
}

#[tokio::test]
async fn slow_clients_are_cut_off_without_holding_the_server() {
    let harness = harness().await;

    // Headers one byte at a time, slower than the header-read timeout.
    let started = Instant::now();
    let mut dribbler = TcpStream::connect(harness.addr()).await.expect("connects");
    let head =
        b"POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut_off = false;
    for byte in head {
        if dribbler.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        // Meanwhile other clients are served at once.
        let reply = raw(&harness, &post("Version=2011-06-15", FORM)).await;
        assert_aws_error(&reply, 400, "MissingAction");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    if !cut_off {
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), dribbler.read_to_end(&mut rest)).await;
        assert!(
            read.is_ok(),
            "the dribbling client still holds its connection"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(8));

    // A body that never finishes gets AWS's timeout error and a close.
    let started = Instant::now();
    let mut stalled = TcpStream::connect(harness.addr()).await.expect("connects");
    stalled
        .write_all(b"POST / HTTP/1.1\r\nhost: sts.amazonaws.com\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .expect("writes");
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut reply))
        .await
        .expect("the server answers a stalled body")
        .expect("reads");
    let reply = String::from_utf8_lossy(&reply);
    assert_aws_error(&reply, 400, "RequestTimeout");
    assert!(started.elapsed() >= SHORT.body_read_timeout);

    // A connection that sends nothing is closed after the header timeout.
    let mut idle = TcpStream::connect(harness.addr()).await.expect("connects");
    let mut nothing = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut nothing)).await;
    assert!(closed.is_ok(), "an idle connection is closed");
    assert!(nothing.is_empty());
}
