//! Issuers the harness does not host: a wiremock server plays the issuer
//! (discovery document and JWKS), behind a small TLS front on loopback, and
//! the harness fetches its keys as STS does.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use oidc_sts_harness::Harness;
use oidc_sts_harness::oidc::remote::RemoteConfig;
use oidc_sts_harness::oidc::{Issuer, SigningKey, mint};
use oidc_sts_harness::tls::CertificateAuthority;
use rustls::RootCertStore;
use serde_json::json;
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assume;

const HOST: &str = "issuer.example.com";
const ROLE: &str = "arn:aws:iam::123456789012:role/remote";
const SUBJECT: &str = "repo:example-org/demo-repo:ref:refs/heads/main";
const KEY_RETRIEVAL: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// The remote issuer's CA, made once per test binary.
fn remote_ca() -> Arc<CertificateAuthority> {
    static CA: OnceLock<Arc<CertificateAuthority>> = OnceLock::new();
    CA.get_or_init(|| Arc::new(CertificateAuthority::generate(4242).expect("the test CA builds")))
        .clone()
}

/// A remote issuer: wiremock behind TLS for `HOST` on a loopback port.
struct Remote {
    mock: MockServer,
    port: u16,
    key: Arc<SigningKey>,
}

impl Remote {
    async fn start() -> Remote {
        let mock = MockServer::start().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config =
            oidc_sts_harness::tls::server_config(remote_ca(), Arc::new(|host: &str| host == HOST))
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let backend = *mock.address();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        Remote {
            mock,
            port,
            key: SigningKey::derived(4242, &["remote-issuer"]),
        }
    }

    fn url(&self) -> String {
        format!("https://{HOST}:{}", self.port)
    }

    fn discovery(&self) -> serde_json::Value {
        json!({
            "issuer": self.url(),
            "jwks_uri": format!("{}/keys", self.url()),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    }

    async fn serve(&self, discovery: ResponseTemplate, expect_discovery: Option<u64>) {
        let mut discovery_mock = Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(discovery);
        if let Some(times) = expect_discovery {
            discovery_mock = discovery_mock.expect(times);
        }
        discovery_mock.mount(&self.mock).await;
        let jwks = Issuer::new(&self.url(), vec![self.key.clone()])
            .jwks_json()
            .to_owned();
        Mock::given(method("GET"))
            .and(path("/keys"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(jwks)
                    .insert_header("content-type", "application/json")
                    .insert_header("cache-control", "public, max-age=60"),
            )
            .mount(&self.mock)
            .await;
    }

    async fn serve_ok(&self) {
        self.serve(
            ResponseTemplate::new(200).set_body_json(self.discovery()),
            None,
        )
        .await;
    }

    fn token(
        &self,
        change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), self.url().into());
        claims.insert("sub".into(), SUBJECT.into());
        claims.insert("aud".into(), "sts.amazonaws.com".into());
        claims.insert("iat".into(), now.into());
        claims.insert("nbf".into(), now.into());
        claims.insert("exp".into(), (now + 300).into());
        change(&mut claims);
        mint::sign(&self.key, &mint::default_header(&self.key), &claims)
    }

    /// A harness that fetches remote issuers, trusting the remote CA when
    /// `trusted`.
    async fn harness(&self, trusted: bool, thumbprints: &[String]) -> Harness {
        let mut roots = RootCertStore::empty();
        if trusted {
            roots.add(remote_ca().root_der().clone()).unwrap();
        }
        let config = RemoteConfig {
            roots: Arc::new(roots),
            resolve: vec![(HOST.to_owned(), self.port, "127.0.0.1".parse().unwrap())],
        };
        let harness = Harness::builder()
            .remote_issuers(config)
            .start()
            .await
            .unwrap();
        let iam = harness_e2e::iam_client(&harness, harness_e2e::DEFAULT_ACCOUNT);
        iam.create_open_id_connect_provider()
            .url(self.url())
            .client_id_list("sts.amazonaws.com")
            .set_thumbprint_list(Some(thumbprints.to_vec()))
            .send()
            .await
            .expect("the provider is created");
        let prefix = format!("{HOST}:{}", self.port);
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{prefix}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {format!("{prefix}:sub"): SUBJECT}},
            }]
        });
        iam.create_role()
            .role_name("remote")
            .assume_role_policy_document(policy.to_string())
            .send()
            .await
            .expect("the role is created");
        harness
    }
}

fn intermediate_thumbprint() -> String {
    oidc_sts_harness::tls::thumbprint_of(remote_ca().intermediate_der())
}

#[tokio::test]
async fn remote_issuer_works_end_to_end() {
    let remote = Remote::start().await;
    remote
        .serve(
            ResponseTemplate::new(200).set_body_json(remote.discovery()),
            Some(1),
        )
        .await;
    let harness = remote.harness(true, &[]).await;
    for session in ["first", "second"] {
        let granted = assume(&harness, ROLE, &remote.token(|_| {}), session)
            .await
            .expect("the role is assumed");
        assert_eq!(
            granted.assumed_role_user.unwrap().arn,
            format!("arn:aws:sts::123456789012:assumed-role/remote/{session}")
        );
    }
    // The JWKS allowed caching for 60 s, so the discovery document was
    // fetched once for both calls; wiremock checks the count on drop.
}

#[tokio::test]
async fn remote_failures_get_key_retrieval_message() {
    let cases: Vec<(&str, ResponseTemplate)> = vec![
        ("discovery 500", ResponseTemplate::new(500)),
        ("discovery 404", ResponseTemplate::new(404)),
        (
            "discovery not JSON",
            ResponseTemplate::new(200).set_body_string("<html>"),
        ),
        (
            "discovery without required members",
            ResponseTemplate::new(200)
                .set_body_json(json!({"issuer": "x", "jwks_uri": "https://x/keys"})),
        ),
        (
            "slow discovery",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
        ),
    ];
    for (name, response) in cases {
        let remote = Remote::start().await;
        remote.serve(response, None).await;
        let harness = remote.harness(true, &[]).await;
        let error = assume(&harness, ROLE, &remote.token(|_| {}), "s1")
            .await
            .unwrap_err();
        assert_eq!(error.status, 400, "{name}");
        assert_eq!(error.code, "InvalidIdentityToken", "{name}");
        assert_eq!(error.message, KEY_RETRIEVAL, "{name}");
    }
}

#[tokio::test]
async fn unknown_kid_and_unreachable_host() {
    let remote = Remote::start().await;
    remote.serve_ok().await;
    let harness = remote.harness(true, &[]).await;
    let other = SigningKey::derived(4242, &["other"]);
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), remote.url().into());
    claims.insert("sub".into(), SUBJECT.into());
    claims.insert("aud".into(), "sts.amazonaws.com".into());
    claims.insert(
        "exp".into(),
        (time::OffsetDateTime::now_utc().unix_timestamp() + 300).into(),
    );
    let token = mint::sign(&other, &mint::default_header(&other), &claims);
    let error = assume(&harness, ROLE, &token, "s1").await.unwrap_err();
    assert_eq!(error.message, KEY_RETRIEVAL);

    // A host nothing listens on: the resolve entry points at a closed port.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let gone = Remote {
        mock: MockServer::start().await,
        port,
        key: remote.key.clone(),
    };
    let harness = gone.harness(true, &[]).await;
    let error = assume(&harness, ROLE, &gone.token(|_| {}), "s1")
        .await
        .unwrap_err();
    assert_eq!(error.message, KEY_RETRIEVAL);
}

#[tokio::test]
async fn untrusted_chain_needs_matching_thumbprint() {
    let remote = Remote::start().await;
    remote.serve_ok().await;
    let mismatch = remote.harness(false, &["0".repeat(40)]).await;
    let error = assume(&mismatch, ROLE, &remote.token(|_| {}), "s1")
        .await
        .unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(error.code, "InvalidIdentityToken");
    assert_eq!(
        error.message,
        "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
    );

    let matching = remote.harness(false, &[intermediate_thumbprint()]).await;
    assume(&matching, ROLE, &remote.token(|_| {}), "s1")
        .await
        .expect("a matching thumbprint is enough");
}

#[tokio::test]
async fn huge_max_age_is_capped() {
    let remote = Remote::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(remote.discovery()))
        .mount(&remote.mock)
        .await;
    let jwks = Issuer::new(&remote.url(), vec![remote.key.clone()])
        .jwks_json()
        .to_owned();
    Mock::given(method("GET"))
        .and(path("/keys"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(jwks)
                .insert_header("cache-control", "max-age=18446744073709551615"),
        )
        .mount(&remote.mock)
        .await;
    let harness = remote.harness(true, &[]).await;
    for session in ["first", "second"] {
        assume(&harness, ROLE, &remote.token(|_| {}), session)
            .await
            .expect("a huge max-age neither panics nor blocks the call");
    }
}

#[tokio::test]
async fn token_without_aud_is_named() {
    let remote = Remote::start().await;
    remote.serve_ok().await;
    let harness = remote.harness(true, &[]).await;
    let error = assume(
        &harness,
        ROLE,
        &remote.token(|claims| {
            claims.remove("aud");
        }),
        "s1",
    )
    .await
    .unwrap_err();
    assert_eq!(error.message, "Missing a required claim: aud");
}
