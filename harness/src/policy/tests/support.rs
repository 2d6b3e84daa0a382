//! Builders shared by the policy tests: an EKS provider, one-statement
//! policies and request contexts.

use crate::policy::{ContextValue, RequestContext, TrustPolicy};

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const PREFIX: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC";
pub(crate) const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
pub(crate) const WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
pub(crate) const SUB: &str = "system:serviceaccount:ns:app";

/// A context value in a test table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum V {
    /// A single value.
    S(&'static str),
    /// A multivalued key; an empty slice is an empty list.
    M(&'static [&'static str]),
}

/// Replaces `P:` at the start of a key or inside JSON with the provider prefix.
pub(crate) fn expand(text: &str) -> String {
    text.replace("P:", &format!("{PREFIX}:"))
}

/// Builds an EKS web-identity request with the given keys (`P:` expands).
pub(crate) fn eks_request(keys: &[(&str, V)]) -> RequestContext {
    let mut context = RequestContext::federated(PROVIDER, WEB_IDENTITY);
    for (key, value) in keys {
        let value = match value {
            V::S(text) => ContextValue::Single(text.to_string()),
            V::M(items) => ContextValue::Multi(items.iter().map(|s| s.to_string()).collect()),
        };
        context.insert(&expand(key), value);
    }
    context
}

/// Builds a 2012-10-17 policy with one Allow statement for the EKS provider and the
/// given `Condition` JSON (`P:` expands).
pub(crate) fn allow_with(condition: &str) -> String {
    let condition = expand(condition);
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},"Action":"{WEB_IDENTITY}","Condition":{condition}}}]}}"#
    )
}

/// Parses a policy that the test expects to be valid.
pub(crate) fn policy(text: &str) -> TrustPolicy {
    match TrustPolicy::parse(text) {
        Ok(policy) => policy,
        Err(err) => panic!("policy rejected: {err} ({})\n{text}", err.message()),
    }
}
