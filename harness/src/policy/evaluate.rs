//! Statement matching and the decision. A statement applies when its
//! principal, action and every condition match. Any applying Deny wins.
//! Otherwise any applying Allow allows, and without one the request is
//! implicitly denied.

use super::context::{RequestContext, RequestPrincipal};
use super::diagnose;
use super::wildcard;
use super::{
    ActionMatch, ConditionTrace, Decision, Effect, Evaluation, Principal, StatementTrace,
    TrustPolicy,
};

/// Evaluates every statement and combines them with IAM's precedence.
pub(crate) fn evaluate(policy: &TrustPolicy, request: &RequestContext) -> Evaluation {
    let statements: Vec<StatementTrace> = policy
        .statements()
        .iter()
        .enumerate()
        .map(|(index, statement)| trace_statement(index, statement, request))
        .collect();

    let applies = |effect: Effect| statements.iter().any(|t| t.applies && t.effect == effect);
    let decision = if applies(Effect::Deny) {
        Decision::ExplicitDeny
    } else if applies(Effect::Allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    };

    let warnings = diagnose::policy_warnings(policy, request);
    Evaluation {
        decision,
        statements,
        warnings,
    }
}

fn trace_statement(
    index: usize,
    statement: &super::Statement,
    request: &RequestContext,
) -> StatementTrace {
    let principal_matched = principal_matches(&statement.principal, request.principal());
    let action_matched = action_matches(&statement.action, request.action());

    // Every condition is evaluated, even after one fails, so the trace shows
    // all of the reasons a statement did not apply.
    let conditions: Vec<ConditionTrace> = statement
        .conditions
        .iter()
        .map(|condition| {
            let (matched, request_values) = condition.evaluate(request);
            let diagnosis = if matched {
                None
            } else {
                diagnose::condition_diagnosis(condition, request_values.as_deref(), request)
            };
            ConditionTrace {
                operator: condition.operator_text.clone(),
                key: condition.key.clone(),
                policy_values: condition.values.clone(),
                request_values,
                matched,
                diagnosis,
            }
        })
        .collect();

    let applies = principal_matched && action_matched && conditions.iter().all(|c| c.matched);
    let diagnoses =
        diagnose::statement_diagnoses(statement, request, principal_matched, action_matched);
    StatementTrace {
        index,
        sid: statement.sid.clone(),
        effect: statement.effect,
        principal_matched,
        action_matched,
        conditions,
        applies,
        diagnoses,
    }
}

/// Principal values are compared exactly: IAM allows no wildcard in a
/// principal other than the bare `*`.
fn principal_matches(principal: &Principal, request: &RequestPrincipal) -> bool {
    let Principal::Named {
        aws,
        federated,
        service,
        ..
    } = principal
    else {
        return true;
    };
    match request {
        RequestPrincipal::Federated(provider) => federated.iter().any(|f| f == provider),
        RequestPrincipal::Aws(arn) => aws.iter().any(|a| a == "*" || a == arn || owns(a, arn)),
        RequestPrincipal::Service(name) => service.iter().any(|s| s == name),
    }
}

/// Reports whether an account principal (`111122223333` or
/// `arn:aws:iam::111122223333:root`) covers the IAM principal `arn`.
fn owns(principal: &str, arn: &str) -> bool {
    let account = principal
        .strip_prefix("arn:")
        .and_then(|rest| rest.strip_suffix(":root"))
        .and_then(|rest| rest.rsplit(':').next())
        .unwrap_or(principal);
    account.len() == 12 && arn.split(':').nth(4) == Some(account)
}

/// Action names are case-insensitive, with `*` and `?` wildcards.
pub(crate) fn action_matches(action: &ActionMatch, requested: &str) -> bool {
    match action {
        ActionMatch::Action(patterns) => patterns
            .iter()
            .any(|p| wildcard::matches_ignore_case(p, requested)),
        ActionMatch::NotAction(patterns) => !patterns
            .iter()
            .any(|p| wildcard::matches_ignore_case(p, requested)),
    }
}
