//! The human-readable explanation of an [`Evaluation`]: the decision, each
//! statement with its principal, action and conditions, the diagnosis of
//! each failure, and the policy's warnings.
//!
//! The JSON form is the [`serde::Serialize`] output of the same types.

use std::fmt::Write as _;

use super::{ConditionTrace, Decision, Diagnosis, Effect, Evaluation, StatementTrace};

/// Renders an evaluation as plain text, one statement per block.
pub fn render_human(eval: &Evaluation) -> String {
    let mut out = String::new();
    // The first line is exactly `decision: allow` or `decision: deny`, so
    // scripts can match it; the reason follows on its own line.
    let (decision, reason) = match (eval.decision, eval.deciding_statement()) {
        (Decision::Allow, Some(t)) => ("allow", format!("statement {} allows", label(t))),
        (Decision::ExplicitDeny, Some(t)) => ("deny", format!("statement {} denies", label(t))),
        (Decision::ImplicitDeny, _) | (_, None) => {
            ("deny", "no statement allows the request".to_string())
        }
    };
    let _ = writeln!(out, "decision: {decision}");
    let _ = writeln!(out, "reason: {reason}");

    for statement in &eval.statements {
        out.push('\n');
        render_statement(&mut out, statement);
    }

    if !eval.warnings.is_empty() {
        out.push_str("\nwarnings:\n");
        for warning in &eval.warnings {
            render_diagnosis(&mut out, "  - ", warning);
        }
    }
    out
}

fn label(trace: &StatementTrace) -> String {
    match &trace.sid {
        Some(sid) if !sid.is_empty() => format!("{} ({sid})", trace.index),
        _ => trace.index.to_string(),
    }
}

fn render_statement(out: &mut String, trace: &StatementTrace) {
    let effect = match trace.effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    let applies = if trace.applies {
        "applies"
    } else {
        "does not apply"
    };
    let _ = writeln!(out, "statement {} [{effect}]: {applies}", label(trace));
    let _ = writeln!(out, "  principal: {}", verdict(trace.principal_matched));
    let _ = writeln!(out, "  action: {}", verdict(trace.action_matched));
    for condition in &trace.conditions {
        render_condition(out, condition);
    }
    for found in &trace.diagnoses {
        render_diagnosis(out, "  ", found);
    }
}

fn render_condition(out: &mut String, trace: &ConditionTrace) {
    let _ = writeln!(
        out,
        "  condition {} {}: {}",
        trace.operator,
        trace.key,
        verdict(trace.matched)
    );
    let _ = writeln!(out, "    policy values: {}", list(&trace.policy_values));
    let request = match &trace.request_values {
        Some(values) => list(values),
        None => "(key missing)".to_string(),
    };
    let _ = writeln!(out, "    request values: {request}");
    if let Some(found) = &trace.diagnosis {
        render_diagnosis(out, "    ", found);
    }
}

fn render_diagnosis(out: &mut String, indent: &str, found: &Diagnosis) {
    let pad = " ".repeat(indent.len());
    let _ = writeln!(out, "{indent}problem: {}", found.message);
    let _ = writeln!(out, "{pad}fix: {}", found.fix);
}

fn verdict(matched: bool) -> &'static str {
    if matched { "matched" } else { "not matched" }
}

fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}
