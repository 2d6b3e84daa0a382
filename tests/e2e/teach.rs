//! The teaching page at `/_harness/` and its live stream, over real HTTP:
//! earlier requests are in the first HTML, a new request arrives as a
//! server-sent event, and values from the token are escaped. Also the
//! `run --explain` diagram of library scenarios, as snapshots.

use std::time::Duration;

use harness_e2e::post_form;
use oidc_sts_harness::Harness;
use oidc_sts_harness::oidc::mint::TokenRequest;
use oidc_sts_harness::scenario::report::{self, Style};
use oidc_sts_harness::scenario::{load_str, run::run};

use super::{CLUSTER, ISSUER, PROVIDER_ARN, harness};

/// A namespace that is markup: it ends up in the token's `sub` and
/// `kubernetes.io` claims, which the page shows.
const HOSTILE: &str = "<script>alert(1)</script>";

/// Sends AssumeRoleWithWebIdentity with a correctly signed token whose
/// subject is markup; with no provider registered it fails the provider
/// check. Returns the request id.
async fn hostile_call(harness: &Harness) -> String {
    let token = harness
        .token(CLUSTER, &TokenRequest::new(HOSTILE, "app"))
        .expect("the cluster mints tokens");
    let raw = post_form(
        harness,
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/app"),
            ("RoleSessionName", "teach"),
            ("WebIdentityToken", &token),
        ],
    )
    .await;
    assert_eq!(raw.status, 400, "{}", raw.body);
    assert!(raw.body.contains("No OpenIDConnect provider found"));
    raw.headers["x-amzn-requestid"]
        .to_str()
        .expect("an ASCII request id")
        .to_owned()
}

async fn get(harness: &Harness, path: &str) -> (u16, String, String) {
    let response = reqwest::get(format!("{}{path}", harness.endpoint()))
        .await
        .expect("the harness answers on loopback");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.expect("a text body"))
}

#[tokio::test]
async fn first_html_lists_earlier_requests_with_the_failing_check() {
    let harness = harness().await;
    let created = post_form(
        &harness,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Version", "2010-05-08"),
            (
                "Url",
                "https://oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000001",
            ),
            ("ClientIDList.member.1", "sts.amazonaws.com"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let request_id = hostile_call(&harness).await;

    let (status, kind, html) = get(&harness, "/_harness/").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "text/html; charset=utf-8");
    // The world: the cluster's issuer and the provider just created.
    assert!(html.contains(ISSUER), "{html}");
    assert!(html.contains(
        "oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000001"
    ));
    // Both requests, the IAM one with its account and outcome.
    assert!(html.contains("IAM CreateOpenIDConnectProvider"));
    assert!(html.contains("account <code>123456789012</code>"));
    assert!(html.contains(&format!(r#"data-request-id="{request_id}""#)));
    assert!(html.contains("InvalidIdentityToken 400"));
    // The chain: provider failed, the checks before it passed, the rest
    // were not reached.
    assert!(html.contains(r#"<li class="passed" data-check="token">"#));
    assert!(html.contains(r#"<li class="failed" data-check="provider" aria-current="step">"#));
    assert!(html.contains(r#"<li data-check="keys" title="not reached">"#));
    assert!(html.contains("create-open-id-connect-provider") || html.contains("Fix: "));
    // The one script is the page's own; the claim is shown as text.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains("system:serviceaccount:&lt;script&gt;alert(1)&lt;/script&gt;:app"));

    let (status, _, page) = get(&harness, &format!("/_harness/requests/{request_id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-check="provider" aria-current="step""#));
    let (status, _, missing) = get(&harness, "/_harness/requests/%3Cb%3E").await;
    assert_eq!(status, 404);
    assert!(!missing.contains("<b>"));
    harness.stop().await.expect("the harness stops");
}

/// Reads the event stream until `needle` has arrived, or fails after a
/// generous bound (a hang guard, not a speed target).
async fn read_until(response: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in the stream; got {seen}"))
            .expect("the stream stays open")
            .expect("the stream does not end");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test]
async fn a_request_arrives_as_a_server_sent_event() {
    let harness = harness().await;
    let mut stream = reqwest::get(format!("{}/_harness/events", harness.endpoint()))
        .await
        .expect("the stream opens");
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
    let request_id = hostile_call(&harness).await;
    let seen = read_until(&mut stream, "event: world").await;
    assert!(seen.contains("event: request\n"), "{seen}");
    assert!(seen.contains("id: 1\n"), "{seen}");
    assert!(seen.contains(&format!(r#"data-request-id="{request_id}""#)));
    assert!(seen.contains(r#"data-check="provider" aria-current="step""#));
    assert!(!seen.contains(HOSTILE), "{seen}");
    assert!(seen.contains("&lt;script&gt;"));

    // A page that rendered request 1 asks for what came after it; one that
    // missed it gets it replayed first.
    let mut replay = reqwest::get(format!("{}/_harness/events?after=0", harness.endpoint()))
        .await
        .expect("the stream opens");
    let replayed = read_until(&mut replay, "event: world").await;
    assert!(replayed.contains(&format!(r#"data-request-id="{request_id}""#)));
    let bad = reqwest::get(format!("{}/_harness/events?after=x", harness.endpoint()))
        .await
        .expect("an answer");
    assert_eq!(bad.status(), 400);
    drop((stream, replay));
    harness.stop().await.expect("the harness stops");
}

#[tokio::test]
async fn the_page_does_not_change_aws_answers() {
    let harness = harness().await;
    let raw = post_form(
        &harness,
        &[
            ("Action", "ListOpenIDConnectProviders"),
            ("Version", "2010-05-08"),
        ],
    )
    .await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.body.starts_with("<ListOpenIDConnectProvidersResponse"),
        "{}",
        raw.body
    );
    assert!(!raw.body.contains(PROVIDER_ARN));
    harness.stop().await.expect("the harness stops");
}

fn explained(path: &str) -> String {
    let text = std::fs::read_to_string(format!("../{path}"))
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    let scenario = load_str(std::path::Path::new(path), &text).unwrap_or_else(|e| panic!("{e}"));
    report::human_with(&run(&scenario), Style { color: false }, true)
}

#[test]
fn explain_diagram_of_a_wrong_audience() {
    insta::assert_snapshot!(explained("scenarios/workshop/03-audience.yaml"));
}

#[test]
fn explain_diagram_of_a_subject_mismatch() {
    insta::assert_snapshot!(explained("scenarios/workshop/05-subject-condition.yaml"));
}

#[test]
fn explain_diagram_of_an_expired_token() {
    insta::assert_snapshot!(explained("scenarios/tokens/expired-token.yaml"));
}
