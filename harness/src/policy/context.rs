//! The request context a trust policy is evaluated against, and the builder
//! for the context of an `AssumeRoleWithWebIdentity` call.
//!
//! Key names are case-insensitive in IAM, so keys are stored lower-cased.
//! Values are kept as text; each condition operator parses them into its
//! own type (number, date, address) when it compares.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `Federated` principal value of the built-in Google provider, whose
/// `:aud` key contains `azp` when the token has one.
pub const GOOGLE_PROVIDER: &str = "accounts.google.com";

/// The condition-key prefix of the GitHub Actions issuer.
pub const GITHUB_ACTIONS_PREFIX: &str = "token.actions.githubusercontent.com";

/// GitHub Actions claims that STS exposes as `token.actions.githubusercontent.com:<claim>`
/// keys since January 2026, as listed in a public write-up of the AWS
/// announcement. None of them stays available in the role session.
// NOTE: the list comes from one secondary source; AWS's own key table was not
// available, so a key AWS added or dropped is not reflected here.
pub const GITHUB_ACTIONS_CLAIM_KEYS: &[&str] = &[
    "actor",
    "actor_id",
    "job_workflow_ref",
    "repository",
    "repository_id",
    "workflow",
    "ref",
    "environment",
    "enterprise_id",
];

/// Value of `aws:PrincipalType` for a web-identity caller.
pub const WEB_IDENTITY_PRINCIPAL_TYPE: &str = "WebIdentityUser";

/// One context value: IAM distinguishes single-valued from multivalued keys
/// only through the set operators, so both shapes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ContextValue {
    /// A single-valued key such as `aws:SourceIp` or `<provider>:sub`.
    Single(String),
    /// A multivalued key such as Cognito's `:amr`.
    Multi(Vec<String>),
}

impl ContextValue {
    /// Returns the values as a list, so a single value becomes a one-element
    /// list.
    pub fn values(&self) -> Vec<String> {
        match self {
            ContextValue::Single(value) => vec![value.clone()],
            ContextValue::Multi(values) => values.clone(),
        }
    }
}

/// The kind of principal that made the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum RequestPrincipal {
    /// A web-identity or SAML caller: the provider ARN, or the domain of a
    /// built-in provider such as `accounts.google.com`.
    Federated(String),
    /// An IAM user, role session or account.
    Aws(String),
    /// An AWS service such as `ec2.amazonaws.com`.
    Service(String),
}

/// The principal, action and context keys of one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestContext {
    principal: RequestPrincipal,
    action: String,
    /// Condition-key prefix of the caller's OIDC provider, used only to spot
    /// condition keys written for another provider.
    provider_prefix: Option<String>,
    #[serde(serialize_with = "serialize_keys")]
    /// Values by lower-cased key, in sorted order so traces are
    /// deterministic, each with the key as first spelt.
    keys: BTreeMap<String, (String, ContextValue)>,
}

impl RequestContext {
    /// Creates a context for a federated caller. `provider` is the provider
    /// ARN (`arn:aws:iam::111122223333:oidc-provider/host/path`) or the
    /// domain of a built-in provider.
    pub fn federated(provider: &str, action: &str) -> Self {
        RequestContext {
            principal: RequestPrincipal::Federated(provider.to_string()),
            action: action.to_string(),
            provider_prefix: provider_prefix_from_principal(provider),
            keys: BTreeMap::new(),
        }
    }

    /// Creates a context for an IAM caller (user, role session or account).
    pub fn aws(principal: &str, action: &str) -> Self {
        RequestContext {
            principal: RequestPrincipal::Aws(principal.to_string()),
            action: action.to_string(),
            provider_prefix: None,
            keys: BTreeMap::new(),
        }
    }

    /// Creates a context for an AWS service caller.
    pub fn service(service: &str, action: &str) -> Self {
        RequestContext {
            principal: RequestPrincipal::Service(service.to_string()),
            action: action.to_string(),
            provider_prefix: None,
            keys: BTreeMap::new(),
        }
    }

    /// Sets a context key, replacing any earlier value. Key names are
    /// case-insensitive, as in IAM.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.keys
            .insert(key.to_ascii_lowercase(), (key.to_string(), value));
    }

    /// Removes a context key, so conditions on it see it as missing.
    pub fn remove(&mut self, key: &str) {
        self.keys.remove(&key.to_ascii_lowercase());
    }

    /// Returns the value of a key, looked up case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.keys
            .get(&key.to_ascii_lowercase())
            .map(|(_, value)| value)
    }

    /// Returns the requesting principal.
    pub fn principal(&self) -> &RequestPrincipal {
        &self.principal
    }

    /// Returns the requested action, such as `sts:AssumeRoleWithWebIdentity`.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// Returns the condition-key prefix of the caller's OIDC provider, if
    /// known.
    pub fn provider_prefix(&self) -> Option<&str> {
        self.provider_prefix.as_deref()
    }

    /// Iterates over all keys as spelt when inserted, sorted
    /// case-insensitively.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.keys.values().map(|(key, value)| (key.as_str(), value))
    }
}

/// Serializes the keys as a map from the key as spelt to its value.
fn serialize_keys<S: serde::Serializer>(
    keys: &BTreeMap<String, (String, ContextValue)>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(keys.values().map(|(key, value)| (key, value)))
}

/// Derives the condition-key prefix from a `Federated` principal value: the
/// part after `oidc-provider/` of an ARN, or a built-in provider's domain.
fn provider_prefix_from_principal(provider: &str) -> Option<String> {
    if let Some((_, rest)) = provider.split_once(":oidc-provider/") {
        return Some(rest.to_string());
    }
    if provider.starts_with("arn:") {
        return None;
    }
    Some(provider.to_string())
}

/// The facts of an `AssumeRoleWithWebIdentity` call that STS has once the
/// token is verified.
#[derive(Debug, Clone)]
pub struct WebIdentityRequest<'a> {
    /// The provider ARN, as the `Federated` principal.
    pub provider_arn: &'a str,
    /// The provider URL without `https://`, such as
    /// `oidc.eks.us-east-1.amazonaws.com/id/ABC`.
    pub key_prefix: &'a str,
    /// The verified token claims.
    pub claims: &'a Map<String, Value>,
    /// The client ID that matched the token's `aud`.
    pub matched_audience: &'a str,
    /// The `RoleSessionName` request parameter.
    pub role_session_name: &'a str,
    /// The caller's address, when the transport exposes one.
    pub source_ip: Option<&'a str>,
    /// The time STS received the request.
    pub request_time: OffsetDateTime,
    /// Whether the request arrived over TLS.
    pub secure_transport: bool,
    /// The region of the STS endpoint, such as `us-east-1`.
    pub requested_region: Option<&'a str>,
}

/// Builds the request context IAM evaluates a trust policy against for an
/// `AssumeRoleWithWebIdentity` call.
///
/// Provider keys: `<prefix>:sub` from the `sub` claim and `<prefix>:aud` from
/// the matched audience (single-valued, because STS has already picked the
/// client ID that matched). `<prefix>:amr` and `<prefix>:azp` are set when the
/// token has those claims. For `accounts.google.com`, `:aud` contains `azp` when
/// present and `:oaud` the original audience. For the GitHub Actions issuer,
/// the claims in [`GITHUB_ACTIONS_CLAIM_KEYS`] become keys too. Other claims
/// are not exposed, as in IAM.
pub fn web_identity_context(request: &WebIdentityRequest<'_>) -> RequestContext {
    let mut context = RequestContext::federated(request.provider_arn, WEB_IDENTITY_ACTION);
    context.provider_prefix = Some(request.key_prefix.to_string());
    let prefix = request.key_prefix;
    let claims = request.claims;

    if let Some(sub) = claims.get("sub").and_then(claim_text) {
        context.insert(&format!("{prefix}:sub"), ContextValue::Single(sub));
    }
    insert_audience_keys(&mut context, request);
    if let Some(amr) = claims.get("amr").and_then(claim_values) {
        context.insert(&format!("{prefix}:amr"), amr);
    }
    if prefix == GITHUB_ACTIONS_PREFIX {
        for claim in GITHUB_ACTIONS_CLAIM_KEYS {
            if let Some(value) = claims.get(*claim).and_then(claim_text) {
                context.insert(&format!("{prefix}:{claim}"), ContextValue::Single(value));
            }
        }
    }

    insert_global_keys(&mut context, request);
    context
}

/// The action STS authorizes for a web-identity call.
pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

fn insert_audience_keys(context: &mut RequestContext, request: &WebIdentityRequest<'_>) {
    let prefix = request.key_prefix;
    let azp = request.claims.get("azp").and_then(claim_text);

    if prefix == GOOGLE_PROVIDER {
        // Google's `:aud` key is the authorized party when the token names one,
        // and `:oaud` always carries the token's own audience.
        let aud = azp
            .clone()
            .unwrap_or_else(|| request.matched_audience.to_string());
        context.insert(&format!("{prefix}:aud"), ContextValue::Single(aud));
        context.insert(
            &format!("{prefix}:oaud"),
            ContextValue::Single(request.matched_audience.to_string()),
        );
    } else {
        context.insert(
            &format!("{prefix}:aud"),
            ContextValue::Single(request.matched_audience.to_string()),
        );
    }
    if let Some(azp) = azp {
        context.insert(&format!("{prefix}:azp"), ContextValue::Single(azp));
    }
}

fn insert_global_keys(context: &mut RequestContext, request: &WebIdentityRequest<'_>) {
    let time = request.request_time;
    let current_time = time
        .replace_nanosecond(0)
        .unwrap_or(time)
        .format(&Rfc3339)
        .unwrap_or_default();

    context.insert(
        "sts:RoleSessionName",
        ContextValue::Single(request.role_session_name.to_string()),
    );
    if let Some(ip) = request.source_ip {
        context.insert("aws:SourceIp", ContextValue::Single(ip.to_string()));
    }
    context.insert("aws:CurrentTime", ContextValue::Single(current_time));
    context.insert(
        "aws:EpochTime",
        ContextValue::Single(time.unix_timestamp().to_string()),
    );
    context.insert(
        "aws:SecureTransport",
        ContextValue::Single(request.secure_transport.to_string()),
    );
    if let Some(region) = request.requested_region {
        context.insert(
            "aws:RequestedRegion",
            ContextValue::Single(region.to_string()),
        );
    }
    context.insert(
        "aws:PrincipalType",
        ContextValue::Single(WEB_IDENTITY_PRINCIPAL_TYPE.to_string()),
    );
}

/// Renders a scalar claim as text; numbers (GitHub's `repository_id`) keep
/// their JSON spelling.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn claim_values(value: &Value) -> Option<ContextValue> {
    match value {
        Value::Array(items) => Some(ContextValue::Multi(
            items.iter().filter_map(claim_text).collect(),
        )),
        other => claim_text(other).map(ContextValue::Single),
    }
}
