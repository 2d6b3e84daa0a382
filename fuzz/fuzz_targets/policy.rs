//! The trust-policy parser and evaluator: any bytes as the document IAM
//! receives in CreateRole; a document that parses is then evaluated and
//! explained against the claims of the fuzzing world's genuine token, and
//! against claims of other types.
//!
//! An input with a NUL byte is split there: the part before is the policy,
//! the part after is a JSON object of claims, so the fuzzer can vary both.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_sts_harness::explain::{ExplainInput, explain, render_human};
use oidc_sts_harness::policy::TrustPolicy;
use serde_json::{Map, Value, json};

fn default_claims() -> Map<String, Value> {
    let value = json!({
        "iss": oidc_sts_harness_fuzz::ISSUER,
        "sub": "system:serviceaccount:default:app",
        "aud": ["sts.amazonaws.com"],
        "amr": ["a", 1, null],
        "exp": oidc_sts_harness_fuzz::NOW + 3600,
        "iat": oidc_sts_harness_fuzz::NOW,
        "kubernetes.io": {"namespace": "default"}
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let (policy, claims) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(policy) = std::str::from_utf8(policy) else {
        return;
    };
    let claims = match claims.map(serde_json::from_slice::<Value>) {
        Some(Ok(Value::Object(map))) => map,
        _ => default_claims(),
    };
    if TrustPolicy::parse(policy).is_err() {
        return;
    }
    let now = time::OffsetDateTime::from_unix_timestamp(oidc_sts_harness_fuzz::NOW)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let input = ExplainInput {
        trust_policy: policy,
        claims,
        role_arn: Some(oidc_sts_harness_fuzz::ROLE_ARN),
        client_id: "sts.amazonaws.com",
        now,
    };
    if let Ok(explanation) = explain(&input) {
        let _ = render_human(&explanation);
    }
});
