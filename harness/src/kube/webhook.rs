//! The EKS pod identity webhook: the mutation it applies to a pod when the
//! pod is created, so that AWS SDKs in its containers find a role and a
//! projected token.
//!
//! The rules follow the webhook's source (aws/amazon-eks-pod-identity-webhook,
//! `pkg/handler/handler.go`, `pkg/cache/cache.go`, `pkg/constants.go`):
//!
//! - the trigger is the service account annotation `eks.amazonaws.com/role-arn`
//!   (an empty value counts as absent);
//! - the audience comes from the service account's `eks.amazonaws.com/audience`,
//!   else `sts.amazonaws.com`;
//! - `eks.amazonaws.com/sts-regional-endpoints` is read as Go's
//!   `strconv.ParseBool` reads it, and an invalid value is ignored;
//! - `eks.amazonaws.com/token-expiration` on the pod wins over the service
//!   account's, which wins over the default of 86400 s. A value that is not
//!   an integer is ignored, and one below 600 s is raised to 600 s;
//! - every container and init container not named in the pod annotation
//!   `eks.amazonaws.com/skip-containers` gets `AWS_STS_REGIONAL_ENDPOINTS`,
//!   `AWS_DEFAULT_REGION` and `AWS_REGION`, `AWS_ROLE_ARN` and
//!   `AWS_WEB_IDENTITY_TOKEN_FILE` (each group only when none of its names is
//!   set) and the read-only mount of the `aws-iam-token` volume;
//! - a container that already sets all three groups is left alone, mount
//!   included;
//! - the pod label `eks.amazonaws.com/skip-pod-identity-webhook` keeps the
//!   webhook from seeing the pod at all (its object selector).
//!
//! NOTE: when the default lifetime applies, webhook releases since 2024 pick a
//! random lifetime between 79200 s and 86400 s; the harness keeps 86400 s so
//! that a seed fixes every token.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, EnvVar, Pod, ProjectedVolumeSource, ServiceAccount, ServiceAccountTokenProjection,
    Volume, VolumeMount, VolumeProjection,
};

/// Prefix of every annotation and label the webhook reads.
pub const ANNOTATION_DOMAIN: &str = "eks.amazonaws.com";
/// Service account annotation that names the role; its presence triggers
/// the mutation.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Service account annotation that sets the token audience.
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";
/// Service account annotation that turns on `AWS_STS_REGIONAL_ENDPOINTS`.
pub const REGIONAL_STS_ANNOTATION: &str = "eks.amazonaws.com/sts-regional-endpoints";
/// Pod or service account annotation with the token lifetime in seconds.
pub const TOKEN_EXPIRATION_ANNOTATION: &str = "eks.amazonaws.com/token-expiration";
/// Pod annotation listing containers to leave alone, comma-separated.
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
/// Pod label whose presence keeps the webhook from seeing the pod.
pub const SKIP_POD_LABEL: &str = "eks.amazonaws.com/skip-pod-identity-webhook";

/// Name of the projected token volume the webhook adds.
pub const TOKEN_VOLUME: &str = "aws-iam-token";
/// File name of the token inside the volume.
pub const TOKEN_PATH: &str = "token";
/// Mount path of the volume in each container.
pub const MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
/// `AWS_WEB_IDENTITY_TOKEN_FILE` on Linux nodes.
pub const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
/// `AWS_WEB_IDENTITY_TOKEN_FILE` on pods that select Windows nodes.
pub const WINDOWS_TOKEN_FILE: &str = r"C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token";

/// Token audience when the service account names none.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";
/// Token lifetime in seconds when no annotation sets one.
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 86_400;
/// Shortest token lifetime the webhook requests; shorter annotations are
/// raised to it. Releases before 2024 used 3600 s here.
pub const MIN_TOKEN_EXPIRATION: i64 = 600;

/// Settings of the webhook itself, as its flags set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `--aws-default-region`: EKS's hosted webhook passes the cluster's
    /// region, so pods get `AWS_DEFAULT_REGION` and `AWS_REGION`.
    pub region: Option<String>,
    /// `--token-audience`.
    pub audience: String,
    /// `--sts-regional-endpoint`.
    pub regional_sts: bool,
    /// `--token-expiration`, already raised to the minimum.
    pub token_expiration: i64,
}

impl WebhookConfig {
    /// The configuration of EKS's hosted webhook in a cluster of `region`.
    pub fn eks(region: &str) -> WebhookConfig {
        WebhookConfig {
            region: Some(region.to_owned()),
            audience: DEFAULT_AUDIENCE.to_owned(),
            regional_sts: false,
            token_expiration: DEFAULT_TOKEN_EXPIRATION,
        }
    }
}

/// The webhook's decision about a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The pod carries the opt-out label, so the webhook never saw it.
    OptedOut,
    /// The service account has no role annotation.
    NoRole,
    /// The pod was patched for this role.
    Mutated {
        role_arn: String,
        audience: String,
        token_expiration: i64,
    },
}

/// Applies the webhook's mutation to `pod`, which is being created and whose
/// service account is `service_account`.
pub fn mutate(pod: &mut Pod, service_account: &ServiceAccount, config: &WebhookConfig) -> Outcome {
    if labels(&pod.metadata.labels).contains_key(SKIP_POD_LABEL) {
        return Outcome::OptedOut;
    }
    let sa_annotations = labels(&service_account.metadata.annotations);
    let role_arn = match sa_annotations.get(ROLE_ARN_ANNOTATION) {
        Some(role) if !role.is_empty() => role.clone(),
        _ => return Outcome::NoRole,
    };
    let audience = sa_annotations
        .get(AUDIENCE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| config.audience.clone());
    let regional_sts = sa_annotations
        .get(REGIONAL_STS_ANNOTATION)
        .and_then(|value| parse_go_bool(value))
        .unwrap_or(config.regional_sts);
    let sa_expiration = sa_annotations
        .get(TOKEN_EXPIRATION_ANNOTATION)
        .and_then(|value| parse_expiration(value))
        .unwrap_or(config.token_expiration);
    let pod_annotations = labels(&pod.metadata.annotations);
    let token_expiration = pod_annotations
        .get(TOKEN_EXPIRATION_ANNOTATION)
        .and_then(|value| parse_expiration(value))
        .unwrap_or(sa_expiration);
    let skipped = pod_annotations
        .get(SKIP_CONTAINERS_ANNOTATION)
        .and_then(|value| parse_csv_record(value))
        .unwrap_or_default();

    let Some(spec) = pod.spec.as_mut() else {
        return Outcome::NoRole;
    };
    let windows = ["kubernetes.io/os", "beta.kubernetes.io/os"]
        .iter()
        .any(|key| labels(&spec.node_selector).get(*key).map(String::as_str) == Some("windows"));
    let token_file = if windows {
        WINDOWS_TOKEN_FILE
    } else {
        TOKEN_FILE
    };
    let patch = ContainerPatch {
        role_arn: &role_arn,
        token_file,
        regional_sts,
        region: config.region.as_deref(),
    };
    let init_containers = spec.init_containers.iter_mut().flatten();
    for container in init_containers.chain(spec.containers.iter_mut()) {
        if !skipped.contains(&container.name) {
            patch.apply(container);
        }
    }
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    if !volumes.iter().any(|volume| volume.name == TOKEN_VOLUME) {
        volumes.insert(0, token_volume(&audience, token_expiration));
    }
    Outcome::Mutated {
        role_arn,
        audience,
        token_expiration,
    }
}

/// The projected volume the webhook adds.
fn token_volume(audience: &str, expiration: i64) -> Volume {
    Volume {
        name: TOKEN_VOLUME.to_owned(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(audience.to_owned()),
                    expiration_seconds: Some(expiration),
                    path: TOKEN_PATH.to_owned(),
                }),
                ..VolumeProjection::default()
            }]),
            ..ProjectedVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The environment and mount added to one container.
struct ContainerPatch<'a> {
    role_arn: &'a str,
    token_file: &'a str,
    regional_sts: bool,
    region: Option<&'a str>,
}

impl ContainerPatch<'_> {
    fn apply(&self, container: &mut Container) {
        let has = |names: &[&str]| {
            container
                .env
                .iter()
                .flatten()
                .any(|env| names.contains(&env.name.as_str()))
        };
        let identity_set = has(&["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"]);
        let region_set = has(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
        let regional_sts_set = has(&["AWS_STS_REGIONAL_ENDPOINTS"]);
        if identity_set && region_set && regional_sts_set {
            return;
        }
        let env = container.env.get_or_insert_with(Vec::new);
        if !regional_sts_set && self.regional_sts {
            env.push(variable("AWS_STS_REGIONAL_ENDPOINTS", "regional"));
        }
        if let (false, Some(region)) = (region_set, self.region) {
            env.push(variable("AWS_DEFAULT_REGION", region));
            env.push(variable("AWS_REGION", region));
        }
        if !identity_set {
            env.push(variable("AWS_ROLE_ARN", self.role_arn));
            env.push(variable("AWS_WEB_IDENTITY_TOKEN_FILE", self.token_file));
        }
        let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
        if !mounts.iter().any(|mount| mount.name == TOKEN_VOLUME) {
            mounts.push(VolumeMount {
                name: TOKEN_VOLUME.to_owned(),
                mount_path: MOUNT_PATH.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        }
    }
}

fn variable(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    }
}

fn labels(map: &Option<BTreeMap<String, String>>) -> &BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    map.as_ref().unwrap_or(&EMPTY)
}

/// A token-expiration annotation as the webhook reads it: Go's
/// `strconv.ParseInt` (an optional sign, decimal digits, 64 bits), raised
/// to the minimum; `None` for a value the webhook ignores.
pub fn parse_expiration(value: &str) -> Option<i64> {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parsed: i64 = value.parse().ok()?;
    Some(parsed.max(MIN_TOKEN_EXPIRATION))
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The first record of `value` read as Go's `encoding/csv` reads it with
/// default settings: fields split at commas, double quotes around a field
/// allowed (with `""` for a quote), spaces kept. `None` where that reader
/// fails (no record, or a stray quote), in which case the webhook skips no
/// container.
pub fn parse_csv_record(value: &str) -> Option<Vec<String>> {
    // The reader skips empty lines before the first record.
    let line = value
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .find(|line| !line.is_empty())?;
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut field = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                let (index, c) = chars.next()?;
                if c != '"' {
                    field.push(c);
                    continue;
                }
                match quoted[index + 1..].chars().next() {
                    Some('"') => {
                        field.push('"');
                        chars.next();
                    }
                    Some(',') | None => break &quoted[index + 1..],
                    Some(_) => return None,
                }
            };
            fields.push(field);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None => return Some(fields),
            }
        } else {
            let (field, next) = match rest.split_once(',') {
                Some((field, next)) => (field, Some(next)),
                None => (rest, None),
            };
            if field.contains('"') {
                return None;
            }
            fields.push(field.to_owned());
            match next {
                Some(next) => rest = next,
                None => return Some(fields),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        serde_saphyr::from_str(yaml).expect("test pod parses")
    }

    fn service_account(annotations: &[(&str, &str)]) -> ServiceAccount {
        let mut sa = ServiceAccount::default();
        sa.metadata.name = Some("app".into());
        sa.metadata.annotations = Some(
            annotations
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        sa
    }

    fn env_of(pod: &Pod, container: usize) -> Vec<(String, String)> {
        pod.spec.as_ref().unwrap().containers[container]
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
            .collect()
    }

    fn projection(pod: &Pod) -> Option<ServiceAccountTokenProjection> {
        let volumes = pod.spec.as_ref()?.volumes.as_ref()?;
        let volume = volumes.iter().find(|v| v.name == TOKEN_VOLUME)?;
        volume.projected.as_ref()?.sources.as_ref()?[0]
            .service_account_token
            .clone()
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/app";
    const PLAIN: &str =
        "metadata: {name: p}\nspec:\n  serviceAccountName: app\n  containers: [{name: c}]\n";

    #[test]
    fn annotated_account_mutates_pod() {
        let mut pod = pod(PLAIN);
        let outcome = mutate(
            &mut pod,
            &service_account(&[(ROLE_ARN_ANNOTATION, ROLE)]),
            &WebhookConfig::eks("eu-west-1"),
        );
        assert_eq!(
            outcome,
            Outcome::Mutated {
                role_arn: ROLE.into(),
                audience: "sts.amazonaws.com".into(),
                token_expiration: 86_400
            }
        );
        let env = env_of(&pod, 0);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "AWS_DEFAULT_REGION",
                "AWS_REGION",
                "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE"
            ]
        );
        assert_eq!(env[3].1, TOKEN_FILE);
        let mount = &pod.spec.as_ref().unwrap().containers[0]
            .volume_mounts
            .as_ref()
            .unwrap()[0];
        assert_eq!(mount.mount_path, MOUNT_PATH);
        assert_eq!(mount.read_only, Some(true));
        let projection = projection(&pod).unwrap();
        assert_eq!(projection.audience.as_deref(), Some("sts.amazonaws.com"));
        assert_eq!(projection.expiration_seconds, Some(86_400));
        assert_eq!(projection.path, "token");
    }

    /// A row of the rules table: the case, the service account's
    /// annotations, the pod's YAML, the expected env of the first container
    /// as NAME=VALUE, and the expected lifetime of the token volume.
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a str,
        &'a [&'a str],
        Option<i64>,
    );

    #[test]
    fn rules_table() {
        let cases: &[Case] = &[
            ("no role annotation", &[], PLAIN, &[], None),
            (
                "empty role annotation",
                &[(ROLE_ARN_ANNOTATION, "")],
                PLAIN,
                &[],
                None,
            ),
            (
                "opt-out label",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p, labels: {eks.amazonaws.com/skip-pod-identity-webhook: \"true\"}}\nspec: {containers: [{name: c}]}\n",
                &[],
                None,
            ),
            (
                "opt-out label with any value",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p, labels: {eks.amazonaws.com/skip-pod-identity-webhook: \"false\"}}\nspec: {containers: [{name: c}]}\n",
                &[],
                None,
            ),
            (
                "own token file keeps both identity variables",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p}\nspec: {containers: [{name: c, env: [{name: AWS_WEB_IDENTITY_TOKEN_FILE, value: /mine}]}]}\n",
                &[
                    "AWS_WEB_IDENTITY_TOKEN_FILE=/mine",
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                ],
                Some(86_400),
            ),
            (
                "own region keeps both region variables",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p}\nspec: {containers: [{name: c, env: [{name: AWS_REGION, value: us-west-2}]}]}\n",
                &[
                    "AWS_REGION=us-west-2",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(86_400),
            ),
            (
                "regional sts on",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (REGIONAL_STS_ANNOTATION, "true"),
                ],
                PLAIN,
                &[
                    "AWS_STS_REGIONAL_ENDPOINTS=regional",
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(86_400),
            ),
            (
                "regional sts invalid is ignored",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (REGIONAL_STS_ANNOTATION, "yes"),
                ],
                PLAIN,
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(86_400),
            ),
            (
                "service account expiration",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (TOKEN_EXPIRATION_ANNOTATION, "7200"),
                ],
                PLAIN,
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(7200),
            ),
            (
                "pod expiration wins",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (TOKEN_EXPIRATION_ANNOTATION, "7200"),
                ],
                "metadata: {name: p, annotations: {eks.amazonaws.com/token-expiration: \"3600\"}}\nspec: {containers: [{name: c}]}\n",
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(3600),
            ),
            (
                "invalid pod expiration falls back to the account's",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (TOKEN_EXPIRATION_ANNOTATION, "7200"),
                ],
                "metadata: {name: p, annotations: {eks.amazonaws.com/token-expiration: \"1h\"}}\nspec: {containers: [{name: c}]}\n",
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(7200),
            ),
            (
                "short expiration raised to the minimum",
                &[
                    (ROLE_ARN_ANNOTATION, ROLE),
                    (TOKEN_EXPIRATION_ANNOTATION, "60"),
                ],
                PLAIN,
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(600),
            ),
            (
                "windows node gets the windows path",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p}\nspec: {nodeSelector: {kubernetes.io/os: windows}, containers: [{name: c}]}\n",
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={WINDOWS_TOKEN_FILE}"),
                ],
                Some(86_400),
            ),
            (
                "skipped container",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p, annotations: {eks.amazonaws.com/skip-containers: \"c,sidecar\"}}\nspec: {containers: [{name: c}]}\n",
                &[],
                Some(86_400),
            ),
            (
                "skip list with a stray quote skips none",
                &[(ROLE_ARN_ANNOTATION, ROLE)],
                "metadata: {name: p, annotations: {eks.amazonaws.com/skip-containers: \"c\\\"x\"}}\nspec: {containers: [{name: c}]}\n",
                &[
                    "AWS_DEFAULT_REGION=eu-west-1",
                    "AWS_REGION=eu-west-1",
                    &format!("AWS_ROLE_ARN={ROLE}"),
                    &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
                ],
                Some(86_400),
            ),
        ];
        for (case, annotations, yaml, expected_env, expected_lifetime) in cases {
            let mut pod = pod(yaml);
            mutate(
                &mut pod,
                &service_account(annotations),
                &WebhookConfig::eks("eu-west-1"),
            );
            let env: Vec<String> = env_of(&pod, 0)
                .into_iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            assert_eq!(&env, expected_env, "{case}: env");
            let lifetime = projection(&pod).and_then(|p| p.expiration_seconds);
            assert_eq!(lifetime, *expected_lifetime, "{case}: volume lifetime");
        }
    }

    #[test]
    fn container_with_everything_set_gets_no_mount() {
        let mut pod = pod(
            "metadata: {name: p}\nspec: {containers: [{name: c, env: [{name: AWS_ROLE_ARN, value: x}, {name: AWS_REGION, value: y}, {name: AWS_STS_REGIONAL_ENDPOINTS, value: legacy}]}]}\n",
        );
        mutate(
            &mut pod,
            &service_account(&[(ROLE_ARN_ANNOTATION, ROLE)]),
            &WebhookConfig::eks("eu-west-1"),
        );
        let container = &pod.spec.as_ref().unwrap().containers[0];
        assert!(container.volume_mounts.is_none());
        assert!(projection(&pod).is_some(), "the volume is still added");
    }

    #[test]
    fn init_containers_are_mutated_and_skippable() {
        let mut pod = pod(
            "metadata: {name: p, annotations: {eks.amazonaws.com/skip-containers: \"migrate\"}}\nspec:\n  initContainers: [{name: setup}, {name: migrate}]\n  containers: [{name: c}]\n",
        );
        mutate(
            &mut pod,
            &service_account(&[(ROLE_ARN_ANNOTATION, ROLE)]),
            &WebhookConfig::eks("eu-west-1"),
        );
        let init = pod.spec.as_ref().unwrap().init_containers.as_ref().unwrap();
        assert!(init[0].env.is_some(), "setup is mutated");
        assert!(init[1].env.is_none(), "migrate is skipped");
    }

    #[test]
    fn existing_volume_is_kept() {
        let mut pod = pod(
            "metadata: {name: p}\nspec:\n  volumes: [{name: data, emptyDir: {}}, {name: aws-iam-token, emptyDir: {}}]\n  containers: [{name: c}]\n",
        );
        mutate(
            &mut pod,
            &service_account(&[(ROLE_ARN_ANNOTATION, ROLE)]),
            &WebhookConfig::eks("eu-west-1"),
        );
        let volumes = pod.spec.as_ref().unwrap().volumes.as_ref().unwrap();
        assert_eq!(volumes.len(), 2);
        assert!(volumes[1].projected.is_none());
    }

    #[test]
    fn new_volume_goes_first() {
        let mut pod = pod(
            "metadata: {name: p}\nspec:\n  volumes: [{name: data, emptyDir: {}}]\n  containers: [{name: c}]\n",
        );
        mutate(
            &mut pod,
            &service_account(&[(ROLE_ARN_ANNOTATION, ROLE)]),
            &WebhookConfig::eks("eu-west-1"),
        );
        let volumes = pod.spec.as_ref().unwrap().volumes.as_ref().unwrap();
        assert_eq!(volumes[0].name, TOKEN_VOLUME);
        assert_eq!(volumes[1].name, "data");
    }

    #[test]
    fn expiration_parsing() {
        assert_eq!(parse_expiration("3600"), Some(3600));
        assert_eq!(parse_expiration("+3600"), Some(3600));
        assert_eq!(parse_expiration("-5"), Some(MIN_TOKEN_EXPIRATION));
        assert_eq!(parse_expiration(" 3600"), None);
        assert_eq!(parse_expiration("3600s"), None);
        assert_eq!(parse_expiration(""), None);
        assert_eq!(parse_expiration("99999999999999999999"), None);
    }

    #[test]
    fn csv_record_parsing() {
        assert_eq!(parse_csv_record("a,b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(
            parse_csv_record("a, b"),
            Some(vec!["a".into(), " b".into()])
        );
        assert_eq!(
            parse_csv_record("\"a,b\",c"),
            Some(vec!["a,b".into(), "c".into()])
        );
        assert_eq!(parse_csv_record("a\nb"), Some(vec!["a".into()]));
        assert_eq!(parse_csv_record(""), None);
        assert_eq!(parse_csv_record("a\"b"), None);
        assert_eq!(parse_csv_record("\"a\"b"), None);
    }
}
