//! The AssumeRoleWithWebIdentity pipeline.
//!
//! Each check is one method that records a trace entry and either passes a
//! value on or stops with an [`StsError`]. The order follows what public
//! reports of real STS show, as far as they show it: parameters first, then
//! the token's own shape and claims, then the provider lookup in the role's
//! account, keys and signature, the clock, the audience, the trust policy,
//! and the session duration last. Where several checks could fail at once
//! and no report says which wins, the order is an inference, and
//! `docs/fidelity.md` says so.

use std::sync::Arc;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::credentials::{self, Credentials, Session};
use super::error::StsError;
use super::trace::{Check, Compared, Decision, Outcome, TraceEntry};
use crate::aws::arn::{Arn, RoleArn};
use crate::aws::constraint::{self, Violations, is_session_name_chars};
use crate::aws::{Params, Service};
use crate::oidc::remote::{RemoteKey, RemoteKeys, fetch_keys};
use crate::oidc::{Issuer, KeyAlgorithm, jwt};
use crate::policy::Evaluation;
use crate::policy::context::{WebIdentityRequest, web_identity_context};
use crate::state::AppState;
use crate::world::{OidcProvider, Role, ServedChain};

/// Session length when the call names none, in seconds.
pub const DEFAULT_DURATION_SECONDS: i64 = 3600;
/// Minimum session length STS grants, in seconds.
pub const MIN_DURATION_SECONDS: i64 = 900;
/// Maximum session length STS grants, in seconds.
pub const MAX_DURATION_SECONDS: i64 = 43_200;
/// Maximum length of a web identity token STS accepts, in characters.
pub const MAX_TOKEN_LENGTH: usize = 20_000;
const MIN_TOKEN_LENGTH: usize = 4;
const MIN_ARN_LENGTH: usize = 20;
const MAX_ARN_LENGTH: usize = 2048;
const MIN_SESSION_NAME_LENGTH: usize = 2;
const MAX_SESSION_NAME_LENGTH: usize = 64;
const MAX_POLICY_LENGTH: usize = 2048;
const SESSION_NAME_PATTERN: &str = r"[\w+=,.@-]*";
/// Claims STS requires in every web identity token.
const REQUIRED_CLAIMS: [&str; 4] = ["iss", "sub", "aud", "exp"];

/// One AssumeRoleWithWebIdentity request and the facts its transport
/// provides.
pub struct WebIdentityCall<'a> {
    pub params: &'a Params,
    pub request_id: &'a str,
    /// The caller's IP address, for `aws:SourceIp`.
    pub source_ip: String,
    /// Whether the request came over TLS, for `aws:SecureTransport`.
    pub secure: bool,
    /// The region the endpoint stands for, for `aws:RequestedRegion`.
    pub region: String,
}

/// The result of a successful call.
#[derive(Debug, Clone)]
pub struct Granted {
    pub credentials: Credentials,
    pub session: Session,
    pub provider_arn: String,
    pub audience: String,
    pub subject: String,
}

/// Runs every check and returns the result with its decision record.
///
/// The future only waits when the token's issuer is remote and its keys are
/// not cached; with remote issuers off it completes on its first poll.
pub async fn assume_role_with_web_identity(
    state: &AppState,
    call: &WebIdentityCall<'_>,
) -> (Result<Granted, StsError>, Arc<Decision>) {
    let now = state.now();
    let mut run = Run::new(state, call, now);
    let result = run.checks().await;
    let decision = Arc::new(run.into_decision(&result));
    log_decision(&decision);
    state.record(decision.clone());
    (result, decision)
}

fn log_decision(decision: &Decision) {
    match &decision.outcome {
        Outcome::Allowed {
            assumed_role_arn, ..
        } => tracing::debug!(
            request_id = %decision.request_id,
            role_arn = decision.role_arn.as_deref().unwrap_or(""),
            issuer = decision.issuer.as_deref().unwrap_or(""),
            sub = decision.subject.as_deref().unwrap_or(""),
            assumed_role_arn = %assumed_role_arn,
            outcome = "allowed",
            "AssumeRoleWithWebIdentity"
        ),
        Outcome::Error { code, message, .. } => tracing::debug!(
            request_id = %decision.request_id,
            role_arn = decision.role_arn.as_deref().unwrap_or(""),
            issuer = decision.issuer.as_deref().unwrap_or(""),
            sub = decision.subject.as_deref().unwrap_or(""),
            decided_by = decision.decided_by.name(),
            code = %code,
            reason = %message,
            outcome = "denied",
            "AssumeRoleWithWebIdentity"
        ),
    }
}

/// The token's claims once the token check has passed.
struct Claims {
    /// Shared with the decision record, which hands it to the teaching page.
    all: Arc<Map<String, Value>>,
    header: Map<String, Value>,
    iss: String,
    sub: String,
    audiences: Vec<String>,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    /// Length of `header.payload`, the part of the token the signature
    /// covers, so the signature check need not split the token again.
    signing_input_len: usize,
}

impl Claims {
    /// Splits the token these claims came from into the signing input and
    /// the base64url signature.
    fn signed_parts<'t>(&self, token: &'t str) -> (&'t str, &'t str) {
        let (signing_input, rest) = token.split_at(self.signing_input_len);
        (signing_input, &rest[1..])
    }
}

/// Where the verification keys come from.
enum KeySource {
    Hosted(Arc<Issuer>),
    Remote(Arc<RemoteKeys>),
}

/// The validated parameters.
struct Request {
    role: RoleArn,
    role_arn: String,
    session_name: String,
    token: String,
    duration: i64,
}

struct Run<'a> {
    state: &'a AppState,
    call: &'a WebIdentityCall<'a>,
    now: OffsetDateTime,
    trace: Vec<TraceEntry>,
    evaluation: Option<Evaluation>,
    role_arn: Option<String>,
    session_name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    claims: Option<Arc<Map<String, Value>>>,
}

impl<'a> Run<'a> {
    fn new(state: &'a AppState, call: &'a WebIdentityCall<'a>, now: OffsetDateTime) -> Self {
        Self {
            state,
            call,
            now,
            trace: Vec::with_capacity(Check::ALL.len()),
            evaluation: None,
            role_arn: call.params.get("RoleArn").map(str::to_owned),
            session_name: call.params.get("RoleSessionName").map(str::to_owned),
            issuer: None,
            subject: None,
            claims: None,
        }
    }

    async fn checks(&mut self) -> Result<Granted, StsError> {
        let request = self.request()?;
        let claims = self.token(&request.token)?;
        let provider = self.provider(&request, &claims)?;
        match self.keys(&claims, &provider).await? {
            KeySource::Hosted(issuer) => self.signature(&request.token, &claims, &issuer)?,
            KeySource::Remote(keys) => self.remote_signature(&request.token, &claims, &keys)?,
        }
        self.time(&claims)?;
        let audience = self.audience(&claims, &provider)?;
        let role = self.trust_policy(&request, &claims, &provider, &audience)?;
        self.duration(&request, &role)?;
        Ok(self.grant(&request, &claims, &provider, &role, audience))
    }

    fn pass(&mut self, check: Check, summary: String, compared: Vec<Compared>) {
        self.trace.push(TraceEntry {
            check,
            passed: true,
            summary,
            compared,
            hint: None,
        });
    }

    fn fail(
        &mut self,
        check: Check,
        error: StsError,
        summary: String,
        compared: Vec<Compared>,
        hint: impl Into<String>,
    ) -> StsError {
        self.trace.push(TraceEntry {
            check,
            passed: false,
            summary,
            compared,
            hint: Some(hint.into()),
        });
        error
    }

    /// Check 1: model constraints, then the role ARN's shape.
    fn request(&mut self) -> Result<Request, StsError> {
        let params = self.call.params;
        let mut violations = Violations::new(Service::Sts);
        let role_arn = params.get("RoleArn");
        match role_arn {
            Some(arn) => violations.length("roleArn", arn, MIN_ARN_LENGTH, MAX_ARN_LENGTH),
            None => violations.missing("roleArn"),
        }
        let session_name = params.get("RoleSessionName");
        match session_name {
            Some(name) => {
                violations.length(
                    "roleSessionName",
                    name,
                    MIN_SESSION_NAME_LENGTH,
                    MAX_SESSION_NAME_LENGTH,
                );
                if !is_session_name_chars(name) {
                    violations.failed(
                        "roleSessionName",
                        name,
                        &constraint::pattern(SESSION_NAME_PATTERN),
                    );
                }
            }
            None => violations.missing("roleSessionName"),
        }
        let token = params.get("WebIdentityToken");
        match token {
            Some(token) => {
                let len = token.encode_utf16().count();
                if len > MAX_TOKEN_LENGTH {
                    violations.failed_sensitive(
                        "webIdentityToken",
                        &constraint::max_length(MAX_TOKEN_LENGTH),
                    );
                } else if len < MIN_TOKEN_LENGTH {
                    violations.failed_sensitive(
                        "webIdentityToken",
                        &constraint::min_length(MIN_TOKEN_LENGTH),
                    );
                }
            }
            None => violations.missing("webIdentityToken"),
        }
        let duration = match params.get("DurationSeconds") {
            None => Some(DEFAULT_DURATION_SECONDS),
            Some(text) => {
                match text.parse::<i64>() {
                    Ok(value) if value < MIN_DURATION_SECONDS => {
                        violations.failed(
                        "durationSeconds",
                        text,
                        &format!("Member must have value greater than or equal to {MIN_DURATION_SECONDS}"),
                    );
                        None
                    }
                    Ok(value) if value > MAX_DURATION_SECONDS => {
                        violations.failed(
                        "durationSeconds",
                        text,
                        &format!("Member must have value less than or equal to {MAX_DURATION_SECONDS}"),
                    );
                        None
                    }
                    Ok(value) => Some(value),
                    Err(_) => None,
                }
            }
        };
        let policy = params.get("Policy");
        if let Some(policy) = policy {
            violations.length("policy", policy, 1, MAX_POLICY_LENGTH);
        }
        if let Some(provider_id) = params.get("ProviderId") {
            violations.length("providerId", provider_id, 4, 2048);
        }
        if let Some(policy_arns) = params.list_field("PolicyArns", "arn") {
            for (index, arn) in policy_arns.iter().enumerate() {
                let member = format!("policyArns.{}.member.arn", index + 1);
                violations.length(&member, arn, MIN_ARN_LENGTH, MAX_ARN_LENGTH);
            }
        }

        if !violations.is_empty() {
            let error = StsError::Constraint(
                violations
                    .into_result()
                    .expect_err("violations are not empty"),
            );
            let message = error.to_aws().message;
            return Err(self.fail(
                Check::Request,
                error,
                "the request breaks the STS model constraints".into(),
                vec![compared("constraints", &message)],
                "fix each parameter the message names; session names allow letters, digits and _+=,.@- only, 2 to 64 characters",
            ));
        }
        let duration_text = params.get("DurationSeconds").unwrap_or_default();
        let Some(duration) = duration else {
            return Err(self.fail(
                Check::Request,
                StsError::DurationNotInteger(duration_text.to_owned()),
                "DurationSeconds is not a whole number".into(),
                vec![compared("DurationSeconds", duration_text)],
                "give DurationSeconds in whole seconds, from 900 to 43200",
            ));
        };
        if let Some(policy) = policy
            && serde_json::from_str::<Value>(policy).is_err()
        {
            return Err(self.fail(
                Check::Request,
                StsError::SessionPolicyNotJson,
                "the session policy (Policy) is not JSON".into(),
                vec![],
                "send the session policy as a JSON policy document, or leave Policy out",
            ));
        }
        let (role_arn, session_name, token) = (
            role_arn.unwrap_or_default(),
            session_name.unwrap_or_default(),
            token.unwrap_or_default(),
        );
        let Some(arn) = Arn::parse(role_arn) else {
            return Err(self.fail(
                Check::Request,
                StsError::InvalidArn(role_arn.to_owned()),
                "RoleArn does not parse as an ARN".into(),
                vec![compared("RoleArn", role_arn)],
                "pass the role ARN, arn:aws:iam::<account>:role/<name>",
            ));
        };
        let Some(role) = RoleArn::from_arn(&arn) else {
            return Err(self.fail(
                Check::Request,
                StsError::NotARoleArn,
                "RoleArn is an ARN but not of an IAM role".into(),
                vec![compared("RoleArn", role_arn)],
                "pass the role's ARN (arn:aws:iam::<account>:role/<name>), not the OIDC provider's or another resource's",
            ));
        };
        self.pass(
            Check::Request,
            format!(
                "parameters are valid; the role is in account {}",
                role.account
            ),
            vec![
                compared("RoleArn", role_arn),
                compared("RoleSessionName", session_name),
                compared("DurationSeconds", &duration.to_string()),
            ],
        );
        Ok(Request {
            role,
            role_arn: role_arn.to_owned(),
            session_name: session_name.to_owned(),
            token: token.to_owned(),
            duration,
        })
    }

    /// Check 2: the token is a JWS with the required claims of the right
    /// types.
    fn token(&mut self, token: &str) -> Result<Claims, StsError> {
        let jwt = match jwt::parse(token) {
            Ok(jwt) => jwt,
            Err(error) => {
                return Err(self.fail(
                    Check::Token,
                    StsError::MalformedToken(error.to_string()),
                    format!("the token is not a signed JWT: {error}"),
                    vec![],
                    "send the token file's contents unchanged: three base64url parts joined by dots",
                ));
            }
        };
        let alg = jwt
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if alg.eq_ignore_ascii_case("none") || alg.is_empty() {
            let shown = match jwt.header.get("alg") {
                None => "(missing)".to_owned(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            };
            return Err(self.fail(
                Check::Token,
                StsError::UnsupportedAlgorithm(shown.clone()),
                format!(
                    "the token header names alg {shown}, so it carries no signature STS can check"
                ),
                vec![compared("alg", &shown)],
                "sign the token with RS256, RS384, RS512, ES256, ES384 or ES512",
            ));
        }
        // A `crit` header names extensions the verifier must understand
        // (RFC 7515, section 4.1.11). STS documents none, so any `crit`,
        // even an empty list (which the RFC forbids), makes the token invalid.
        if let Some(crit) = jwt.header.get("crit") {
            let listed = crit.to_string();
            return Err(self.fail(
                Check::Token,
                StsError::CriticalHeader(listed.clone()),
                format!("the token header marks {listed} as critical, and STS supports no JWS extensions"),
                vec![compared("crit", &listed)],
                "mint the token without a crit header member",
            ));
        }
        if accepted_algorithm(&alg).is_none() {
            return Err(self.fail(
                Check::Token,
                StsError::UnsupportedAlgorithm(alg.clone()),
                format!("STS does not accept tokens signed with {alg}"),
                vec![compared("alg", &alg)],
                "sign with RS256, RS384, RS512, ES256, ES384 or ES512",
            ));
        }
        for claim in REQUIRED_CLAIMS {
            if !jwt.claims.contains_key(claim) {
                return Err(self.fail(
                    Check::Token,
                    StsError::MissingClaim(claim),
                    format!("the token has no {claim} claim"),
                    vec![],
                    format!("the issuer must put {claim} in the token; for Kubernetes, request the token with an audience (aud) through a projected volume"),
                ));
            }
        }
        let signing_input_len = jwt.signing_input.len();
        let claims = match read_claims(jwt.claims, signing_input_len) {
            Ok(claims) => claims,
            Err(error) => {
                let summary = error.to_string();
                return Err(self.fail(
                    Check::Token,
                    error,
                    summary,
                    vec![],
                    "iss and sub must be strings, aud a string or a list of strings, and exp, nbf, iat whole Unix seconds",
                ));
            }
        };
        self.issuer = Some(claims.iss.clone());
        self.subject = Some(claims.sub.clone());
        self.claims = Some(claims.all.clone());
        if !claims.iss.starts_with("https://") {
            let iss = claims.iss.clone();
            return Err(self.fail(
                Check::Token,
                StsError::IssuerNotHttps(iss.clone()),
                "the token's issuer is not an https URL".into(),
                vec![compared("iss", &iss)],
                "configure the issuer with an https:// URL; IAM OIDC providers only accept https",
            ));
        }
        let values = vec![
            compared("iss", &claims.iss),
            compared("sub", &claims.sub),
            compared("aud", &claims.audiences.join(", ")),
            compared("alg", &alg),
        ];
        self.pass(
            Check::Token,
            "the token is a JWT with iss, sub, aud and exp".into(),
            values,
        );
        Ok(Claims {
            header: jwt.header,
            ..claims
        })
    }

    /// Check 3: an IAM OIDC provider for exactly `iss` in the role's account.
    fn provider(&mut self, request: &Request, claims: &Claims) -> Result<OidcProvider, StsError> {
        let found = self
            .state
            .read()
            .account(&request.role.account)
            .and_then(|account| account.provider_for_issuer(&claims.iss).cloned());
        match found {
            Some(provider) => {
                self.pass(
                    Check::Provider,
                    format!(
                        "account {} has a provider for the token's issuer",
                        request.role.account
                    ),
                    vec![
                        compared("iss", &claims.iss),
                        compared("provider", &provider.arn),
                    ],
                );
                Ok(provider)
            }
            None => {
                let hint = self.provider_hint(&request.role.account, &claims.iss);
                Err(self.fail(
                    Check::Provider,
                    StsError::NoProvider(claims.iss.clone()),
                    format!(
                        "account {} has no OIDC provider whose URL is {}",
                        request.role.account, claims.iss
                    ),
                    vec![
                        compared("iss", &claims.iss),
                        compared("account", &request.role.account),
                    ],
                    hint,
                ))
            }
        }
    }

    fn provider_hint(&self, account: &str, iss: &str) -> String {
        let world = self.state.read();
        let near = world.account(account).and_then(|account| {
            let expected = iss.trim_end_matches('/').to_ascii_lowercase();
            account
                .providers
                .values()
                .find(|p| p.issuer_url().trim_end_matches('/').to_ascii_lowercase() == expected)
        });
        if let Some(provider) = near {
            return format!(
                "the account has {} whose URL differs from iss only by case or a trailing slash; STS compares them exactly, so register {iss}",
                provider.issuer_url()
            );
        }
        let elsewhere = world
            .accounts()
            .find(|a| a.id != account && a.provider_for_issuer(iss).is_some());
        if let Some(other) = elsewhere {
            return format!(
                "a provider for this issuer exists in account {}, but STS looks in the role's account {account}; create the provider there",
                other.id
            );
        }
        format!(
            "register the issuer: aws iam create-open-id-connect-provider --url {iss} --client-id-list sts.amazonaws.com"
        )
    }

    /// Check 4: the issuer's keys: its discovery document and JWKS can be
    /// fetched, and its TLS chain is one STS accepts. The harness hosts the
    /// issuer; faults set on it stand in for a real issuer's failures.
    async fn keys(
        &mut self,
        claims: &Claims,
        provider: &OidcProvider,
    ) -> Result<KeySource, StsError> {
        let (issuer, faults) = {
            let world = self.state.read();
            (
                world.issuer(&claims.iss).cloned(),
                world.faults(&claims.iss).cloned().unwrap_or_default(),
            )
        };
        let Some(issuer) = issuer else {
            return self
                .remote_keys(claims, provider)
                .await
                .map(KeySource::Remote);
        };
        let discovery_url = format!("{}{}", issuer.url(), crate::oidc::issuer::DISCOVERY_PATH);
        let jwks_uri = format!("{}{}", issuer.url(), crate::oidc::issuer::JWKS_PATH);
        let unavailable = |summary: String, hint: &str| (summary, hint.to_owned());
        let failure = if faults.unreachable {
            Some(unavailable(
                format!("no connection to {} succeeds", issuer.host()),
                "STS fetches the discovery document and JWKS over the internet: publish them on a host STS can reach",
            ))
        } else if faults.slow {
            Some(unavailable(
                format!("{} answered after STS's timeout", issuer.host()),
                "answer faster or cache the documents; a throttled or slow issuer gets this error, often only for a while",
            ))
        } else if let Some(status) = faults.discovery_status {
            Some(unavailable(
                format!("{discovery_url} answered HTTP {status}"),
                "serve the discovery document with status 200",
            ))
        } else if !faults.discovery_missing.is_empty() {
            Some(unavailable(
                format!(
                    "the discovery document lacks {}",
                    faults.discovery_missing.join(", ")
                ),
                "a discovery document needs issuer, jwks_uri, response_types_supported, subject_types_supported and id_token_signing_alg_values_supported",
            ))
        } else {
            None
        };
        if let Some((summary, hint)) = failure {
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                summary,
                vec![compared("discovery", &discovery_url)],
                hint,
            ));
        }
        self.tls(&issuer, &faults, provider)?;
        if let Some(status) = faults.jwks_status {
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                format!("{jwks_uri} answered HTTP {status}"),
                vec![compared("jwks_uri", &jwks_uri)],
                "serve the JWKS with status 200 at the jwks_uri the discovery document names",
            ));
        }
        self.pass(
            Check::Keys,
            format!("the issuer's JWKS holds {} key(s)", issuer.keys().len()),
            vec![compared("jwks_uri", &jwks_uri)],
        );
        Ok(KeySource::Hosted(issuer))
    }

    /// Check 4 for an issuer the harness does not host: fetch its discovery
    /// document and JWKS (or reuse cached keys), then apply the same TLS
    /// rules as for hosted issuers to the jwks_uri host's chain.
    async fn remote_keys(
        &mut self,
        claims: &Claims,
        provider: &OidcProvider,
    ) -> Result<Arc<RemoteKeys>, StsError> {
        let Some(config) = self.state.options().remote.clone() else {
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                "the harness does not host this issuer, and fetching remote issuers is off".into(),
                vec![compared("iss", &claims.iss)],
                "mint the token from a cluster the harness serves (serve --cluster, token --cluster), or start serve with --allow-remote-issuers",
            ));
        };
        let keys = match fetch_keys(&claims.iss, &config, self.state.key_cache()).await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::debug!(issuer = %claims.iss, %error, "remote issuer keys unavailable");
                return Err(self.fail(
                    Check::Keys,
                    StsError::KeysUnavailable,
                    error.to_string(),
                    vec![compared("iss", &claims.iss)],
                    "STS must fetch <iss>/.well-known/openid-configuration and its jwks_uri over HTTPS: check the host, its certificate, the status and the required members",
                ));
            }
        };
        let chain = ServedChain {
            thumbprint: keys.chain.thumbprint.clone(),
            trusted: keys.chain.trusted,
            matches_host: keys.chain.matches_host,
        };
        self.check_chain(&keys.chain.host, &chain, provider)?;
        self.pass(
            Check::Keys,
            format!("the remote JWKS holds {} usable key(s)", keys.keys.len()),
            vec![compared("jwks_uri", &keys.jwks_uri)],
        );
        Ok(keys)
    }

    /// Check 5 for a remote issuer's keys.
    fn remote_signature(
        &mut self,
        token: &str,
        claims: &Claims,
        keys: &RemoteKeys,
    ) -> Result<(), StsError> {
        let alg = claims
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(algorithm) = accepted_algorithm(alg) else {
            return Err(StsError::UnsupportedAlgorithm(alg.to_owned()));
        };
        let (signing_input, signature) = claims.signed_parts(token);
        let kid = claims.header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&RemoteKey> = keys
            .keys
            .iter()
            .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
            .filter(|key| key.alg.as_deref().is_none_or(|a| a == alg))
            .collect();
        if candidates.is_empty() {
            let kid = kid.unwrap_or_default();
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                format!("the remote JWKS has no {alg} key with kid {kid}"),
                vec![compared("kid", kid), compared("jwks_uri", &keys.jwks_uri)],
                "the token was signed by a key the issuer no longer publishes or by another issuer; get a fresh token",
            ));
        }
        // jsonwebtoken verifies every algorithm STS accepts except ES512,
        // whose keys a remote JWKS cannot yet provide here.
        let jwt_algorithm = match algorithm {
            KeyAlgorithm::RS256 => Some(jsonwebtoken::Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(jsonwebtoken::Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(jsonwebtoken::Algorithm::RS512),
            KeyAlgorithm::ES256 => Some(jsonwebtoken::Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(jsonwebtoken::Algorithm::ES384),
            KeyAlgorithm::ES512 => None,
        };
        let verified = jwt_algorithm.is_some_and(|jwt_algorithm| {
            candidates.iter().any(|key| {
                jsonwebtoken::crypto::verify(
                    signature,
                    signing_input.as_bytes(),
                    &key.key,
                    jwt_algorithm,
                )
                .unwrap_or(false)
            })
        });
        if verified {
            self.pass(
                Check::Signature,
                format!("the {alg} signature verifies with a key of the remote JWKS"),
                vec![
                    compared("alg", alg),
                    compared("kid", kid.unwrap_or("(none)")),
                ],
            );
            return Ok(());
        }
        Err(self.fail(
            Check::Signature,
            StsError::BadSignature,
            "the signature does not verify against the issuer's keys".into(),
            vec![compared("alg", alg), compared("kid", kid.unwrap_or("(none)"))],
            "the token was changed after signing or signed by a different key; use the token the issuer minted",
        ))
    }

    /// The TLS part of check 4 for a hosted issuer: the chain a scenario
    /// gives it, or the harness's own, which is trusted and so checked
    /// against thumbprints only with thumbprint pinning.
    fn tls(
        &mut self,
        issuer: &Issuer,
        faults: &crate::world::IssuerFaults,
        provider: &OidcProvider,
    ) -> Result<(), StsError> {
        let chain = match &faults.tls {
            Some(chain) => chain.clone(),
            None if !self.state.options().thumbprint_pinning => return Ok(()),
            None => match crate::tls::authority_for_seed(self.state.seed()) {
                Ok(ca) => ServedChain {
                    thumbprint: crate::tls::thumbprint_of(ca.intermediate_der()),
                    trusted: true,
                    matches_host: true,
                },
                Err(error) => {
                    tracing::error!(%error, "cannot build the harness's certificate chain for thumbprint pinning");
                    return Err(self.fail(
                        Check::Keys,
                        StsError::KeysUnavailable,
                        format!("the harness could not build its certificate chain: {error}"),
                        vec![],
                        "this is a harness fault; report it",
                    ));
                }
            },
        };
        self.check_chain(issuer.host(), &chain, provider)
    }

    /// Applies STS's TLS rules to the chain of a jwks_uri host: it must name
    /// the host, and it must match one of the provider's thumbprints when no
    /// trusted CA signed it, or always with thumbprint pinning.
    fn check_chain(
        &mut self,
        host: &str,
        chain: &ServedChain,
        provider: &OidcProvider,
    ) -> Result<(), StsError> {
        if !chain.matches_host {
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                format!("the TLS certificate of {host} does not name that host"),
                vec![compared("host", host)],
                "serve the documents under a name the certificate covers; a wildcard covers one label only, so an S3 bucket name with dots fails",
            ));
        }
        if chain.trusted && !self.state.options().thumbprint_pinning {
            return Ok(());
        }
        let served = &chain.thumbprint;
        let values = vec![
            compared("served thumbprint", served),
            compared("provider thumbprints", &provider.thumbprints.join(", ")),
        ];
        if provider
            .thumbprints
            .iter()
            .any(|t| t.eq_ignore_ascii_case(served))
        {
            let why = if chain.trusted {
                "thumbprint pinning is on"
            } else {
                "no trusted CA signed the chain"
            };
            self.pass(
                Check::Keys,
                format!("the TLS chain of {host} matches a provider thumbprint ({why})"),
                values,
            );
            return Ok(());
        }
        Err(self.fail(
            Check::Keys,
            StsError::ThumbprintMismatch,
            format!("the TLS chain of {host} matches none of the provider's thumbprints"),
            values,
            format!(
                "add the thumbprint the host serves: aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {} --thumbprint-list {served} (keep the old ones while both chains are in use; up to 5)",
                provider.arn
            ),
        ))
    }

    /// Check 5: algorithm, `kid` and signature.
    fn signature(&mut self, token: &str, claims: &Claims, issuer: &Issuer) -> Result<(), StsError> {
        let alg = claims
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // The token check has already rejected every other algorithm.
        let Some(algorithm) = accepted_algorithm(alg) else {
            return Err(StsError::UnsupportedAlgorithm(alg.to_owned()));
        };
        let (signing_input, signature) = claims.signed_parts(token);
        let kid = claims.header.get("kid").and_then(Value::as_str);
        let candidates: Vec<_> = match kid {
            Some(kid) => issuer.key(kid).into_iter().cloned().collect(),
            None => issuer.keys().to_vec(),
        };
        if candidates.is_empty() {
            let kid = kid.unwrap_or_default();
            let published: Vec<&str> = issuer.keys().iter().map(|k| k.kid()).collect();
            return Err(self.fail(
                Check::Keys,
                StsError::KeysUnavailable,
                format!("the JWKS has no key with kid {kid}"),
                vec![compared("kid", kid), compared("published kids", &published.join(", "))],
                "the token was signed by a key the issuer no longer publishes (rotated out) or by another issuer; get a fresh token",
            ));
        }
        let verified = candidates
            .iter()
            .find(|key| key.verify(signing_input, signature, algorithm));
        match verified {
            Some(key) => {
                let kid = key.kid().to_owned();
                self.pass(
                    Check::Signature,
                    format!("the {alg} signature verifies with key {kid}"),
                    vec![compared("alg", alg), compared("kid", &kid)],
                );
                Ok(())
            }
            None => Err(self.fail(
                Check::Signature,
                StsError::BadSignature,
                "the signature does not verify against the issuer's keys".into(),
                vec![compared("alg", alg), compared("kid", kid.unwrap_or("(none)"))],
                "the token was changed after signing or signed by a different key; use the token the issuer minted",
            )),
        }
    }

    /// Check 6: `exp`, `nbf` and `iat` against the clock, with no leeway.
    fn time(&mut self, claims: &Claims) -> Result<(), StsError> {
        let now = self.now.unix_timestamp();
        let mut values = vec![
            compared("now", &now.to_string()),
            compared("exp", &claims.exp.to_string()),
        ];
        if now >= claims.exp {
            return Err(self.fail(
                Check::Time,
                StsError::Expired { now, exp: claims.exp },
                format!("the token expired {} s ago", now.saturating_sub(claims.exp)),
                values,
                "read the token file again before each call; the kubelet rewrites it before it expires",
            ));
        }
        if let Some(nbf) = claims.nbf {
            values.push(compared("nbf", &nbf.to_string()));
            if nbf > now {
                return Err(self.fail(
                    Check::Time,
                    StsError::NotYetValid { now, nbf },
                    format!(
                        "the token is not valid for another {} s",
                        nbf.saturating_sub(now)
                    ),
                    values,
                    "check the issuer's clock; nbf must not be in the future",
                ));
            }
        }
        if let Some(iat) = claims.iat {
            values.push(compared("iat", &iat.to_string()));
            if iat > now {
                return Err(self.fail(
                    Check::Time,
                    StsError::IssuedInFuture { now, iat },
                    format!(
                        "the token claims to be issued {} s in the future",
                        iat.saturating_sub(now)
                    ),
                    values,
                    "check the issuer's clock; iat must not be in the future",
                ));
            }
        }
        self.pass(
            Check::Time,
            format!(
                "the token is valid for another {} s",
                claims.exp.saturating_sub(now)
            ),
            values,
        );
        Ok(())
    }

    /// Check 7: the token audience against the provider's client ids.
    fn audience(&mut self, claims: &Claims, provider: &OidcProvider) -> Result<String, StsError> {
        let matched = claims
            .audiences
            .iter()
            .find(|aud| provider.client_ids.contains(aud))
            .cloned();
        let values = vec![
            compared("aud", &claims.audiences.join(", ")),
            compared("client ids", &provider.client_ids.join(", ")),
        ];
        match matched {
            Some(audience) => {
                self.pass(Check::Audience, format!("audience {audience} is a client id of the provider"), values);
                Ok(audience)
            }
            None => Err(self.fail(
                Check::Audience,
                StsError::IncorrectAudience,
                "no token audience is in the provider's client-id list".into(),
                values,
                format!(
                    "add the audience to the provider: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {} --client-id {}",
                    provider.arn,
                    claims.audiences.first().map(String::as_str).unwrap_or("sts.amazonaws.com")
                ),
            )),
        }
    }

    /// Check 8: the role exists and its trust policy allows this token.
    fn trust_policy(
        &mut self,
        request: &Request,
        claims: &Claims,
        provider: &OidcProvider,
        audience: &str,
    ) -> Result<Role, StsError> {
        let role = self
            .state
            .read()
            .account(&request.role.account)
            .and_then(|account| account.role(&request.role.name).cloned())
            .filter(|role| role.path == request.role.path && role.name == request.role.name)
            .filter(|role| {
                role.arn
                    .starts_with(&format!("arn:{}:", request.role.partition))
            });
        let Some(role) = role else {
            return Err(self.fail(
                Check::TrustPolicy,
                StsError::AccessDenied,
                format!("account {} has no role {}", request.role.account, request.role_arn),
                vec![compared("RoleArn", &request.role_arn)],
                "create the role, or fix the name, path or account in the role ARN (the pod's eks.amazonaws.com/role-arn annotation)",
            ));
        };
        let context = web_identity_context(&WebIdentityRequest {
            provider_arn: &provider.arn,
            key_prefix: &provider.url,
            claims: &claims.all,
            matched_audience: audience,
            role_session_name: &request.session_name,
            source_ip: Some(&self.call.source_ip),
            request_time: self.now,
            // STS endpoints accept HTTPS only, so every call real STS
            // evaluates arrived over TLS, whatever the harness's transport.
            secure_transport: true,
            requested_region: Some(&self.call.region),
        });
        let evaluation = role.trust_policy.evaluate(&context);
        let allowed = evaluation.allowed();
        let decided = evaluation.deciding_statement().map(|s| {
            s.sid
                .clone()
                .unwrap_or_else(|| format!("statement {}", s.index))
        });
        let values = vec![
            compared("role", &role.arn),
            compared("principal", &provider.arn),
            compared("sub", &claims.sub),
            compared("aud", audience),
        ];
        let hint = evaluation
            .statements
            .iter()
            .flat_map(|s| s.conditions.iter())
            .find_map(|c| c.diagnosis.as_ref().map(|d| d.fix.clone()));
        // A policy can allow for the wrong reason (no `:sub` condition lets
        // every service account in); the warnings go into the summary so a
        // passing call still shows them.
        let warnings: Vec<String> = evaluation
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .collect();
        self.evaluation = Some(evaluation);
        if allowed {
            let by = decided.unwrap_or_else(|| "a statement".into());
            let mut summary = format!("the trust policy allows the call ({by})");
            for warning in warnings {
                summary.push_str("; warning: ");
                summary.push_str(&warning);
            }
            self.pass(Check::TrustPolicy, summary, values);
            Ok(role)
        } else {
            let summary = match decided {
                Some(by) => format!("the trust policy denies the call explicitly ({by})"),
                None => {
                    "no statement of the trust policy allows this principal, action and conditions"
                        .into()
                }
            };
            Err(self.fail(
                Check::TrustPolicy,
                StsError::AccessDenied,
                summary,
                values,
                hint.unwrap_or_else(|| {
                    format!(
                        "the trust policy needs an Allow for Federated {} with conditions on {}:sub and {}:aud that match",
                        provider.arn, provider.url, provider.url
                    )
                }),
            ))
        }
    }

    /// Check 9: DurationSeconds against the role's MaxSessionDuration.
    fn duration(&mut self, request: &Request, role: &Role) -> Result<(), StsError> {
        let max = i64::from(role.max_session_duration);
        let values = vec![
            compared("DurationSeconds", &request.duration.to_string()),
            compared("MaxSessionDuration", &max.to_string()),
        ];
        if request.duration > max {
            return Err(self.fail(
                Check::Duration,
                StsError::DurationExceedsMax,
                "the requested session is longer than the role allows".into(),
                values,
                format!(
                    "ask for at most {max} s, or raise the role's limit: aws iam update-role --role-name {} --max-session-duration {}",
                    role.name, request.duration
                ),
            ));
        }
        self.pass(
            Check::Duration,
            "the session length is within the role's limit".into(),
            values,
        );
        Ok(())
    }

    fn grant(
        &mut self,
        request: &Request,
        claims: &Claims,
        provider: &OidcProvider,
        role: &Role,
        audience: String,
    ) -> Granted {
        let serial = self.state.next_session_serial();
        let expiration = self.now.unix_timestamp() + request.duration;
        let session = Session {
            access_key_id: credentials::access_key_id(self.state.seed(), serial),
            partition: request.role.partition.clone(),
            account: request.role.account.clone(),
            role_name: role.name.clone(),
            role_id: role.id.clone(),
            session_name: request.session_name.clone(),
            expiration,
        };
        let credentials = credentials::issue(self.state.credential_key(), &session);
        Granted {
            credentials,
            session,
            provider_arn: provider.arn.clone(),
            audience,
            subject: claims.sub.clone(),
        }
    }

    fn into_decision(self, result: &Result<Granted, StsError>) -> Decision {
        let outcome = match result {
            Ok(granted) => Outcome::Allowed {
                assumed_role_arn: granted.session.assumed_role_arn(),
                access_key_id: granted.credentials.access_key_id.clone(),
            },
            Err(error) => {
                let aws = error.to_aws();
                Outcome::Error {
                    code: aws.code.to_owned(),
                    status: aws.status.as_u16(),
                    message: aws.message,
                }
            }
        };
        let decided_by = self
            .trace
            .last()
            .map(|entry| entry.check)
            .unwrap_or(Check::Request);
        Decision {
            request_id: self.call.request_id.to_owned(),
            time: self
                .now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            role_arn: self.role_arn,
            role_session_name: self.session_name,
            issuer: self.issuer,
            subject: self.subject,
            outcome,
            decided_by,
            trace: self.trace,
            policy: self.evaluation,
            claims: self.claims,
        }
    }
}

fn compared(name: &'static str, value: &str) -> Compared {
    Compared {
        name,
        value: value.to_owned(),
    }
}

/// The algorithms current STS documentation lists: RS256, RS384, RS512,
/// ES256, ES384 and ES512, by their exact JWS names.
fn accepted_algorithm(alg: &str) -> Option<KeyAlgorithm> {
    KeyAlgorithm::from_name(alg)
}

fn read_claims(claims: Map<String, Value>, signing_input_len: usize) -> Result<Claims, StsError> {
    let string = |name: &'static str| match &claims[name] {
        Value::String(s) => Ok(s.clone()),
        other => Err(StsError::ClaimType {
            claim: name,
            detail: format!("expected a string, found {other}"),
        }),
    };
    let audiences = match &claims["aud"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(StsError::ClaimType {
                    claim: "aud",
                    detail: format!("expected strings in the list, found {other}"),
                }),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(StsError::ClaimType {
                claim: "aud",
                detail: format!("expected a string or a list of strings, found {other}"),
            });
        }
    };
    Ok(Claims {
        iss: string("iss")?,
        sub: string("sub")?,
        audiences,
        exp: timestamp(&claims, "exp")?.unwrap_or_default(),
        nbf: timestamp(&claims, "nbf")?,
        iat: timestamp(&claims, "iat")?,
        all: Arc::new(claims),
        header: Map::new(),
        signing_input_len,
    })
}

/// Reads a time claim, which STS documents as an integer number of seconds.
fn timestamp(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, StsError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(other) => Err(StsError::ClaimType {
            claim: name,
            detail: format!("expected whole Unix seconds, found {other}"),
        }),
    }
}
