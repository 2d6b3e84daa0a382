//! Tests of the TLS module over real TLS on 127.0.0.1, checked against the
//! `openssl` and `curl` binaries as well as the module's own client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::header;
use axum::routing::get;
use axum::{Json, extract::Path as UrlPath};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::*;
use crate::seed::DEFAULT_SEED;

const HOST: &str = "oidc.eks.us-east-1.amazonaws.com";

/// Shared by all tests, because each generation costs three RSA keys.
fn shared_ca() -> Arc<CertificateAuthority> {
    static CA: OnceLock<Arc<CertificateAuthority>> = OnceLock::new();
    CA.get_or_init(|| {
        Arc::new(CertificateAuthority::generate(DEFAULT_SEED).expect("generate the test CA"))
    })
    .clone()
}

/// CA from another seed, shared by the tests that need a second chain.
fn other_ca() -> Arc<CertificateAuthority> {
    static CA: OnceLock<Arc<CertificateAuthority>> = OnceLock::new();
    CA.get_or_init(|| {
        Arc::new(CertificateAuthority::generate(DEFAULT_SEED + 1).expect("generate another CA"))
    })
    .clone()
}

fn serves_eks_hosts() -> HostPredicate {
    Arc::new(|host: &str| host.starts_with("oidc.eks.") && host.ends_with(".amazonaws.com"))
}

fn host_of(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("(no Host header)")
        .to_owned()
}

/// Router shaped like an EKS issuer, which builds its URLs from `Host` so
/// that the tests see whether the header reaches handlers.
fn test_router() -> Router {
    async fn discovery(headers: HeaderMap) -> Json<Value> {
        let host = host_of(&headers);
        Json(json!({
            "issuer": format!("https://{host}"),
            "jwks_uri": format!("https://{host}/keys"),
        }))
    }
    async fn cluster_discovery(UrlPath(id): UrlPath<String>, headers: HeaderMap) -> Json<Value> {
        let host = host_of(&headers);
        Json(json!({
            "issuer": format!("https://{host}/id/{id}"),
            "jwks_uri": format!("https://{host}/id/{id}/keys"),
        }))
    }
    async fn keys() -> Json<Value> {
        Json(json!({ "keys": [] }))
    }
    async fn whoami(ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> String {
        format!("host={} peer={peer}", host_of(&headers))
    }

    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(
            "/id/{id}/.well-known/openid-configuration",
            get(cluster_discovery),
        )
        .route("/keys", get(keys))
        .route("/id/{id}/keys", get(keys))
        .route("/whoami", get(whoami))
}

/// Router whose discovery document points `jwks_uri` at another server.
fn split_router(jwks_uri: String) -> Router {
    Router::new().route(
        "/.well-known/openid-configuration",
        get(move |headers: HeaderMap| async move {
            Json(json!({
                "issuer": format!("https://{}", host_of(&headers)),
                "jwks_uri": jwks_uri,
            }))
        }),
    )
}

struct TestServer {
    port: u16,
    root_pem: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> Self {
        Self::start_with(shared_ca(), serves_eks_hosts(), test_router()).await
    }

    async fn start_with(
        ca: Arc<CertificateAuthority>,
        serves: HostPredicate,
        router: Router,
    ) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let root_pem = dir.path().join("root.pem");
        ca.write_root_pem(&root_pem).expect("write the root PEM");

        let config = server_config(ca, serves).expect("build the server config");
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("read the local address")
            .port();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_tls(listener, config, router, async move {
            let _ = stop.await;
        }));
        Self {
            port,
            root_pem,
            shutdown: Some(shutdown),
            task,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{HOST}:{}{path}", self.port)
    }

    fn resolve(&self) -> (String, u16, IpAddr) {
        (HOST.to_owned(), self.port, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    fn curl_resolve(&self) -> String {
        format!("{HOST}:{}:127.0.0.1", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs an external program from a blocking task. A missing program fails
/// the test: these checks against independent TLS stacks are the point.
async fn run_tool(program: &'static str, args: Vec<String>) -> Output {
    let task = tokio::task::spawn_blocking(move || Command::new(program).args(&args).output());
    let output = tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap_or_else(|_| panic!("{program} did not exit within 30 s"))
        .expect("join the blocking task");
    match output {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed or not on PATH; install it \
             (for example `apt-get install {program}`) to run this test"
        ),
        Err(error) => panic!("failed to run {program}: {error}"),
    }
}

fn pem_blocks(text: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("parse the PEM blocks")
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der)
        .expect("parse the certificate")
        .1
}

fn leaf_der(ca: &CertificateAuthority, host: &str) -> Vec<u8> {
    ca.issue_leaf(host).expect("issue the leaf").cert[0].to_vec()
}

#[test]
fn ca_same_seed_same_bytes() {
    let shared = shared_ca();
    let again = CertificateAuthority::generate(DEFAULT_SEED).expect("generate the CA again");

    assert_eq!(shared.root_der(), again.root_der());
    assert_eq!(shared.intermediate_der(), again.intermediate_der());
    assert_eq!(shared.root_pem(), again.root_pem());
    assert_eq!(leaf_der(&shared, HOST), leaf_der(&again, HOST));
}

#[test]
fn ca_other_seed_differs() {
    let shared = shared_ca();
    let other = other_ca();

    assert_ne!(shared.root_der(), other.root_der());
    assert_ne!(shared.intermediate_der(), other.intermediate_der());
    assert_ne!(leaf_der(&shared, HOST), leaf_der(&other, HOST));
    assert_ne!(
        thumbprint_of(shared.intermediate_der()),
        thumbprint_of(other.intermediate_der())
    );
}

/// Scenario files and IAM provider records store this value, so a change
/// (for example from an `rsa` or `rcgen` upgrade) breaks them and must be
/// made on purpose and noted for users.
#[test]
fn default_seed_thumbprint_is_pinned() {
    assert_eq!(
        thumbprint_of(shared_ca().intermediate_der()),
        "f2808918bbfecfb4e43888fbfba37b406b434656",
        "the chain for the default seed changed, so stored thumbprints no longer match"
    );
}

#[test]
fn chain_fields_are_fixed() {
    let ca = shared_ca();
    let root = parse(ca.root_der());
    let intermediate = parse(ca.intermediate_der());
    let leaf_bytes = leaf_der(&ca, HOST);
    let leaf = parse(&leaf_bytes);

    assert_eq!(
        root.subject().to_string(),
        format!("O={ORGANIZATION}, CN={ROOT_COMMON_NAME}")
    );
    assert_eq!(root.issuer(), root.subject());
    assert_eq!(
        intermediate.subject().to_string(),
        format!("O={ORGANIZATION}, CN={INTERMEDIATE_COMMON_NAME}")
    );
    assert_eq!(intermediate.issuer(), root.subject());
    assert_eq!(
        leaf.subject().to_string(),
        format!("O={ORGANIZATION}, CN={HOST}")
    );
    assert_eq!(leaf.issuer(), intermediate.subject());

    assert_eq!(root.raw_serial(), [1]);
    assert_eq!(intermediate.raw_serial(), [2]);
    assert_eq!(leaf.raw_serial().len(), 16);

    for cert in [&root, &intermediate, &leaf] {
        assert_eq!(cert.validity().not_before.to_datetime().year(), 2024);
        assert_eq!(cert.validity().not_after.to_datetime().year(), 2049);
        // sha256WithRSAEncryption: PKCS#1 v1.5, no randomness in signatures.
        assert_eq!(
            cert.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.11"
        );
    }

    let root_constraints = root.basic_constraints().expect("read").expect("present");
    assert!(root_constraints.value.ca);
    let constraints = intermediate
        .basic_constraints()
        .expect("read")
        .expect("present");
    assert!(constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, Some(0));
    let leaf_constraints = leaf.basic_constraints().expect("read").expect("present");
    assert!(!leaf_constraints.value.ca);

    let names = leaf
        .subject_alternative_name()
        .expect("read")
        .expect("present");
    assert_eq!(names.value.general_names, vec![GeneralName::DNSName(HOST)]);
}

#[test]
fn leaf_chain_ends_at_intermediate() {
    let ca = shared_ca();
    let key = ca.issue_leaf(HOST).expect("issue the leaf");

    assert_eq!(key.cert.len(), 2);
    assert_eq!(&key.cert[1], ca.intermediate_der());
    assert!(!key.cert.contains(ca.root_der()));
    assert!(key.keys_match().is_ok());
}

#[test]
fn resolver_caches_per_host() {
    let resolver = HostCertResolver::new(shared_ca(), serves_eks_hosts());

    let first = resolver.certificate_for(HOST).expect("served host");
    let second = resolver.certificate_for(HOST).expect("served host");
    let upper = resolver
        .certificate_for(&HOST.to_ascii_uppercase())
        .expect("served host in upper case");
    let other = resolver
        .certificate_for("oidc.eks.eu-west-1.amazonaws.com")
        .expect("another served host");

    assert!(Arc::ptr_eq(&first, &second));
    assert!(Arc::ptr_eq(&first, &upper));
    assert!(!Arc::ptr_eq(&first, &other));
    assert!(resolver.certificate_for("example.com").is_none());
}

#[test]
fn thumbprint_of_is_lower_hex_sha1() {
    // The standard SHA-1 test vector for the message "abc".
    assert_eq!(
        thumbprint_of(b"abc"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    let thumbprint = thumbprint_of(shared_ca().intermediate_der());
    assert_eq!(thumbprint.len(), 40);
    assert!(
        thumbprint
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
}

#[test]
fn write_root_pem_round_trips() {
    let ca = shared_ca();
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let path = dir.path().join("ca.pem");

    ca.write_root_pem(&path).expect("write the root PEM");
    let certs = CertificateDer::pem_file_iter(&path)
        .expect("open the PEM file")
        .collect::<Result<Vec<_>, _>>()
        .expect("parse the PEM file");

    assert_eq!(certs, vec![ca.root_der().clone()]);
}

#[test]
fn parse_resolve_accepts_curl_syntax() {
    let cases = [
        (
            "oidc.eks.us-east-1.amazonaws.com:8443:127.0.0.1",
            8443,
            "127.0.0.1",
        ),
        ("OIDC.example.com:443:[::1]", 443, "::1"),
        ("oidc.example.com:443:::1", 443, "::1"),
    ];
    for (value, port, addr) in cases {
        let (host, parsed_port, parsed_addr) = parse_resolve(value).expect(value);
        assert_eq!(host, host.to_ascii_lowercase(), "{value}");
        assert_eq!(parsed_port, port, "{value}");
        assert_eq!(
            parsed_addr,
            addr.parse::<IpAddr>().expect("test address"),
            "{value}"
        );
    }
}

#[test]
fn parse_resolve_rejects_bad_values() {
    let cases = [
        ("oidc.example.com", "HOST:PORT:ADDR"),
        ("oidc.example.com:8443", "HOST:PORT:ADDR"),
        (":8443:127.0.0.1", "host is empty"),
        ("oidc.example.com:http:127.0.0.1", "port \"http\""),
        ("oidc.example.com:0:127.0.0.1", "port \"0\""),
        (
            "oidc.example.com:8443:localhost",
            "\"localhost\" is not an IP address",
        ),
    ];
    for (value, expected) in cases {
        let message = parse_resolve(value).expect_err(value).to_string();
        assert!(message.contains(expected), "{value}: {message}");
        assert!(message.contains(value), "{value}: {message}");
    }
}

#[tokio::test]
async fn fetch_thumbprint_is_intermediate_sha1() {
    let server = TestServer::start().await;
    let ca = shared_ca();

    let thumbprint = fetch_thumbprint(
        &server.url(""),
        Some(&server.root_pem),
        Some(server.resolve()),
    )
    .await
    .expect("fetch the thumbprint");

    assert_eq!(thumbprint.sha1_hex, thumbprint_of(ca.intermediate_der()));
    assert_eq!(thumbprint.issuer_sha1_hex, thumbprint.sha1_hex);
    assert_eq!(
        thumbprint.thumbprint_list(),
        vec![thumbprint.sha1_hex.clone()]
    );
    assert_eq!(thumbprint.jwks_uri, server.url("/keys"));
    assert_eq!(thumbprint.host, HOST);
    assert_eq!(thumbprint.port, server.port);
    assert_eq!(
        thumbprint.subjects,
        vec![
            format!("O={ORGANIZATION}, CN={HOST}"),
            format!("O={ORGANIZATION}, CN={INTERMEDIATE_COMMON_NAME}"),
        ]
    );
}

#[tokio::test]
async fn fetch_thumbprint_follows_cluster_path() {
    let server = TestServer::start().await;

    let discovery = server.url("/id/ABCDEF0123456789/.well-known/openid-configuration");
    let by_discovery = fetch_thumbprint(&discovery, Some(&server.root_pem), Some(server.resolve()))
        .await
        .expect("fetch by discovery URL");
    let by_issuer = fetch_thumbprint(
        &server.url("/id/ABCDEF0123456789"),
        Some(&server.root_pem),
        Some(server.resolve()),
    )
    .await
    .expect("fetch by issuer URL");

    assert_eq!(by_discovery, by_issuer);
    assert_eq!(by_issuer.jwks_uri, server.url("/id/ABCDEF0123456789/keys"));
}

/// The JWKS server serves the name `localhost`, which resolves to the
/// loopback address without `--resolve`, and uses a chain from another seed.
#[tokio::test]
async fn fetch_thumbprint_follows_jwks_host() {
    let jwks = TestServer::start_with(
        other_ca(),
        Arc::new(|host: &str| host == "localhost"),
        test_router(),
    )
    .await;
    let jwks_uri = format!("https://localhost:{}/keys", jwks.port);
    let issuer = TestServer::start_with(
        shared_ca(),
        serves_eks_hosts(),
        split_router(jwks_uri.clone()),
    )
    .await;
    let both_roots = issuer._dir.path().join("both-roots.pem");
    let pem = format!("{}{}", shared_ca().root_pem(), other_ca().root_pem());
    std::fs::write(&both_roots, pem).expect("write both roots");

    let thumbprint = fetch_thumbprint(&issuer.url(""), Some(&both_roots), Some(issuer.resolve()))
        .await
        .expect("fetch the thumbprint");
    let jwks_thumbprint = thumbprint_of(other_ca().intermediate_der());
    let issuer_thumbprint = thumbprint_of(shared_ca().intermediate_der());

    assert_eq!(thumbprint.jwks_uri, jwks_uri);
    assert_eq!(thumbprint.host, "localhost");
    assert_eq!(thumbprint.port, jwks.port);
    assert_eq!(thumbprint.sha1_hex, jwks_thumbprint);
    assert_eq!(thumbprint.issuer_sha1_hex, issuer_thumbprint);
    assert_eq!(
        thumbprint.thumbprint_list(),
        vec![jwks_thumbprint, issuer_thumbprint]
    );
}

#[tokio::test]
async fn run_thumbprint_command_prints_hex() {
    let server = TestServer::start().await;

    let line = run_thumbprint_command(
        &server.url(""),
        Some(server.root_pem.clone()),
        vec![server.curl_resolve()],
    )
    .await
    .expect("run the thumbprint command");

    assert_eq!(line, thumbprint_of(shared_ca().intermediate_der()));
}

#[tokio::test]
async fn run_thumbprint_command_error_shows_cause() {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path().join("root.pem");
    shared_ca()
        .write_root_pem(&root)
        .expect("write the root PEM");
    // A port that was just free, so nothing listens on it.
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0");
    let port = closed.local_addr().expect("read the local address").port();
    drop(closed);

    let url = format!("https://{HOST}:{port}");
    let resolve = format!("{HOST}:{port}:127.0.0.1");
    let message = run_thumbprint_command(&url, Some(root), vec![resolve])
        .await
        .expect_err("nothing listens on the port")
        .to_string();

    assert!(
        message.contains(&format!("failed to fetch the thumbprint of {url}")),
        "{message}"
    );
    let cause = format!("failed to connect to {HOST}:{port} at 127.0.0.1:{port}");
    assert!(message.contains(&cause), "{message}");
}

#[tokio::test]
async fn fetch_without_cacert_names_flag() {
    let server = TestServer::start().await;

    let error = fetch_thumbprint(&server.url(""), None, Some(server.resolve()))
        .await
        .expect_err("the harness root is in no system store");

    let message = error.to_string();
    assert!(message.contains("--cacert"), "{message}");
}

#[tokio::test]
async fn fetch_with_wrong_ca_names_flag() {
    let server = TestServer::start().await;
    let other = other_ca();
    let wrong_root = server._dir.path().join("other-root.pem");
    other
        .write_root_pem(&wrong_root)
        .expect("write the other root");

    let error = fetch_thumbprint(&server.url(""), Some(&wrong_root), Some(server.resolve()))
        .await
        .expect_err("a chain from another seed does not verify");

    assert!(
        matches!(error, ThumbprintError::Handshake { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--cacert"), "{error}");
}

#[tokio::test]
async fn fetch_rejects_http_url() {
    let error = fetch_thumbprint("http://oidc.example.com", None, None)
        .await
        .expect_err("plain HTTP has no chain");

    assert!(
        matches!(error, ThumbprintError::InvalidUrl { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("https"), "{error}");
}

#[tokio::test]
async fn handshake_without_sni_is_rejected() {
    let server = TestServer::start().await;

    // rustls sends no SNI for an IP address, because SNI carries host names only.
    let url = format!("https://127.0.0.1:{}", server.port);
    let error = fetch_thumbprint(&url, Some(&server.root_pem), None)
        .await
        .expect_err("no SNI means no certificate");

    assert!(
        matches!(error, ThumbprintError::Handshake { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("--resolve"), "{error}");
}

#[tokio::test]
async fn openssl_showcerts_matches_thumbprint() {
    let server = TestServer::start().await;
    let root = server.root_pem.display().to_string();

    let output = run_tool(
        "openssl",
        vec![
            "s_client".into(),
            "-connect".into(),
            format!("127.0.0.1:{}", server.port),
            "-servername".into(),
            HOST.into(),
            "-showcerts".into(),
            "-CAfile".into(),
            root,
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let chain = pem_blocks(&stdout);
    let last = chain
        .last()
        .expect("openssl printed at least one certificate");

    assert_eq!(chain.len(), 2, "{stdout}");
    assert_eq!(
        thumbprint_of(last),
        thumbprint_of(shared_ca().intermediate_der())
    );
    assert!(stdout.contains("Verify return code: 0 (ok)"), "{stdout}");
}

#[tokio::test]
async fn curl_fetches_over_http1_and_http2() {
    let server = TestServer::start().await;

    for (version, negotiated) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let mut args = vec![
            "--silent".to_owned(),
            "--show-error".to_owned(),
            "--fail".to_owned(),
            "--max-time".to_owned(),
            "20".to_owned(),
            version.to_owned(),
            "--cacert".to_owned(),
            server.root_pem.display().to_string(),
            "--resolve".to_owned(),
            server.curl_resolve(),
        ];
        let mut discovery_args = args.clone();
        discovery_args.push(server.url("/.well-known/openid-configuration"));
        let output = run_tool("curl", discovery_args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "curl {version}: {stderr}");
        let document: Value = serde_json::from_slice(&output.stdout).expect("JSON body");
        assert_eq!(document["issuer"], server.url(""), "curl {version}");

        args.push("--write-out".to_owned());
        args.push(" version=%{http_version}".to_owned());
        args.push(server.url("/whoami"));
        let output = run_tool("curl", args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "curl {version}: {stderr}");
        let body = String::from_utf8_lossy(&output.stdout);
        let expected_host = format!("host={HOST}:{} ", server.port);
        assert!(body.starts_with(&expected_host), "curl {version}: {body}");
        assert!(body.contains(" peer=127.0.0.1:"), "curl {version}: {body}");
        let expected_version = format!(" version={negotiated}");
        assert!(body.ends_with(&expected_version), "curl {version}: {body}");
    }
}

#[tokio::test]
async fn curl_rejects_unknown_host() {
    let server = TestServer::start().await;

    let output = run_tool(
        "curl",
        vec![
            "--silent".into(),
            "--max-time".into(),
            "20".into(),
            "--cacert".into(),
            server.root_pem.display().to_string(),
            "--resolve".into(),
            format!("unknown.example.com:{}:127.0.0.1", server.port),
            format!("https://unknown.example.com:{}/", server.port),
        ],
    )
    .await;

    // 35 is curl's CURLE_SSL_CONNECT_ERROR: the handshake itself failed.
    assert_eq!(output.status.code(), Some(35));
}

#[tokio::test]
async fn serve_tls_stops_on_shutdown() {
    let mut server = TestServer::start().await;
    let shutdown = server.shutdown.take().expect("shutdown sender");

    shutdown.send(()).expect("the server is running");
    let result = tokio::time::timeout(Duration::from_secs(5), &mut server.task)
        .await
        .expect("serve_tls returned within 5 s")
        .expect("the server task did not panic");

    assert!(result.is_ok(), "{result:?}");
}

/// Python 3.13 and later add `VERIFY_X509_STRICT` in
/// `ssl.create_default_context()`, which requires key identifiers and
/// critical basic constraints. `openssl verify -x509_strict` sets that flag.
#[tokio::test]
async fn openssl_strict_verify_accepts_chain() {
    let ca = shared_ca();
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let root = dir.path().join("root.pem");
    let intermediate = dir.path().join("intermediate.der");
    let leaf = dir.path().join("leaf.der");
    ca.write_root_pem(&root).expect("write the root PEM");
    std::fs::write(&intermediate, ca.intermediate_der()).expect("write the intermediate");
    std::fs::write(&leaf, leaf_der(&ca, HOST)).expect("write the leaf");

    let output = run_tool(
        "openssl",
        vec![
            "verify".into(),
            "-x509_strict".into(),
            "-purpose".into(),
            "sslserver".into(),
            "-verify_hostname".into(),
            HOST.into(),
            "-CAfile".into(),
            root.display().to_string(),
            "-untrusted".into(),
            intermediate.display().to_string(),
            leaf.display().to_string(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.trim_end().ends_with(": OK"), "{stdout}");
}
