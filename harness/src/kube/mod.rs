//! Kubernetes objects of an emulated cluster: ServiceAccounts, Pods and
//! Deployments read from ordinary manifests into the typed structs of
//! `k8s-openapi`, and changed as `kubectl apply`, `delete` and
//! `rollout restart` change them.
//!
//! A pod passes the ServiceAccount admission check and the pod identity
//! webhook ([`webhook`]) when it is created, and only then; the stored pod
//! is the mutated one. Deployments own pods named as the ReplicaSet
//! controller names them. [`token`] mints the projected token a pod's
//! `aws-iam-token` volume holds.

pub mod client;
pub mod http;
pub mod pod_route;
mod store;
pub mod token;
pub mod webhook;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde_json::Value;

pub use store::{Admission, Applied, KubeError, KubeObjects, Reason, SavedKube, split_reference};

/// Namespace of objects whose manifest names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Service account of pods that name none; every namespace has it.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// Kinds the harness reads, with the apiVersion each must carry.
const KINDS: [(&str, &str); 3] = [
    ("ServiceAccount", "v1"),
    ("Pod", "v1"),
    ("Deployment", "apps/v1"),
];

/// One object of a manifest, typed, with the document it was read from
/// (the last-applied configuration `kubectl apply` compares against).
#[derive(Debug, Clone)]
pub struct Manifest {
    pub object: Object,
    pub document: Value,
}

/// A typed object.
#[derive(Debug, Clone)]
pub enum Object {
    ServiceAccount(Box<ServiceAccount>),
    Pod(Box<Pod>),
    Deployment(Box<Deployment>),
}

/// The kinds a command can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ServiceAccount,
    Pod,
    Deployment,
}

impl Kind {
    /// Reads a kind as kubectl accepts it on the command line: singular,
    /// plural, short name or `deployment.apps`.
    pub fn parse(text: &str) -> Option<Kind> {
        match text.to_ascii_lowercase().as_str() {
            "serviceaccount" | "serviceaccounts" | "sa" => Some(Kind::ServiceAccount),
            "pod" | "pods" | "po" => Some(Kind::Pod),
            "deployment" | "deployments" | "deploy" | "deployment.apps" | "deployments.apps" => {
                Some(Kind::Deployment)
            }
            _ => None,
        }
    }

    /// The resource name kubectl prints in `KIND/NAME` lines.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "serviceaccount",
            Kind::Pod => "pod",
            Kind::Deployment => "deployment.apps",
        }
    }

    /// The plural resource name of API server messages.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::ServiceAccount => "serviceaccounts",
            Kind::Pod => "pods",
            Kind::Deployment => "deployments.apps",
        }
    }
}

impl Manifest {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self.object {
            Object::ServiceAccount(_) => Kind::ServiceAccount,
            Object::Pod(_) => Kind::Pod,
            Object::Deployment(_) => Kind::Deployment,
        }
    }

    /// The object's namespace and name.
    pub fn key(&self) -> (String, String) {
        let metadata = match &self.object {
            Object::ServiceAccount(sa) => &sa.metadata,
            Object::Pod(pod) => &pod.metadata,
            Object::Deployment(deployment) => &deployment.metadata,
        };
        (
            metadata
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            metadata.name.clone().unwrap_or_default(),
        )
    }
}

/// Why a manifest cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("manifest {index}{kind}: {reason}")]
pub struct ManifestError {
    /// 1-based position of the document.
    pub index: usize,
    /// ` (Kind name)` when known, for the message.
    pub kind: String,
    pub reason: String,
}

/// Runs `act` on the objects of the world's cluster `cluster`, with the
/// admission context of `now`; `None` when the world has no such cluster.
pub fn with_cluster<R>(
    world: &mut crate::world::World,
    cluster: &str,
    now: time::OffsetDateTime,
    act: impl FnOnce(&mut KubeObjects, &Admission) -> R,
) -> Option<R> {
    let seed = world.seed();
    let cluster = world.cluster_mut(cluster)?;
    let issuer_url = cluster.issuer.url().to_owned();
    let region = cluster.region.clone();
    let admission = Admission {
        seed,
        issuer_url: &issuer_url,
        region: &region,
        now,
    };
    Some(act(&mut cluster.kube, &admission))
}

/// Reads manifests given as multi-document YAML text.
pub fn parse_yaml(text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let documents: Vec<Value> =
        serde_saphyr::from_str_multiple(text).map_err(|error| ManifestError {
            index: 0,
            kind: String::new(),
            reason: format!("invalid YAML: {error}"),
        })?;
    parse_documents(documents)
}

/// Reads manifests given as parsed documents; empty documents (a trailing
/// `---`) are skipped. A `kind: List` document is read item by item, as
/// kubectl reads it.
pub fn parse_documents(documents: Vec<Value>) -> Result<Vec<Manifest>, ManifestError> {
    let mut manifests = Vec::new();
    for (position, document) in documents.into_iter().enumerate() {
        if document.is_null() {
            continue;
        }
        if document.get("kind").and_then(Value::as_str) == Some("List") {
            let items = document
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in items {
                manifests.push(parse_document(position + 1, item)?);
            }
            continue;
        }
        manifests.push(parse_document(position + 1, document)?);
    }
    Ok(manifests)
}

fn parse_document(index: usize, document: Value) -> Result<Manifest, ManifestError> {
    let fail = |kind: String, reason: String| ManifestError {
        index,
        kind,
        reason,
    };
    let kind = document
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let api_version = document
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some((_, expected_version)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        let supported: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        return Err(fail(
            String::new(),
            format!(
                "unsupported kind {kind:?}; the harness reads {}",
                supported.join(", ")
            ),
        ));
    };
    let name = document
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| fail(format!(" ({kind})"), "metadata.name is missing".into()))?;
    let label = format!(" ({kind} {name})");
    if api_version != *expected_version {
        return Err(fail(
            label,
            format!("apiVersion is {api_version:?}; a {kind} is apiVersion {expected_version}"),
        ));
    }
    let object = match kind.as_str() {
        "ServiceAccount" => Object::ServiceAccount(Box::new(
            typed(document.clone()).map_err(|reason| fail(label.clone(), reason))?,
        )),
        "Pod" => {
            let pod: Pod = typed(document.clone()).map_err(|reason| fail(label.clone(), reason))?;
            if pod.spec.is_none() {
                return Err(fail(
                    label,
                    "spec is missing; a Pod needs spec.containers".into(),
                ));
            }
            Object::Pod(Box::new(pod))
        }
        _ => {
            let deployment: Deployment =
                typed(document.clone()).map_err(|reason| fail(label.clone(), reason))?;
            if deployment.spec.is_none() {
                return Err(fail(
                    label,
                    "spec is missing; a Deployment needs spec.selector and spec.template".into(),
                ));
            }
            Object::Deployment(Box::new(deployment))
        }
    };
    Ok(Manifest { object, document })
}

/// Deserializes into a typed object, naming the field path of a failure.
fn typed<T: serde::de::DeserializeOwned>(document: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(document).map_err(|error| {
        let path = error.path().to_string();
        format!("{path}: {}", error.inner())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_three_kinds() {
        let manifests = parse_yaml(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: app-0, namespace: shop}\nspec:\n  serviceAccountName: app\n  containers: [{name: c, image: example/app:1}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c}]}\n---\n",
        )
        .unwrap();
        let kinds: Vec<Kind> = manifests.iter().map(Manifest::kind).collect();
        assert_eq!(kinds, [Kind::ServiceAccount, Kind::Pod, Kind::Deployment]);
        assert_eq!(manifests[2].key(), ("default".into(), "web".into()));
    }

    #[test]
    fn unsupported_kind_is_named() {
        let error = parse_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n").unwrap_err();
        assert!(
            error.reason.contains("unsupported kind \"Secret\""),
            "{error}"
        );
    }

    #[test]
    fn deployment_api_version_is_checked() {
        let error = parse_yaml(
            "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n",
        )
        .unwrap_err();
        assert!(
            error.reason.contains("a Deployment is apiVersion apps/v1"),
            "{error}"
        );
    }

    #[test]
    fn deployment_field_error_names_the_path() {
        let error = parse_yaml(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: two\n  selector: {matchLabels: {app: web}}\n  template: {spec: {containers: [{name: c}]}}\n",
        )
        .unwrap_err();
        assert!(error.reason.starts_with("spec.replicas"), "{error}");
        assert_eq!(error.kind, " (Deployment web)");
    }

    #[test]
    fn wrong_field_type_names_the_path() {
        let error = parse_yaml(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, ports: [{containerPort: eighty}]}]\n",
        )
        .unwrap_err();
        assert!(
            error
                .reason
                .starts_with("spec.containers[0].ports[0].containerPort"),
            "{error}"
        );
    }

    #[test]
    fn kinds_parse_as_kubectl_names() {
        assert_eq!(Kind::parse("sa"), Some(Kind::ServiceAccount));
        assert_eq!(Kind::parse("Pods"), Some(Kind::Pod));
        assert_eq!(Kind::parse("deploy"), Some(Kind::Deployment));
        assert_eq!(Kind::parse("deployment.apps"), Some(Kind::Deployment));
        assert_eq!(Kind::parse("secret"), None);
    }
}
