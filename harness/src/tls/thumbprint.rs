//! OIDC provider thumbprints, computed the way AWS documents for
//! `aws iam create-open-id-connect-provider --thumbprint-list`.
//!
//! The documented method: fetch the issuer's
//! `/.well-known/openid-configuration`, take the host of its `jwks_uri`,
//! connect to that host, and take the SHA-1 of the last certificate the
//! server presents (the top intermediate CA, as `openssl s_client
//! -showcerts` lists it), as 40 hex digits.
//!
//! The client here is a small hand-written HTTP/1.1 GET over tokio-rustls
//! and hyper instead of reqwest, because the thumbprint needs the whole
//! presented chain, and reqwest exposes at most the leaf certificate.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::header::{ACCEPT, HOST, USER_AGENT};
use axum::http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Path of the OpenID Connect discovery document under the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Maximum size of a discovery document that is read, in bytes.
const MAX_DISCOVERY_BYTES: usize = 1024 * 1024;

/// Time allowed for each network step (connect, handshake, request).
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Returns the lower-case hex SHA-1 of a DER certificate, 40 characters, the
/// format IAM expects in a thumbprint list.
pub fn thumbprint_of(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// Thumbprint of an OIDC issuer, with the chain it was taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thumbprint {
    /// Lower-case hex SHA-1 of the last certificate the `jwks_uri` host
    /// presented, the value IAM expects.
    pub sha1_hex: String,
    /// `jwks_uri` from the discovery document, whose host was thumbprinted.
    pub jwks_uri: String,
    /// Host the chain was presented by.
    pub host: String,
    /// Port the chain was presented on.
    pub port: u16,
    /// Subjects of the presented chain in the order sent, leaf first, in
    /// RFC 4514 form such as `O=Example, CN=oidc.example.com`.
    pub subjects: Vec<String>,
    /// Lower-case hex SHA-1 of the last certificate the issuer host (the
    /// discovery document's host) presented. It equals `sha1_hex` unless
    /// the two hosts serve different chains.
    pub issuer_sha1_hex: String,
}

impl Thumbprint {
    /// Returns the thumbprints to register with IAM: the `jwks_uri` host's,
    /// then the issuer host's if it differs.
    ///
    /// AWS's IAM guide requests both when the discovery document and the
    /// JWKS are served from different hosts, because IAM checks both when
    /// it falls back to thumbprint verification.
    pub fn thumbprint_list(&self) -> Vec<String> {
        let mut list = vec![self.sha1_hex.clone()];
        if self.issuer_sha1_hex != self.sha1_hex {
            list.push(self.issuer_sha1_hex.clone());
        }
        list
    }
}

/// Failure to fetch a thumbprint, naming the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum ThumbprintError {
    /// The URL or a `jwks_uri` cannot be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The CA file cannot be read or contains no certificate.
    #[error("invalid CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    /// No `--cacert` was given and the system store is empty or unreadable.
    #[error(
        "no trusted CA certificates: the system store is empty or unreadable ({reason}); \
         pass the harness CA with --cacert FILE"
    )]
    NoTrustStore { reason: String },
    /// The TCP connection failed or timed out.
    #[error("failed to connect to {host}:{port} at {addr}: {reason}{hint}")]
    Connect {
        host: String,
        port: u16,
        addr: String,
        reason: String,
        hint: &'static str,
    },
    /// The TLS handshake failed, for example because the chain does not
    /// verify against the trusted certificates.
    #[error("TLS handshake with {host}:{port} failed: {reason}{hint}")]
    Handshake {
        host: String,
        port: u16,
        reason: String,
        hint: &'static str,
    },
    /// The server completed the handshake without presenting a certificate.
    #[error("{host}:{port} presented no certificate")]
    NoCertificate { host: String, port: u16 },
    /// The discovery request failed, returned an error status, or its body
    /// is not a discovery document.
    #[error("failed to read the discovery document {url}: {reason}")]
    Discovery { url: String, reason: String },
}

/// Address override in curl's `--resolve HOST:PORT:ADDR` form: connections
/// to `HOST:PORT` go to `ADDR` instead of a DNS lookup.
type Resolve = (String, u16, IpAddr);

/// Fetches the thumbprint for an OIDC issuer as AWS documents it.
///
/// `url` is the issuer URL (the discovery path is appended) or the discovery
/// document's own URL. The chain of every connection is verified against
/// the certificates in `cacert`, or against the system store without it.
/// `resolve` overrides the address of one `HOST:PORT` like curl's
/// `--resolve`. It applies to both the issuer and the `jwks_uri` host.
pub async fn fetch_thumbprint(
    url: &str,
    cacert: Option<&Path>,
    resolve: Option<(String, u16, IpAddr)>,
) -> Result<Thumbprint, ThumbprintError> {
    fetch_thumbprint_resolving(url, cacert, resolve.as_slice()).await
}

/// Does what [`fetch_thumbprint`] does with any number of address
/// overrides, for a `jwks_uri` on another host or port than the issuer.
pub async fn fetch_thumbprint_resolving(
    url: &str,
    cacert: Option<&Path>,
    resolve: &[(String, u16, IpAddr)],
) -> Result<Thumbprint, ThumbprintError> {
    let discovery = Endpoint::parse(&discovery_url(url)?)?;
    let config = client_config(cacert)?;
    let resolve: Vec<Resolve> = resolve
        .iter()
        .map(|(host, port, addr)| (host.to_ascii_lowercase(), *port, *addr))
        .collect();

    let tls = connect(&discovery, &config, &resolve).await?;
    let issuer_chain = presented_chain(&tls, &discovery)?;
    let body = get(tls, &discovery).await?;
    let jwks_uri = jwks_uri_of(&body, &discovery.url)?;
    let mut jwks = Endpoint::parse(&jwks_uri)?;
    // The harness's issuers publish port-less jwks_uri values, as EKS does,
    // but listen on a test port: a jwks_uri on the issuer's own host is read
    // at the port the issuer URL gave.
    if jwks.host == discovery.host && jwks.port == 443 && discovery.port != 443 {
        jwks.port = discovery.port;
        jwks.authority = discovery.authority.clone();
    }

    let tls = connect(&jwks, &config, &resolve).await?;
    let chain = presented_chain(&tls, &jwks)?;
    Ok(Thumbprint {
        sha1_hex: thumbprint_of(last_of(&chain)),
        issuer_sha1_hex: thumbprint_of(last_of(&issuer_chain)),
        subjects: chain.iter().map(|der| subject_of(der)).collect(),
        jwks_uri,
        host: jwks.host,
        port: jwks.port,
    })
}

/// Runs `oidc-sts-harness thumbprint URL [--cacert FILE] [--resolve
/// HOST:PORT:ADDR]` and returns the line to print: the 40 hex digits.
///
/// If the issuer host presents a chain with another thumbprint than the
/// `jwks_uri` host's, the line contains both, separated by a space, in the
/// order of [`Thumbprint::thumbprint_list`], as `--thumbprint-list` takes them.
pub async fn run_thumbprint_command(
    url: &str,
    cacert: Option<PathBuf>,
    resolve: Vec<String>,
) -> anyhow::Result<String> {
    let resolve = resolve
        .iter()
        .map(|text| parse_resolve(text))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The cause goes into the message itself, so that it is shown however
    // the caller formats the error.
    let thumbprint = fetch_thumbprint_resolving(url, cacert.as_deref(), &resolve)
        .await
        .map_err(|error| anyhow::anyhow!("failed to fetch the thumbprint of {url}: {error}"))?;
    Ok(thumbprint.thumbprint_list().join(" "))
}

/// Parses curl's `--resolve HOST:PORT:ADDR` syntax. `ADDR` may be an IPv6
/// address, with or without brackets.
pub fn parse_resolve(value: &str) -> anyhow::Result<(String, u16, IpAddr)> {
    let usage = "expected HOST:PORT:ADDR, for example \
                 oidc.eks.us-east-1.amazonaws.com:8443:127.0.0.1";
    let mut parts = value.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("invalid --resolve value {value:?}: {usage}");
    };
    if host.is_empty() {
        anyhow::bail!("invalid --resolve value {value:?}: the host is empty; {usage}");
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|port| *port != 0)
        .with_context(|| {
            format!("invalid --resolve value {value:?}: port {port:?} is not 1-65535; {usage}")
        })?;
    let bare = addr
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(addr);
    let addr: IpAddr = bare.parse().with_context(|| {
        format!("invalid --resolve value {value:?}: {addr:?} is not an IP address; {usage}")
    })?;
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// HTTPS URL split into the parts a connection needs.
#[derive(Clone, Debug)]
struct Endpoint {
    url: String,
    host: String,
    port: u16,
    /// Value for the `Host` header: the host, plus the port unless it is 443.
    authority: String,
    path_and_query: String,
}

impl Endpoint {
    fn parse(url: &str) -> Result<Self, ThumbprintError> {
        let invalid = |reason: &str| ThumbprintError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| invalid(&e.to_string()))?;
        if uri.scheme_str() != Some("https") {
            return Err(invalid(
                "the scheme must be https, because a thumbprint is taken from a TLS chain",
            ));
        }
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| invalid("the URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(443);
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let authority = if port == 443 {
            bracketed
        } else {
            format!("{bracketed}:{port}")
        };
        let path_and_query = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            url: url.to_owned(),
            host,
            port,
            authority,
            path_and_query,
        })
    }
}

/// Returns the discovery document URL for an issuer URL, or the URL itself
/// if it already names the discovery document.
fn discovery_url(url: &str) -> Result<String, ThumbprintError> {
    let uri: Uri =
        url.parse().map_err(
            |e: axum::http::uri::InvalidUri| ThumbprintError::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            },
        )?;
    if uri.query().is_some() {
        return Err(ThumbprintError::InvalidUrl {
            url: url.to_owned(),
            reason: "an issuer URL has no query (OpenID Connect Discovery 1.0, section 2)"
                .to_owned(),
        });
    }
    if uri.path().ends_with(DISCOVERY_PATH) {
        return Ok(url.to_owned());
    }
    Ok(format!("{}{DISCOVERY_PATH}", url.trim_end_matches('/')))
}

fn client_config(cacert: Option<&Path>) -> Result<Arc<ClientConfig>, ThumbprintError> {
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            let invalid = |reason: String| ThumbprintError::CaFile {
                path: path.to_owned(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| invalid(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(e.to_string()))?;
            if certs.is_empty() {
                return Err(invalid(
                    "no PEM CERTIFICATE block found; pass the file the harness prints \
                     as \"ca certificate: PATH\""
                        .to_owned(),
                ));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| invalid(e.to_string()))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                let reason = if native.errors.is_empty() {
                    "no certificates found".to_owned()
                } else {
                    native
                        .errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                return Err(ThumbprintError::NoTrustStore { reason });
            }
        }
    }

    let provider = super::provider();
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ThumbprintError::NoTrustStore {
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The hand-written client below speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Opens a verified TLS connection to the endpoint's host, at the `resolve`
/// address if it names this host and port.
async fn connect(
    endpoint: &Endpoint,
    config: &Arc<ClientConfig>,
    resolve: &[Resolve],
) -> Result<TlsStream<TcpStream>, ThumbprintError> {
    let overridden = resolve
        .iter()
        .find(|(host, port, _)| *host == endpoint.host && *port == endpoint.port)
        .map(|(_, port, addr)| SocketAddr::new(*addr, *port));
    let addr_text = overridden.map_or_else(|| "its DNS address".to_owned(), |a| a.to_string());
    let connect_error = |reason: String| ThumbprintError::Connect {
        host: endpoint.host.clone(),
        port: endpoint.port,
        addr: addr_text.clone(),
        reason,
        hint: if overridden.is_none() {
            "; if the harness serves this host, give its address with --resolve HOST:PORT:ADDR"
        } else {
            ""
        },
    };

    let tcp = match overridden {
        Some(addr) => tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr)).await,
        None => {
            tokio::time::timeout(
                STEP_TIMEOUT,
                TcpStream::connect((endpoint.host.as_str(), endpoint.port)),
            )
            .await
        }
    };
    let tcp = match tcp {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(error)) => return Err(connect_error(error.to_string())),
        Err(_) => return Err(connect_error("timed out after 10 s".to_owned())),
    };

    let server_name =
        ServerName::try_from(endpoint.host.clone()).map_err(|e| ThumbprintError::InvalidUrl {
            url: endpoint.url.clone(),
            reason: format!("the host is not a valid TLS server name: {e}"),
        })?;
    let handshake_error = |error: std::io::Error| ThumbprintError::Handshake {
        host: endpoint.host.clone(),
        port: endpoint.port,
        hint: handshake_hint(&error),
        reason: error.to_string(),
    };
    let connector = TlsConnector::from(Arc::clone(config));
    match tokio::time::timeout(STEP_TIMEOUT, connector.connect(server_name, tcp)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(error)) => Err(handshake_error(error)),
        Err(_) => Err(handshake_error(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "timed out after 10 s",
        ))),
    }
}

/// Returns advice for the handshake failures a user can fix, or "".
fn handshake_hint(error: &std::io::Error) -> &'static str {
    // tokio-rustls reports rustls errors wrapped in an io::Error.
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(_)) => {
            "; pass the CA that signed this chain with --cacert FILE"
        }
        // The harness's resolver rejects unknown or missing SNI this way.
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::AccessDenied)) => {
            "; the server rejected the host name, so connect by a host name it \
             serves and give its address with --resolve HOST:PORT:ADDR"
        }
        _ => "",
    }
}

/// Sends `GET` for the endpoint's path and returns the body of a 200
/// response, read up to [`MAX_DISCOVERY_BYTES`].
async fn get(tls: TlsStream<TcpStream>, endpoint: &Endpoint) -> Result<Bytes, ThumbprintError> {
    let failed = |reason: String| ThumbprintError::Discovery {
        url: endpoint.url.clone(),
        reason,
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| failed(e.to_string()))?;
    // The connection future drives the socket; it ends when `sender` is dropped.
    let driver = tokio::spawn(connection);

    let request = Request::get(endpoint.path_and_query.as_str())
        .header(HOST, endpoint.authority.as_str())
        .header(
            USER_AGENT,
            concat!("oidc-sts-harness/", env!("CARGO_PKG_VERSION")),
        )
        .header(ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;

    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(failed(format!(
                "the server returned HTTP {status}; pass the issuer URL, such as \
                 https://oidc.eks.REGION.amazonaws.com/id/CLUSTER_ID"
            )));
        }
        Limited::new(response.into_body(), MAX_DISCOVERY_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| failed(format!("failed to read the body: {e}")))
    };
    let result = tokio::time::timeout(STEP_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(failed("timed out after 10 s".to_owned())));
    drop(sender);
    driver.abort();
    result
}

fn jwks_uri_of(body: &[u8], url: &str) -> Result<String, ThumbprintError> {
    let failed = |reason: String| ThumbprintError::Discovery {
        url: url.to_owned(),
        reason,
    };
    let document: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| failed(format!("invalid JSON: {e}")))?;
    document
        .get("jwks_uri")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| failed("the document has no string member \"jwks_uri\"".to_owned()))
}

/// Returns the last certificate of a chain that [`presented_chain`] checked
/// is not empty.
fn last_of<'a>(chain: &'a [CertificateDer<'static>]) -> &'a [u8] {
    chain.last().map_or(&[], |cert| cert.as_ref())
}

/// Returns the chain the server presented, which is never empty.
fn presented_chain(
    tls: &TlsStream<TcpStream>,
    endpoint: &Endpoint,
) -> Result<Vec<CertificateDer<'static>>, ThumbprintError> {
    let (_, connection) = tls.get_ref();
    match connection.peer_certificates() {
        Some(chain) if !chain.is_empty() => {
            Ok(chain.iter().map(|c| c.clone().into_owned()).collect())
        }
        _ => Err(ThumbprintError::NoCertificate {
            host: endpoint.host.clone(),
            port: endpoint.port,
        }),
    }
}

/// Returns the certificate's subject in RFC 4514 form, or a placeholder if
/// the certificate cannot be parsed (it has verified, so this is unexpected).
fn subject_of(der: &[u8]) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert.subject().to_string(),
        Err(error) => format!("(unparsable certificate: {error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_appends_path() {
        let cases = [
            (
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC/.well-known/openid-configuration",
            ),
            (
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC/",
                "https://oidc.eks.us-east-1.amazonaws.com/id/ABC/.well-known/openid-configuration",
            ),
            (
                "https://host:8443",
                "https://host:8443/.well-known/openid-configuration",
            ),
            (
                "https://host/.well-known/openid-configuration",
                "https://host/.well-known/openid-configuration",
            ),
        ];
        for (issuer, expected) in cases {
            assert_eq!(discovery_url(issuer).expect(issuer), expected);
        }
    }

    #[test]
    fn discovery_url_rejects_query() {
        let error = discovery_url("https://host/id/ABC?x=1").expect_err("query");
        assert!(error.to_string().contains("no query"), "{error}");
    }

    #[test]
    fn endpoint_authority_omits_default_port() {
        let default_port = Endpoint::parse("https://Host.Example/keys").expect("valid");
        let other_port = Endpoint::parse("https://host.example:8443/id/A/keys").expect("valid");
        let ipv6 = Endpoint::parse("https://[::1]:8443/").expect("valid");

        assert_eq!(default_port.host, "host.example");
        assert_eq!(default_port.port, 443);
        assert_eq!(default_port.authority, "host.example");
        assert_eq!(default_port.path_and_query, "/keys");
        assert_eq!(other_port.authority, "host.example:8443");
        assert_eq!(other_port.path_and_query, "/id/A/keys");
        assert_eq!(ipv6.host, "::1");
        assert_eq!(ipv6.authority, "[::1]:8443");
    }

    #[test]
    fn endpoint_rejects_non_https() {
        for url in ["http://host/", "host/keys", "https:///keys"] {
            assert!(Endpoint::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn jwks_uri_requires_string_member() {
        let url = "https://host/.well-known/openid-configuration";
        assert_eq!(
            jwks_uri_of(br#"{"jwks_uri":"https://host/keys"}"#, url).expect("valid"),
            "https://host/keys"
        );
        assert!(jwks_uri_of(br#"{"jwks_uri":5}"#, url).is_err());
        assert!(jwks_uri_of(b"<html>", url).is_err());
    }
}
