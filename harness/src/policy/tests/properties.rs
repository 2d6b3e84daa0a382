//! Properties that must hold for every input: parsing and evaluation never
//! panic, and adding a Deny statement never turns a deny into an allow.

use proptest::prelude::*;

use super::cases::all_conditions;
use super::support::{PREFIX, PROVIDER, WEB_IDENTITY, allow_with, expand};
use crate::policy::{ContextValue, RequestContext, TrustPolicy};

/// Keys the condition tables use, plus random ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!("{PREFIX}:sub")),
        Just(format!("{PREFIX}:aud")),
        Just(format!("{PREFIX}:amr")),
        Just("aws:SourceIp".to_string()),
        Just("aws:CurrentTime".to_string()),
        Just("aws:EpochTime".to_string()),
        Just("aws:SecureTransport".to_string()),
        Just("aws:SourceArn".to_string()),
        Just("sts:RoleSessionName".to_string()),
        Just("test:n".to_string()),
        Just("test:bin".to_string()),
        Just("test:expected".to_string()),
        "[a-z]{1,4}:[a-zA-Z]{1,6}",
    ]
}

/// Values that parse as each operator's type, plus arbitrary text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("system:serviceaccount:ns:app".to_string()),
        Just("sts.amazonaws.com".to_string()),
        Just("true".to_string()),
        Just("203.0.113.7".to_string()),
        Just("2001:db8::1".to_string()),
        Just("2023-11-14T22:13:20Z".to_string()),
        Just("arn:aws:iam::111122223333:role/app".to_string()),
        Just("aGVsbG8=".to_string()),
        "-?[0-9]{1,4}(\\.[0-9]{1,2})?",
        ".{0,24}",
    ]
}

fn value() -> impl Strategy<Value = ContextValue> {
    prop_oneof![
        text().prop_map(ContextValue::Single),
        prop::collection::vec(text(), 0..4).prop_map(ContextValue::Multi),
    ]
}

fn request() -> impl Strategy<Value = RequestContext> {
    prop::collection::vec((key(), value()), 0..8).prop_map(|keys| {
        let mut context = RequestContext::federated(PROVIDER, WEB_IDENTITY);
        for (key, value) in keys {
            context.insert(&key, value);
        }
        context
    })
}

/// Builds a policy with an Allow statement and, optionally, a Deny
/// statement, each with one of the table conditions.
fn two_statements(allow: &str, deny: Option<&str>) -> String {
    let statement = |effect: &str, condition: &str| {
        expand(&format!(
            r#"{{"Effect":"{effect}","Principal":{{"Federated":"{PROVIDER}"}},"Action":"{WEB_IDENTITY}","Condition":{condition}}}"#
        ))
    };
    let mut statements = vec![statement("Allow", allow)];
    statements.extend(deny.map(|condition| statement("Deny", condition)));
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// Callers of every principal kind, with arbitrary actions.
fn caller() -> impl Strategy<Value = RequestContext> {
    let action = prop_oneof![
        Just(WEB_IDENTITY.to_string()),
        "[a-z]{1,4}:[A-Za-z*?]{0,12}"
    ];
    let principal = prop_oneof![Just(PROVIDER.to_string()), ".{0,40}"];
    (0..3u8, principal, action).prop_map(|(kind, principal, action)| match kind {
        0 => RequestContext::federated(&principal, &action),
        1 => RequestContext::aws(&principal, &action),
        _ => RequestContext::service(&principal, &action),
    })
}

proptest! {
    #[test]
    fn evaluation_never_panics_for_any_caller(
        index in any::<prop::sample::Index>(),
        caller in caller(),
    ) {
        let conditions = all_conditions();
        let text = two_statements(conditions[index.index(conditions.len())], Some("{}"));
        let policy = TrustPolicy::parse(&text).expect("table policies are valid");
        let evaluation = policy.evaluate(&caller);
        prop_assert_eq!(evaluation.statements.len(), 2);
        prop_assert!(!evaluation.allowed() || caller.action() == WEB_IDENTITY);
    }

    #[test]
    fn evaluation_never_panics(index in any::<prop::sample::Index>(), request in request()) {
        let conditions = all_conditions();
        let condition = conditions[index.index(conditions.len())];
        let policy = TrustPolicy::parse(&allow_with(condition)).expect("table policies are valid");
        let evaluation = policy.evaluate(&request);
        prop_assert_eq!(evaluation.statements.len(), 1);
        let _ = crate::policy::render_human(&evaluation);
        prop_assert!(serde_json::to_string(&evaluation).is_ok());
    }

    #[test]
    fn parse_never_panics(text in ".{0,300}") {
        let _ = TrustPolicy::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_mutated_policy(
        index in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        insert in ".{0,8}",
    ) {
        let conditions = all_conditions();
        let text = allow_with(conditions[index.index(conditions.len())]);
        let chars: Vec<char> = text.chars().collect();
        let at = cut.index(chars.len());
        let mutated: String = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(&chars[at..]).collect();
        if let Ok(policy) = TrustPolicy::parse(&mutated) {
            let _ = policy.evaluate(&RequestContext::federated(PROVIDER, WEB_IDENTITY));
        }
    }

    #[test]
    fn deny_never_grants(
        allow in any::<prop::sample::Index>(),
        deny in any::<prop::sample::Index>(),
        request in request(),
    ) {
        let conditions = all_conditions();
        let allow = conditions[allow.index(conditions.len())];
        let deny = conditions[deny.index(conditions.len())];
        let without = TrustPolicy::parse(&two_statements(allow, None)).expect("valid");
        let with = TrustPolicy::parse(&two_statements(allow, Some(deny))).expect("valid");
        let before = without.evaluate(&request).allowed();
        let after = with.evaluate(&request).allowed();
        prop_assert!(!after || before, "adding a Deny turned deny into allow");
    }
}
