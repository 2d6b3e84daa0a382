//! Unit tests of the feed's bounds and of escaping in the page fragments.

use std::sync::Arc;

use super::*;
use crate::sts::{Check, Decision, Outcome, TraceEntry};

fn event(action: &str) -> RequestEvent {
    RequestEvent {
        serial: 0,
        request_id: "id".into(),
        time: "2026-06-01T12:00:00Z".into(),
        front: Front::Iam,
        action: action.into(),
        account: Some("123456789012".into()),
        status: 200,
        code: "OK".into(),
        message: None,
        web_identity: None,
    }
}

#[test]
fn feed_numbers_events_and_keeps_the_newest() {
    let feed = Feed::new();
    for n in 0..REQUEST_HISTORY + 5 {
        feed.push(event(&format!("Action{n}")));
    }
    let recent = feed.recent();
    assert_eq!(recent.len(), REQUEST_HISTORY);
    assert_eq!(recent[0].serial, 6);
    assert_eq!(
        recent.last().map(|e| e.serial),
        Some(REQUEST_HISTORY as u64 + 5)
    );
}

#[test]
fn live_subscribers_get_pushed_events() {
    let feed = Feed::new();
    let mut receiver = feed.subscribe();
    feed.push(event("CreateRole"));
    let live = receiver.try_recv().expect("an event is waiting");
    assert_eq!(live.event.action, "CreateRole");
}

#[test]
fn hostile_values_are_escaped_in_the_fragment() {
    let hostile = "<script>alert(1)</script>";
    let decision = Decision {
        request_id: "r1".into(),
        time: "2026-06-01T12:00:00Z".into(),
        role_arn: Some(format!("arn:aws:iam::123456789012:role/{hostile}")),
        role_session_name: Some("s".into()),
        issuer: None,
        subject: Some(hostile.into()),
        outcome: Outcome::Error {
            code: "InvalidIdentityToken".into(),
            status: 400,
            message: hostile.into(),
        },
        decided_by: Check::Provider,
        trace: vec![TraceEntry {
            check: Check::Provider,
            passed: false,
            summary: hostile.into(),
            compared: vec![],
            hint: Some(hostile.into()),
        }],
        policy: None,
        claims: None,
    };
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), hostile.into());
    let mut e = event("AssumeRoleWithWebIdentity");
    e.front = Front::Sts;
    e.status = 400;
    e.code = "InvalidIdentityToken".into();
    e.message = Some(hostile.into());
    e.web_identity = Some(WebIdentityView {
        decision: Arc::new(decision),
        claims: Some(Arc::new(claims)),
        trust_policy: Some(hostile.into()),
    });
    let html = render_request(&e);
    assert!(!html.contains("<script"), "unescaped markup in {html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains(r#"class="failed" data-check="provider""#),
        "{html}"
    );
}
