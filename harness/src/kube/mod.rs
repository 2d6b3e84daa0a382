//! Kubernetes objects of an emulated cluster: ServiceAccounts and Pods read
//! from ordinary manifests into the typed structs of `k8s-openapi`.
//!
//! Tokens minted for a service account or pod that a manifest defines carry
//! that object's uid, as a kube-apiserver's tokens do.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde_json::Value;

pub mod pod_route;

/// Namespace of objects whose manifest names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Kinds the harness reads, with the apiVersion each must carry.
const KINDS: [(&str, &str); 2] = [("ServiceAccount", "v1"), ("Pod", "v1")];

/// The objects of one cluster, by namespace and name.
#[derive(Debug, Clone, Default)]
pub struct KubeObjects {
    pub service_accounts: BTreeMap<(String, String), ServiceAccount>,
    pub pods: BTreeMap<(String, String), Pod>,
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

impl KubeObjects {
    /// Reads manifests given as multi-document YAML text.
    pub fn from_yaml(text: &str) -> Result<KubeObjects, ManifestError> {
        let documents: Vec<Value> =
            serde_saphyr::from_str_multiple(text).map_err(|error| ManifestError {
                index: 0,
                kind: String::new(),
                reason: format!("invalid YAML: {error}"),
            })?;
        Self::from_documents(documents)
    }

    /// Reads manifests given as parsed documents; empty documents (a
    /// trailing `---`) are skipped.
    pub fn from_documents(documents: Vec<Value>) -> Result<KubeObjects, ManifestError> {
        let mut objects = KubeObjects::default();
        for (position, document) in documents.into_iter().enumerate() {
            if document.is_null() {
                continue;
            }
            objects.add(position + 1, document)?;
        }
        Ok(objects)
    }

    fn add(&mut self, index: usize, document: Value) -> Result<(), ManifestError> {
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
                    supported.join(" and ")
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
        let namespace = document
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_NAMESPACE)
            .to_owned();
        let key = (namespace.clone(), name.clone());
        match kind.as_str() {
            "ServiceAccount" => {
                let object: ServiceAccount =
                    typed(document).map_err(|reason| fail(label.clone(), reason))?;
                if self.service_accounts.insert(key, object).is_some() {
                    return Err(fail(
                        label,
                        format!("ServiceAccount {namespace}/{name} is defined twice"),
                    ));
                }
            }
            _ => {
                let object: Pod = typed(document).map_err(|reason| fail(label.clone(), reason))?;
                if object.spec.is_none() {
                    return Err(fail(
                        label,
                        "spec is missing; a Pod needs spec.containers".into(),
                    ));
                }
                if self.pods.insert(key, object).is_some() {
                    return Err(fail(
                        label,
                        format!("Pod {namespace}/{name} is defined twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The uid a manifest gives a service account.
    pub fn service_account_uid(&self, namespace: &str, name: &str) -> Option<&str> {
        let object = self
            .service_accounts
            .get(&(namespace.to_owned(), name.to_owned()))?;
        object.metadata.uid.as_deref()
    }

    /// Sets the uids of the request's service account and pod from their
    /// manifests, where this cluster has them; others keep derived uids.
    pub fn fill_uids(&self, request: &mut crate::oidc::mint::TokenRequest) {
        request.service_account_uid = self
            .service_account_uid(&request.namespace, &request.service_account)
            .map(str::to_owned);
        request.pod_uid = request
            .pod
            .as_deref()
            .and_then(|pod| self.pod_uid(&request.namespace, pod))
            .map(str::to_owned);
    }

    /// The uid a manifest gives a pod.
    pub fn pod_uid(&self, namespace: &str, name: &str) -> Option<&str> {
        self.pod(namespace, name)?.metadata.uid.as_deref()
    }

    /// The stored pod `namespace/name`.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.get(&(namespace.to_owned(), name.to_owned()))
    }
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
    fn reads_service_account_and_pod() {
        let objects = KubeObjects::from_yaml(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop, uid: 11111111-2222-4333-8444-555555555555}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: app-0, namespace: shop}\nspec:\n  serviceAccountName: app\n  containers: [{name: c, image: example/app:1}]\n",
        )
        .unwrap();
        assert_eq!(
            objects.service_account_uid("shop", "app"),
            Some("11111111-2222-4333-8444-555555555555")
        );
        assert!(objects.pods.contains_key(&("shop".into(), "app-0".into())));
    }

    #[test]
    fn unsupported_kind_is_named() {
        let error = KubeObjects::from_yaml("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
            .unwrap_err();
        assert!(
            error.reason.contains("unsupported kind \"Secret\""),
            "{error}"
        );
    }

    #[test]
    fn wrong_field_type_names_the_path() {
        let error = KubeObjects::from_yaml(
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
}
