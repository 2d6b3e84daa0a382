//! Running the Kubernetes parts of a scenario: the world's manifests, the
//! `kube_apply`, `kube_delete`, `rollout_restart` and `pod_show` steps, and
//! tokens taken from a pod's volume.

use k8s_openapi::api::core::v1::{Container, Pod};
use time::OffsetDateTime;

use super::model::PodShow;
use super::run::Actual;
use crate::kube::token::{current_token, token_projection};
use crate::kube::webhook::TOKEN_VOLUME;
use crate::kube::{Admission, Applied, KubeError, KubeObjects, Manifest};
use crate::state::AppState;
use crate::world::World;

/// Applies each cluster's world manifests in order, as `kubectl apply -f`
/// would when the cluster is new.
pub(super) fn apply_world_manifests(
    world: &mut World,
    manifests: &[(String, Vec<Manifest>)],
    now: OffsetDateTime,
) -> Result<(), String> {
    for (cluster, list) in manifests {
        let results = with_objects(world, cluster, now, |objects, admission| {
            list.iter().map(|m| objects.apply(admission, m)).collect()
        })?;
        for result in results {
            if let Err(error) = result {
                return Err(format!(
                    "the manifests of cluster {cluster:?} do not apply: {}",
                    error.kubectl_line()
                ));
            }
        }
    }
    Ok(())
}

/// Runs `act` on a cluster's objects with the admission context of `now`.
fn with_objects(
    world: &mut World,
    cluster: &str,
    now: OffsetDateTime,
    act: impl FnOnce(&mut KubeObjects, &Admission) -> Vec<Result<Applied, KubeError>>,
) -> Result<Vec<Result<Applied, KubeError>>, String> {
    crate::kube::with_cluster(world, cluster, now, act)
        .ok_or_else(|| format!("cluster {cluster:?} is not in the world"))
}

/// Runs one change of a Kubernetes step on a cluster of the running world.
pub(super) fn change(
    state: &AppState,
    cluster: &str,
    act: impl FnOnce(&mut KubeObjects, &Admission) -> Vec<Result<Applied, KubeError>>,
) -> Actual {
    let now = state.now();
    match with_objects(&mut state.write(), cluster, now, act) {
        Ok(results) => outcome(results),
        Err(message) => Actual::Error {
            code: "InvalidWorld".into(),
            status: 0,
            message,
        },
    }
}

/// kubectl's lines, or the first error as the API server's Status.
fn outcome(results: Vec<Result<Applied, KubeError>>) -> Actual {
    let mut lines = Vec::new();
    for result in results {
        match result {
            Ok(applied) => {
                lines.push(applied.line);
                lines.extend(
                    applied
                        .warnings
                        .into_iter()
                        .map(|w| format!("Warning: {w}")),
                );
            }
            Err(error) => {
                return Actual::Error {
                    code: error.reason.name().to_owned(),
                    status: error.reason.status(),
                    message: error.message,
                };
            }
        }
    }
    Actual::Changed {
        what: lines.join("; "),
    }
}

/// Checks a stored pod: the outcome and the mismatches of the checks.
pub(super) fn pod_show(state: &AppState, show: &PodShow) -> (Actual, Vec<String>) {
    let world = state.read();
    let objects = world
        .clusters()
        .iter()
        .find(|c| c.name == show.cluster)
        .map(|c| &c.kube);
    let pod = objects
        .and_then(|o| o.pod(&show.namespace, &show.name))
        .cloned();
    let Some(pod) = pod else {
        let names: Vec<&str> = objects
            .into_iter()
            .flat_map(|o| o.pods.keys())
            .filter(|(namespace, _)| *namespace == show.namespace)
            .map(|(_, name)| name.as_str())
            .collect();
        let actual = Actual::Error {
            code: "NotFound".into(),
            status: 404,
            message: format!(
                "pods {:?} not found; pods in namespace {}: {}",
                show.name,
                show.namespace,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        };
        return (actual, Vec::new());
    };
    drop(world);
    let mismatches = check_pod(&pod, show);
    let what = format!(
        "pod {}/{} {} the {TOKEN_VOLUME} volume",
        show.namespace,
        show.name,
        if token_projection(&pod).is_some() {
            "has"
        } else {
            "lacks"
        }
    );
    (Actual::Changed { what }, mismatches)
}

/// Compares the stored pod with the step's checks.
fn check_pod(pod: &Pod, show: &PodShow) -> Vec<String> {
    let mut mismatches = Vec::new();
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let container: Option<&Container> = match &show.container {
        Some(name) => containers.iter().find(|c| c.name == *name),
        None => containers.first(),
    };
    let label = show.container.as_deref().unwrap_or("the first container");
    let needs_container =
        !show.env.is_empty() || !show.env_absent.is_empty() || show.token_mounted.is_some();
    match container {
        None if needs_container => {
            mismatches.push(format!("pod has no container {label}"));
        }
        None => {}
        Some(container) => {
            let value_of = |name: &str| {
                container
                    .env
                    .iter()
                    .flatten()
                    .find(|e| e.name == name)
                    .map(|e| e.value.clone().unwrap_or_default())
            };
            for (name, want) in &show.env {
                match value_of(name) {
                    Some(got) if got == *want => {}
                    Some(got) => mismatches.push(format!(
                        "env {name} of container {}: expected {want:?}, got {got:?}",
                        container.name
                    )),
                    None => mismatches.push(format!(
                        "env {name} of container {}: expected {want:?}, but it is not set",
                        container.name
                    )),
                }
            }
            for name in &show.env_absent {
                if let Some(got) = value_of(name) {
                    mismatches.push(format!(
                        "env {name} of container {}: expected it unset, got {got:?}",
                        container.name
                    ));
                }
            }
            if let Some(want) = show.token_mounted {
                let mounted = container
                    .volume_mounts
                    .iter()
                    .flatten()
                    .any(|m| m.name == TOKEN_VOLUME);
                if mounted != want {
                    mismatches.push(format!(
                        "container {} {} the {TOKEN_VOLUME} volume, expected it {}",
                        container.name,
                        if mounted { "mounts" } else { "does not mount" },
                        if want { "mounted" } else { "not mounted" }
                    ));
                }
            }
        }
    }
    let projection = token_projection(pod);
    if let Some(want) = show.token_volume
        && projection.is_some() != want
    {
        mismatches.push(format!(
            "pod {} the {TOKEN_VOLUME} volume, expected it {}",
            if want { "lacks" } else { "has" },
            if want { "present" } else { "absent" }
        ));
    }
    if let Some(want) = &show.token_audience {
        let got = projection.and_then(|p| p.audience.clone());
        if got.as_deref() != Some(want.as_str()) {
            mismatches.push(format!(
                "token audience: expected {want}, got {}",
                got.as_deref().unwrap_or("(no volume)")
            ));
        }
    }
    if let Some(want) = show.token_expiration {
        let got = projection.and_then(|p| p.expiration_seconds);
        if got != Some(want) {
            mismatches.push(format!(
                "token expirationSeconds: expected {want}, got {}",
                got.map_or_else(|| "(no volume)".to_owned(), |g| g.to_string())
            ));
        }
    }
    mismatches
}

/// The current token of a stored pod's `aws-iam-token` volume.
pub(super) fn pod_token(
    state: &AppState,
    cluster: &str,
    namespace: &str,
    name: &str,
) -> Result<String, String> {
    let world = state.read();
    let cluster = world
        .clusters()
        .iter()
        .find(|c| c.name == cluster)
        .ok_or_else(|| format!("cluster {cluster:?} is not in the world"))?;
    current_token(
        &cluster.kube,
        &cluster.issuer,
        world.seed(),
        namespace,
        name,
        state.now(),
    )
    .map(|token| token.token)
    .map_err(|error| error.to_string())
}
