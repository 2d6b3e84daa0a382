//! EKS DescribeCluster (`GET /clusters/{name}`, REST-JSON), enough for
//! `aws eks describe-cluster` to print a cluster's OIDC issuer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::world::{CLUSTER_VERSION, Cluster};

/// The DescribeCluster body for `cluster`.
pub fn describe(cluster: &Cluster, partition: &str) -> serde_json::Value {
    let created = cluster.created_at.unix_timestamp_nanos() as f64 / 1e9;
    json!({
        "cluster": {
            "name": cluster.name,
            "arn": format!("arn:{partition}:eks:{}:{}:cluster/{}", cluster.region, cluster.account, cluster.name),
            "createdAt": created,
            "version": CLUSTER_VERSION,
            "endpoint": format!("https://{}.gr7.{}.eks.amazonaws.com", cluster.id, cluster.region),
            "roleArn": format!("arn:{partition}:iam::{}:role/{}-cluster-role", cluster.account, cluster.name),
            "resourcesVpcConfig": {
                "subnetIds": [],
                "securityGroupIds": [],
                "endpointPublicAccess": true,
                "endpointPrivateAccess": false,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            "identity": {"oidc": {"issuer": cluster.issuer.url()}},
            "status": "ACTIVE",
            "platformVersion": "eks.1",
            "tags": {},
        }
    })
}

/// The 404 EKS sends for an unknown cluster name.
pub fn not_found(name: &str, request_id: &str) -> Response {
    let body = json!({"message": format!("No cluster found for name: {name}.")});
    let mut response = (StatusCode::NOT_FOUND, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amzn-errortype",
        HeaderValue::from_static("ResourceNotFoundException"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}
