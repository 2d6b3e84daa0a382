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
