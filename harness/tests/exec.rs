//! `oidc-sts-harness exec` as a separate process: the child's environment,
//! the token file, and exit statuses. It is its own test binary because
//! it gives the parent process fake AWS_ variables.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;

const POD_YAML: &str = r#"version: 1
name: exec test pods
description: pods for the exec tests
steps: []
world:
  clusters:
    - name: demo
      manifests:
        # Not annotated: the pod below carries what the webhook would add.
        - apiVersion: v1
          kind: ServiceAccount
          metadata: {name: cart, namespace: shop}
        - apiVersion: v1
          kind: Pod
          metadata: {name: mutated, namespace: shop}
          spec:
            serviceAccountName: cart
            containers:
              - name: app
                image: example/app:1
                env:
                  - {name: AWS_ROLE_ARN, value: "arn:aws:iam::123456789012:role/cart"}
                  - {name: AWS_WEB_IDENTITY_TOKEN_FILE, value: /var/run/secrets/eks.amazonaws.com/serviceaccount/token}
                  - {name: AWS_REGION, value: us-east-1}
                  - name: POD_IP
                    valueFrom: {fieldRef: {fieldPath: status.podIP}}
                volumeMounts:
                  - {name: aws-iam-token, mountPath: /var/run/secrets/eks.amazonaws.com/serviceaccount, readOnly: true}
              - name: sidecar
                image: example/sidecar:1
            volumes:
              - name: aws-iam-token
                projected:
                  sources:
                    - serviceAccountToken: {audience: sts.amazonaws.com, expirationSeconds: 86400, path: token}
        - apiVersion: v1
          kind: Pod
          metadata: {name: own-path, namespace: shop}
          spec:
            containers:
              - name: app
                env:
                  - {name: AWS_WEB_IDENTITY_TOKEN_FILE, value: /opt/app/token}
"#;

/// Parent variables a developer's shell may hold; none may reach the child.
const PARENT_AWS: [(&str, &str); 9] = [
    ("AWS_ACCESS_KEY_ID", "AKIAPARENTPARENTPARE"),
    ("AWS_SECRET_ACCESS_KEY", "parent-secret"),
    ("AWS_SESSION_TOKEN", "parent-session"),
    ("AWS_PROFILE", "parent-profile"),
    ("AWS_DEFAULT_PROFILE", "parent-profile"),
    ("AWS_ROLE_SESSION_NAME", "parent-session-name"),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/parent/token"),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://169.254.170.23/v1/credentials",
    ),
    ("AWS_SHARED_CREDENTIALS_FILE", "/parent/credentials"),
];

fn scenario() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pods.yaml");
    std::fs::write(&path, POD_YAML).unwrap();
    (dir, path)
}

fn exec(scenario: &Path, pod: &str, extra: &[&str], command: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oidc-sts-harness"))
        .arg("exec")
        .arg("--scenario")
        .arg(scenario)
        .args(["--pod", pod])
        .args(extra)
        .arg("--")
        .args(command)
        .envs(PARENT_AWS)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("exec runs")
}

fn child_env(output: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn value<'e>(env: &'e [(String, String)], name: &str) -> Option<&'e str> {
    env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn parent_aws_variables_are_removed() {
    let (_dir, path) = scenario();
    let output = exec(&path, "shop/mutated", &[], &["env"]);
    assert!(output.status.success(), "{output:?}");
    let env = child_env(&output);

    for (name, parent) in PARENT_AWS {
        assert_ne!(value(&env, name), Some(parent), "{name} leaked");
    }
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        assert_eq!(value(&env, name), None, "{name} is set");
    }

    assert_eq!(
        value(&env, "AWS_ROLE_ARN"),
        Some("arn:aws:iam::123456789012:role/cart")
    );
    assert_eq!(value(&env, "AWS_EC2_METADATA_DISABLED"), Some("false"));

    let endpoint = value(&env, "AWS_ENDPOINT_URL").unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(value(&env, "AWS_ENDPOINT_URL_STS"), Some(endpoint));
    assert_eq!(value(&env, "AWS_ENDPOINT_URL_IAM"), Some(endpoint));
    assert_eq!(
        value(&env, "AWS_EC2_METADATA_SERVICE_ENDPOINT"),
        Some(format!("{endpoint}/").as_str())
    );
    for name in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        let file = value(&env, name).unwrap();
        assert_eq!(
            std::fs::metadata(file).map(|m| m.len()).ok(),
            None,
            "{name} is removed after the command"
        );
    }

    assert_eq!(value(&env, "POD_IP"), None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("env POD_IP uses valueFrom"),
        "warning on stderr: {stderr}"
    );
}

#[test]
fn token_file_is_private_and_mapped() {
    let (_dir, path) = scenario();
    let script = r#"stat -c %a "$AWS_WEB_IDENTITY_TOKEN_FILE"; echo "$AWS_WEB_IDENTITY_TOKEN_FILE"; cat "$AWS_WEB_IDENTITY_TOKEN_FILE""#;
    let output = exec(&path, "shop/mutated", &[], &["sh", "-c", script]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "600");
    assert!(lines[1].ends_with("/token/token"), "{}", lines[1]);
    assert!(
        !Path::new(lines[1]).exists(),
        "the temporary folder is removed"
    );
    let payload = lines[2].split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "system:serviceaccount:shop:cart");
    assert_eq!(claims["aud"], serde_json::json!(["sts.amazonaws.com"]));
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "mutated");
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 86_400);
}

#[test]
fn pod_set_token_path_passes_through() {
    let (_dir, path) = scenario();
    let output = exec(&path, "shop/own-path", &[], &["env"]);
    assert!(output.status.success(), "{output:?}");
    let env = child_env(&output);
    assert_eq!(
        value(&env, "AWS_WEB_IDENTITY_TOKEN_FILE"),
        Some("/opt/app/token")
    );
}

#[test]
fn exit_statuses() {
    let (_dir, path) = scenario();
    let status = |command: &[&str]| exec(&path, "shop/mutated", &[], command).status.code();
    assert_eq!(status(&["sh", "-c", "exit 7"]), Some(7));
    assert_eq!(status(&["sh", "-c", "kill -TERM $$"]), Some(128 + 15));
    assert_eq!(status(&["no-such-command-here"]), Some(127));
}

#[test]
fn missing_container_lists_containers() {
    let (_dir, path) = scenario();
    let output = exec(&path, "shop/mutated", &["--container", "web"], &["true"]);
    assert_eq!(output.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pod shop/mutated has no container \"web\"; its containers: app, sidecar"),
        "{stderr}"
    );
    let sidecar = exec(&path, "shop/mutated", &["--container", "sidecar"], &["env"]);
    let env = child_env(&sidecar);
    assert_eq!(value(&env, "AWS_ROLE_ARN"), None, "the sidecar has no env");
}
