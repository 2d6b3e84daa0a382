//! `GET /_harness/kube/pods/{namespace}/{name}?cluster=NAME`: a stored pod
//! as Kubernetes JSON, for `exec` and other tools that need a pod's
//! environment and volumes. The route is harness-only, off every AWS path.

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use super::http::select_cluster;
use crate::aws::Params;
use crate::server::{harness_error, json_response};
use crate::state::AppState;

/// Response header naming the cluster the pod was found in.
pub const CLUSTER_HEADER: &str = "x-oidc-sts-harness-cluster";
/// Response header with the path, on the harness port, where the instance
/// metadata of that cluster's node is served: `/` when the harness serves
/// one cluster, `/_harness/imds/CLUSTER/` when it serves several.
pub const IMDS_PATH_HEADER: &str = "x-oidc-sts-harness-imds-path";

/// Serves the pod `rest` names (`NAMESPACE/NAME`); `query` is the URL's
/// query string, which may name the cluster.
pub fn respond(state: &AppState, rest: &str, query: Option<&str>) -> Response {
    let Some((namespace, name)) = rest
        .split_once('/')
        .filter(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains('/'))
    else {
        return harness_error(
            StatusCode::BAD_REQUEST,
            &format!("invalid pod path {rest:?}: use /_harness/kube/pods/NAMESPACE/NAME"),
        );
    };
    let params = Params::decode(query.unwrap_or_default().as_bytes());
    let world = state.read();
    let cluster = match select_cluster(&world, params.get("cluster")) {
        Ok(cluster) => cluster,
        Err(error) => return harness_error(error.status, &error.message),
    };
    let Some(pod) = cluster.kube.pod(namespace, name) else {
        let pods: Vec<String> = cluster
            .kube
            .pods
            .keys()
            .map(|(ns, n)| format!("{ns}/{n}"))
            .collect();
        let known = if pods.is_empty() {
            "none".to_owned()
        } else {
            pods.join(", ")
        };
        return harness_error(
            StatusCode::NOT_FOUND,
            &format!(
                "pods {name:?} not found in namespace {namespace} of cluster {:?}; its pods: {known}",
                cluster.name
            ),
        );
    };
    let body = serde_json::to_string(pod).unwrap_or_default();
    let imds_path = if world.clusters().len() == 1 {
        "/".to_owned()
    } else {
        format!("/_harness/imds/{}/", cluster.name)
    };
    let mut response = json_response(StatusCode::OK, body);
    for (header, value) in [
        (CLUSTER_HEADER, &cluster.name),
        (IMDS_PATH_HEADER, &imds_path),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(header, value);
        }
    }
    response
}
