//! The client side of `kube apply`, `kube delete`, `kube rollout-restart`
//! and `pod show`: requests to a running harness's `/_harness/kube/` routes,
//! and kubectl's output lines from the answers.

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::http::PREFIX;
use super::store::split_reference;

/// What a command prints, and whether every change went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    /// False when the harness rejected a change.
    pub ok: bool,
}

/// What `kube delete` names.
#[derive(Debug, Clone)]
pub enum DeleteTarget {
    /// Manifests whose objects to delete.
    Manifests(String),
    /// `KIND NS/NAME`.
    Object { kind: String, reference: String },
}

fn url(endpoint: &str, route: &str, query: &[(&str, &str)], cluster: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = query.to_vec();
    if let Some(cluster) = cluster {
        pairs.push(("cluster", cluster));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let base = endpoint.trim_end_matches('/');
    if query.is_empty() {
        format!("{base}{PREFIX}{route}")
    } else {
        format!("{base}{PREFIX}{route}?{query}")
    }
}

async fn send(request: reqwest::RequestBuilder, url: &str) -> Result<(u16, Value), String> {
    let response = request.send().await.map_err(|error| {
        format!(
            "cannot reach the harness at {url}: {error}; is `oidc-sts-harness serve` running there?"
        )
    })?;
    let status = response.status().as_u16();
    let body: Value = response
        .json()
        .await
        .map_err(|error| format!("{url} did not answer with JSON: {error}"))?;
    Ok((status, body))
}

/// Turns a change's answer into kubectl's lines.
fn change_output(status: u16, body: &Value) -> Result<Output, String> {
    let texts = |name: &str| -> Vec<String> {
        body[name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    if body.get("lines").is_none() {
        let message = body["message"].as_str().unwrap_or("no message");
        return Err(format!(
            "the harness rejected the request ({status}): {message}"
        ));
    }
    let mut output = Output {
        stdout: texts("lines"),
        ok: true,
        ..Output::default()
    };
    for warning in texts("warnings") {
        output.stderr.push(format!("Warning: {warning}"));
    }
    for error in body["errors"].as_array().into_iter().flatten() {
        output.ok = false;
        output.stderr.push(format!(
            "Error from server ({}): {}",
            error["reason"].as_str().unwrap_or("Unknown"),
            error["message"].as_str().unwrap_or_default()
        ));
    }
    Ok(output)
}

/// `kube apply -f FILE`: sends the manifests.
pub async fn apply(endpoint: &str, cluster: Option<&str>, yaml: String) -> Result<Output, String> {
    let url = url(endpoint, "apply", &[], cluster);
    let request = reqwest::Client::new().post(&url).body(yaml);
    let (status, body) = send(request, &url).await?;
    change_output(status, &body)
}

/// `kube delete`: deletes the objects of manifests or one named object.
pub async fn delete(
    endpoint: &str,
    cluster: Option<&str>,
    target: DeleteTarget,
) -> Result<Output, String> {
    let client = reqwest::Client::new();
    let (url, request) = match target {
        DeleteTarget::Manifests(yaml) => {
            let url = url(endpoint, "delete", &[], cluster);
            let request = client.post(&url).body(yaml);
            (url, request)
        }
        DeleteTarget::Object { kind, reference } => {
            let (namespace, name) = split_reference(&reference)?;
            let query = [
                ("kind", kind.as_str()),
                ("namespace", namespace.as_str()),
                ("name", name.as_str()),
            ];
            let url = url(endpoint, "delete", &query, cluster);
            let request = client.post(&url);
            (url, request)
        }
    };
    let (status, body) = send(request, &url).await?;
    change_output(status, &body)
}

/// `kube rollout-restart NS/NAME`.
pub async fn rollout_restart(
    endpoint: &str,
    cluster: Option<&str>,
    reference: &str,
) -> Result<Output, String> {
    let (namespace, name) = split_reference(reference)?;
    let query = [("namespace", namespace.as_str()), ("name", name.as_str())];
    let url = url(endpoint, "rollout-restart", &query, cluster);
    let request = reqwest::Client::new().post(&url);
    let (status, body) = send(request, &url).await?;
    change_output(status, &body)
}

/// `pod show NS/NAME`: the stored pod as YAML.
pub async fn pod_show(
    endpoint: &str,
    cluster: Option<&str>,
    reference: &str,
) -> Result<String, String> {
    let (namespace, name) = split_reference(reference)?;
    let url = url(endpoint, &format!("pods/{namespace}/{name}"), &[], cluster);
    let request = reqwest::Client::new().get(&url);
    let (status, body) = send(request, &url).await?;
    if status != 200 {
        let message = body["message"].as_str().unwrap_or("no message");
        return Err(format!(
            "the harness rejected the request ({status}): {message}"
        ));
    }
    let pod: Pod = serde_json::from_value(body)
        .map_err(|error| format!("{url} did not answer with a Pod: {error}"))?;
    pod_yaml(&pod)
}

/// A pod as YAML, with the apiVersion and kind kubectl prints.
pub fn pod_yaml(pod: &Pod) -> Result<String, String> {
    let mut value = serde_json::to_value(pod).map_err(|error| error.to_string())?;
    if let Some(object) = value.as_object_mut() {
        // k8s-openapi writes apiVersion and kind itself; make sure they lead.
        let mut ordered = serde_json::Map::new();
        ordered.insert("apiVersion".into(), Value::from("v1"));
        ordered.insert("kind".into(), Value::from("Pod"));
        for (key, member) in std::mem::take(object) {
            ordered.entry(key).or_insert(member);
        }
        value = Value::Object(ordered);
    }
    serde_saphyr::to_string(&value)
        .map_err(|error| format!("cannot write the pod as YAML: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{Admission, KubeObjects, parse_yaml};

    #[test]
    fn mutated_pod_yaml() {
        let manifests = parse_yaml(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/app\n    eks.amazonaws.com/sts-regional-endpoints: \"true\"\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app-0\n  namespace: shop\n  labels: {app: web}\nspec:\n  serviceAccountName: app\n  initContainers:\n    - name: migrate\n      image: example/migrate:2\n  containers:\n    - name: app\n      image: example/app:1\n      env:\n        - name: LOG_LEVEL\n          value: debug\n  volumes:\n    - name: cache\n      emptyDir: {}\n",
        )
        .unwrap();
        let admission = Admission {
            seed: 1,
            issuer_url: "https://oidc.eks.eu-west-1.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E",
            region: "eu-west-1",
            now: time::OffsetDateTime::from_unix_timestamp(1_780_315_200).unwrap(),
        };
        let mut objects = KubeObjects::default();
        for manifest in &manifests {
            objects.apply(&admission, manifest).unwrap();
        }
        let yaml = pod_yaml(objects.pod("shop", "app-0").unwrap()).unwrap();
        insta::assert_snapshot!(yaml);
    }
}
