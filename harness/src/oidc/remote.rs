//! Fetching the keys of issuers the harness does not host: the discovery
//! document, then the JWKS it names, over HTTPS, as STS does.
//!
//! Every TLS chain is checked against the trusted roots, but the handshake
//! completes even when the check fails, so STS's decision can depend on why:
//! a chain from an untrusted CA may still match a provider thumbprint, while
//! a certificate that does not name the host is a retrieval failure. The
//! HTTP client is hyper's, driven by hand, because the decision needs the
//! presented chain of each connection, which higher-level clients hide.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header::{ACCEPT, CACHE_CONTROL, HOST, USER_AGENT};
use axum::http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::world::REQUIRED_DISCOVERY_MEMBERS;

/// Time STS gives each connection and each exchange with an issuer.
/// NOTE: AWS documents no timeout; this value is the harness's own.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Maximum time fetched keys are reused, whatever `max-age` requests.
/// NOTE: AWS documents no cap; one day is the harness's choice.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(86_400);
/// Largest discovery document or JWKS read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Settings for reaching issuers the harness does not host.
#[derive(Clone)]
pub struct RemoteConfig {
    /// Roots every chain is checked against: the system's, the harness's
    /// own CA, and any the user added.
    pub roots: Arc<RootCertStore>,
    /// Address overrides in curl's `--resolve HOST:PORT:ADDR` form.
    pub resolve: Vec<(String, u16, IpAddr)>,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("roots", &self.roots.len())
            .field("resolve", &self.resolve)
            .finish()
    }
}

/// Whether a chain passed the trusted-root check, and the thumbprint IAM
/// would compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFacts {
    pub host: String,
    /// SHA-1 of the last certificate presented.
    pub thumbprint: String,
    pub trusted: bool,
    pub matches_host: bool,
}

/// One key of a fetched JWKS.
#[derive(Clone)]
pub struct RemoteKey {
    pub kid: Option<String>,
    /// The JWK `alg`, when the key names one.
    pub alg: Option<String>,
    pub key: DecodingKey,
}

/// The keys of one issuer, and the chain of its `jwks_uri` host.
#[derive(Clone)]
pub struct RemoteKeys {
    pub jwks_uri: String,
    pub keys: Vec<RemoteKey>,
    pub chain: ChainFacts,
}

/// A failure to fetch an issuer's keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("{0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("TLS handshake with {0} failed: {1}")]
    Handshake(String, String),
    #[error("{0} answered HTTP {1}")]
    Status(String, u16),
    #[error("{0} did not return a JSON object: {1}")]
    NotJson(String, String),
    #[error("the discovery document lacks {0}")]
    MissingMembers(String),
    #[error("the jwks_uri {0} is not an https URL")]
    JwksNotHttps(String),
    #[error("the JWKS at {0} holds no usable key: {1}")]
    NoKeys(String, String),
    #[error("invalid URL {0}: {1}")]
    Url(String, String),
}

/// Keys fetched earlier, kept while the JWKS response's `Cache-Control`
/// allows.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, Arc<RemoteKeys>)>>,
}

impl KeyCache {
    /// Returns cached keys for `issuer` that are still fresh.
    pub fn get(&self, issuer: &str) -> Option<Arc<RemoteKeys>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (until, keys) = entries.get(issuer)?;
        (Instant::now() < *until).then(|| keys.clone())
    }

    fn put(&self, issuer: &str, until: Instant, keys: Arc<RemoteKeys>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(issuer.to_owned(), (until, keys));
    }
}

/// Fetches an issuer's discovery document and JWKS, or returns cached keys.
pub async fn fetch_keys(
    issuer: &str,
    config: &RemoteConfig,
    cache: &KeyCache,
) -> Result<Arc<RemoteKeys>, FetchError> {
    if let Some(keys) = cache.get(issuer) {
        return Ok(keys);
    }
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery = get(&discovery_url, config).await?;
    let document = json_object(&discovery_url, &discovery.body)?;
    let missing: Vec<&str> = REQUIRED_DISCOVERY_MEMBERS
        .iter()
        .copied()
        .filter(|member| !document.contains_key(*member))
        .collect();
    if !missing.is_empty() {
        return Err(FetchError::MissingMembers(missing.join(", ")));
    }
    let jwks_uri = document["jwks_uri"].as_str().unwrap_or_default().to_owned();
    if !jwks_uri.starts_with("https://") {
        return Err(FetchError::JwksNotHttps(jwks_uri));
    }
    let jwks = get(&jwks_uri, config).await?;
    let set = json_object(&jwks_uri, &jwks.body)?;
    let keys = parse_keys(&jwks_uri, &set)?;
    let fetched = Arc::new(RemoteKeys {
        jwks_uri,
        keys,
        chain: jwks.chain,
    });
    if let Some(max_age) = jwks.max_age {
        // An issuer may send any max-age; the harness keeps keys at most a
        // day, so a huge value cannot overflow the clock or pin stale keys.
        let until = Instant::now().checked_add(max_age.min(MAX_CACHE_AGE));
        if let Some(until) = until {
            cache.put(issuer, until, fetched.clone());
        }
    }
    Ok(fetched)
}

fn json_object(
    url: &str,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, FetchError> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(FetchError::NotJson(url.to_owned(), "not an object".into())),
        Err(error) => Err(FetchError::NotJson(url.to_owned(), error.to_string())),
    }
}

fn parse_keys(
    url: &str,
    set: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<RemoteKey>, FetchError> {
    let Some(serde_json::Value::Array(entries)) = set.get("keys") else {
        return Err(FetchError::NoKeys(url.to_owned(), "no keys array".into()));
    };
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        // A key the harness cannot read is skipped, as a verifier skips
        // keys of types it does not support; the others still count.
        match serde_json::from_value::<Jwk>(entry.clone()) {
            Ok(jwk) => match DecodingKey::from_jwk(&jwk) {
                Ok(key) => keys.push(RemoteKey {
                    kid: jwk.common.key_id.clone(),
                    alg: entry.get("alg").and_then(|a| a.as_str()).map(str::to_owned),
                    key,
                }),
                Err(error) => problems.push(error.to_string()),
            },
            Err(error) => problems.push(error.to_string()),
        }
    }
    if keys.is_empty() {
        let detail = if problems.is_empty() {
            "the keys array is empty".to_owned()
        } else {
            problems.join("; ")
        };
        return Err(FetchError::NoKeys(url.to_owned(), detail));
    }
    Ok(keys)
}

struct Fetched {
    body: Bytes,
    chain: ChainFacts,
    max_age: Option<Duration>,
}

/// Sends one HTTPS GET and returns the body of a 200 response.
async fn get(url: &str, config: &RemoteConfig) -> Result<Fetched, FetchError> {
    let uri: Uri = url
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| FetchError::Url(url.to_owned(), e.to_string()))?;
    if uri.scheme_str() != Some("https") {
        return Err(FetchError::Url(url.to_owned(), "not an https URL".into()));
    }
    let host = uri
        .host()
        .ok_or_else(|| FetchError::Url(url.to_owned(), "no host".into()))?
        .to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(443);
    let authority = if port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();

    let overridden = config
        .resolve
        .iter()
        .find(|(h, p, _)| *h == host && *p == port)
        .map(|(_, p, addr)| SocketAddr::new(*addr, *p));
    let connect = async {
        match overridden {
            Some(addr) => TcpStream::connect(addr).await,
            None => TcpStream::connect((host.as_str(), port)).await,
        }
    };
    let tcp = tokio::time::timeout(FETCH_TIMEOUT, connect)
        .await
        .map_err(|_| FetchError::Timeout(authority.clone(), FETCH_TIMEOUT))?
        .map_err(|e| FetchError::Connect(authority.clone(), e.to_string()))?;

    let verifier = Arc::new(RecordingVerifier::new(config.roots.clone())?);
    let mut client = ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Handshake(authority.clone(), e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.clone())
        .map_err(|e| FetchError::Url(url.to_owned(), e.to_string()))?;
    let tls = tokio::time::timeout(
        FETCH_TIMEOUT,
        TlsConnector::from(Arc::new(client)).connect(name, tcp),
    )
    .await
    .map_err(|_| FetchError::Timeout(authority.clone(), FETCH_TIMEOUT))?
    .map_err(|e| FetchError::Handshake(authority.clone(), e.to_string()))?;
    let last = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.last())
        .map(|cert| crate::tls::thumbprint_of(cert.as_ref()))
        .unwrap_or_default();
    let (trusted, matches_host) = verifier.outcome();
    let chain = ChainFacts {
        host: host.clone(),
        thumbprint: last,
        trusted,
        matches_host,
    };

    let exchange = async {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| FetchError::Connect(authority.clone(), e.to_string()))?;
        let driver = tokio::spawn(connection);
        let request = Request::get(path.as_str())
            .header(HOST, authority.as_str())
            .header(
                USER_AGENT,
                concat!("oidc-sts-harness/", env!("CARGO_PKG_VERSION")),
            )
            .header(ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Url(url.to_owned(), e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| FetchError::Connect(authority.clone(), e.to_string()));
        let result = match response {
            Ok(response) if response.status() == StatusCode::OK => {
                let max_age = max_age(response.headers().get(CACHE_CONTROL));
                Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                    .collect()
                    .await
                    .map(|body| (body.to_bytes(), max_age))
                    .map_err(|e| FetchError::NotJson(url.to_owned(), e.to_string()))
            }
            Ok(response) => Err(FetchError::Status(
                url.to_owned(),
                response.status().as_u16(),
            )),
            Err(error) => Err(error),
        };
        drop(sender);
        driver.abort();
        result
    };
    let (body, max_age) = tokio::time::timeout(FETCH_TIMEOUT, exchange)
        .await
        .map_err(|_| FetchError::Timeout(url.to_owned(), FETCH_TIMEOUT))??;
    Ok(Fetched {
        body,
        chain,
        max_age,
    })
}

/// The freshness a `Cache-Control` header grants: `max-age`, unless
/// `no-store` or `no-cache` forbid reuse.
fn max_age(header: Option<&axum::http::HeaderValue>) -> Option<Duration> {
    let text = header?.to_str().ok()?;
    let mut age = None;
    for directive in text.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return None;
        }
        if let Some(seconds) = lower.strip_prefix("max-age=") {
            age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age.filter(|age| !age.is_zero())
}

/// A verifier that checks the chain against the trusted roots and records
/// the result instead of failing the handshake.
#[derive(Debug)]
struct RecordingVerifier {
    /// `None` when there are no trusted roots at all, so no chain is trusted.
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    outcome: Mutex<(bool, bool)>,
}

impl RecordingVerifier {
    fn new(roots: Arc<RootCertStore>) -> Result<Self, FetchError> {
        let provider = crate::tls::provider();
        let inner = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| FetchError::Handshake("(verifier)".into(), e.to_string()))?,
            )
        };
        Ok(Self {
            inner,
            provider,
            outcome: Mutex::new((false, true)),
        })
    }

    /// Whether the chain was trusted and whether it named the host.
    fn outcome(&self) -> (bool, bool) {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = (false, true);
            return Ok(ServerCertVerified::assertion());
        };
        let result = inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let outcome = match result {
            Ok(_) => (true, true),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => (true, false),
            Err(_) => (false, true),
        };
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = outcome;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Builds the trusted roots: the system store (when it has any), the
/// harness's own CA of `seed`, and the PEM files the user names.
pub fn trusted_roots(seed: u64, extra: &[std::path::PathBuf]) -> Result<RootCertStore, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    let ca = crate::tls::authority_for_seed(seed)
        .map_err(|e| format!("cannot build the harness CA: {e}"))?;
    roots
        .add(ca.root_der().clone())
        .map_err(|e| format!("cannot trust the harness CA: {e}"))?;
    for path in extra {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{} holds no PEM CERTIFICATE block", path.display()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("cannot trust a certificate of {}: {e}", path.display()))?;
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        let value = |text: &'static str| axum::http::HeaderValue::from_static(text);
        assert_eq!(
            max_age(Some(&value("public, max-age=3600"))),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(max_age(Some(&value("max-age=60, no-cache"))), None);
        assert_eq!(max_age(Some(&value("no-store"))), None);
        assert_eq!(max_age(Some(&value("max-age=0"))), None);
        assert_eq!(max_age(None), None);
    }

    #[test]
    fn jwks_skips_unreadable_keys() {
        let set: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","kid":"a","alg":"RS256","n":"sXch","e":"AQAB"}]}"#,
        )
        .unwrap();
        let keys = parse_keys("https://x/keys", &set).unwrap();
        assert!(keys.iter().any(|k| k.kid.as_deref() == Some("a")));
    }

    #[test]
    fn empty_jwks_is_an_error() {
        let set: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"keys":[]}"#).unwrap();
        assert!(matches!(
            parse_keys("https://x/keys", &set),
            Err(FetchError::NoKeys(..))
        ));
    }
}
