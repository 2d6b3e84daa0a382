//! Deterministic certificate authority for the emulated issuer hosts.
//!
//! The chain is root → intermediate → leaf, all RSA-2048 with
//! `sha256WithRSAEncryption` (PKCS#1 v1.5) signatures. Keys come from the
//! `rsa` crate seeded by [`crate::seed::rng`], because `ring` can sign with
//! RSA but cannot generate RSA keys, and its key generation would not be
//! seedable anyway. `rcgen` then builds and signs the certificates. With
//! fixed serial numbers, names and validity dates, and PKCS#1 v1.5 signatures
//! (which use no randomness), the same seed gives byte-identical
//! certificates and so the same thumbprint on every start.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, SanType, SerialNumber,
};
use rsa::PrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::seed;

/// Subject common name of the self-signed root certificate.
pub const ROOT_COMMON_NAME: &str = "oidc-sts-harness root CA";

/// Subject common name of the intermediate certificate, the one a thumbprint
/// is taken of.
pub const INTERMEDIATE_COMMON_NAME: &str = "oidc-sts-harness intermediate CA";

/// Organization name in every subject of the chain.
pub const ORGANIZATION: &str = "oidc-sts-harness";

const RSA_BITS: usize = 2048;
const ROOT_SERIAL: u64 = 1;
const INTERMEDIATE_SERIAL: u64 = 2;

// X.509 encodes dates through 2049 as UTCTime, which every TLS client parses.
// Later dates need GeneralizedTime.
const NOT_BEFORE: OffsetDateTime = datetime!(2024-01-01 00:00:00 UTC);
const NOT_AFTER: OffsetDateTime = datetime!(2049-12-31 23:59:59 UTC);

/// Failure to build the certificate authority or a leaf certificate.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// RSA key generation or its PKCS#8 encoding failed.
    #[error("failed to generate the RSA key for the {role} certificate: {reason}")]
    KeyGeneration { role: &'static str, reason: String },
    /// rcgen rejected a key or certificate parameters.
    #[error("failed to build the {role} certificate: {source}")]
    Certificate {
        role: String,
        #[source]
        source: rcgen::Error,
    },
    /// rustls could not load the leaf key.
    #[error("failed to load the leaf key into rustls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Root and intermediate certificates, and the key shared by every leaf.
///
/// Leaf certificates are issued on demand by [`CertificateAuthority::issue_leaf`];
/// they all share one key because generating an RSA key costs far more than
/// signing a certificate.
pub struct CertificateAuthority {
    seed: u64,
    root_der: CertificateDer<'static>,
    root_pem: String,
    intermediate_der: CertificateDer<'static>,
    intermediate: Issuer<'static, KeyPair>,
    leaf_key: KeyPair,
    leaf_signing_key: Arc<dyn rustls::sign::SigningKey>,
}

impl fmt::Debug for CertificateAuthority {
    // Written by hand so that no private key is ever formatted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("seed", &self.seed)
            .field("root_thumbprint", &super::thumbprint_of(&self.root_der))
            .field(
                "intermediate_thumbprint",
                &super::thumbprint_of(&self.intermediate_der),
            )
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Generates the three RSA keys and signs the root and intermediate
    /// certificates, all derived from `seed`.
    ///
    /// This takes three RSA key generations, measured at 0.35 to 0.56 s in
    /// all with the dev profile on a 2-core AMD EPYC, so call it once per
    /// process. Issuing a leaf afterwards takes about 1 ms.
    pub fn generate(seed: u64) -> Result<Self, CaError> {
        let root_key = generate_key_pair(seed, "root")?;
        let intermediate_key = generate_key_pair(seed, "intermediate")?;
        let leaf_key = generate_key_pair(seed, "leaf")?;

        let root_params = root_params();
        let root_cert = root_params
            .self_signed(&root_key)
            .map_err(|source| certificate_error("root", source))?;
        let root = Issuer::new(root_params, root_key);

        let intermediate_params = intermediate_params();
        let intermediate_cert = intermediate_params
            .signed_by(&intermediate_key, &root)
            .map_err(|source| certificate_error("intermediate", source))?;
        let intermediate = Issuer::new(intermediate_params, intermediate_key);

        let leaf_pkcs8 = PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
        let leaf_signing_key = super::provider()
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(leaf_pkcs8))?;

        Ok(Self {
            seed,
            root_pem: root_cert.pem(),
            root_der: root_cert.der().clone(),
            intermediate_der: intermediate_cert.der().clone(),
            intermediate,
            leaf_key,
            leaf_signing_key,
        })
    }

    /// Seed the keys were derived from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// DER of the self-signed root certificate, the trust anchor clients need.
    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root_der
    }

    /// PEM of the root certificate, for `curl --cacert` or `AWS_CA_BUNDLE`.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// DER of the intermediate certificate, the last one the server presents.
    pub fn intermediate_der(&self) -> &CertificateDer<'static> {
        &self.intermediate_der
    }

    /// Writes the root certificate as PEM to `path`, replacing any file there.
    pub fn write_root_pem(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.root_pem.as_bytes())
    }

    /// Signs a leaf certificate for `host` with the intermediate and returns
    /// it with the shared leaf key, as the chain `[leaf, intermediate]`.
    ///
    /// The root is left out of the chain, as servers with publicly trusted
    /// certificates usually do, so the last certificate presented is the
    /// intermediate. The serial number is
    /// derived from the seed and the host, so the same host always gets the
    /// same certificate.
    pub fn issue_leaf(&self, host: &str) -> Result<CertifiedKey, CaError> {
        let params = leaf_params(self.seed, host)?;
        let leaf = params
            .signed_by(&self.leaf_key, &self.intermediate)
            .map_err(|source| CaError::Certificate {
                role: format!("leaf for {host}"),
                source,
            })?;
        let chain = vec![leaf.der().clone(), self.intermediate_der.clone()];
        Ok(CertifiedKey::new(chain, Arc::clone(&self.leaf_signing_key)))
    }
}

fn certificate_error(role: &str, source: rcgen::Error) -> CaError {
    CaError::Certificate {
        role: role.to_owned(),
        source,
    }
}

/// Generates an RSA key from the seed and the role label, and wraps it in an
/// rcgen key pair that signs with PKCS#1 v1.5 and SHA-256.
///
/// NOTE: the key, and so every certificate and thumbprint, depends on the
/// `rsa` crate's prime search as well as the seed. Another `rsa` release may
/// derive other keys from the same seed.
fn generate_key_pair(seed: u64, role: &'static str) -> Result<KeyPair, CaError> {
    let mut rng = seed::rng(seed, &["tls", role]);
    let key = PrivateKey::new(&mut rng, RSA_BITS).map_err(|e| CaError::KeyGeneration {
        role,
        reason: e.to_string(),
    })?;
    let pkcs8 = key.to_pkcs8_der().map_err(|e| CaError::KeyGeneration {
        role,
        reason: e.to_string(),
    })?;
    let der = PrivatePkcs8KeyDer::from(pkcs8.as_bytes().to_vec());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256)
        .map_err(|source| certificate_error(role, source))
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, ORGANIZATION);
    name.push(DnType::CommonName, common_name);
    name
}

fn base_params(common_name: &str, serial: SerialNumber) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(common_name);
    params.serial_number = Some(serial);
    params.not_before = NOT_BEFORE;
    params.not_after = NOT_AFTER;
    params
}

fn root_params() -> CertificateParams {
    let mut params = base_params(ROOT_COMMON_NAME, SerialNumber::from(ROOT_SERIAL));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn intermediate_params() -> CertificateParams {
    let mut params = base_params(
        INTERMEDIATE_COMMON_NAME,
        SerialNumber::from(INTERMEDIATE_SERIAL),
    );
    // Path length 0: the intermediate may sign leaves only.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params
}

fn leaf_params(seed: u64, host: &str) -> Result<CertificateParams, CaError> {
    // 16 bytes of serial, top bit cleared so the INTEGER stays positive and
    // the next bit set so DER needs no leading zero byte (RFC 5280 allows up
    // to 20 octets).
    let mut serial = seed::derive(seed, &["tls", "leaf-serial", host]);
    serial[0] = (serial[0] & 0x7f) | 0x40;

    let mut params = base_params(host, SerialNumber::from_slice(&serial[..16]));
    let dns_name = host
        .to_owned()
        .try_into()
        .map_err(|source| CaError::Certificate {
            role: format!("leaf for {host}"),
            source,
        })?;
    params.subject_alt_names = vec![SanType::DnsName(dns_name)];
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}
