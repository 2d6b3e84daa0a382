//! The `oidc-sts-harness` command line as scripts use it: output lines,
//! exit codes and messages.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn harness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oidc-sts-harness"));
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    command
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A running `serve`, stopped when dropped.
struct Served {
    child: Child,
    lines: Vec<String>,
}

impl Served {
    fn start(args: &[&str], wanted_lines: usize) -> Served {
        let mut child = harness()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines: Vec<String> = BufReader::new(stdout)
            .lines()
            .take(wanted_lines)
            .map(|line| line.expect("stdout is UTF-8"))
            .collect();
        Served { child, lines }
    }

    fn http_endpoint(&self) -> String {
        self.lines[0]
            .strip_prefix("listening on ")
            .expect("the first line names the address")
            .to_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn serve_prints_readiness_lines_in_order() {
    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
            "--cluster",
            "demo",
        ],
        3,
    );
    assert!(
        served.lines[0].starts_with("listening on http://127.0.0.1:"),
        "{:?}",
        served.lines
    );
    assert!(
        served.lines[1].starts_with("listening on https://127.0.0.1:"),
        "{:?}",
        served.lines
    );
    let ca = served.lines[2]
        .strip_prefix("ca certificate: ")
        .expect("the third line names the CA file");
    let pem = std::fs::read_to_string(ca).expect("the CA file exists");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn token_command_mints_and_reports_unknown_cluster() {
    let served = Served::start(
        &["--listen", "127.0.0.1:0", "--cluster", "demo@eu-west-1"],
        1,
    );
    let endpoint = served.http_endpoint();
    let output = harness()
        .args([
            "token",
            "--endpoint",
            &endpoint,
            "--cluster",
            "demo",
            "--namespace",
            "ns",
            "--service-account",
            "sa",
        ])
        .args(["--expires-in", "-60"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let claims = oidc_sts_harness::explain::claims_of_token(&stdout).expect("a JWT");
    assert_eq!(claims["sub"], "system:serviceaccount:ns:sa");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        -60
    );
    assert_eq!(claims["aud"], serde_json::json!(["sts.amazonaws.com"]));

    let output = harness()
        .args([
            "token",
            "--endpoint",
            &endpoint,
            "--cluster",
            "nope",
            "--namespace",
            "ns",
            "--service-account",
            "sa",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cluster \"nope\" not found") && stderr.contains("demo"),
        "{stderr}"
    );
}

#[test]
fn run_exit_codes() {
    let good = repo("scenarios/eks/issuer-not-registered.yaml");
    let output = harness().arg("run").arg(&good).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output).0);

    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(&good).unwrap();
    let wrong = dir.path().join("wrong.yaml");
    std::fs::write(
        &wrong,
        original.replace("decided_by: provider", "decided_by: audience"),
    )
    .unwrap();
    let output = harness().arg("run").arg(&wrong).output().unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("expected: error InvalidIdentityToken (400)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("actual:   error InvalidIdentityToken (400)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("decided by provider, expected audience"),
        "{stdout}"
    );

    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, original.replace("  clusters:", "  clusterz:")).unwrap();
    let output = harness().arg("run").arg(&typo).output().unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains(&format!(
            "{}:{}:3:",
            typo.display(),
            clusters_line(&original)
        )),
        "{stderr}"
    );
    assert!(stderr.contains("unknown field `clusterz`"), "{stderr}");
}

#[test]
fn run_junit_has_one_testcase_per_step() {
    let output = harness()
        .args(["run", "--format", "junit"])
        .arg(repo("scenarios/eks/issuer-not-registered.yaml"))
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    let mut reader = quick_xml::Reader::from_str(&stdout);
    let mut testcases = 0;
    let mut suites = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testcase" => testcases += 1,
                    "testsuite" => suites += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, 1);
    assert_eq!(testcases, 3);
}

/// The trust-policy failures users hit, each with the decision IAM gives
/// and a phrase the diagnosis must contain.
#[test]
fn explain_diagnoses_real_trust_policy_failures() {
    let eks = "oidc.eks.us-east-2.amazonaws.com/id/54F82897BA4A5F563F4DDBBF528BCCB0";
    let gha = "token.actions.githubusercontent.com";
    let federated = |prefix: &str| format!("arn:aws:iam::210987654321:oidc-provider/{prefix}");
    let policy = |prefix: &str, version: &str, conditions: serde_json::Value| {
        serde_json::json!({
            "Version": version,
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": federated(prefix)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": conditions,
            }]
        })
    };
    let eks_claims = |sub: &str| serde_json::json!({"iss": format!("https://{eks}"), "sub": sub, "aud": ["sts.amazonaws.com"]});
    let gha_claims = |sub: &str| serde_json::json!({"iss": format!("https://{gha}"), "sub": sub, "aud": "sts.amazonaws.com"});
    let sub_key = format!("{eks}:sub");
    let cases = vec![
        (
            "another namespace",
            policy(
                eks,
                "2012-10-17",
                serde_json::json!({"StringEquals": {format!("{eks}:sub"): "system:serviceaccount:kube-system:cluster-autoscaler"}}),
            ),
            eks_claims("system:serviceaccount:autoscaling:cluster-autoscaler"),
            "deny",
            "system:serviceaccount:autoscaling:cluster-autoscaler",
        ),
        (
            "wildcard under StringEquals",
            policy(
                eks,
                "2012-10-17",
                serde_json::json!({"StringEquals": {format!("{eks}:sub"): "system:serviceaccount:crossplane-system:provider-aws-*"}}),
            ),
            eks_claims("system:serviceaccount:crossplane-system:provider-aws-s3-3f9a61c0d2e4"),
            "deny",
            "StringLike",
        ),
        (
            "key with the provider ARN",
            policy(
                eks,
                "2012-10-17",
                serde_json::json!({"StringLike": {format!("{}:sub", federated(eks)): "system:serviceaccount:karpenter:karpenter"}}),
            ),
            eks_claims("system:serviceaccount:karpenter:karpenter"),
            "deny",
            sub_key.as_str(),
        ),
        (
            "key with https://",
            policy(
                eks,
                "2012-10-17",
                serde_json::json!({"StringLike": {format!("https://{eks}:sub"): "system:serviceaccount:karpenter:karpenter"}}),
            ),
            eks_claims("system:serviceaccount:karpenter:karpenter"),
            "deny",
            sub_key.as_str(),
        ),
        (
            "GitHub audience pinned to the org URL",
            policy(
                gha,
                "2012-10-17",
                serde_json::json!({"StringEquals": {format!("{gha}:aud"): "https://github.com/example-org"}}),
            ),
            gha_claims("repo:example-org/demo-repo:ref:refs/heads/main"),
            "deny",
            "sts.amazonaws.com",
        ),
        (
            "pull_request subject",
            policy(
                gha,
                "2012-10-17",
                serde_json::json!({"StringEquals": {format!("{gha}:aud"): "sts.amazonaws.com", format!("{gha}:sub"): "repo:example-org/config-repo"}}),
            ),
            gha_claims("repo:example-org/config-repo:pull_request"),
            "deny",
            "repo:example-org/config-repo:*",
        ),
        (
            "immutable subject format",
            policy(
                gha,
                "2012-10-17",
                serde_json::json!({"StringEquals": {format!("{gha}:aud"): "sts.amazonaws.com"}, "StringLike": {format!("{gha}:sub"): "repo:example-org/demo-repo:*"}}),
            ),
            gha_claims("repo:example-org@70012345/demo-repo@80054321:ref:refs/heads/main"),
            "deny",
            "repo:example-org@70012345/demo-repo@80054321:ref:refs/heads/main",
        ),
        (
            "legacy version with StringLike",
            policy(
                gha,
                "2008-10-17",
                serde_json::json!({"StringLike": {format!("{gha}:sub"): "repo:example-org/demo-repo:*"}}),
            ),
            gha_claims("repo:example-org/demo-repo:ref:refs/heads/main"),
            "allow",
            "decision: allow",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, policy, claims, decision, phrase) in cases {
        let policy_file = dir.path().join("policy.json");
        let claims_file = dir.path().join("claims.json");
        std::fs::write(&policy_file, policy.to_string()).unwrap();
        std::fs::write(&claims_file, claims.to_string()).unwrap();
        let output = harness()
            .arg("explain")
            .arg("--trust-policy")
            .arg(&policy_file)
            .arg("--claims")
            .arg(&claims_file)
            .args(["--role-arn", "arn:aws:iam::210987654321:role/app"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&output);
        assert!(
            stdout.starts_with(&format!("decision: {decision}\n")),
            "{name}: {stdout}{stderr}"
        );
        assert_eq!(
            output.status.code(),
            Some(if decision == "allow" { 0 } else { 1 }),
            "{name}"
        );
        assert!(
            stdout.contains(phrase),
            "{name}: expected {phrase:?} in\n{stdout}"
        );

        let json = harness()
            .arg("explain")
            .arg("--trust-policy")
            .arg(&policy_file)
            .arg("--claims")
            .arg(&claims_file)
            .args([
                "--role-arn",
                "arn:aws:iam::210987654321:role/app",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON output");
        assert_eq!(value["decision"], decision, "{name}");
    }
}

#[test]
fn explain_reports_audience_before_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy_file = dir.path().join("policy.json");
    let claims_file = dir.path().join("claims.json");
    std::fs::write(
        &policy_file,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/issuer.example.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
    )
    .unwrap();
    std::fs::write(
        &claims_file,
        r#"{"iss":"https://issuer.example.com","sub":"x","aud":"other"}"#,
    )
    .unwrap();
    let output = harness()
        .arg("explain")
        .arg("--trust-policy")
        .arg(&policy_file)
        .arg("--claims")
        .arg(&claims_file)
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(stdout.starts_with("decision: deny\n"), "{stdout}");
    assert!(stdout.contains("Incorrect token audience"), "{stdout}");
    assert!(
        stdout.contains("warnings"),
        "a policy without :sub gets a warning: {stdout}"
    );
}

#[test]
fn explain_rejects_invalid_policy_with_iam_message() {
    let dir = tempfile::tempdir().unwrap();
    let policy_file = dir.path().join("policy.json");
    let claims_file = dir.path().join("claims.json");
    std::fs::write(&policy_file, "not valid json").unwrap();
    std::fs::write(
        &claims_file,
        r#"{"iss":"https://a.example.com","sub":"x","aud":"sts.amazonaws.com"}"#,
    )
    .unwrap();
    let output = harness()
        .arg("explain")
        .arg("--trust-policy")
        .arg(&policy_file)
        .arg("--claims")
        .arg(&claims_file)
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("MalformedPolicyDocument This policy contains invalid Json"),
        "{stderr}"
    );
}

/// The 1-based line of the world's `clusters:` key in a scenario.
fn clusters_line(scenario: &str) -> usize {
    scenario
        .lines()
        .position(|l| l == "  clusters:")
        .expect("the scenario has a clusters section")
        + 1
}

#[test]
fn junit_reports_invalid_files_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "version: 1\nname: \"bad \\u0001 name\"\ndescription: d\nsteps: [{nam: x}]\n",
    )
    .unwrap();
    let output = harness()
        .args(["run", "--format", "junit"])
        .arg(&bad)
        .arg(repo("scenarios/eks/issuer-not-registered.yaml"))
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout.contains("errors=\"1\""), "{stdout}");
    assert!(stdout.contains("<error message="), "{stdout}");
    let mut reader = quick_xml::Reader::from_str(&stdout);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("the JUnit report is not well-formed: {error}\n{stdout}"),
        }
    }
}

#[test]
fn run_survives_closed_stdout() {
    let mut child = harness()
        .args(["run"])
        .arg(repo("scenarios"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `| head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Runs `oidc-sts-harness ARGS` and returns its exit code, stdout and stderr.
fn kube_command(args: &[&str]) -> (i32, String, String) {
    let output = harness().args(args).output().expect("the binary runs");
    let (stdout, stderr) = text(&output);
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn kube_commands_change_and_show_pods() {
    let served = Served::start(
        &["--listen", "127.0.0.1:0", "--cluster", "demo@eu-west-1"],
        1,
    );
    let endpoint = served.http_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.yaml");
    std::fs::write(
        &plain,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: app-0, namespace: shop}\nspec: {serviceAccountName: app, containers: [{name: c}]}\n",
    )
    .unwrap();
    let annotated = dir.path().join("annotated.yaml");
    std::fs::write(
        &annotated,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n  annotations: {eks.amazonaws.com/role-arn: \"arn:aws:iam::123456789012:role/app\"}\n",
    )
    .unwrap();
    let apply = |file: &Path| {
        kube_command(&[
            "kube",
            "apply",
            "--endpoint",
            &endpoint,
            "-f",
            file.to_str().unwrap(),
        ])
    };

    let (code, stdout, stderr) = apply(&plain);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "serviceaccount/app created\npod/app-0 created\n");
    let (_, stdout, _) = apply(&plain);
    assert_eq!(
        stdout,
        "serviceaccount/app unchanged\npod/app-0 unchanged\n"
    );
    let (_, stdout, _) = apply(&annotated);
    assert_eq!(stdout, "serviceaccount/app configured\n");

    let show = || kube_command(&["pod", "show", "--endpoint", &endpoint, "shop/app-0"]);
    let (code, before, stderr) = show();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        before.starts_with("apiVersion: v1\nkind: Pod\n"),
        "{before}"
    );
    assert!(!before.contains("AWS_ROLE_ARN"), "{before}");

    let (code, stdout, stderr) = kube_command(&[
        "kube",
        "rollout-restart",
        "--endpoint",
        &endpoint,
        "--cluster",
        "demo",
        "shop/app-0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "pod/app-0 restarted\n");
    let (_, after, _) = show();
    assert!(after.contains("AWS_ROLE_ARN"), "{after}");
    assert!(after.contains("name: aws-iam-token"), "{after}");
    assert!(after.contains("value: eu-west-1"), "{after}");

    // The token command takes the pod's volume: audience and lifetime.
    let (code, token, stderr) = kube_command(&[
        "token",
        "--endpoint",
        &endpoint,
        "--cluster",
        "demo",
        "--namespace",
        "shop",
        "--service-account",
        "app",
        "--pod",
        "app-0",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let claims = oidc_sts_harness::explain::claims_of_token(&token).expect("a JWT");
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "app-0");
    let uid = claims["kubernetes.io"]["pod"]["uid"].as_str().unwrap();
    assert!(
        after.contains(&format!("uid: {uid}")),
        "the token names the stored pod's uid"
    );

    let (code, _, stderr) = kube_command(&[
        "token",
        "--endpoint",
        &endpoint,
        "--cluster",
        "demo",
        "--namespace",
        "shop",
        "--service-account",
        "other",
        "--pod",
        "app-0",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("runs as service account \"app\", not \"other\""),
        "{stderr}"
    );

    let ghost = dir.path().join("ghost.yaml");
    std::fs::write(
        &ghost,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: lost, namespace: shop}\nspec: {serviceAccountName: ghost, containers: [{name: c}]}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = apply(&ghost);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "Error from server (Forbidden): pods \"lost\" is forbidden: error looking up service account shop/ghost: serviceaccount \"ghost\" not found\n"
    );

    let delete = |args: &[&str]| {
        let mut all = vec!["kube", "delete", "--endpoint", endpoint.as_str()];
        all.extend_from_slice(args);
        kube_command(&all)
    };
    let (code, stdout, stderr) = delete(&["pod", "shop/app-0"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "pod \"app-0\" deleted\n");
    let (code, _, stderr) = delete(&["po", "shop/app-0"]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "Error from server (NotFound): pods \"app-0\" not found\n"
    );
    let (code, stdout, stderr) = delete(&["-f", annotated.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "serviceaccount \"app\" deleted\n");
    let (code, _, stderr) = kube_command(&["pod", "show", "--endpoint", &endpoint, "shop/app-0"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("pods \"app-0\" not found"), "{stderr}");
}

#[test]
fn kube_commands_need_a_cluster_among_several() {
    let served = Served::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--cluster",
            "blue",
            "--cluster",
            "green",
        ],
        1,
    );
    let endpoint = served.http_endpoint();
    let (code, _, stderr) = kube_command(&[
        "kube",
        "rollout-restart",
        "--endpoint",
        &endpoint,
        "default/web",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "(400): name a cluster with --cluster or ?cluster=NAME; the harness serves: blue, green"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = kube_command(&[
        "kube",
        "rollout-restart",
        "--endpoint",
        &endpoint,
        "--cluster",
        "green",
        "default/web",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Error from server (NotFound): deployments.apps \"web\" not found"),
        "{stderr}"
    );

    // The pod route picks its cluster the same way.
    let (code, _, stderr) = kube_command(&["pod", "show", "--endpoint", &endpoint, "default/p"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "(400): name a cluster with --cluster or ?cluster=NAME; the harness serves: blue, green"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = kube_command(&[
        "pod",
        "show",
        "--endpoint",
        &endpoint,
        "--cluster",
        "nope",
        "default/p",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("(404): cluster \"nope\" not found; the harness serves: blue, green"),
        "{stderr}"
    );
}
