//! The scenario file as written: serde types that mirror the YAML exactly.
//!
//! Nothing here is checked beyond its shape. Unknown fields are errors, and
//! values that later checks point at carry their source location
//! ([`Spanned`]). The loader turns these types into the validated model in
//! [`super::model`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The only format version this harness reads.
pub const FORMAT_VERSION: u32 = 1;

/// One scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Format version; must be 1.
    #[schemars(with = "u32")]
    pub version: Spanned<u32>,
    /// Short name, shown in reports and matched by `--filter`.
    pub name: String,
    /// What goes wrong and why, and what fixes it, written for a learner.
    pub description: String,
    /// Seed of every key, id and secret; the harness default when absent.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The clock's start, RFC 3339 (`2026-01-01T00:00:00Z` when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub now: Option<Spanned<String>>,
    /// Switches that change how STS checks calls.
    #[serde(default)]
    pub options: OptionsFile,
    /// Accounts, clusters, IAM providers and roles before any step runs.
    #[serde(default)]
    pub world: WorldFile,
    /// Steps that build the broken state; `serve --scenario` runs only these.
    #[serde(default)]
    pub setup: Vec<StepFile>,
    /// The steps whose outcomes the scenario asserts.
    #[serde(default)]
    pub steps: Vec<StepFile>,
}

/// Switches that change how STS checks calls.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsFile {
    /// Check every issuer's TLS chain against the provider's thumbprints,
    /// as IAM did before mid-2023 (false when absent).
    #[serde(default)]
    pub thumbprint_pinning: bool,
}

/// Ways an issuer is mis-served, to reproduce STS's key-retrieval and
/// thumbprint failures.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultsFile {
    /// No connection to the issuer host succeeds.
    #[serde(default)]
    pub unreachable: bool,
    /// The issuer responds only after STS has given up.
    #[serde(default)]
    pub slow: bool,
    /// HTTP status of the discovery document.
    #[serde(default)]
    pub discovery_status: Option<u16>,
    /// Required discovery members to leave out.
    #[serde(default)]
    pub discovery_missing: Vec<String>,
    /// HTTP status of the JWKS.
    #[serde(default)]
    pub jwks_status: Option<u16>,
    /// The TLS chain the issuer host presents instead of the harness's own.
    #[serde(default)]
    pub tls: Option<TlsFile>,
}

/// A TLS chain as an issuer host presents it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// SHA-1 thumbprint (40 hex digits) of the last certificate presented.
    pub thumbprint: String,
    /// Whether a CA that AWS trusts signed the chain (true when absent).
    #[serde(default = "yes")]
    pub trusted: bool,
    /// Whether the leaf certificate names the issuer host (true when absent).
    #[serde(default = "yes")]
    pub matches_host: bool,
}

fn yes() -> bool {
    true
}

/// The world before the first step.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldFile {
    /// Account of steps that name none (123456789012 when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default_account: Option<Spanned<String>>,
    /// Accounts that need a partition other than `aws`.
    #[serde(default)]
    pub accounts: Vec<AccountFile>,
    /// Emulated EKS clusters; each hosts an issuer.
    #[serde(default)]
    pub clusters: Vec<ClusterFile>,
    /// Issuers that belong to no cluster, such as a CI system's.
    #[serde(default)]
    pub issuers: Vec<IssuerFile>,
    /// IAM OpenID Connect providers.
    #[serde(default)]
    pub oidc_providers: Vec<ProviderFile>,
    /// IAM roles.
    #[serde(default)]
    pub roles: Vec<RoleFile>,
}

/// An account and its partition.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountFile {
    /// 12-digit account id.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    #[serde(default)]
    pub partition: Option<String>,
}

/// An emulated EKS cluster.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Cluster name, unique in the scenario.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// AWS region (us-east-1 when absent).
    #[serde(default)]
    pub region: Option<String>,
    /// Issuer id, 32 upper-case hex digits; derived from the seed when absent.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub id: Option<Spanned<String>>,
    /// Owning account (the default account when absent).
    #[serde(default)]
    pub account: Option<String>,
    /// ServiceAccount, Pod and Deployment manifests, applied in order when
    /// the world is built: a list of mappings, or multi-document YAML text.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub manifests: Option<Spanned<serde_json::Value>>,
    /// A multi-document YAML file of manifests, relative to the scenario file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub manifests_file: Option<Spanned<String>>,
    /// How the cluster's issuer is mis-served.
    #[serde(default)]
    pub faults: Option<FaultsFile>,
    /// The key that signs the issuer's tokens (RS256 when absent).
    #[serde(default)]
    pub signing: Option<SigningFile>,
    /// Older keys the JWKS still lists but that no longer sign, as during a
    /// key rotation (0 when absent, at most 8).
    #[serde(default)]
    pub previous_keys: Option<u32>,
    /// Name of the IAM role the cluster's nodes run as, which instance
    /// metadata hands out (AmazonEKSNodeRole when absent). The harness
    /// creates it with an EC2 trust policy unless `roles` defines it.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub node_role: Option<Spanned<String>>,
}

/// The algorithm of an issuer's signing key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningFile {
    /// JWS algorithm: RSA-2048 for RS256, RS384, RS512; P-256, P-384 or
    /// P-521 for ES256, ES384, ES512.
    pub alg: AlgFile,
}

/// A JWS algorithm STS accepts.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum AlgFile {
    RS256,
    RS384,
    RS512,
    ES256,
    ES384,
    ES512,
}

/// What an issuer of no cluster stands for, which decides its tokens' claims.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IssuerKindFile {
    /// Tokens carry only `iss`, `aud` and the times, and the step's claims.
    #[default]
    Generic,
    /// Tokens carry the claims GitHub Actions puts in them, from the token's
    /// `github` block.
    Github,
}

/// An issuer the harness hosts on its own URL.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerFile {
    /// Name that tokens and providers refer to.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The issuer URL exactly as tokens carry it in `iss`.
    #[schemars(with = "String")]
    pub url: Spanned<String>,
    /// How the issuer is mis-served.
    #[serde(default)]
    pub faults: Option<FaultsFile>,
    /// `generic` (the default) or `github`.
    #[serde(default)]
    pub kind: IssuerKindFile,
    /// The key that signs the issuer's tokens (RS256 when absent).
    #[serde(default)]
    pub signing: Option<SigningFile>,
    /// Older keys the JWKS still lists but that no longer sign, as during a
    /// key rotation (0 when absent, at most 8).
    #[serde(default)]
    pub previous_keys: Option<u32>,
}

/// An IAM OpenID Connect provider, created as CreateOpenIDConnectProvider
/// would create it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// Account that owns the provider (the default account when absent).
    #[serde(default)]
    pub account: Option<String>,
    /// Provider URL as passed to CreateOpenIDConnectProvider; give this or `cluster`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    /// Use the issuer URL of this cluster of the scenario.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// Use the URL of this issuer of the scenario.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// Audiences the provider accepts.
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// SHA-1 thumbprints, 40 hex digits each.
    #[serde(default)]
    pub thumbprints: Vec<String>,
}

/// An IAM role, created as CreateRole would create it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleFile {
    /// Account that owns the role (the default account when absent).
    #[serde(default)]
    pub account: Option<String>,
    /// Role name.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Role path (`/` when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// Maximum session the role allows, in seconds (3600 when absent).
    #[serde(default)]
    pub max_session_duration: Option<u32>,
    /// Role description.
    #[serde(default)]
    pub description: Option<String>,
    /// The trust policy: IAM JSON as a string, or the same document as a YAML mapping.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub trust_policy: Option<Spanned<serde_json::Value>>,
    /// A file holding the trust policy as JSON, relative to the scenario file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub trust_policy_file: Option<Spanned<String>>,
}

/// One step: exactly one action, and what it must produce.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// What the step does, in a few words.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Call STS AssumeRoleWithWebIdentity.
    #[serde(default)]
    pub assume_role_with_web_identity: Option<AssumeFile>,
    /// Call an IAM action the harness serves.
    #[serde(default)]
    pub iam: Option<IamFile>,
    /// Move the clock forward by this many seconds (negative moves it back).
    #[serde(default)]
    pub advance_clock: Option<i64>,
    /// Set the clock, RFC 3339.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub set_clock: Option<Spanned<String>>,
    /// Change how an issuer is served, e.g. to fix an injected fault.
    #[serde(default)]
    pub set_faults: Option<SetFaultsFile>,
    /// Rotate an issuer's keys: a new key signs from now on.
    #[serde(default)]
    pub rotate_keys: Option<RotateKeysFile>,
    /// Create or update Kubernetes objects, as `kubectl apply`.
    #[serde(default)]
    pub kube_apply: Option<KubeApplyFile>,
    /// Delete a Kubernetes object, as `kubectl delete`.
    #[serde(default)]
    pub kube_delete: Option<KubeDeleteFile>,
    /// Re-create a Deployment's pods or a bare pod, so the webhook runs again.
    #[serde(default)]
    pub rollout_restart: Option<RolloutRestartFile>,
    /// Check the stored pod, as the pod identity webhook left it.
    #[serde(default)]
    pub pod_show: Option<PodShowFile>,
    /// What the action must produce; success when absent.
    #[serde(default)]
    pub expect: Option<ExpectFile>,
}

/// New faults for one issuer; an empty `faults` serves it correctly again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFaultsFile {
    /// The cluster whose issuer changes.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// The issuer (from world.issuers) that changes.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// The faults from now on.
    #[serde(default)]
    pub faults: FaultsFile,
}

/// A key rotation of one issuer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeysFile {
    /// The cluster whose issuer rotates.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// The issuer (from world.issuers) that rotates.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// Remove every older key from the JWKS (false when absent, which keeps
    /// them published).
    #[serde(default)]
    pub drop_previous: bool,
    /// Algorithm of the new key (the current signing key's when absent).
    #[serde(default)]
    pub alg: Option<AlgFile>,
}

/// Kubernetes objects to create or update.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubeApplyFile {
    /// The cluster (the scenario's only cluster when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// Manifests: a list of mappings, or multi-document YAML text.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub manifests: Option<Spanned<serde_json::Value>>,
    /// A multi-document YAML file of manifests, relative to the scenario file.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub file: Option<Spanned<String>>,
}

/// A Kubernetes object to delete.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubeDeleteFile {
    /// The cluster (the scenario's only cluster when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// `serviceaccount`, `pod` or `deployment` (kubectl's short names work too).
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    /// `NAMESPACE/NAME`.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
}

/// A Deployment or bare pod to restart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRestartFile {
    /// The cluster (the scenario's only cluster when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// `NAMESPACE/NAME` of the Deployment, or of a bare pod.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
}

/// A stored pod and what it must hold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodShowFile {
    /// The cluster (the scenario's only cluster when absent).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// `NAMESPACE/NAME` of the pod.
    #[schemars(with = "String")]
    pub pod: Spanned<String>,
    /// Container the env and mount checks look at (the first container when absent).
    #[serde(default)]
    pub container: Option<String>,
    /// Variables the container must set, with these values.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Variables the container must not set.
    #[serde(default)]
    pub env_absent: Vec<String>,
    /// Whether the pod has the `aws-iam-token` volume.
    #[serde(default)]
    pub token_volume: Option<bool>,
    /// Whether the container mounts the `aws-iam-token` volume.
    #[serde(default)]
    pub token_mounted: Option<bool>,
    /// The audience of the `aws-iam-token` volume's token.
    #[serde(default)]
    pub token_audience: Option<String>,
    /// The `expirationSeconds` of the `aws-iam-token` volume's token.
    #[serde(default)]
    pub token_expiration: Option<i64>,
}

/// An AssumeRoleWithWebIdentity call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssumeFile {
    /// The `RoleArn` parameter.
    pub role_arn: String,
    /// The `RoleSessionName` parameter (`scenario-session` when absent).
    #[serde(default)]
    pub session_name: Option<String>,
    /// The `DurationSeconds` parameter, sent as written.
    #[serde(default)]
    pub duration_seconds: Option<serde_json::Value>,
    /// A token minted for a cluster's service account.
    #[serde(default)]
    pub token: Option<TokenFile>,
    /// A token sent verbatim instead of a minted one.
    #[serde(default)]
    pub raw_token: Option<String>,
    /// Further query parameters, sent as written (e.g. `Policy`).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A token to mint, with overrides: a projected service-account token of a
/// cluster, the token a stored pod's volume holds, or a token of a named
/// issuer whose claims the step gives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    /// `NAMESPACE/NAME` of a stored pod whose `aws-iam-token` volume holds
    /// the token, as the kubelet last wrote it; `cluster` may be left out
    /// when the scenario has one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub from_pod: Option<Spanned<String>>,
    /// Cluster whose issuer signs a projected service-account token.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cluster: Option<Spanned<String>>,
    /// Issuer (from world.issuers) that signs a token with the given claims.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub issuer: Option<Spanned<String>>,
    /// Namespace of the service account (cluster tokens).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Service account name (cluster tokens).
    #[serde(default)]
    pub service_account: Option<String>,
    /// Audiences (`[sts.amazonaws.com]` when absent).
    #[serde(default)]
    pub audiences: Option<Vec<String>>,
    /// Seconds from `iat` to `exp` (86400 for cluster tokens, 300 for issuer tokens, when absent).
    #[serde(default)]
    pub lifetime: Option<i64>,
    /// Seconds from the clock to `iat` and `nbf`; negative for the past (0 when absent).
    #[serde(default)]
    pub issued_at: Option<i64>,
    /// Pod the token is bound to.
    #[serde(default)]
    pub pod: Option<String>,
    /// Claims to set after minting; `null` removes a claim.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Header members to set (`kid`, `alg`, …); `null` removes one.
    #[serde(default)]
    pub header: serde_json::Map<String, serde_json::Value>,
    /// Whose key signs: `issuer` (default), `previous` (the issuer's newest
    /// key that no longer signs but is still published), `dropped` (its
    /// newest key a rotation removed from the JWKS), `unpublished` (a key no
    /// JWKS lists), or the name of another cluster or issuer of the scenario.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub signed_by: Option<Spanned<String>>,
    /// The workflow run of a token of a `github` issuer.
    #[serde(default)]
    pub github: Option<GithubFile>,
}

/// A GitHub Actions workflow run, as GitHub's token claims describe it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubFile {
    /// `owner/repo`.
    pub repository: String,
    /// The git ref (`refs/heads/main` when absent).
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// The triggering event (`push` when absent).
    #[serde(default)]
    pub event_name: Option<String>,
    /// The job's environment; when set, `sub` names it.
    #[serde(default)]
    pub environment: Option<String>,
    /// The workflow's name (`deploy` when absent).
    #[serde(default)]
    pub workflow: Option<String>,
    /// `owner/repo/.github/workflows/deploy.yml@<ref>` when absent.
    #[serde(default)]
    pub job_workflow_ref: Option<String>,
    /// The account that started the run (the repository owner when absent).
    #[serde(default)]
    pub actor: Option<String>,
    /// The run's id, as digits (`1` when absent).
    #[serde(default)]
    pub run_id: Option<String>,
}

/// An IAM call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IamFile {
    /// The IAM action, e.g. `CreateOpenIDConnectProvider`.
    #[schemars(with = "String")]
    pub action: Spanned<String>,
    /// Account the call acts in (the default account when absent).
    #[serde(default)]
    pub account: Option<String>,
    /// Parameters: a scalar as text, a list as `Name.member.N`, a list of
    /// mappings as `Name.member.N.Key`, a mapping (a policy) as JSON.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// The expected outcome of a step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    /// The call succeeds, with these values.
    #[serde(default)]
    pub success: Option<SuccessFile>,
    /// The call fails with this error.
    #[serde(default)]
    pub error: Option<ErrorFile>,
    /// The pipeline check that decided an STS call: request, token,
    /// provider, keys, signature, time, audience, trust-policy, duration.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub decided_by: Option<Spanned<String>>,
}

/// Values a successful call must return.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessFile {
    /// `AssumedRoleUser.Arn` of an STS call.
    #[serde(default)]
    pub assumed_role_arn: Option<String>,
    /// `SubjectFromWebIdentityToken`.
    #[serde(default)]
    pub subject: Option<String>,
    /// `Audience`.
    #[serde(default)]
    pub audience: Option<String>,
    /// `Provider` (the provider ARN).
    #[serde(default)]
    pub provider: Option<String>,
    /// Elements of an IAM response that must hold these texts.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// An error a call must return.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorFile {
    /// AWS error code, e.g. `AccessDenied`.
    pub code: String,
    /// HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// The exact message.
    #[serde(default)]
    pub message: Option<String>,
    /// A regular expression the message must match.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub message_matches: Option<Spanned<String>>,
}
