//! Micro-benchmarks of the parts of an AssumeRoleWithWebIdentity request,
//! each beside the raw cost of the crypto it wraps.
//!
//! `cargo bench -p oidc-sts-harness --bench request`. The groups:
//!
//! - `crypto`: one RSA-2048 PKCS#1 v1.5 SHA-256 verify and one ECDSA P-256
//!   verify, through the harness's key type and through the `rsa`, `p256`
//!   and `aws-lc-rs` crates directly, so the harness's overhead over the
//!   primitive is the difference;
//! - `token`: JWT parsing and minting;
//! - `lookup`: the provider and role lookups in worlds of 100 and of 10,000
//!   providers and roles (100 accounts at IAM's quota of 100 providers);
//! - `policy`: trust-policy evaluation with 1, 10 and 100 statements and 1,
//!   10 and 100 conditions (IAM's size quota allows about 10 statements; the
//!   larger policies show how the engine scales);
//! - `render`: the STS response as XML;
//! - `pipeline`: the whole STS pipeline in process, with a valid token and
//!   with a bad signature.

use std::hint::black_box;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use oidc_sts_harness::aws::Params;
use oidc_sts_harness::clock::FixedClock;
use oidc_sts_harness::iam;
use oidc_sts_harness::oidc::keys::PublicJwk;
use oidc_sts_harness::oidc::mint::{self, TokenRequest};
use oidc_sts_harness::oidc::{Issuer, KeyAlgorithm, SigningKey, jwt};
use oidc_sts_harness::policy::{TrustPolicy, WebIdentityRequest, web_identity_context};
use oidc_sts_harness::state::{AppState, ServerOptions};
use oidc_sts_harness::sts::{self, WebIdentityCall};
use oidc_sts_harness::world::{ClusterSpec, DEFAULT_ACCOUNT, OidcProvider, Role, World};
use serde_json::{Map, Value};
use time::OffsetDateTime;

const INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
const NOW: i64 = 1_764_806_400;
const ROLE: &str = "bench-role";
const SUB: &str = "system:serviceaccount:default:bench";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).expect("a valid timestamp")
}

fn crypto(c: &mut Criterion) {
    let mut group = c.benchmark_group("crypto");
    let key = SigningKey::derived(1, &["bench", "rsa"]);
    let signature = key.sign(INPUT);
    group.bench_function("rs256_verify/harness", |b| {
        b.iter(|| assert!(key.verify(black_box(INPUT), &signature, KeyAlgorithm::RS256)))
    });
    let raw_signature = URL_SAFE_NO_PAD.decode(&signature).expect("base64url");
    let PublicJwk::Rsa { n, e } = key.public_jwk() else {
        unreachable!("an RS256 key has an RSA JWK")
    };
    let (n, e) = (
        URL_SAFE_NO_PAD.decode(n).expect("base64url"),
        URL_SAFE_NO_PAD.decode(e).expect("base64url"),
    );
    {
        use aws_lc_rs::signature::{
            ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
        };
        let components = RsaPublicKeyComponents { n: &n, e: &e };
        group.bench_function("rs256_verify/aws-lc-rs", |b| {
            b.iter(|| {
                components
                    .verify(
                        &RSA_PKCS1_2048_8192_SHA256,
                        black_box(INPUT.as_bytes()),
                        &raw_signature,
                    )
                    .expect("a valid signature")
            })
        });
        let der = rsa_public_key_der(&n, &e);
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).expect("a public key");
        group.bench_function("rs256_verify/aws-lc-rs-parsed", |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(INPUT.as_bytes()), &raw_signature)
                    .expect("a valid signature")
            })
        });
    }
    {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use rsa::signature::Verifier;
        use rsa::traits::PublicKeyParts;
        let mut rng = oidc_sts_harness::seed::rng(1, &["bench", "rsa-crate"]);
        let private = rsa::PrivateKey::new(&mut rng, 2048).expect("RSA key generation");
        let public = rsa::PublicKey::from(&private);
        assert_eq!(public.n_bytes().len(), 256);
        let signing = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private);
        let signature: Signature = rsa::signature::Signer::sign(&signing, INPUT.as_bytes());
        let verifying = VerifyingKey::<sha2::Sha256>::new(public);
        group.bench_function("rs256_verify/rsa-crate", |b| {
            b.iter(|| {
                verifying
                    .verify(black_box(INPUT.as_bytes()), &signature)
                    .expect("a valid signature")
            })
        });
    }
    let es = SigningKey::derived_for(KeyAlgorithm::ES256, 1, &["bench", "es256"]);
    let es_signature = es.sign(INPUT);
    group.bench_function("es256_verify/harness", |b| {
        b.iter(|| assert!(es.verify(black_box(INPUT), &es_signature, KeyAlgorithm::ES256)))
    });
    let PublicJwk::Ec { x, y, .. } = es.public_jwk() else {
        unreachable!("an ES256 key has an EC JWK")
    };
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(x).expect("base64url"));
    point.extend(URL_SAFE_NO_PAD.decode(y).expect("base64url"));
    let raw_es = URL_SAFE_NO_PAD.decode(&es_signature).expect("base64url");
    {
        use p256::ecdsa::signature::Verifier;
        let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("a P-256 point");
        let signature = p256::ecdsa::Signature::from_slice(&raw_es).expect("r || s");
        group.bench_function("es256_verify/p256-crate", |b| {
            b.iter(|| {
                verifying
                    .verify(black_box(INPUT.as_bytes()), &signature)
                    .expect("a valid signature")
            })
        });
    }
    {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).expect("a P-256 point");
        group.bench_function("es256_verify/aws-lc-rs-parsed", |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(INPUT.as_bytes()), &raw_es)
                    .expect("a valid signature")
            })
        });
    }
    group.bench_function("rs256_sign/harness", |b| {
        b.iter(|| key.sign(black_box(INPUT)))
    });
    group.finish();
}

/// The PKCS#1 RSAPublicKey DER of a modulus and exponent.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let mut value = Vec::new();
        if bytes[0] & 0x80 != 0 {
            value.push(0);
        }
        value.extend_from_slice(bytes);
        let mut out = vec![0x02];
        out.extend(length(value.len()));
        out.extend(value);
        out
    }
    fn length(len: usize) -> Vec<u8> {
        match len {
            0..0x80 => vec![len as u8],
            0x80..0x100 => vec![0x81, len as u8],
            _ => vec![0x82, (len >> 8) as u8, len as u8],
        }
    }
    let body: Vec<u8> = [integer(n), integer(e)].concat();
    let mut out = vec![0x30];
    out.extend(length(body.len()));
    out.extend(body);
    out
}

/// A harness world with one cluster, its provider and a role that trusts
/// `SUB`, built through the IAM actions.
fn world_state() -> (Arc<AppState>, Arc<Issuer>) {
    let mut world = World::new(7, DEFAULT_ACCOUNT);
    let issuer = world
        .add_cluster(&ClusterSpec::parse("bench").expect("a valid spec"), now())
        .expect("a new cluster")
        .issuer
        .clone();
    let state = AppState::new(
        world,
        Arc::new(FixedClock::new(now())),
        ServerOptions::default(),
    );
    let prefix = issuer.url().trim_start_matches("https://");
    let provider_arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:oidc-provider/{prefix}");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{prefix}:sub":"{SUB}","{prefix}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    for (action, pairs) in [
        (
            "CreateOpenIDConnectProvider",
            vec![
                ("Url", issuer.url().to_owned()),
                ("ClientIDList.member.1", "sts.amazonaws.com".to_owned()),
            ],
        ),
        (
            "CreateRole",
            vec![
                ("RoleName", ROLE.to_owned()),
                ("AssumeRolePolicyDocument", policy),
            ],
        ),
    ] {
        let params = Params::from_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let call = iam::Call {
            state: &state,
            params: &params,
            account: DEFAULT_ACCOUNT,
            request_id: "bench",
        };
        iam::dispatch(action, &call).expect("the IAM setup succeeds");
    }
    (state, issuer)
}

fn bench_token(issuer: &Issuer) -> String {
    let request = TokenRequest::new("default", "bench");
    mint::mint(issuer, 7, now(), &request)
}

fn token(c: &mut Criterion) {
    let (_, issuer) = world_state();
    let token = bench_token(&issuer);
    let mut group = c.benchmark_group("token");
    group.bench_function("jwt_parse", |b| {
        b.iter(|| jwt::parse(black_box(&token)).expect("a valid token"))
    });
    let request = TokenRequest::new("default", "bench");
    group.bench_function("mint_rs256", |b| {
        b.iter(|| mint::mint(&issuer, 7, now(), black_box(&request)))
    });
    group.finish();
}

/// A world of `accounts` accounts with `per_account` providers and roles
/// each, written straight into the world (building it through IAM would
/// time the setup, not the lookup).
fn big_world(accounts: usize, per_account: usize) -> World {
    let mut world = World::new(7, DEFAULT_ACCOUNT);
    let policy = Arc::new(
        TrustPolicy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/x.example"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
        )
        .expect("a valid policy"),
    );
    for a in 0..accounts {
        let id = format!("{:012}", 100_000_000_000u64 + a as u64);
        let account = world.account_mut(&id);
        for p in 0..per_account {
            let url = format!("oidc.eks.us-east-1.amazonaws.com/id/{a:016X}{p:016X}");
            let arn = account.provider_arn(&url);
            account.providers.insert(
                url.clone(),
                OidcProvider {
                    url,
                    arn,
                    client_ids: vec!["sts.amazonaws.com".into()],
                    thumbprints: Vec::new(),
                    tags: Vec::new(),
                    created_at: now(),
                },
            );
            let name = format!("role-{p}");
            account.roles.insert(
                name.clone(),
                Role {
                    arn: format!("arn:aws:iam::{id}:role/{name}"),
                    name,
                    path: "/".into(),
                    id: format!("AROA{a:08}{p:09}"),
                    trust_policy: policy.clone(),
                    description: None,
                    max_session_duration: 3600,
                    permissions_boundary: None,
                    tags: Vec::new(),
                    created_at: now(),
                },
            );
        }
    }
    world
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    for (accounts, per_account) in [(1, 100), (100, 100)] {
        let world = big_world(accounts, per_account);
        let total = accounts * per_account;
        // The last account and provider, so an ordered scan would be slowest.
        let account = format!("{:012}", 100_000_000_000u64 + accounts as u64 - 1);
        let iss = format!(
            "https://oidc.eks.us-east-1.amazonaws.com/id/{:016X}{:016X}",
            accounts - 1,
            per_account - 1
        );
        let role = format!("ROLE-{}", per_account - 1);
        group.bench_with_input(
            BenchmarkId::new("provider_for_issuer", total),
            &(),
            |b, _| {
                b.iter(|| {
                    world
                        .account(black_box(&account))
                        .and_then(|a| a.provider_for_issuer(black_box(&iss)))
                        .expect("the provider exists")
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("role", total), &(), |b, _| {
            b.iter(|| {
                world
                    .account(black_box(&account))
                    .and_then(|a| a.role(black_box(&role)))
                    .expect("the role exists")
            })
        });
        group.bench_with_input(BenchmarkId::new("hosts_issuer_on", total), &(), |b, _| {
            b.iter(|| world.hosts_issuer_on(black_box("sts.amazonaws.com")))
        });
    }
    group.finish();
}

/// A trust policy of `statements` statements with `conditions` conditions
/// each; only the last statement matches, so every condition is evaluated.
fn policy_document(
    prefix: &str,
    provider_arn: &str,
    statements: usize,
    conditions: usize,
) -> String {
    let statement = |index: usize| {
        let sub = if index + 1 == statements {
            SUB.to_owned()
        } else {
            format!("system:serviceaccount:default:other-{index}")
        };
        let mut like = Map::new();
        for extra in 1..conditions {
            like.insert(format!("{prefix}:claim{extra}"), Value::from("*"));
        }
        let mut condition = Map::new();
        condition.insert(
            "StringEquals".into(),
            serde_json::json!({ format!("{prefix}:sub"): sub }),
        );
        if !like.is_empty() {
            condition.insert("StringLikeIfExists".into(), Value::Object(like));
        }
        serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        })
    };
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": (0..statements).map(statement).collect::<Vec<_>>(),
    })
    .to_string()
}

fn policy(c: &mut Criterion) {
    let (_, issuer) = world_state();
    let token = bench_token(&issuer);
    let claims = jwt::parse(&token).expect("a valid token").claims;
    let prefix = issuer.url().trim_start_matches("https://").to_owned();
    let provider_arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:oidc-provider/{prefix}");
    let request = WebIdentityRequest {
        provider_arn: &provider_arn,
        key_prefix: &prefix,
        claims: &claims,
        matched_audience: "sts.amazonaws.com",
        role_session_name: "bench",
        source_ip: Some("127.0.0.1"),
        request_time: now(),
        secure_transport: false,
        requested_region: Some("us-east-1"),
    };
    let mut group = c.benchmark_group("policy");
    group.bench_function("context", |b| {
        b.iter(|| web_identity_context(black_box(&request)))
    });
    let context = web_identity_context(&request);
    for (statements, conditions) in [(1, 1), (10, 1), (100, 1), (1, 10), (1, 100), (10, 10)] {
        let document = policy_document(&prefix, &provider_arn, statements, conditions);
        let policy = TrustPolicy::parse_with_quota(&document, usize::MAX).expect("a valid policy");
        assert!(policy.evaluate(&context).allowed());
        group.bench_with_input(
            BenchmarkId::new("evaluate", format!("{statements}x{conditions}")),
            &(),
            |b, _| b.iter(|| policy.evaluate(black_box(&context))),
        );
    }
    group.finish();
}

fn sts_params(token: &str) -> Params {
    Params::from_pairs(
        [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            (
                "RoleArn",
                &format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/{ROLE}"),
            ),
            ("RoleSessionName", "bench"),
            ("WebIdentityToken", token),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
}

/// Runs the pipeline and returns whether it granted credentials and the
/// name of the check that decided. With a hosted issuer it completes on its
/// first poll.
fn run_pipeline(state: &AppState, params: &Params) -> (bool, &'static str) {
    let call = WebIdentityCall {
        params,
        request_id: "bench",
        source_ip: "127.0.0.1".into(),
        secure: false,
        region: "us-east-1".into(),
    };
    let future = sts::assume_role_with_web_identity(state, &call);
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready((result, decision)) => (result.is_ok(), decision.decided_by.name()),
        Poll::Pending => unreachable!("a hosted issuer needs no waiting"),
    }
}

fn pipeline(c: &mut Criterion) {
    let (state, issuer) = world_state();
    let token = bench_token(&issuer);
    let valid = sts_params(&token);
    // The signature's 11th character, which carries six signature bits.
    // The last one also carries padding bits, and changing it can make the
    // token malformed rather than wrongly signed.
    let at = token.rfind('.').expect("a signed token") + 11;
    let mut tampered = token.clone();
    let replacement = if &token[at..at + 1] == "A" { "B" } else { "A" };
    tampered.replace_range(at..at + 1, replacement);
    let invalid = sts_params(&tampered);
    assert_eq!(run_pipeline(&state, &valid), (true, "duration"));
    assert_eq!(run_pipeline(&state, &invalid), (false, "signature"));
    let mut group = c.benchmark_group("pipeline");
    group.bench_function("assume_role_valid", |b| {
        b.iter(|| run_pipeline(&state, black_box(&valid)))
    });
    group.bench_function("assume_role_bad_signature", |b| {
        b.iter(|| run_pipeline(&state, black_box(&invalid)))
    });
    group.finish();

    let call = WebIdentityCall {
        params: &valid,
        request_id: "bench",
        source_ip: "127.0.0.1".into(),
        secure: false,
        region: "us-east-1".into(),
    };
    let future = sts::assume_role_with_web_identity(&state, &call);
    let mut future = std::pin::pin!(future);
    let Poll::Ready((Ok(granted), _)) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        unreachable!("the valid call is granted")
    };
    let mut group = c.benchmark_group("render");
    group.bench_function("sts_xml", |b| {
        b.iter(|| sts::response::xml(black_box(&granted), "bench"))
    });
    group.finish();
}

criterion_group!(benches, crypto, token, lookup, policy, pipeline);
criterion_main!(benches);
