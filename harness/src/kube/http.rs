//! The harness routes that change a running world's Kubernetes objects as
//! kubectl would, under `/_harness/kube/`:
//!
//! - `POST apply?cluster=NAME` with multi-document YAML;
//! - `POST delete?cluster=NAME` with YAML, or with `kind`, `namespace` and
//!   `name` in the query;
//! - `POST rollout-restart?cluster=NAME&namespace=NS&name=NAME`;
//! - `GET pods/NAMESPACE/NAME?cluster=NAME`, the stored pod as JSON, is
//!   served by [`super::pod_route`].
//!
//! Each change answers `{"lines": [...], "warnings": [...], "errors": [...]}`
//! with kubectl's lines; the status is 200 when every object changed, else
//! the API server's status of the first error. `cluster` may be left out
//! when the world has one cluster. [`select_cluster`] sets the status when
//! it is unknown or missing.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::store::{Admission, Applied, KubeError};
use super::{Kind, Manifest, parse_yaml};
use crate::server::{MAX_BODY_BYTES, harness_error, json_response};
use crate::state::AppState;
use crate::world::{Cluster, World};

/// Path prefix of these routes.
pub const PREFIX: &str = "/_harness/kube/";

/// Serves a request under [`PREFIX`].
pub async fn handle(state: Arc<AppState>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path()[PREFIX.len()..].to_owned();
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(body) => String::from_utf8_lossy(&body).into_owned(),
        Err(error) => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {error}"),
            );
        }
    };
    let cluster = query.get("cluster").map(String::as_str);
    match (method, path.as_str()) {
        (Method::POST, "apply") => match parse_yaml(&body) {
            Ok(manifests) => change(&state, cluster, |objects, admission| {
                manifests
                    .iter()
                    .map(|m| objects.apply(admission, m))
                    .collect()
            }),
            Err(error) => invalid_manifest(&error.to_string()),
        },
        (Method::POST, "delete") => delete(&state, cluster, &query, &body),
        (Method::POST, "rollout-restart") => {
            let (Some(namespace), Some(name)) = (query.get("namespace"), query.get("name")) else {
                return harness_error(
                    StatusCode::BAD_REQUEST,
                    "rollout-restart needs namespace and name in the query",
                );
            };
            change(&state, cluster, |objects, admission| {
                vec![objects.rollout_restart(admission, namespace, name)]
            })
        }
        (_, p) => harness_error(
            StatusCode::NOT_FOUND,
            &format!(
                "no route for {PREFIX}{p}: use POST apply, POST delete, POST rollout-restart or GET pods/NAMESPACE/NAME"
            ),
        ),
    }
}

fn delete(
    state: &AppState,
    cluster: Option<&str>,
    query: &HashMap<String, String>,
    body: &str,
) -> Response {
    if let (Some(kind), Some(name)) = (query.get("kind"), query.get("name")) {
        let Some(kind) = Kind::parse(kind) else {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "unknown kind {kind:?}; the harness deletes serviceaccount, pod and deployment"
                ),
            );
        };
        let namespace = query
            .get("namespace")
            .map_or(super::DEFAULT_NAMESPACE, String::as_str);
        return change(state, cluster, |objects, admission| {
            vec![objects.delete(admission, kind, namespace, name)]
        });
    }
    match parse_yaml(body) {
        Ok(manifests) if !manifests.is_empty() => change(state, cluster, |objects, admission| {
            manifests
                .iter()
                .map(|m: &Manifest| {
                    let (namespace, name) = m.key();
                    objects.delete(admission, m.kind(), &namespace, &name)
                })
                .collect()
        }),
        Ok(_) => harness_error(
            StatusCode::BAD_REQUEST,
            "delete needs manifests in the body, or kind, namespace and name in the query",
        ),
        Err(error) => invalid_manifest(&error.to_string()),
    }
}

fn invalid_manifest(message: &str) -> Response {
    harness_error(
        StatusCode::BAD_REQUEST,
        &format!(
            "error: {message}; the harness reads ServiceAccount and Pod (v1) and Deployment (apps/v1) manifests"
        ),
    )
}

/// A failure to select the cluster of a request under [`PREFIX`], with
/// the status and message of the reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClusterNotSelected {
    pub status: StatusCode,
    pub message: String,
}

/// Picks the cluster a request names, or the only one. A named cluster
/// that does not exist, or a world without clusters, is 404 Not Found.
/// Several clusters and none named is 400 Bad Request, because the request
/// lacks the `cluster` that this world requires.
pub fn select_cluster<'w>(
    world: &'w World,
    requested: Option<&str>,
) -> Result<&'w Cluster, ClusterNotSelected> {
    let clusters = world.clusters();
    if let Some(name) = requested {
        return clusters
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ClusterNotSelected {
                status: StatusCode::NOT_FOUND,
                message: format!(
                    "cluster {name:?} not found; the harness serves: {}",
                    listing(clusters)
                ),
            });
    }
    match clusters {
        [only] => Ok(only),
        [] => Err(ClusterNotSelected {
            status: StatusCode::NOT_FOUND,
            message: format!("the harness serves {}", listing(clusters)),
        }),
        _ => Err(ClusterNotSelected {
            status: StatusCode::BAD_REQUEST,
            message: format!(
                "name a cluster with --cluster or ?cluster=NAME; the harness serves: {}",
                listing(clusters)
            ),
        }),
    }
}

fn listing(clusters: &[Cluster]) -> String {
    if clusters.is_empty() {
        "no clusters (start serve with --cluster NAME)".to_owned()
    } else {
        let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
        names.join(", ")
    }
}

/// Runs `act` on the chosen cluster's objects under the world's write lock
/// and renders the outcome.
fn change(
    state: &AppState,
    cluster: Option<&str>,
    act: impl FnOnce(&mut super::KubeObjects, &Admission) -> Vec<Result<Applied, KubeError>>,
) -> Response {
    let now = state.now();
    let mut world = state.write();
    let name = match select_cluster(&world, cluster) {
        Ok(selected) => selected.name.clone(),
        Err(error) => return harness_error(error.status, &error.message),
    };
    let Some(results) = super::with_cluster(&mut world, &name, now, act) else {
        return harness_error(
            StatusCode::NOT_FOUND,
            &format!("cluster {name:?} not found"),
        );
    };
    drop(world);
    if results.iter().any(Result::is_ok)
        && let Err(error) = state.save_state()
    {
        // The change is made but not saved: say so rather than claim it
        // will survive a restart.
        return harness_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the change is made but the state file cannot be written: {error}"),
        );
    }
    render(results)
}

/// The JSON of a change's results.
fn render(results: Vec<Result<Applied, KubeError>>) -> Response {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut status = StatusCode::OK;
    for result in results {
        match result {
            Ok(applied) => {
                lines.push(applied.line);
                warnings.extend(applied.warnings);
            }
            Err(error) => {
                if status == StatusCode::OK {
                    status = StatusCode::from_u16(error.reason.status())
                        .unwrap_or(StatusCode::BAD_REQUEST);
                }
                errors.push(json!({
                    "reason": error.reason.name(),
                    "status": error.reason.status(),
                    "message": error.message,
                }));
            }
        }
    }
    let first_message = errors.first().map(|error| error["message"].clone());
    let mut body = json!({"lines": lines, "warnings": warnings, "errors": errors});
    if let Some(message) = first_message {
        body["message"] = message;
    }
    json_response(status, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{ClusterSpec, DEFAULT_ACCOUNT};

    fn world_of(names: &[&str]) -> World {
        let mut world = World::new(1, DEFAULT_ACCOUNT);
        for name in names {
            let spec = ClusterSpec::parse(name).unwrap();
            world
                .add_cluster(&spec, time::OffsetDateTime::UNIX_EPOCH)
                .unwrap();
        }
        world
    }

    #[test]
    fn select_cluster_by_name_or_the_only_one() {
        let one = world_of(&["demo"]);
        assert_eq!(select_cluster(&one, None).unwrap().name, "demo");
        let two = world_of(&["blue", "green"]);
        assert_eq!(select_cluster(&two, Some("green")).unwrap().name, "green");
    }

    #[test]
    fn select_cluster_errors_carry_statuses() {
        let two = world_of(&["blue", "green"]);
        let unknown = select_cluster(&two, Some("nope")).unwrap_err();
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(
            unknown.message,
            "cluster \"nope\" not found; the harness serves: blue, green"
        );
        let unnamed = select_cluster(&two, None).unwrap_err();
        assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            unnamed.message,
            "name a cluster with --cluster or ?cluster=NAME; the harness serves: blue, green"
        );
        let none = world_of(&[]);
        let empty = select_cluster(&none, None).unwrap_err();
        assert_eq!(empty.status, StatusCode::NOT_FOUND);
        assert_eq!(
            empty.message,
            "the harness serves no clusters (start serve with --cluster NAME)"
        );
        let named = select_cluster(&none, Some("demo")).unwrap_err();
        assert_eq!(named.status, StatusCode::NOT_FOUND);
    }
}
