//! Loader and runner tests on small inline scenarios.

use std::path::Path;

use super::load::load_str;
use super::run::run;

const BASE: &str = r#"version: 1
name: base
description: one cluster, one provider, one role
world:
  clusters:
    - name: demo
      region: eu-west-1
      id: C891F985BAF5A4C1C7ABBA6A00DFD39E
      manifests: |
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: app, namespace: shop, uid: 11111111-2222-4333-8444-555555555555}
  oidc_providers:
    - cluster: demo
      client_ids: [sts.amazonaws.com]
  roles:
    - name: app
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E}
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals:
                "oidc.eks.eu-west-1.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E:sub": system:serviceaccount:shop:app
steps:
  - name: assume
    assume_role_with_web_identity:
      role_arn: arn:aws:iam::123456789012:role/app
      token: {cluster: demo, namespace: shop, service_account: app}
    expect:
      success: {assumed_role_arn: "arn:aws:sts::123456789012:assumed-role/app/scenario-session"}
"#;

fn load_error(text: &str) -> String {
    load_str(Path::new("test.yaml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn base_scenario_passes() {
    let scenario = load_str(Path::new("test.yaml"), BASE).unwrap();
    let report = run(&scenario);
    assert!(
        report.passed,
        "{}",
        super::report::human(&report, super::report::Style { color: false })
    );
}

#[test]
fn typo_points_at_line_and_column() {
    let error = load_error(&BASE.replace("  oidc_providers:", "  oidc_provider:"));
    assert!(error.starts_with("test.yaml:13:3: "), "{error}");
    assert!(error.contains("unknown field `oidc_provider`"), "{error}");
}

#[test]
fn dangling_cluster_is_named() {
    let error = load_error(&BASE.replace("token: {cluster: demo,", "token: {cluster: prod,"));
    assert!(
        error.contains("no cluster or issuer named \"prod\""),
        "{error}"
    );
    assert!(error.contains("defined: demo"), "{error}");
}

#[test]
fn rejected_trust_policy_is_a_load_error() {
    let error = load_error(&BASE.replace(
        "Action: sts:AssumeRoleWithWebIdentity",
        "Action: s3:GetObject",
    ));
    assert!(
        error.contains("AssumeRole policy may only specify STS AssumeRole actions."),
        "{error}"
    );
    assert!(error.starts_with("test.yaml:19:9: "), "{error}");
}

#[test]
fn invalid_manifest_names_field_path() {
    let error = load_error(&BASE.replace("kind: ServiceAccount", "kind: Pod"));
    assert!(
        error.contains("invalid manifest in cluster \"demo\""),
        "{error}"
    );
    assert!(error.contains("spec is missing"), "{error}");
}

#[test]
fn unknown_decided_by_lists_checks() {
    let error = load_error(&BASE.replace(
        "      success: {assumed_role_arn:",
        "      decided_by: policy\n      success: {assumed_role_arn:",
    ));
    assert!(error.contains("unknown check \"policy\""), "{error}");
    assert!(error.contains("trust-policy"), "{error}");
}

#[test]
fn step_needs_exactly_one_action() {
    let error = load_error(&BASE.replace(
        "  - name: assume\n",
        "  - name: assume\n    advance_clock: 5\n",
    ));
    assert!(error.contains("has 2 actions"), "{error}");
}

#[test]
fn manifest_uid_reaches_token() {
    let scenario = load_str(Path::new("test.yaml"), BASE).unwrap();
    let state = super::run::build_state(
        &scenario,
        std::sync::Arc::new(crate::clock::FixedClock::new(scenario.now)),
    )
    .unwrap();
    let world = state.read();
    let cluster = &world.clusters()[0];
    assert_eq!(
        cluster.kube.service_account_uid("shop", "app"),
        Some("11111111-2222-4333-8444-555555555555")
    );
}

#[test]
fn wrong_expectation_fails_with_mismatch() {
    let text = BASE.replace(
        "assumed-role/app/scenario-session",
        "assumed-role/app/other",
    );
    let report = run(&load_str(Path::new("test.yaml"), &text).unwrap());
    assert!(!report.passed);
    let step = &report.steps[0];
    assert_eq!(step.mismatches.len(), 1, "{:?}", step.mismatches);
    assert!(
        step.mismatches[0].contains("expected arn:aws:sts::123456789012:assumed-role/app/other")
    );
}

/// Builds BASE's world with the cluster's keys changed, and sends `token`
/// (minted by `make` from the cluster's issuer) to STS.
fn confused(
    cluster_keys: &str,
    make: impl Fn(&crate::oidc::Issuer, serde_json::Map<String, serde_json::Value>) -> String,
) -> Result<crate::sts::Granted, crate::sts::StsError> {
    use crate::oidc::mint::{self, TokenRequest};
    let text = BASE.replace(
        "      id: C891F985BAF5A4C1C7ABBA6A00DFD39E\n",
        &format!("      id: C891F985BAF5A4C1C7ABBA6A00DFD39E\n{cluster_keys}"),
    );
    let scenario = load_str(Path::new("test.yaml"), &text).unwrap();
    let clock = std::sync::Arc::new(crate::clock::FixedClock::new(scenario.now));
    let state = super::run::build_state(&scenario, clock).unwrap();
    let (issuer, claims) = {
        let world = state.read();
        let issuer = world.clusters()[0].issuer.clone();
        let claims = mint::projected_claims(
            &issuer,
            world.seed(),
            state.now(),
            &TokenRequest::new("shop", "app"),
        );
        (issuer, claims)
    };
    let token = make(&issuer, claims);
    let params = crate::aws::Params::from_pairs(vec![
        (
            "RoleArn".to_owned(),
            "arn:aws:iam::123456789012:role/app".to_owned(),
        ),
        ("RoleSessionName".to_owned(), "s1".to_owned()),
        ("WebIdentityToken".to_owned(), token),
    ]);
    let call = crate::sts::WebIdentityCall {
        params: &params,
        request_id: "test",
        source_ip: "127.0.0.1".into(),
        secure: true,
        region: "us-east-1".into(),
    };
    super::run::ready_now(crate::sts::assume_role_with_web_identity(&state, &call))
        .expect("hosted issuers need no network")
        .0
}

#[test]
fn every_algorithm_is_accepted_from_its_issuer() {
    for alg in ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"] {
        let keys = format!("      signing: {{alg: {alg}}}\n");
        let result = confused(&keys, |issuer, claims| {
            let key = issuer.signing_key();
            assert_eq!(key.algorithm().name(), alg);
            crate::oidc::mint::sign(key, &crate::oidc::mint::default_header(key), &claims)
        });
        assert!(result.is_ok(), "{alg}: {result:?}");
    }
}

#[test]
fn rs256_token_with_an_ec_kid_is_rejected() {
    let result = confused("      signing: {alg: ES256}\n", |issuer, claims| {
        let rsa = crate::oidc::SigningKey::derived(1, &["confusion"]);
        let mut header = crate::oidc::mint::default_header(&rsa);
        header.insert("kid".into(), issuer.signing_key().kid().into());
        crate::oidc::mint::sign(&rsa, &header, &claims)
    });
    assert!(
        matches!(result, Err(crate::sts::StsError::BadSignature)),
        "{result:?}"
    );
}

#[test]
fn es256_token_against_an_rsa_key_is_rejected() {
    for kid in [true, false] {
        let result = confused("", |issuer, claims| {
            let ec = crate::oidc::SigningKey::derived_for(
                crate::oidc::KeyAlgorithm::ES256,
                1,
                &["confusion"],
            );
            let mut header = crate::oidc::mint::default_header(&ec);
            if kid {
                header.insert("kid".into(), issuer.signing_key().kid().into());
            } else {
                header.remove("kid");
            }
            crate::oidc::mint::sign(&ec, &header, &claims)
        });
        assert!(
            matches!(result, Err(crate::sts::StsError::BadSignature)),
            "kid {kid}: {result:?}"
        );
    }
}

#[test]
fn hs256_is_rejected_with_any_key() {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    for keys in ["", "      signing: {alg: ES256}\n"] {
        let result = confused(keys, |issuer, claims| {
            let key = issuer.signing_key();
            let mut header = crate::oidc::mint::default_header(key);
            header.insert("alg".into(), "HS256".into());
            let input = format!(
                "{}.{}",
                crate::oidc::jwt::encode_segment(&header),
                crate::oidc::jwt::encode_segment(&claims)
            );
            // The classic confusion: the public key's text as the HMAC secret.
            let secret = format!("{:?}", key.public_jwk());
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(mac.finalize().into_bytes());
            format!("{input}.{signature}")
        });
        assert!(
            matches!(result, Err(crate::sts::StsError::UnsupportedAlgorithm(ref alg)) if alg == "HS256"),
            "{result:?}"
        );
    }
}

const GITHUB: &str = r#"version: 1
name: github
description: one github issuer
world:
  issuers:
    - name: gha
      url: https://token.actions.githubusercontent.com
      kind: KIND
  oidc_providers:
    - issuer: gha
      client_ids: [sts.amazonaws.com]
  roles:
    - name: ci
      trust_policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com}
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals:
                "token.actions.githubusercontent.com:sub": repo:example-org/demo-repo:environment:prod
steps:
  - name: assume
    assume_role_with_web_identity:
      role_arn: arn:aws:iam::123456789012:role/ci
      token:
        issuer: gha
        SIGNED
        github: {repository: example-org/demo-repo, environment: prod}
    expect:
      success: {subject: "repo:example-org/demo-repo:environment:prod"}
"#;

#[test]
fn github_block_needs_a_github_issuer() {
    let error = load_error(&GITHUB.replace("KIND", "generic").replace("SIGNED", ""));
    assert!(error.contains("issuer of kind github"), "{error}");
}

#[test]
fn github_issuer_mints_environment_subject() {
    let text = GITHUB.replace("KIND", "github").replace("SIGNED", "");
    let report = run(&load_str(Path::new("test.yaml"), &text).unwrap());
    assert!(
        report.passed,
        "{}",
        super::report::human(&report, super::report::Style { color: false })
    );
}

#[test]
fn signed_by_previous_needs_a_previous_key() {
    let text = GITHUB
        .replace("KIND", "github")
        .replace("SIGNED", "signed_by: previous");
    let report = run(&load_str(Path::new("test.yaml"), &text).unwrap());
    assert!(!report.passed);
    let summary = report.steps[0].actual.summary();
    assert!(summary.contains("publishes no previous key"), "{summary}");
}

#[test]
fn der_encoded_ec_signature_is_rejected() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = crate::oidc::SigningKey::derived_for(crate::oidc::KeyAlgorithm::ES256, 1, &["der"]);
    let raw = URL_SAFE_NO_PAD.decode(key.sign("a.b")).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&raw).unwrap();
    let der = URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes());
    assert!(key.verify(
        "a.b",
        &URL_SAFE_NO_PAD.encode(&raw),
        crate::oidc::KeyAlgorithm::ES256
    ));
    assert!(!key.verify("a.b", &der, crate::oidc::KeyAlgorithm::ES256));
}

/// BASE with its steps replaced by `steps`.
fn with_steps(steps: &str) -> String {
    let head = &BASE[..BASE.find("steps:\n").expect("BASE has steps")];
    format!("{head}steps:\n{steps}")
}

#[test]
fn invalid_kube_apply_manifest_names_position() {
    let error = load_error(&with_steps(
        "  - name: apply\n    kube_apply:\n      manifests: |\n        apiVersion: v1\n        kind: Pod\n        metadata: {name: p}\n        spec: {containers: [{name: c, ports: [{containerPort: eighty}]}]}\n",
    ));
    assert!(error.starts_with("test.yaml:"), "{error}");
    assert!(
        error.contains("invalid manifest in kube_apply: manifest 1 (Pod p): spec.containers[0].ports[0].containerPort"),
        "{error}"
    );
}

#[test]
fn kube_apply_reads_file_beside_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {serviceAccountName: app, containers: [{name: c}]}\n",
    )
    .unwrap();
    let path = dir.path().join("scenario.yaml");
    let text = with_steps(
        "  - name: apply\n    kube_apply: {file: pod.yaml}\n  - name: show\n    pod_show: {pod: shop/p, token_volume: false}\n",
    );
    let report = run(&load_str(&path, &text).unwrap());
    assert!(report.passed, "{:?}", report.steps);
    let missing = load_str(&path, &text.replace("pod.yaml", "absent.yaml")).unwrap_err();
    assert!(
        missing.to_string().contains("cannot read manifests file"),
        "{missing}"
    );
}

#[test]
fn from_pod_token_rejects_shaping_fields() {
    let error = load_error(&with_steps(
        "  - name: assume\n    assume_role_with_web_identity:\n      role_arn: arn:aws:iam::123456789012:role/app\n      token: {from_pod: shop/p, audiences: [x]}\n",
    ));
    assert!(
        error.contains("a from_pod token takes only cluster, not audiences"),
        "{error}"
    );
}

#[test]
fn kube_step_names_unknown_cluster() {
    let error = load_error(&with_steps(
        "  - name: show\n    pod_show: {cluster: other, pod: shop/p}\n",
    ));
    assert!(
        error.contains("no cluster or issuer named \"other\""),
        "{error}"
    );
}

#[test]
fn invalid_reference_names_position() {
    let error = load_error(&with_steps(
        "  - name: restart\n    rollout_restart: {name: a/b/c}\n",
    ));
    assert!(
        error.contains("invalid object reference \"a/b/c\""),
        "{error}"
    );
    assert!(error.starts_with("test.yaml:29:29: "), "{error}");
}

#[test]
fn world_pod_without_account_fails_the_world() {
    let text = BASE.replace(
        "metadata: {name: app, namespace: shop, uid: 11111111-2222-4333-8444-555555555555}\n",
        "metadata: {name: app, namespace: shop, uid: 11111111-2222-4333-8444-555555555555}\n        ---\n        apiVersion: v1\n        kind: Pod\n        metadata: {name: p, namespace: shop}\n        spec: {serviceAccountName: ghost, containers: [{name: c}]}\n",
    );
    let report = run(&load_str(Path::new("test.yaml"), &text).unwrap());
    assert!(!report.passed);
    let message = &report.steps[0].mismatches[0];
    assert!(
        message.contains("Error from server (Forbidden): pods \"p\" is forbidden: error looking up service account shop/ghost"),
        "{message}"
    );
}

#[test]
fn pod_token_without_volume_explains() {
    let text = with_steps(
        "  - name: apply\n    kube_apply:\n      manifests: |\n        apiVersion: v1\n        kind: Pod\n        metadata: {name: p, namespace: shop}\n        spec: {serviceAccountName: app, containers: [{name: c}]}\n  - name: assume\n    assume_role_with_web_identity:\n      role_arn: arn:aws:iam::123456789012:role/app\n      token: {from_pod: shop/p}\n    expect:\n      error: {code: InvalidToken, message_matches: \"has no eks.amazonaws.com/role-arn annotation\"}\n",
    );
    let report = run(&load_str(Path::new("test.yaml"), &text).unwrap());
    assert!(report.passed, "{:?}", report.steps);
}

#[test]
fn invalid_node_role_points_at_value() {
    let error = load_error(&BASE.replace(
        "      region: eu-west-1\n",
        "      region: eu-west-1\n      node_role: eks nodes\n",
    ));
    assert!(error.starts_with("test.yaml:8:18: "), "{error}");
    assert!(error.contains("invalid node_role \"eks nodes\""), "{error}");
}

#[test]
fn node_role_is_created_unless_defined() {
    use crate::clock::FixedClock;
    use std::sync::Arc;

    let clock = || Arc::new(FixedClock::new(time::OffsetDateTime::UNIX_EPOCH));
    let named = BASE.replace(
        "      region: eu-west-1\n",
        "      region: eu-west-1\n      node_role: app\n",
    );
    let scenario = load_str(Path::new("test.yaml"), &named).unwrap();
    let state = super::run::build_state(&scenario, clock()).unwrap();
    let world = state.read();
    let account = world.account("123456789012").unwrap();
    let role = account.role("app").unwrap();
    assert!(
        role.trust_policy
            .text()
            .contains("AssumeRoleWithWebIdentity"),
        "the scenario's own role is kept"
    );
    assert!(account.role(crate::world::DEFAULT_NODE_ROLE).is_none());
    drop(world);

    let scenario = load_str(Path::new("test.yaml"), BASE).unwrap();
    let state = super::run::build_state(&scenario, clock()).unwrap();
    let world = state.read();
    let node_role = world
        .account("123456789012")
        .unwrap()
        .role(crate::world::DEFAULT_NODE_ROLE)
        .unwrap();
    assert!(
        node_role.trust_policy.text().contains("ec2.amazonaws.com"),
        "{}",
        node_role.trust_policy.text()
    );
}
