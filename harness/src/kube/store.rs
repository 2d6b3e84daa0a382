//! The objects of one cluster and the changes `kubectl` makes to them:
//! apply (create or configure), delete and rollout restart, with the
//! admission a pod passes when it is created and the ReplicaSet controller's
//! work for Deployments.
//!
//! Messages follow the API server's: `pods "NAME" is forbidden: …`,
//! `The Pod "NAME" is invalid: …`, `pods "NAME" not found`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, PodSpec, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde_json::Value;
use time::OffsetDateTime;

use super::webhook::{self, WebhookConfig};
use super::{DEFAULT_NAMESPACE, DEFAULT_SERVICE_ACCOUNT, Kind, Manifest, Object};
use crate::seed;

/// Pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";
/// Label the ReplicaSet controller puts on the pods of one template.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// Shortest lifetime the API server accepts for a projected token.
const MIN_PROJECTED_EXPIRATION: i64 = 600;
/// Letters Kubernetes uses in generated names (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The cluster facts and the moment a change needs.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    pub seed: u64,
    /// The cluster's issuer URL, which keeps uids of different clusters apart.
    pub issuer_url: &'a str,
    /// The cluster's region, which EKS's webhook puts in `AWS_REGION`.
    pub region: &'a str,
    pub now: OffsetDateTime,
}

/// The reason of a failed change, as the API server's Status names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotFound,
    Forbidden,
    Invalid,
    BadRequest,
}

impl Reason {
    /// The Status reason text.
    pub fn name(self) -> &'static str {
        match self {
            Reason::NotFound => "NotFound",
            Reason::Forbidden => "Forbidden",
            Reason::Invalid => "Invalid",
            Reason::BadRequest => "BadRequest",
        }
    }

    /// The HTTP status the API server sends with it.
    pub fn status(self) -> u16 {
        match self {
            Reason::NotFound => 404,
            Reason::Forbidden => 403,
            Reason::Invalid => 422,
            Reason::BadRequest => 400,
        }
    }
}

/// A change the API server rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KubeError {
    pub reason: Reason,
    pub message: String,
}

impl KubeError {
    fn new(reason: Reason, message: String) -> KubeError {
        KubeError { reason, message }
    }

    /// The error as kubectl prints it: `Error from server (Reason): message`.
    pub fn kubectl_line(&self) -> String {
        format!(
            "Error from server ({}): {}",
            self.reason.name(),
            self.message
        )
    }
}

/// The result of applying one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// kubectl's line, e.g. `pod/app created`.
    pub line: String,
    /// Failures controllers reported while acting on the change, e.g. a
    /// ReplicaSet that cannot create its pods.
    pub warnings: Vec<String>,
}

/// The objects of one cluster, by namespace and name.
#[derive(Debug, Clone, Default)]
pub struct KubeObjects {
    pub service_accounts: BTreeMap<(String, String), ServiceAccount>,
    /// Pods as stored: after admission and the webhook's mutation.
    pub pods: BTreeMap<(String, String), Pod>,
    pub deployments: BTreeMap<(String, String), Deployment>,
    /// Each object's manifest as last applied, by kind, namespace and name.
    applied: BTreeMap<(&'static str, String, String), Value>,
    /// How many times each pod name was created, for fresh uids.
    incarnations: BTreeMap<(String, String), u64>,
    /// The pods a Deployment owns, by the Deployment's namespace and name.
    owned: BTreeMap<(String, String), Vec<String>>,
    /// How many pod names each ReplicaSet has generated, so that a
    /// replacement pod gets a name of its own, as with Kubernetes' random
    /// suffixes.
    generated: BTreeMap<(String, String), u32>,
}

fn key(namespace: &str, name: &str) -> (String, String) {
    (namespace.to_owned(), name.to_owned())
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn timestamp(time: OffsetDateTime) -> Option<Time> {
    k8s_openapi::jiff::Timestamp::from_second(time.unix_timestamp())
        .ok()
        .map(Time)
}

impl KubeObjects {
    /// The stored (mutated) pod.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Pod> {
        self.pods.get(&key(namespace, name))
    }

    /// The service account a manifest defined; the implicit `default`
    /// account of a namespace is not stored.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.service_accounts.get(&key(namespace, name))
    }

    /// The Deployment.
    pub fn deployment(&self, namespace: &str, name: &str) -> Option<&Deployment> {
        self.deployments.get(&key(namespace, name))
    }

    /// The names of the pods a Deployment owns, oldest first.
    pub fn deployment_pods(&self, namespace: &str, name: &str) -> &[String] {
        self.owned
            .get(&key(namespace, name))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The uid of a service account.
    pub fn service_account_uid(&self, namespace: &str, name: &str) -> Option<&str> {
        self.service_account(namespace, name)?
            .metadata
            .uid
            .as_deref()
    }

    /// The uid of a pod.
    pub fn pod_uid(&self, namespace: &str, name: &str) -> Option<&str> {
        self.pod(namespace, name)?.metadata.uid.as_deref()
    }

    /// Sets the uids of the request's service account and pod from the
    /// stored objects, where this cluster has them; others keep derived uids.
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

    /// Applies one object as `kubectl apply` does: creates it, or changes
    /// it to match the manifest.
    pub fn apply(
        &mut self,
        admission: &Admission,
        manifest: &Manifest,
    ) -> Result<Applied, KubeError> {
        let (namespace, name) = manifest.key();
        let kind = manifest.kind();
        let applied_key = (kind.resource(), namespace.clone(), name.clone());
        if self.applied.get(&applied_key) == Some(&manifest.document) {
            return Ok(Applied {
                line: format!("{}/{name} unchanged", kind.resource()),
                warnings: Vec::new(),
            });
        }
        let (verb, warnings) = match &manifest.object {
            Object::ServiceAccount(sa) => {
                self.apply_service_account(admission, &namespace, &name, sa)
            }
            Object::Pod(pod) => self.apply_pod(admission, &namespace, &name, pod)?,
            Object::Deployment(deployment) => {
                self.apply_deployment(admission, &namespace, &name, deployment)?
            }
        };
        self.applied.insert(applied_key, manifest.document.clone());
        Ok(Applied {
            line: format!("{}/{name} {verb}", kind.resource()),
            warnings,
        })
    }

    fn apply_service_account(
        &mut self,
        admission: &Admission,
        namespace: &str,
        name: &str,
        sa: &ServiceAccount,
    ) -> (&'static str, Vec<String>) {
        let mut stored = sa.clone();
        stored.metadata.namespace = Some(namespace.to_owned());
        let existing = self.service_accounts.get(&key(namespace, name));
        let verb = if existing.is_some() {
            "configured"
        } else {
            "created"
        };
        // The uid and creation time belong to the object, not the manifest:
        // an update keeps them.
        stored.metadata.uid = existing
            .and_then(|e| e.metadata.uid.clone())
            .or_else(|| sa.metadata.uid.clone())
            .or_else(|| {
                Some(seed::uuid(
                    admission.seed,
                    &["serviceaccount", admission.issuer_url, namespace, name],
                ))
            });
        stored.metadata.creation_timestamp = existing
            .and_then(|e| e.metadata.creation_timestamp.clone())
            .or_else(|| timestamp(admission.now));
        self.service_accounts.insert(key(namespace, name), stored);
        // A ReplicaSet that failed to create pods for want of this service
        // account retries, and now succeeds.
        let mut warnings = Vec::new();
        let deployments: Vec<String> = self
            .deployments
            .keys()
            .filter(|(ns, _)| ns == namespace)
            .map(|(_, n)| n.clone())
            .collect();
        for deployment in deployments {
            warnings.extend(self.reconcile(admission, namespace, &deployment));
        }
        (verb, warnings)
    }

    fn apply_pod(
        &mut self,
        admission: &Admission,
        namespace: &str,
        name: &str,
        pod: &Pod,
    ) -> Result<(&'static str, Vec<String>), KubeError> {
        let Some(stored) = self.pods.get_mut(&key(namespace, name)) else {
            self.create_pod(admission, namespace, name, pod.clone())?;
            return Ok(("created", Vec::new()));
        };
        // Admission and the webhook run only on create; an update may change
        // labels, annotations and images, as the API server allows.
        let previous = self
            .applied
            .get(&("pod", namespace.to_owned(), name.to_owned()))
            .and_then(|document| serde_json::from_value::<Pod>(document.clone()).ok());
        let new_spec = pod.spec.clone().unwrap_or_default();
        let old_spec = previous.and_then(|p| p.spec).unwrap_or_default();
        if without_images(&new_spec) != without_images(&old_spec) {
            return Err(KubeError::new(
                Reason::Invalid,
                format!(
                    "The Pod {name:?} is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
                ),
            ));
        }
        stored.metadata.labels = pod.metadata.labels.clone();
        stored.metadata.annotations = pod.metadata.annotations.clone();
        if let Some(spec) = stored.spec.as_mut() {
            copy_images(&new_spec, spec);
        }
        Ok(("configured", Vec::new()))
    }

    fn apply_deployment(
        &mut self,
        admission: &Admission,
        namespace: &str,
        name: &str,
        deployment: &Deployment,
    ) -> Result<(&'static str, Vec<String>), KubeError> {
        validate_deployment(name, deployment)?;
        let mut stored = deployment.clone();
        stored.metadata.namespace = Some(namespace.to_owned());
        stored.status = None;
        let existing = self.deployments.get(&key(namespace, name));
        if let Some(existing) = existing {
            let old_selector = existing.spec.as_ref().map(|s| &s.selector);
            let new_selector = stored.spec.as_ref().map(|s| &s.selector);
            if old_selector != new_selector {
                return Err(KubeError::new(
                    Reason::Invalid,
                    format!(
                        "The Deployment {name:?} is invalid: spec.selector: Invalid value: {}: field is immutable",
                        serde_json::to_string(&new_selector).unwrap_or_default()
                    ),
                ));
            }
            // kubectl's three-way merge keeps fields the manifest never set,
            // such as the restart annotation.
            let restarted = existing
                .spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get(RESTARTED_AT_ANNOTATION))
                .cloned();
            if let (Some(restarted), Some(spec)) = (restarted, stored.spec.as_mut()) {
                spec.template
                    .metadata
                    .get_or_insert_with(ObjectMeta::default)
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .entry(RESTARTED_AT_ANNOTATION.to_owned())
                    .or_insert(restarted);
            }
            let changed = existing.spec != stored.spec;
            let generation = existing.metadata.generation.unwrap_or(1);
            stored.metadata.generation = Some(if changed { generation + 1 } else { generation });
            stored.metadata.uid = existing.metadata.uid.clone();
            stored.metadata.creation_timestamp = existing.metadata.creation_timestamp.clone();
        } else {
            stored.metadata.generation = Some(1);
            stored.metadata.uid = deployment.metadata.uid.clone().or_else(|| {
                Some(seed::uuid(
                    admission.seed,
                    &["deployment", admission.issuer_url, namespace, name],
                ))
            });
            stored.metadata.creation_timestamp = timestamp(admission.now);
        }
        let verb = if existing.is_some() {
            "configured"
        } else {
            "created"
        };
        self.deployments.insert(key(namespace, name), stored);
        let warnings = self.reconcile(admission, namespace, name);
        Ok((verb, warnings))
    }

    /// Creates a pod: the ServiceAccount admission check, the API server's
    /// validation, then the pod identity webhook, as on a real cluster.
    pub fn create_pod(
        &mut self,
        admission: &Admission,
        namespace: &str,
        name: &str,
        mut pod: Pod,
    ) -> Result<(), KubeError> {
        let display_name = if name.is_empty() {
            pod.metadata.generate_name.clone().unwrap_or_default()
        } else {
            name.to_owned()
        };
        let spec = pod.spec.get_or_insert_with(PodSpec::default);
        let account = spec
            .service_account_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.to_owned());
        spec.service_account_name = Some(account.clone());
        // The service account controller creates `default` in every
        // namespace, so it exists even when no manifest defines it.
        let implicit_default = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(DEFAULT_SERVICE_ACCOUNT.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..ObjectMeta::default()
            },
            ..ServiceAccount::default()
        };
        let service_account = match self.service_accounts.get(&key(namespace, &account)) {
            Some(sa) => sa.clone(),
            None if account == DEFAULT_SERVICE_ACCOUNT => implicit_default,
            None => {
                return Err(KubeError::new(
                    Reason::Forbidden,
                    format!(
                        "pods {display_name:?} is forbidden: error looking up service account {namespace}/{account}: serviceaccount {account:?} not found"
                    ),
                ));
            }
        };
        validate_pod(&display_name, spec)?;
        let config = WebhookConfig::eks(admission.region);
        webhook::mutate(&mut pod, &service_account, &config);

        let incarnation = self.incarnations.entry(key(namespace, name)).or_insert(0);
        *incarnation += 1;
        let uid = match (&pod.metadata.uid, *incarnation) {
            (Some(uid), 1) => uid.clone(),
            // The first pod of a name keeps the uid tokens had before pods
            // were stored; a re-created pod is a new object with a new uid.
            (_, 1) => seed::uuid(
                admission.seed,
                &["pod", admission.issuer_url, namespace, name],
            ),
            (_, n) => seed::uuid(
                admission.seed,
                &["pod", admission.issuer_url, namespace, name, &n.to_string()],
            ),
        };
        pod.metadata.uid = Some(uid);
        pod.metadata.name = Some(name.to_owned());
        pod.metadata.namespace = Some(namespace.to_owned());
        pod.metadata.creation_timestamp = timestamp(admission.now);
        pod.status = None;
        self.pods.insert(key(namespace, name), pod);
        Ok(())
    }

    /// Deletes an object as `kubectl delete` does; a Deployment's pods go
    /// with it, and a deleted pod of a Deployment is replaced by a new one.
    pub fn delete(
        &mut self,
        admission: &Admission,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Applied, KubeError> {
        let not_found = || {
            KubeError::new(
                Reason::NotFound,
                format!("{} {name:?} not found", kind.plural()),
            )
        };
        let object_key = key(namespace, name);
        let mut warnings = Vec::new();
        match kind {
            Kind::ServiceAccount => {
                self.service_accounts
                    .remove(&object_key)
                    .ok_or_else(not_found)?;
            }
            Kind::Pod => {
                self.pods.remove(&object_key).ok_or_else(not_found)?;
                let owner = self
                    .owned
                    .iter_mut()
                    .find(|((ns, _), pods)| ns == namespace && pods.iter().any(|p| p == name));
                if let Some(((_, deployment), pods)) = owner {
                    pods.retain(|p| p != name);
                    let deployment = deployment.clone();
                    warnings = self.reconcile(admission, namespace, &deployment);
                }
            }
            Kind::Deployment => {
                self.deployments.remove(&object_key).ok_or_else(not_found)?;
                for pod in self.owned.remove(&object_key).unwrap_or_default() {
                    self.pods.remove(&key(namespace, &pod));
                }
            }
        }
        self.applied
            .remove(&(kind.resource(), namespace.to_owned(), name.to_owned()));
        let singular = kind.resource();
        Ok(Applied {
            line: format!("{singular} {name:?} deleted"),
            warnings,
        })
    }

    /// Restarts the Deployment `namespace/name` as `kubectl rollout restart`
    /// does (a new template annotation, so new pods), or re-creates the bare
    /// pod of that name from its manifest. Either way the new pods pass the
    /// webhook again.
    pub fn rollout_restart(
        &mut self,
        admission: &Admission,
        namespace: &str,
        name: &str,
    ) -> Result<Applied, KubeError> {
        if let Some(deployment) = self.deployments.get_mut(&key(namespace, name)) {
            if let Some(spec) = deployment.spec.as_mut() {
                spec.template
                    .metadata
                    .get_or_insert_with(ObjectMeta::default)
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(RESTARTED_AT_ANNOTATION.to_owned(), rfc3339(admission.now));
            }
            deployment.metadata.generation = Some(deployment.metadata.generation.unwrap_or(1) + 1);
            let warnings = self.reconcile(admission, namespace, name);
            return Ok(Applied {
                line: format!("deployment.apps/{name} restarted"),
                warnings,
            });
        }
        if self.pods.contains_key(&key(namespace, name)) {
            let owned_by_deployment = self
                .owned
                .iter()
                .any(|((ns, _), pods)| ns == namespace && pods.iter().any(|p| p == name));
            if owned_by_deployment {
                let mut applied = self.delete(admission, Kind::Pod, namespace, name)?;
                applied.line = format!("pod/{name} restarted");
                return Ok(applied);
            }
            let manifest = self
                .applied
                .get(&("pod", namespace.to_owned(), name.to_owned()))
                .and_then(|document| serde_json::from_value::<Pod>(document.clone()).ok());
            let Some(manifest) = manifest else {
                return Err(KubeError::new(
                    Reason::BadRequest,
                    format!("pod {namespace}/{name} has no applied manifest to re-create it from"),
                ));
            };
            self.pods.remove(&key(namespace, name));
            self.create_pod(admission, namespace, name, manifest)?;
            return Ok(Applied {
                line: format!("pod/{name} restarted"),
                warnings: Vec::new(),
            });
        }
        Err(KubeError::new(
            Reason::NotFound,
            format!(
                "deployments.apps {name:?} not found, and no pod {namespace}/{name} exists either"
            ),
        ))
    }

    /// Does the ReplicaSet controller's work for one Deployment: pods of an
    /// older template go, pods of the current template are created up to
    /// the replica count. Returns the controller's failures.
    fn reconcile(&mut self, admission: &Admission, namespace: &str, name: &str) -> Vec<String> {
        let Some(deployment) = self.deployments.get(&key(namespace, name)).cloned() else {
            return Vec::new();
        };
        let Some(spec) = deployment.spec else {
            return Vec::new();
        };
        let template = spec.template;
        let hash = template_hash(admission.seed, &template);
        let replicas = usize::try_from(spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
        let owned = self.owned.entry(key(namespace, name)).or_default().clone();
        let mut kept = Vec::new();
        for pod in owned {
            let current = self
                .pods
                .get(&key(namespace, &pod))
                .and_then(|p| p.metadata.labels.as_ref())
                .and_then(|labels| labels.get(POD_TEMPLATE_HASH_LABEL))
                .is_some_and(|h| *h == hash);
            if current && kept.len() < replicas {
                kept.push(pod);
            } else {
                self.pods.remove(&key(namespace, &pod));
            }
        }
        let replica_set = format!("{name}-{hash}");
        let mut warnings = Vec::new();
        while kept.len() < replicas {
            let attempt = self
                .generated
                .entry(key(namespace, &replica_set))
                .or_insert(0);
            *attempt += 1;
            let suffix = name_suffix(admission.seed, namespace, &replica_set, *attempt);
            let pod_name = format!("{replica_set}-{suffix}");
            if self.pods.contains_key(&key(namespace, &pod_name)) {
                continue;
            }
            let mut metadata = template.metadata.clone().unwrap_or_default();
            metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(POD_TEMPLATE_HASH_LABEL.to_owned(), hash.clone());
            metadata.generate_name = Some(format!("{replica_set}-"));
            metadata.namespace = Some(namespace.to_owned());
            metadata.owner_references = Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: replica_set.clone(),
                uid: seed::uuid(
                    admission.seed,
                    &["replicaset", admission.issuer_url, namespace, &replica_set],
                ),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]);
            let pod = Pod {
                metadata,
                spec: template.spec.clone(),
                status: None,
            };
            if let Err(error) = self.create_pod(admission, namespace, &pod_name, pod) {
                // The API server names a generated pod by its prefix.
                let message = error.message.replacen(
                    &format!("{pod_name:?}"),
                    &format!("\"{replica_set}-\""),
                    1,
                );
                warnings.push(format!(
                    "replicaset {replica_set:?} cannot create pods: Error creating: {message}"
                ));
                break;
            }
            kept.push(pod_name);
        }
        self.owned.insert(key(namespace, name), kept);
        warnings
    }
}

/// The `pod-template-hash` of a template: Kubernetes hashes the template
/// with FNV-32a and writes the number in its name alphabet. The harness
/// hashes the template's JSON with the seed instead, so names are stable
/// across runs; the form (up to ten letters of that alphabet) is the same.
fn template_hash(
    world_seed: u64,
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
) -> String {
    let json = serde_json::to_string(template).unwrap_or_default();
    let bytes = seed::derive(world_seed, &["pod-template-hash", &json]);
    let number = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    number
        .to_string()
        .bytes()
        .map(|b| NAME_ALPHABET[usize::from(b) % NAME_ALPHABET.len()] as char)
        .collect()
}

/// The five random letters Kubernetes appends to a generated name, here
/// derived from the seed.
fn name_suffix(world_seed: u64, namespace: &str, prefix: &str, attempt: u32) -> String {
    let bytes = seed::derive(
        world_seed,
        &["pod-name", namespace, prefix, &attempt.to_string()],
    );
    bytes[..5]
        .iter()
        .map(|b| NAME_ALPHABET[usize::from(*b) % NAME_ALPHABET.len()] as char)
        .collect()
}

/// The checks of the API server's pod validation that a webhook-era pod
/// can fail: containers present, projected tokens of at least ten minutes.
fn validate_pod(name: &str, spec: &PodSpec) -> Result<(), KubeError> {
    let invalid = |detail: String| {
        KubeError::new(
            Reason::Invalid,
            format!("The Pod {name:?} is invalid: {detail}"),
        )
    };
    if spec.containers.is_empty() {
        return Err(invalid("spec.containers: Required value".into()));
    }
    for (v, volume) in spec.volumes.iter().flatten().enumerate() {
        let sources = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
        for (s, source) in sources.into_iter().flatten().enumerate() {
            let Some(token) = &source.service_account_token else {
                continue;
            };
            if let Some(seconds) = token.expiration_seconds
                && seconds < MIN_PROJECTED_EXPIRATION
            {
                return Err(invalid(format!(
                    "spec.volumes[{v}].projected.sources[{s}].serviceAccountToken.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes"
                )));
            }
        }
    }
    Ok(())
}

/// The checks of the API server's Deployment validation: a selector that
/// selects something and matches the template's labels, and containers.
fn validate_deployment(name: &str, deployment: &Deployment) -> Result<(), KubeError> {
    let invalid = |detail: String| {
        KubeError::new(
            Reason::Invalid,
            format!("The Deployment {name:?} is invalid: {detail}"),
        )
    };
    let Some(spec) = &deployment.spec else {
        return Err(invalid("spec: Required value".into()));
    };
    let match_labels = spec.selector.match_labels.clone().unwrap_or_default();
    let expressions = spec.selector.match_expressions.clone().unwrap_or_default();
    if match_labels.is_empty() && expressions.is_empty() {
        return Err(invalid(
            "spec.selector: Invalid value: \"null\": empty selector is invalid for deployment"
                .into(),
        ));
    }
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let by_labels = match_labels.iter().all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = expressions.iter().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    if !(by_labels && by_expressions) {
        let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
        return Err(invalid(format!(
            "spec.template.metadata.labels: Invalid value: map[string]string{{{}}}: `selector` does not match template `labels`",
            shown.join(", ")
        )));
    }
    let containers = spec.template.spec.as_ref().map(|s| s.containers.len());
    if containers.unwrap_or(0) == 0 {
        return Err(invalid(
            "spec.template.spec.containers: Required value".into(),
        ));
    }
    Ok(())
}

fn without_images(spec: &PodSpec) -> PodSpec {
    let mut spec = spec.clone();
    for container in spec.containers.iter_mut() {
        container.image = None;
    }
    for container in spec.init_containers.iter_mut().flatten() {
        container.image = None;
    }
    spec
}

fn copy_images(from: &PodSpec, to: &mut PodSpec) {
    for (target, source) in to.containers.iter_mut().zip(&from.containers) {
        target.image = source.image.clone();
    }
    let init_from = from.init_containers.iter().flatten();
    for (target, source) in to.init_containers.iter_mut().flatten().zip(init_from) {
        target.image = source.image.clone();
    }
}

/// The namespace and name in `NS/NAME`, or `NAME` in the default namespace.
pub fn split_reference(reference: &str) -> Result<(String, String), String> {
    let (namespace, name) = match reference.split_once('/') {
        Some((namespace, name)) => (namespace, name),
        None => (DEFAULT_NAMESPACE, reference),
    };
    if namespace.is_empty() || name.is_empty() || name.contains('/') {
        return Err(format!(
            "invalid object reference {reference:?}; write NAMESPACE/NAME, such as default/my-app"
        ));
    }
    Ok((namespace.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::parse_yaml;

    const ROLE: &str = "arn:aws:iam::123456789012:role/app";

    fn admission(now: i64) -> Admission<'static> {
        Admission {
            seed: 7,
            issuer_url: "https://oidc.eks.eu-west-1.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E",
            region: "eu-west-1",
            now: OffsetDateTime::from_unix_timestamp(now).unwrap(),
        }
    }

    fn apply(objects: &mut KubeObjects, now: i64, yaml: &str) -> Result<Vec<String>, KubeError> {
        let mut lines = Vec::new();
        for manifest in parse_yaml(yaml).unwrap() {
            let applied = objects.apply(&admission(now), &manifest)?;
            lines.push(applied.line);
            lines.extend(applied.warnings);
        }
        Ok(lines)
    }

    fn annotated_sa() -> String {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: shop\n  annotations: {{eks.amazonaws.com/role-arn: \"{ROLE}\"}}\n"
        )
    }

    const PLAIN_SA: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: app-0, namespace: shop}\nspec:\n  serviceAccountName: app\n  containers: [{name: c, image: example/app:1}]\n";
    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {serviceAccountName: app, containers: [{name: c}]}\n";

    fn has_role(pod: &Pod) -> bool {
        pod.spec.as_ref().unwrap().containers[0]
            .env
            .iter()
            .flatten()
            .any(|e| e.name == "AWS_ROLE_ARN")
    }

    #[test]
    fn pod_after_annotation_is_mutated() {
        let mut objects = KubeObjects::default();
        let lines = apply(&mut objects, 0, &format!("{}---\n{POD}", annotated_sa())).unwrap();
        assert_eq!(lines, ["serviceaccount/app created", "pod/app-0 created"]);
        assert!(has_role(objects.pod("shop", "app-0").unwrap()));
    }

    #[test]
    fn annotation_after_pod_changes_nothing_until_restart() {
        let mut objects = KubeObjects::default();
        apply(&mut objects, 0, &format!("{PLAIN_SA}---\n{POD}")).unwrap();
        let lines = apply(&mut objects, 10, &annotated_sa()).unwrap();
        assert_eq!(lines, ["serviceaccount/app configured"]);
        let before = objects.pod("shop", "app-0").unwrap().clone();
        assert!(!has_role(&before));
        let restarted = objects
            .rollout_restart(&admission(20), "shop", "app-0")
            .unwrap();
        assert_eq!(restarted.line, "pod/app-0 restarted");
        let after = objects.pod("shop", "app-0").unwrap();
        assert!(has_role(after));
        assert_ne!(after.metadata.uid, before.metadata.uid);
    }

    #[test]
    fn missing_service_account_is_forbidden() {
        let mut objects = KubeObjects::default();
        let error = apply(&mut objects, 0, POD).unwrap_err();
        assert_eq!(error.reason, Reason::Forbidden);
        assert_eq!(
            error.message,
            "pods \"app-0\" is forbidden: error looking up service account shop/app: serviceaccount \"app\" not found"
        );
        assert!(objects.pod("shop", "app-0").is_none());
    }

    #[test]
    fn default_account_exists_implicitly() {
        let mut objects = KubeObjects::default();
        apply(
            &mut objects,
            0,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
        )
        .unwrap();
        let pod = objects.pod("default", "p").unwrap();
        let account = pod.spec.as_ref().unwrap().service_account_name.as_deref();
        assert_eq!(account, Some("default"));
    }

    #[test]
    fn reapply_reports_unchanged() {
        let mut objects = KubeObjects::default();
        apply(&mut objects, 0, &format!("{}---\n{POD}", annotated_sa())).unwrap();
        let lines = apply(&mut objects, 5, &format!("{}---\n{POD}", annotated_sa())).unwrap();
        assert_eq!(
            lines,
            ["serviceaccount/app unchanged", "pod/app-0 unchanged"]
        );
    }

    #[test]
    fn pod_spec_change_is_invalid() {
        let mut objects = KubeObjects::default();
        apply(&mut objects, 0, &format!("{}---\n{POD}", annotated_sa())).unwrap();
        let changed = POD.replace("name: c,", "name: d,");
        let error = apply(&mut objects, 5, &changed).unwrap_err();
        assert_eq!(error.reason, Reason::Invalid);
        assert!(
            error
                .message
                .starts_with("The Pod \"app-0\" is invalid: spec: Forbidden")
        );
        let image = POD.replace("example/app:1", "example/app:2");
        let lines = apply(&mut objects, 6, &image).unwrap();
        assert_eq!(lines, ["pod/app-0 configured"]);
        let stored = objects.pod("shop", "app-0").unwrap();
        let container = &stored.spec.as_ref().unwrap().containers[0];
        assert_eq!(container.image.as_deref(), Some("example/app:2"));
        assert!(has_role(stored), "the update keeps the mutation");
    }

    #[test]
    fn deployment_creates_named_pods() {
        let mut objects = KubeObjects::default();
        apply(
            &mut objects,
            0,
            &format!("{}---\n{DEPLOYMENT}", annotated_sa()),
        )
        .unwrap();
        let pods = objects.deployment_pods("shop", "web").to_vec();
        assert_eq!(pods.len(), 2);
        for pod in &pods {
            let parts: Vec<&str> = pod.split('-').collect();
            assert_eq!(parts.len(), 3, "{pod}");
            assert_eq!(parts[0], "web");
            assert!((1..=10).contains(&parts[1].len()), "{pod}");
            assert_eq!(parts[2].len(), 5, "{pod}");
            assert!(has_role(objects.pod("shop", pod).unwrap()));
        }
        let mut again = KubeObjects::default();
        apply(
            &mut again,
            0,
            &format!("{}---\n{DEPLOYMENT}", annotated_sa()),
        )
        .unwrap();
        assert_eq!(again.deployment_pods("shop", "web"), pods.as_slice());
    }

    #[test]
    fn deployment_restart_replaces_pods() {
        let mut objects = KubeObjects::default();
        apply(&mut objects, 0, &format!("{PLAIN_SA}---\n{DEPLOYMENT}")).unwrap();
        let before = objects.deployment_pods("shop", "web").to_vec();
        assert!(!has_role(objects.pod("shop", &before[0]).unwrap()));
        apply(&mut objects, 10, &annotated_sa()).unwrap();
        assert_eq!(objects.deployment_pods("shop", "web"), before.as_slice());
        let restarted = objects
            .rollout_restart(&admission(20), "shop", "web")
            .unwrap();
        assert_eq!(restarted.line, "deployment.apps/web restarted");
        let after = objects.deployment_pods("shop", "web").to_vec();
        assert_eq!(after.len(), 2);
        assert!(after.iter().all(|p| !before.contains(p)));
        assert!(before.iter().all(|p| objects.pod("shop", p).is_none()));
        assert!(has_role(objects.pod("shop", &after[0]).unwrap()));
    }

    #[test]
    fn deployment_waits_for_its_service_account() {
        let mut objects = KubeObjects::default();
        let lines = apply(&mut objects, 0, DEPLOYMENT).unwrap();
        assert_eq!(lines[0], "deployment.apps/web created");
        assert!(
            lines[1].contains("is forbidden: error looking up service account shop/app"),
            "{lines:?}"
        );
        assert!(objects.deployment_pods("shop", "web").is_empty());
        apply(&mut objects, 5, &annotated_sa()).unwrap();
        assert_eq!(objects.deployment_pods("shop", "web").len(), 2);
    }

    #[test]
    fn selector_must_match_labels() {
        let mut objects = KubeObjects::default();
        let error = apply(
            &mut objects,
            0,
            &DEPLOYMENT.replace("labels: {app: web}", "labels: {app: other}"),
        )
        .unwrap_err();
        assert_eq!(
            error.message,
            "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn deleting_owned_pod_replaces_it() {
        let mut objects = KubeObjects::default();
        apply(
            &mut objects,
            0,
            &format!("{}---\n{DEPLOYMENT}", annotated_sa()),
        )
        .unwrap();
        let first = objects.deployment_pods("shop", "web")[0].clone();
        let deleted = objects
            .delete(&admission(1), Kind::Pod, "shop", &first)
            .unwrap();
        assert_eq!(deleted.line, format!("pod {first:?} deleted"));
        let pods = objects.deployment_pods("shop", "web");
        assert_eq!(pods.len(), 2);
        assert!(!pods.contains(&first));
    }

    #[test]
    fn delete_missing_is_not_found() {
        let mut objects = KubeObjects::default();
        let error = objects
            .delete(&admission(0), Kind::Deployment, "shop", "web")
            .unwrap_err();
        assert_eq!(
            error.kubectl_line(),
            "Error from server (NotFound): deployments.apps \"web\" not found"
        );
    }

    #[test]
    fn short_projected_token_is_invalid() {
        let mut objects = KubeObjects::default();
        let error = apply(
            &mut objects,
            0,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n  volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token, expirationSeconds: 60}}]}}]\n",
        )
        .unwrap_err();
        assert!(error.message.ends_with("expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"), "{error}");
    }

    #[test]
    fn references_split() {
        assert_eq!(
            split_reference("shop/app").unwrap(),
            ("shop".into(), "app".into())
        );
        assert_eq!(
            split_reference("app").unwrap(),
            ("default".into(), "app".into())
        );
        assert!(split_reference("a/b/c").is_err());
        assert!(split_reference("/x").is_err());
    }
}

/// The saved form of a cluster's objects, for `serve --state`: the stored
/// objects as they are (pods already mutated, so a restart does not run
/// the webhook again) and the bookkeeping that names and numbers new pods.
/// Maps keyed by pairs become lists, which JSON can hold.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SavedKube {
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
    #[serde(default)]
    pub pods: Vec<Pod>,
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// `(resource, namespace, name, manifest)` of each applied object.
    #[serde(default)]
    pub applied: Vec<(String, String, String, Value)>,
    #[serde(default)]
    pub incarnations: Vec<(String, String, u64)>,
    #[serde(default)]
    pub owned: Vec<(String, String, Vec<String>)>,
    #[serde(default)]
    pub generated: Vec<(String, String, u32)>,
}

impl KubeObjects {
    /// The objects in their saved form.
    pub fn to_saved(&self) -> SavedKube {
        SavedKube {
            service_accounts: self.service_accounts.values().cloned().collect(),
            pods: self.pods.values().cloned().collect(),
            deployments: self.deployments.values().cloned().collect(),
            applied: self
                .applied
                .iter()
                .map(|((kind, ns, name), doc)| {
                    (kind.to_string(), ns.clone(), name.clone(), doc.clone())
                })
                .collect(),
            incarnations: self
                .incarnations
                .iter()
                .map(|((ns, name), n)| (ns.clone(), name.clone(), *n))
                .collect(),
            owned: self
                .owned
                .iter()
                .map(|((ns, name), pods)| (ns.clone(), name.clone(), pods.clone()))
                .collect(),
            generated: self
                .generated
                .iter()
                .map(|((ns, name), n)| (ns.clone(), name.clone(), *n))
                .collect(),
        }
    }

    /// Objects from their saved form; an object without a name, or an
    /// applied manifest of an unknown kind, makes the file invalid.
    pub fn from_saved(saved: &SavedKube) -> Result<KubeObjects, String> {
        fn keyed<T: Clone>(
            items: &[T],
            meta: impl Fn(&T) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
            what: &str,
        ) -> Result<BTreeMap<(String, String), T>, String> {
            items
                .iter()
                .map(|item| {
                    let metadata = meta(item);
                    let name = metadata
                        .name
                        .clone()
                        .ok_or_else(|| format!("a saved {what} has no metadata.name"))?;
                    let namespace = metadata
                        .namespace
                        .clone()
                        .unwrap_or_else(|| super::DEFAULT_NAMESPACE.to_owned());
                    Ok(((namespace, name), item.clone()))
                })
                .collect()
        }
        let mut applied = BTreeMap::new();
        for (kind, ns, name, doc) in &saved.applied {
            let kind = super::Kind::parse(kind)
                .ok_or_else(|| format!("a saved manifest has the unknown kind {kind:?}"))?;
            applied.insert((kind.resource(), ns.clone(), name.clone()), doc.clone());
        }
        Ok(KubeObjects {
            service_accounts: keyed(&saved.service_accounts, |sa| &sa.metadata, "ServiceAccount")?,
            pods: keyed(&saved.pods, |pod| &pod.metadata, "Pod")?,
            deployments: keyed(&saved.deployments, |d| &d.metadata, "Deployment")?,
            applied,
            incarnations: saved
                .incarnations
                .iter()
                .map(|(ns, name, n)| ((ns.clone(), name.clone()), *n))
                .collect(),
            owned: saved
                .owned
                .iter()
                .map(|(ns, name, pods)| ((ns.clone(), name.clone()), pods.clone()))
                .collect(),
            generated: saved
                .generated
                .iter()
                .map(|(ns, name, n)| ((ns.clone(), name.clone()), *n))
                .collect(),
        })
    }
}
