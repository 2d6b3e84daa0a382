//! Server certificate selection by SNI, with leaf certificates issued on
//! first use and cached per host.
//!
//! A handshake without SNI, or with a name the harness does not serve, is
//! rejected. The resolver returns no certificate, so rustls 0.23 aborts the
//! handshake with an `access_denied` alert. Serving some default certificate instead would let a client that
//! connects by IP address, or under a mistyped name, fail later with a
//! confusing name-mismatch error, or succeed against a host the harness does
//! not emulate.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::ca::CertificateAuthority;

/// Predicate that returns true for a host name the harness serves, such as
/// `oidc.eks.us-east-1.amazonaws.com`. It receives the SNI name in lower case.
pub type HostPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// ALPN protocols offered, in order of preference. `serve_tls` serves both.
const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// [`ResolvesServerCert`] that issues one leaf certificate per served host.
pub struct HostCertResolver {
    ca: Arc<CertificateAuthority>,
    serves: HostPredicate,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    rejected: AtomicU64,
}

impl fmt::Debug for HostCertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("HostCertResolver")
            .field("ca", &self.ca)
            .field("cached_hosts", &cached)
            .field("rejected", &self.rejected.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl HostCertResolver {
    /// Creates a resolver that issues certificates from `ca` for the hosts
    /// `serves` accepts.
    pub fn new(ca: Arc<CertificateAuthority>, serves: HostPredicate) -> Self {
        Self {
            ca,
            serves,
            cache: Mutex::new(HashMap::new()),
            rejected: AtomicU64::new(0),
        }
    }

    /// Returns the cached certificate for `host`, issuing it first if this is
    /// the first handshake for that host.
    ///
    /// Returns `None` if `host` is not served or its certificate could not be
    /// built.
    pub fn certificate_for(&self, host: &str) -> Option<Arc<CertifiedKey>> {
        let host = host.to_ascii_lowercase();
        if !(self.serves)(&host) {
            self.log_rejection(Some(&host));
            return None;
        }

        // The lock is held while signing (about 1 ms) so that two
        // concurrent first handshakes for one host issue the certificate once.
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cache.get(&host) {
            return Some(Arc::clone(key));
        }
        match self.ca.issue_leaf(&host) {
            Ok(key) => {
                let key = Arc::new(key);
                cache.insert(host.clone(), Arc::clone(&key));
                tracing::debug!(%host, "issued TLS leaf certificate");
                Some(key)
            }
            Err(error) => {
                tracing::error!(%host, %error, "failed to issue TLS leaf certificate");
                None
            }
        }
    }

    /// Logs a rejected handshake for the 1st, 2nd, 4th, 8th, … rejection, so
    /// that a client retrying in a loop cannot flood the log.
    fn log_rejection(&self, host: Option<&str>) {
        let count = self.rejected.fetch_add(1, Ordering::Relaxed) + 1;
        if !count.is_power_of_two() {
            return;
        }
        match host {
            Some(host) => tracing::warn!(
                sni = host,
                rejected_total = count,
                "rejected TLS handshake: the SNI name is not a host this harness serves"
            ),
            None => tracing::warn!(
                rejected_total = count,
                "rejected TLS handshake without SNI: connect by host name, for example \
                 with curl --resolve HOST:PORT:127.0.0.1"
            ),
        }
    }
}

impl ResolvesServerCert for HostCertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match client_hello.server_name() {
            Some(host) => self.certificate_for(host),
            None => {
                self.log_rejection(None);
                None
            }
        }
    }
}

/// Builds a server configuration with the ring provider, TLS 1.2 and 1.3,
/// no client authentication, and certificates from a [`HostCertResolver`].
///
/// The provider is named explicitly because a build that links both ring and
/// aws-lc-rs (the AWS SDKs in the end-to-end tests pull in aws-lc-rs) has no
/// process-wide default, and rustls panics when asked for one.
pub fn server_config(
    ca: Arc<CertificateAuthority>,
    serves: HostPredicate,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(HostCertResolver::new(ca, serves)));
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
