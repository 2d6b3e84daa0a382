//! Loading a scenario file: YAML into [`super::file`] types, then checks
//! and conversion into the [`super::model`] that the runner uses.
//!
//! Every error names the file, the line and column of the value at fault,
//! what was expected, and a hint. Trust policies go through the policy
//! engine's validation here, the same that UpdateAssumeRolePolicy applies,
//! so a scenario cannot hold a policy IAM would reject.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_saphyr::Spanned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::file::{
    AlgFile, AssumeFile, ExpectFile, FORMAT_VERSION, GithubFile, IamFile, IssuerKindFile, RoleFile,
    ScenarioFile, SigningFile, StepFile, TokenFile,
};
use super::model::{
    Action, AssumeCall, Expectation, ExpectedError, ExpectedOutcome, ExpectedSuccess, IamCall,
    IssuerKind, IssuerSpec, MintSource, MintSpec, Position, Scenario, SignedBy, Step, TokenSource,
    WorldSpec,
};
use crate::aws::arn::is_account_id;
use crate::kube::Manifest;
use crate::oidc::KeyAlgorithm;
use crate::oidc::github::GithubRun;
use crate::oidc::mint::{DEFAULT_AUDIENCE, DEFAULT_LIFETIME_SECONDS};
use crate::policy::TrustPolicy;
use crate::seed::DEFAULT_SEED;
use crate::sts::Check;
use crate::world::{
    ClusterSpec, DEFAULT_ACCOUNT, DEFAULT_PARTITION, DEFAULT_REGION, IssuerFaults, KeySpec,
    MAX_PREVIOUS_KEYS, REQUIRED_DISCOVERY_MEMBERS, ServedChain, World, is_role_name, issuer_url,
};

/// The clock's start when a scenario names none: 2026-01-01T00:00:00Z.
pub const DEFAULT_NOW_UNIX: i64 = 1_767_225_600;
/// Session name of AssumeRoleWithWebIdentity steps that name none.
pub const DEFAULT_SESSION_NAME: &str = "scenario-session";
/// Partitions an account may name.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// Why a scenario file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub position: Option<Position>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                self.message
            )?,
            None => write!(f, "{}: {}", self.path.display(), self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError {
        path: path.to_owned(),
        position: None,
        message: format!("cannot read the scenario: {error}"),
        hint: None,
    })?;
    load_str(path, &text)
}

/// Validates scenario text; `path` names it in errors and anchors relative
/// file references.
pub fn load_str(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    let loader = Loader { path };
    let file: ScenarioFile = serde_saphyr::from_str(text).map_err(|error| {
        let position = error.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
        // The parser's text starts with its own "error: line L column C: "
        // and names the source `<input>`; the location is already in front
        // of the message, and the file has a name.
        let mut message = error
            .to_string()
            .replace("<input>", &path.display().to_string());
        if let Some(p) = position {
            let prefix = format!("error: line {} column {}: ", p.line, p.column);
            if let Some(rest) = message.strip_prefix(&prefix) {
                message = rest.to_owned();
            }
        }
        loader.error(
            position,
            format!("invalid scenario: {message}"),
            Some("see docs/scenario-format.md for every field; field names are snake_case".into()),
        )
    })?;
    loader.scenario(file)
}

/// Largest trust-policy or manifests file a scenario may name, in bytes.
const MAX_REFERENCED_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a file a scenario names, refusing one larger than
/// [`MAX_REFERENCED_FILE_BYTES`] (a device such as /dev/zero never ends).
fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_REFERENCED_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_REFERENCED_FILE_BYTES {
        return Err(format!(
            "the file is larger than {MAX_REFERENCED_FILE_BYTES} bytes"
        ));
    }
    Ok(text)
}

/// Lifetime of issuer tokens that name none: five minutes, as CI systems
/// such as GitHub Actions issue them.
pub const DEFAULT_ISSUER_TOKEN_LIFETIME: i64 = 300;

/// The cluster and issuer names a scenario defines.
pub(super) struct Names {
    pub(super) clusters: Vec<String>,
    pub(super) issuers: Vec<String>,
    /// The issuers of kind `github`.
    pub(super) github: Vec<String>,
    /// Every cluster's and issuer's name with its issuer URL.
    pub(super) urls: Vec<(String, String)>,
}

pub(super) struct Loader<'a> {
    pub(super) path: &'a Path,
}

pub(super) fn at<T>(spanned: &Spanned<T>) -> Option<Position> {
    Some(Position {
        line: spanned.referenced.line(),
        column: spanned.referenced.column(),
    })
}

impl Loader<'_> {
    pub(super) fn error(
        &self,
        position: Option<Position>,
        message: String,
        hint: Option<String>,
    ) -> LoadError {
        LoadError {
            path: self.path.to_owned(),
            position,
            message,
            hint,
        }
    }

    fn scenario(&self, file: ScenarioFile) -> Result<Scenario, LoadError> {
        if file.version.value != FORMAT_VERSION {
            return Err(self.error(
                at(&file.version),
                format!("unsupported scenario format version {}", file.version.value),
                Some(format!("this harness reads version {FORMAT_VERSION}")),
            ));
        }
        let now = match &file.now {
            Some(now) => self.time(now)?,
            None => {
                OffsetDateTime::from_unix_timestamp(DEFAULT_NOW_UNIX).expect("a valid constant")
            }
        };
        let seed = file.seed.unwrap_or(DEFAULT_SEED);
        let world = self.world(&file, seed)?;
        let names = Names {
            clusters: world.clusters.iter().map(|c| c.name.clone()).collect(),
            issuers: world.issuers.iter().map(|i| i.name.clone()).collect(),
            github: world
                .issuers
                .iter()
                .filter(|i| i.kind == IssuerKind::Github)
                .map(|i| i.name.clone())
                .collect(),
            urls: world.issuer_urls.clone(),
        };
        let clusters = &names;
        let setup = file
            .setup
            .into_iter()
            .map(|step| self.step(step, clusters))
            .collect::<Result<_, _>>()?;
        let steps = file
            .steps
            .into_iter()
            .map(|step| self.step(step, clusters))
            .collect::<Result<_, _>>()?;
        Ok(Scenario {
            path: self.path.to_owned(),
            name: file.name,
            description: file.description,
            seed,
            now,
            thumbprint_pinning: file.options.thumbprint_pinning,
            world,
            setup,
            steps,
        })
    }

    fn time(&self, text: &Spanned<String>) -> Result<OffsetDateTime, LoadError> {
        OffsetDateTime::parse(&text.value, &Rfc3339).map_err(|error| {
            self.error(
                at(text),
                format!("invalid time {:?}: {error}", text.value),
                Some("write an RFC 3339 time such as 2026-01-01T00:00:00Z".into()),
            )
        })
    }

    fn account(&self, id: &str, position: Option<Position>) -> Result<String, LoadError> {
        if !is_account_id(id) {
            return Err(self.error(
                position,
                format!("invalid account id {id:?}"),
                Some("account ids are 12 digits; quote them in YAML (\"012345678901\") so leading zeros stay".into()),
            ));
        }
        Ok(id.to_owned())
    }

    fn world(&self, file: &ScenarioFile, seed: u64) -> Result<WorldSpec, LoadError> {
        let world = &file.world;
        let default_account = match &world.default_account {
            Some(id) => self.account(&id.value, at(id))?,
            None => DEFAULT_ACCOUNT.to_owned(),
        };
        let mut partitions = Vec::new();
        for account in &world.accounts {
            let id = self.account(&account.id.value, at(&account.id))?;
            let partition = account
                .partition
                .clone()
                .unwrap_or_else(|| DEFAULT_PARTITION.to_owned());
            if !PARTITIONS.contains(&partition.as_str()) {
                return Err(self.error(
                    at(&account.id),
                    format!("unknown partition {partition:?} for account {id}"),
                    Some(format!("use one of {}", PARTITIONS.join(", "))),
                ));
            }
            partitions.push((id, partition));
        }
        let partition_of = |account: &str| {
            partitions
                .iter()
                .find(|(id, _)| id == account)
                .map(|(_, p)| p.clone())
                .unwrap_or_else(|| DEFAULT_PARTITION.to_owned())
        };

        // Cluster ids and issuer URLs are computed here without building the
        // clusters, because that would generate their keys.
        let id_source = World::new(seed, &default_account);
        let mut clusters = Vec::new();
        let mut kube = Vec::new();
        let mut faults_list = Vec::new();
        let mut issuers = Vec::new();
        let mut names = HashSet::new();
        for cluster in &world.clusters {
            let name = &cluster.name.value;
            if !names.insert(name.clone()) {
                return Err(self.error(
                    at(&cluster.name),
                    format!("cluster {name:?} is defined twice"),
                    Some("give each cluster its own name".into()),
                ));
            }
            let region = cluster
                .region
                .clone()
                .unwrap_or_else(|| DEFAULT_REGION.to_owned());
            let text = match &cluster.id {
                Some(id) => format!("{name}@{region}/{}", id.value),
                None => format!("{name}@{region}"),
            };
            let position = cluster.id.as_ref().and_then(at).or(at(&cluster.name));
            let mut spec =
                ClusterSpec::parse(&text).map_err(|message| self.error(position, message, None))?;
            let account = match &cluster.account {
                Some(account) => self.account(account, at(&cluster.name))?,
                None => default_account.clone(),
            };
            spec.account = Some(account.clone());
            spec.keys = self.keys(
                cluster.signing.as_ref(),
                cluster.previous_keys,
                at(&cluster.name),
            )?;
            if let Some(role) = &cluster.node_role {
                if !is_role_name(&role.value) {
                    return Err(self.error(
                        at(role),
                        format!("invalid node_role {:?}", role.value),
                        Some("use an IAM role name: 1-64 letters, digits and +=,.@_-".into()),
                    ));
                }
                spec.node_role = Some(role.value.clone());
            }
            let id = spec.id.clone().unwrap_or_else(|| {
                id_source.derived_cluster_id(&account, &spec.region, &spec.name)
            });
            issuers.push((
                name.clone(),
                issuer_url(&partition_of(&account), &spec.region, &id),
            ));
            if let Some(faults) = &cluster.faults {
                let url = issuer_url(&partition_of(&account), &spec.region, &id);
                faults_list.push((url, self.faults(faults, at(&cluster.name))?));
            }
            if let Some(objects) = self.manifests(cluster)? {
                kube.push((name.clone(), objects));
            }
            clusters.push(spec);
        }

        let mut other_issuers = Vec::new();
        for issuer in &world.issuers {
            let name = &issuer.name.value;
            if !names.insert(name.clone()) {
                return Err(self.error(
                    at(&issuer.name),
                    format!("the name {name:?} is used twice among clusters and issuers"),
                    Some("give each cluster and issuer its own name".into()),
                ));
            }
            if !issuer.url.value.starts_with("https://") {
                return Err(self.error(
                    at(&issuer.url),
                    format!("invalid issuer URL {:?}", issuer.url.value),
                    Some(
                        "issuers are https URLs, written exactly as tokens carry them in iss"
                            .into(),
                    ),
                ));
            }
            if let Some(faults) = &issuer.faults {
                faults_list.push((
                    issuer.url.value.clone(),
                    self.faults(faults, at(&issuer.name))?,
                ));
            }
            other_issuers.push(IssuerSpec {
                name: name.clone(),
                url: issuer.url.value.clone(),
                kind: match issuer.kind {
                    IssuerKindFile::Generic => IssuerKind::Generic,
                    IssuerKindFile::Github => IssuerKind::Github,
                },
                keys: self.keys(
                    issuer.signing.as_ref(),
                    issuer.previous_keys,
                    at(&issuer.name),
                )?,
            });
        }
        issuers.extend(
            other_issuers
                .iter()
                .map(|i| (i.name.clone(), i.url.clone())),
        );

        let mut iam_calls = Vec::new();
        for provider in &world.oidc_providers {
            let (url, position) = match (&provider.url, &provider.cluster, &provider.issuer) {
                (Some(url), None, None) => (url.value.clone(), at(url)),
                (None, Some(name), None) | (None, None, Some(name)) => {
                    let url = issuers
                        .iter()
                        .find(|(issuer, _)| *issuer == name.value)
                        .map(|(_, url)| url.clone())
                        .ok_or_else(|| self.unknown_cluster(name, &names))?;
                    (url, at(name))
                }
                _ => {
                    return Err(self.error(
                        None,
                        "an oidc_providers entry needs exactly one of url, cluster and issuer".into(),
                        Some("write url: https://… as CreateOpenIDConnectProvider takes it, or cluster: NAME or issuer: NAME to use that issuer's URL".into()),
                    ));
                }
            };
            let mut params = vec![("Url".to_owned(), url)];
            push_members(&mut params, "ClientIDList", &provider.client_ids);
            push_members(&mut params, "ThumbprintList", &provider.thumbprints);
            iam_calls.push(IamCall {
                action: "CreateOpenIDConnectProvider".into(),
                account: provider.account.clone(),
                params,
                position: position.unwrap_or_default(),
            });
        }
        for role in &world.roles {
            iam_calls.push(self.role(role)?);
        }
        Ok(WorldSpec {
            default_account,
            partitions,
            clusters,
            kube,
            faults: faults_list,
            issuers: other_issuers,
            issuer_urls: issuers,
            iam_calls,
        })
    }

    /// Checks an issuer's key settings.
    fn keys(
        &self,
        signing: Option<&SigningFile>,
        previous_keys: Option<u32>,
        position: Option<Position>,
    ) -> Result<KeySpec, LoadError> {
        let previous_keys = previous_keys.unwrap_or(0);
        if previous_keys > MAX_PREVIOUS_KEYS {
            return Err(self.error(
                position,
                format!("previous_keys is {previous_keys}; the harness publishes at most {MAX_PREVIOUS_KEYS}"),
                Some("a JWKS during a rotation holds the new key and one or two old ones".into()),
            ));
        }
        Ok(KeySpec {
            algorithm: signing.map_or(KeyAlgorithm::RS256, |s| algorithm(s.alg)),
            previous_keys,
        })
    }

    /// Checks an issuer's faults.
    fn faults(
        &self,
        file: &super::file::FaultsFile,
        position: Option<Position>,
    ) -> Result<IssuerFaults, LoadError> {
        for status in [file.discovery_status, file.jwks_status]
            .into_iter()
            .flatten()
        {
            if !(400..=599).contains(&status) {
                return Err(self.error(
                    position,
                    format!("fault status {status} is not an HTTP error status"),
                    Some("give a status from 400 to 599, such as 500 or 503".into()),
                ));
            }
        }
        for member in &file.discovery_missing {
            if !REQUIRED_DISCOVERY_MEMBERS.contains(&member.as_str()) {
                return Err(self.error(
                    position,
                    format!("discovery_missing names {member:?}, which is not a required discovery member"),
                    Some(format!("use one of {}", REQUIRED_DISCOVERY_MEMBERS.join(", "))),
                ));
            }
        }
        let tls = match &file.tls {
            None => None,
            Some(tls) => {
                let hex = tls.thumbprint.len() == 40
                    && tls.thumbprint.bytes().all(|b| b.is_ascii_hexdigit());
                if !hex {
                    return Err(self.error(
                        position,
                        format!("invalid TLS thumbprint {:?}", tls.thumbprint),
                        Some("a thumbprint is the SHA-1 of a certificate: 40 hex digits".into()),
                    ));
                }
                Some(ServedChain {
                    thumbprint: tls.thumbprint.to_ascii_lowercase(),
                    trusted: tls.trusted,
                    matches_host: tls.matches_host,
                })
            }
        };
        Ok(IssuerFaults {
            unreachable: file.unreachable,
            slow: file.slow,
            discovery_status: file.discovery_status,
            discovery_missing: file.discovery_missing.clone(),
            jwks_status: file.jwks_status,
            tls,
        })
    }

    /// Reads a cluster's manifests, inline or from a file.
    fn manifests(
        &self,
        cluster: &super::file::ClusterFile,
    ) -> Result<Option<Vec<Manifest>>, LoadError> {
        if cluster.manifests.is_none() && cluster.manifests_file.is_none() {
            return Ok(None);
        }
        let owner = format!("cluster {:?}", cluster.name.value);
        self.read_manifests(
            cluster.manifests.as_ref(),
            cluster.manifests_file.as_ref(),
            &owner,
            at(&cluster.name),
        )
        .map(Some)
    }

    /// Reads a file named relative to the scenario file; `what` names its
    /// role in the error message.
    pub(super) fn read_relative(
        &self,
        file: &Spanned<String>,
        what: &str,
    ) -> Result<String, LoadError> {
        let full = self
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&file.value);
        read_limited(&full).map_err(|error| {
            self.error(
                at(file),
                format!("cannot read {what} file {}: {error}", full.display()),
                None,
            )
        })
    }

    pub(super) fn unknown_cluster(
        &self,
        name: &Spanned<String>,
        known: &HashSet<String>,
    ) -> LoadError {
        let mut known: Vec<&str> = known.iter().map(String::as_str).collect();
        known.sort_unstable();
        self.error(
            at(name),
            format!(
                "no cluster or issuer named {:?} in this scenario",
                name.value
            ),
            Some(if known.is_empty() {
                "define it under world.clusters or world.issuers".into()
            } else {
                format!("defined: {}", known.join(", "))
            }),
        )
    }

    fn role(&self, role: &RoleFile) -> Result<IamCall, LoadError> {
        let name = &role.name.value;
        let (document, position) = match (&role.trust_policy, &role.trust_policy_file) {
            (Some(policy), None) => {
                let text = match &policy.value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (text, at(policy))
            }
            (None, Some(file)) => (self.read_relative(file, "trust policy")?, at(file)),
            _ => {
                return Err(self.error(
                    at(&role.name),
                    format!(
                        "role {name:?} needs exactly one of trust_policy and trust_policy_file"
                    ),
                    Some(
                        "give the trust policy inline (JSON text or a YAML mapping) or as a file"
                            .into(),
                    ),
                ));
            }
        };
        if let Err(error) = TrustPolicy::parse(&document) {
            return Err(self.error(
                position,
                format!(
                    "IAM rejects the trust policy of role {name:?}: {} {}",
                    error.aws_code(),
                    error.message()
                ),
                Some(
                    "CreateRole and UpdateAssumeRolePolicy apply this same check; fix the policy"
                        .into(),
                ),
            ));
        }
        let mut params = vec![
            ("RoleName".to_owned(), name.clone()),
            ("AssumeRolePolicyDocument".to_owned(), document),
        ];
        if let Some(path) = &role.path {
            params.push(("Path".into(), path.clone()));
        }
        if let Some(max) = role.max_session_duration {
            params.push(("MaxSessionDuration".into(), max.to_string()));
        }
        if let Some(description) = &role.description {
            params.push(("Description".into(), description.clone()));
        }
        Ok(IamCall {
            action: "CreateRole".into(),
            account: role.account.clone(),
            params,
            position: at(&role.name).unwrap_or_default(),
        })
    }

    fn step(&self, step: StepFile, names: &Names) -> Result<Step, LoadError> {
        let position = at(&step.name).unwrap_or_default();
        let name = step.name.value.clone();
        let mut actions = Vec::new();
        if let Some(assume) = step.assume_role_with_web_identity {
            actions.push(Action::Assume(Box::new(self.assume(assume, names, &name)?)));
        }
        if let Some(iam) = step.iam {
            actions.push(Action::Iam(self.iam(iam)?));
        }
        if let Some(seconds) = step.advance_clock {
            actions.push(Action::AdvanceClock(seconds));
        }
        if let Some(time) = &step.set_clock {
            actions.push(Action::SetClock(self.time(time)?));
        }
        if let Some(change) = &step.set_faults {
            let name = match (&change.cluster, &change.issuer) {
                (Some(name), None) | (None, Some(name)) => name,
                _ => {
                    return Err(self.error(
                        Some(position),
                        "set_faults needs exactly one of cluster and issuer".into(),
                        None,
                    ));
                }
            };
            let url = self.url_of(name, names)?;
            actions.push(Action::SetFaults(
                url,
                self.faults(&change.faults, at(name))?,
            ));
        }
        if let Some(rotate) = &step.rotate_keys {
            let name = match (&rotate.cluster, &rotate.issuer) {
                (Some(name), None) | (None, Some(name)) => name,
                _ => {
                    return Err(self.error(
                        Some(position),
                        "rotate_keys needs exactly one of cluster and issuer".into(),
                        None,
                    ));
                }
            };
            let url = self.url_of(name, names)?;
            actions.push(Action::RotateKeys {
                url,
                algorithm: rotate.alg.map(algorithm),
                drop_previous: rotate.drop_previous,
            });
        }
        actions.extend(self.kube_actions(
            super::load_kube::KubeSteps {
                apply: step.kube_apply.as_ref(),
                delete: step.kube_delete.as_ref(),
                restart: step.rollout_restart.as_ref(),
                show: step.pod_show.as_ref(),
            },
            names,
            position,
        )?);
        if actions.len() != 1 {
            return Err(self.error(
                Some(position),
                format!(
                    "step {name:?} has {} actions; a step has exactly one",
                    actions.len()
                ),
                Some(
                    "use one of assume_role_with_web_identity, iam, advance_clock, set_clock, set_faults, rotate_keys, kube_apply, kube_delete, rollout_restart, pod_show"
                        .into(),
                ),
            ));
        }
        let action = actions.remove(0);
        let expect = self.expectation(step.expect, &name, position)?;
        if expect.decided_by.is_some() && !matches!(action, Action::Assume(_)) {
            return Err(self.error(
                Some(position),
                format!("step {name:?} expects decided_by, which only AssumeRoleWithWebIdentity steps report"),
                None,
            ));
        }
        Ok(Step {
            name,
            position,
            action,
            expect,
        })
    }

    /// Looks up the issuer URL of a cluster or issuer the scenario names.
    fn url_of(&self, name: &Spanned<String>, names: &Names) -> Result<String, LoadError> {
        names
            .urls
            .iter()
            .find(|(n, _)| *n == name.value)
            .map(|(_, url)| url.clone())
            .ok_or_else(|| {
                let known: HashSet<String> = names.urls.iter().map(|(n, _)| n.clone()).collect();
                self.unknown_cluster(name, &known)
            })
    }

    fn assume(
        &self,
        assume: AssumeFile,
        clusters: &Names,
        step: &str,
    ) -> Result<AssumeCall, LoadError> {
        let token = match (assume.token, assume.raw_token) {
            (Some(token), None) => TokenSource::Minted(self.mint(token, clusters)?),
            (None, Some(raw)) => TokenSource::Raw(raw),
            _ => {
                return Err(self.error(
                    None,
                    format!("step {step:?} needs exactly one of token and raw_token"),
                    Some("mint a token with token: {cluster, namespace, service_account}, or give raw_token: eyJ…".into()),
                ));
            }
        };
        let duration_seconds = assume.duration_seconds.map(|value| match value {
            Value::String(text) => text,
            other => other.to_string(),
        });
        Ok(AssumeCall {
            role_arn: assume.role_arn,
            session_name: assume
                .session_name
                .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_owned()),
            duration_seconds,
            token,
            params: assume.params.into_iter().collect(),
        })
    }

    fn mint(&self, token: TokenFile, names: &Names) -> Result<MintSpec, LoadError> {
        let known: HashSet<String> = names
            .clusters
            .iter()
            .chain(&names.issuers)
            .cloned()
            .collect();
        if let Some(reference) = &token.from_pod {
            return self.pod_token(&token, reference, names);
        }
        let source = match (&token.cluster, &token.issuer) {
            (Some(cluster), None) => {
                if !names.clusters.contains(&cluster.value) {
                    return Err(self.unknown_cluster(cluster, &known));
                }
                let (Some(namespace), Some(service_account)) =
                    (token.namespace.clone(), token.service_account.clone())
                else {
                    return Err(self.error(
                        at(cluster),
                        "a cluster token needs namespace and service_account".into(),
                        Some("the token's sub is system:serviceaccount:<namespace>:<service_account>".into()),
                    ));
                };
                MintSource::Cluster {
                    cluster: cluster.value.clone(),
                    namespace,
                    service_account,
                }
            }
            (None, Some(issuer)) => {
                if !names.issuers.contains(&issuer.value) {
                    return Err(self.unknown_cluster(issuer, &known));
                }
                if token.namespace.is_some() || token.service_account.is_some() {
                    return Err(self.error(
                        at(issuer),
                        "namespace and service_account belong to cluster tokens".into(),
                        Some("give an issuer token's subject as claims: {sub: …}".into()),
                    ));
                }
                MintSource::Issuer(issuer.value.clone())
            }
            _ => {
                return Err(self.error(
                    None,
                    "a token needs exactly one of cluster and issuer".into(),
                    Some("write cluster: NAME with namespace and service_account, from_pod: NAMESPACE/NAME, or issuer: NAME with claims".into()),
                ));
            }
        };
        let signed_by = match &token.signed_by {
            None => SignedBy::Issuer,
            Some(s) if s.value == "issuer" => SignedBy::Issuer,
            Some(s) if s.value == "unpublished" => SignedBy::Unpublished,
            Some(s) if s.value == "previous" => SignedBy::Previous,
            Some(s) if s.value == "dropped" => SignedBy::Dropped,
            Some(s) if known.contains(&s.value) => SignedBy::Other(s.value.clone()),
            Some(s) => {
                return Err(self.error(
                    at(s),
                    format!("signed_by {:?} is not issuer, previous, dropped, unpublished or a cluster or issuer of this scenario", s.value),
                    None,
                ));
            }
        };
        let github = match (&token.github, &source) {
            (None, _) => None,
            (Some(run), MintSource::Issuer(name)) if names.github.contains(name) => Some(Box::new(
                self.github_run(run, token.issuer.as_ref().and_then(at))?,
            )),
            (Some(_), _) => {
                return Err(self.error(
                    token.issuer.as_ref().or(token.cluster.as_ref()).and_then(at),
                    "a github block belongs to tokens of an issuer of kind github".into(),
                    Some("give the issuer kind: github in world.issuers, or set the claims with claims: {…}".into()),
                ));
            }
        };
        let default_lifetime = match source {
            MintSource::Issuer(_) => DEFAULT_ISSUER_TOKEN_LIFETIME,
            _ => DEFAULT_LIFETIME_SECONDS,
        };
        Ok(MintSpec {
            source,
            audiences: token
                .audiences
                .unwrap_or_else(|| vec![DEFAULT_AUDIENCE.to_owned()]),
            lifetime: token.lifetime.unwrap_or(default_lifetime),
            issued_at: token.issued_at.unwrap_or(0),
            pod: token.pod,
            claims: token.claims,
            header: token.header,
            signed_by,
            github,
        })
    }

    fn github_run(
        &self,
        file: &GithubFile,
        position: Option<Position>,
    ) -> Result<GithubRun, LoadError> {
        let valid_repository = file
            .repository
            .split_once('/')
            .is_some_and(|(owner, repo)| {
                !owner.is_empty() && !repo.is_empty() && !repo.contains('/')
            });
        if !valid_repository {
            return Err(self.error(
                position,
                format!("invalid GitHub repository {:?}", file.repository),
                Some("write the repository as owner/repo, such as example-org/demo-repo".into()),
            ));
        }
        let mut run = GithubRun::new(&file.repository);
        if let Some(git_ref) = &file.git_ref {
            run.git_ref = git_ref.clone();
        }
        run.job_workflow_ref = file.job_workflow_ref.clone().unwrap_or_else(|| {
            format!(
                "{}/.github/workflows/deploy.yml@{}",
                file.repository, run.git_ref
            )
        });
        if let Some(event_name) = &file.event_name {
            run.event_name = event_name.clone();
        }
        run.environment = file.environment.clone();
        if let Some(workflow) = &file.workflow {
            run.workflow = workflow.clone();
        }
        if let Some(actor) = &file.actor {
            run.actor = actor.clone();
        }
        if let Some(run_id) = &file.run_id {
            if run_id.is_empty() || !run_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.error(
                    position,
                    format!("invalid GitHub run_id {run_id:?}"),
                    Some("a run id is digits, such as \"1658821493\"".into()),
                ));
            }
            run.run_id = run_id.clone();
        }
        Ok(run)
    }

    fn iam(&self, iam: IamFile) -> Result<IamCall, LoadError> {
        let action = iam.action.value.clone();
        if !crate::iam::serves(&action) {
            return Err(self.error(
                at(&iam.action),
                format!("the harness does not serve IAM action {action:?}"),
                Some("see docs/endpoints.md for the IAM actions it serves".into()),
            ));
        }
        let mut params = Vec::new();
        for (name, value) in iam.params {
            match value {
                Value::Array(items) => {
                    if items.is_empty() {
                        params.push((name.clone(), String::new()));
                    }
                    for (index, item) in items.into_iter().enumerate() {
                        let member = format!("{name}.member.{}", index + 1);
                        match item {
                            Value::Object(fields) => {
                                for (key, value) in fields {
                                    params.push((format!("{member}.{key}"), scalar_text(value)));
                                }
                            }
                            other => params.push((member, scalar_text(other))),
                        }
                    }
                }
                Value::Object(_) => params.push((name, value.to_string())),
                other => params.push((name, scalar_text(other))),
            }
        }
        Ok(IamCall {
            action,
            account: iam.account,
            params,
            position: at(&iam.action).unwrap_or_default(),
        })
    }

    fn expectation(
        &self,
        expect: Option<ExpectFile>,
        step: &str,
        position: Position,
    ) -> Result<Expectation, LoadError> {
        let Some(expect) = expect else {
            return Ok(Expectation {
                outcome: ExpectedOutcome::Success(ExpectedSuccess::default()),
                decided_by: None,
            });
        };
        let decided_by = match &expect.decided_by {
            None => None,
            Some(name) => Some(Check::from_name(&name.value).ok_or_else(|| {
                let names: Vec<&str> = Check::ALL.iter().map(|c| c.name()).collect();
                self.error(
                    at(name),
                    format!("unknown check {:?}", name.value),
                    Some(format!("checks: {}", names.join(", "))),
                )
            })?),
        };
        let outcome = match (expect.success, expect.error) {
            (Some(success), None) => ExpectedOutcome::Success(ExpectedSuccess {
                assumed_role_arn: success.assumed_role_arn,
                subject: success.subject,
                audience: success.audience,
                provider: success.provider,
                fields: success.fields.into_iter().collect(),
            }),
            (None, Some(error)) => {
                let message_matches = match &error.message_matches {
                    None => None,
                    Some(pattern) => Some(regex::Regex::new(&pattern.value).map_err(|e| {
                        self.error(
                            at(pattern),
                            format!("invalid message_matches pattern: {e}"),
                            None,
                        )
                    })?),
                };
                ExpectedOutcome::Error(ExpectedError {
                    code: error.code,
                    status: error.status,
                    message: error.message,
                    message_matches,
                })
            }
            _ => {
                return Err(self.error(
                    Some(position),
                    format!(
                        "the expect block of step {step:?} needs exactly one of success and error"
                    ),
                    Some("write expect: {success: {}} or expect: {error: {code: …}}".into()),
                ));
            }
        };
        Ok(Expectation {
            outcome,
            decided_by,
        })
    }
}

fn algorithm(alg: AlgFile) -> KeyAlgorithm {
    match alg {
        AlgFile::RS256 => KeyAlgorithm::RS256,
        AlgFile::RS384 => KeyAlgorithm::RS384,
        AlgFile::RS512 => KeyAlgorithm::RS512,
        AlgFile::ES256 => KeyAlgorithm::ES256,
        AlgFile::ES384 => KeyAlgorithm::ES384,
        AlgFile::ES512 => KeyAlgorithm::ES512,
    }
}

fn push_members(params: &mut Vec<(String, String)>, name: &str, values: &[String]) {
    for (index, value) in values.iter().enumerate() {
        params.push((format!("{name}.member.{}", index + 1), value.clone()));
    }
}

fn scalar_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
