//! The validated scenario: every reference resolved, every value parsed.

use std::path::PathBuf;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::kube::{Kind, Manifest};
use crate::oidc::KeyAlgorithm;
use crate::oidc::github::GithubRun;
use crate::sts::Check;
use crate::world::{ClusterSpec, IssuerFaults, KeySpec};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub now: OffsetDateTime,
    pub thumbprint_pinning: bool,
    pub world: WorldSpec,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
}

/// A place in the scenario file, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// The world before the first step.
#[derive(Debug, Clone)]
pub struct WorldSpec {
    pub default_account: String,
    pub partitions: Vec<(String, String)>,
    pub clusters: Vec<ClusterSpec>,
    /// Each cluster's manifests, applied in order, by cluster name.
    pub kube: Vec<(String, Vec<Manifest>)>,
    /// Faults of issuers, by issuer URL.
    pub faults: Vec<(String, IssuerFaults)>,
    /// Issuers of no cluster.
    pub issuers: Vec<IssuerSpec>,
    /// Every cluster's and issuer's name with its issuer URL.
    pub issuer_urls: Vec<(String, String)>,
    /// IAM calls that create the providers and roles, with the position of
    /// the entry each comes from.
    pub iam_calls: Vec<IamCall>,
}

/// An issuer of no cluster.
#[derive(Debug, Clone)]
pub struct IssuerSpec {
    pub name: String,
    pub url: String,
    pub kind: IssuerKind,
    pub keys: KeySpec,
}

/// What an issuer of no cluster stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssuerKind {
    #[default]
    Generic,
    Github,
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub position: Position,
    pub action: Action,
    pub expect: Expectation,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    Assume(Box<AssumeCall>),
    Iam(IamCall),
    AdvanceClock(i64),
    SetClock(OffsetDateTime),
    /// New faults for the issuer with this URL.
    SetFaults(String, IssuerFaults),
    /// A key rotation of the issuer with this URL.
    RotateKeys {
        url: String,
        algorithm: Option<KeyAlgorithm>,
        drop_previous: bool,
    },
    /// Manifests to apply to a cluster.
    KubeApply {
        cluster: String,
        manifests: Vec<Manifest>,
    },
    /// An object to delete.
    KubeDelete {
        cluster: String,
        kind: Kind,
        namespace: String,
        name: String,
    },
    /// A Deployment or bare pod to restart.
    RolloutRestart {
        cluster: String,
        namespace: String,
        name: String,
    },
    /// A stored pod to check.
    PodShow(Box<PodShow>),
}

/// A stored pod and what it must hold.
#[derive(Debug, Clone, Default)]
pub struct PodShow {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub container: Option<String>,
    pub env: Vec<(String, String)>,
    pub env_absent: Vec<String>,
    pub token_volume: Option<bool>,
    pub token_mounted: Option<bool>,
    pub token_audience: Option<String>,
    pub token_expiration: Option<i64>,
}

impl Action {
    /// A short label for reports.
    pub fn label(&self) -> String {
        match self {
            Action::Assume(_) => "AssumeRoleWithWebIdentity".to_owned(),
            Action::Iam(call) => call.action.clone(),
            Action::AdvanceClock(seconds) => format!("advance clock {seconds:+} s"),
            Action::SetClock(time) => format!("set clock {time}"),
            Action::SetFaults(url, _) => format!("set faults of {url}"),
            Action::RotateKeys { url, .. } => format!("rotate keys of {url}"),
            Action::KubeApply { cluster, manifests } => {
                format!("kubectl apply ({} objects) in {cluster}", manifests.len())
            }
            Action::KubeDelete {
                kind,
                namespace,
                name,
                ..
            } => format!("kubectl delete {} {namespace}/{name}", kind.resource()),
            Action::RolloutRestart {
                namespace, name, ..
            } => format!("kubectl rollout restart {namespace}/{name}"),
            Action::PodShow(show) => format!("pod show {}/{}", show.namespace, show.name),
        }
    }
}

/// An IAM call with its query parameters.
#[derive(Debug, Clone)]
pub struct IamCall {
    pub action: String,
    pub account: Option<String>,
    pub params: Vec<(String, String)>,
    pub position: Position,
}

/// An AssumeRoleWithWebIdentity call.
#[derive(Debug, Clone)]
pub struct AssumeCall {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: Option<String>,
    pub token: TokenSource,
    pub params: Vec<(String, String)>,
}

/// Where the call's token comes from.
#[derive(Debug, Clone)]
pub enum TokenSource {
    Minted(MintSpec),
    Raw(String),
}

/// A token to mint when the step runs, at the clock's time then.
#[derive(Debug, Clone)]
pub struct MintSpec {
    pub source: MintSource,
    pub audiences: Vec<String>,
    pub lifetime: i64,
    pub issued_at: i64,
    pub pod: Option<String>,
    pub claims: Map<String, Value>,
    pub header: Map<String, Value>,
    pub signed_by: SignedBy,
    /// The workflow run of a token of a `github` issuer.
    pub github: Option<Box<GithubRun>>,
}

/// What a minted token is for.
#[derive(Debug, Clone)]
pub enum MintSource {
    /// A projected service-account token of a cluster.
    Cluster {
        cluster: String,
        namespace: String,
        service_account: String,
    },
    /// A token of a named issuer, with the step's claims.
    Issuer(String),
    /// The token a stored pod's `aws-iam-token` volume holds now.
    Pod {
        cluster: String,
        namespace: String,
        name: String,
    },
}

/// Whose key signs a minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// The cluster's own issuer key.
    Issuer,
    /// The key of another cluster or issuer, by name.
    Other(String),
    /// The signing issuer's newest key that no longer signs but is still
    /// published.
    Previous,
    /// The signing issuer's newest key that a rotation dropped.
    Dropped,
    /// A key no issuer publishes.
    Unpublished,
}

/// What a step must produce.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub outcome: ExpectedOutcome,
    pub decided_by: Option<Check>,
}

/// The expected result.
#[derive(Debug, Clone)]
pub enum ExpectedOutcome {
    Success(ExpectedSuccess),
    Error(ExpectedError),
}

/// Values a success must carry.
#[derive(Debug, Clone, Default)]
pub struct ExpectedSuccess {
    pub assumed_role_arn: Option<String>,
    pub subject: Option<String>,
    pub audience: Option<String>,
    pub provider: Option<String>,
    pub fields: Vec<(String, String)>,
}

/// An error to match.
#[derive(Debug, Clone)]
pub struct ExpectedError {
    pub code: String,
    pub status: Option<u16>,
    pub message: Option<String>,
    pub message_matches: Option<regex::Regex>,
}
