//! Loading the Kubernetes parts of a scenario: manifests, the `kube_apply`,
//! `kube_delete`, `rollout_restart` and `pod_show` steps, and tokens taken
//! from a pod. Manifests are typed here, so a bad field is reported with the
//! scenario's line and column; admission runs when the step does.

use serde_json::Value;
use serde_saphyr::Spanned;

use super::file::{KubeApplyFile, KubeDeleteFile, PodShowFile, RolloutRestartFile, TokenFile};
use super::load::{LoadError, Loader, Names, at};
use super::model::{Action, MintSource, MintSpec, PodShow, Position, SignedBy};
use crate::kube::{Kind, Manifest, parse_documents, parse_yaml};

/// The Kubernetes actions a step may name.
pub(super) struct KubeSteps<'a> {
    pub apply: Option<&'a KubeApplyFile>,
    pub delete: Option<&'a KubeDeleteFile>,
    pub restart: Option<&'a RolloutRestartFile>,
    pub show: Option<&'a PodShowFile>,
}

impl Loader<'_> {
    /// Reads manifests given inline (YAML text or mappings) or as a file
    /// relative to the scenario; `owner` names their place in messages.
    pub(super) fn read_manifests(
        &self,
        inline: Option<&Spanned<Value>>,
        file: Option<&Spanned<String>>,
        owner: &str,
        position: Option<Position>,
    ) -> Result<Vec<Manifest>, LoadError> {
        let (result, position) = match (inline, file) {
            (Some(inline), None) => {
                let result = match &inline.value {
                    Value::String(text) => parse_yaml(text),
                    Value::Array(documents) => parse_documents(documents.clone()),
                    other => parse_documents(vec![other.clone()]),
                };
                (result, at(inline))
            }
            (None, Some(file)) => {
                let text = self.read_relative(file, "manifests")?;
                (parse_yaml(&text), at(file))
            }
            (Some(inline), Some(_)) => {
                return Err(self.error(
                    at(inline),
                    format!("{owner} takes inline manifests or a manifests file, not both"),
                    None,
                ));
            }
            (None, None) => {
                return Err(self.error(
                    position,
                    format!("{owner} needs manifests"),
                    Some("give manifests: (YAML text or a list of mappings) or file: PATH".into()),
                ));
            }
        };
        result.map_err(|error| {
            self.error(
                position,
                format!("invalid manifest in {owner}: {error}"),
                Some("the harness reads ServiceAccount and Pod (apiVersion v1) and Deployment (apiVersion apps/v1) manifests as kubectl would".into()),
            )
        })
    }

    /// The cluster a Kubernetes step names, or the scenario's only cluster.
    fn step_cluster(
        &self,
        cluster: Option<&Spanned<String>>,
        names: &Names,
        position: Position,
    ) -> Result<String, LoadError> {
        match cluster {
            Some(name) if names.clusters.contains(&name.value) => Ok(name.value.clone()),
            Some(name) => {
                let known = names.clusters.iter().cloned().collect();
                Err(self.unknown_cluster(name, &known))
            }
            None => match names.clusters.as_slice() {
                [only] => Ok(only.clone()),
                [] => Err(self.error(
                    Some(position),
                    "this step acts on a cluster, and the scenario defines none".into(),
                    Some("define one under world.clusters".into()),
                )),
                many => Err(self.error(
                    Some(position),
                    "the scenario has several clusters; name one with cluster:".into(),
                    Some(format!("clusters: {}", many.join(", "))),
                )),
            },
        }
    }

    /// The namespace and name of a `NAMESPACE/NAME` value.
    fn reference(&self, value: &Spanned<String>) -> Result<(String, String), LoadError> {
        crate::kube::split_reference(&value.value)
            .map_err(|message| self.error(at(value), message, None))
    }

    /// The step's Kubernetes actions; the caller checks there is only one.
    pub(super) fn kube_actions(
        &self,
        steps: KubeSteps,
        names: &Names,
        position: Position,
    ) -> Result<Vec<Action>, LoadError> {
        let mut actions = Vec::new();
        if let Some(apply) = steps.apply {
            let cluster = self.step_cluster(apply.cluster.as_ref(), names, position)?;
            let manifests = self.read_manifests(
                apply.manifests.as_ref(),
                apply.file.as_ref(),
                "kube_apply",
                Some(position),
            )?;
            actions.push(Action::KubeApply { cluster, manifests });
        }
        if let Some(delete) = steps.delete {
            let cluster = self.step_cluster(delete.cluster.as_ref(), names, position)?;
            let Some(kind) = Kind::parse(&delete.kind.value) else {
                return Err(self.error(
                    at(&delete.kind),
                    format!("unknown kind {:?}", delete.kind.value),
                    Some("use serviceaccount, pod or deployment".into()),
                ));
            };
            let (namespace, name) = self.reference(&delete.name)?;
            actions.push(Action::KubeDelete {
                cluster,
                kind,
                namespace,
                name,
            });
        }
        if let Some(restart) = steps.restart {
            let cluster = self.step_cluster(restart.cluster.as_ref(), names, position)?;
            let (namespace, name) = self.reference(&restart.name)?;
            actions.push(Action::RolloutRestart {
                cluster,
                namespace,
                name,
            });
        }
        if let Some(show) = steps.show {
            let cluster = self.step_cluster(show.cluster.as_ref(), names, position)?;
            let (namespace, name) = self.reference(&show.pod)?;
            actions.push(Action::PodShow(Box::new(PodShow {
                cluster,
                namespace,
                name,
                container: show.container.clone(),
                env: show.env.clone().into_iter().collect(),
                env_absent: show.env_absent.clone(),
                token_volume: show.token_volume,
                token_mounted: show.token_mounted,
                token_audience: show.token_audience.clone(),
                token_expiration: show.token_expiration,
            })));
        }
        Ok(actions)
    }

    /// A token taken from a stored pod's volume; the volume fixes every
    /// claim, so the fields that shape a minted token do not apply.
    pub(super) fn pod_token(
        &self,
        token: &TokenFile,
        reference: &Spanned<String>,
        names: &Names,
    ) -> Result<MintSpec, LoadError> {
        let shaping = [
            ("issuer", token.issuer.is_some()),
            ("namespace", token.namespace.is_some()),
            ("service_account", token.service_account.is_some()),
            ("audiences", token.audiences.is_some()),
            ("lifetime", token.lifetime.is_some()),
            ("issued_at", token.issued_at.is_some()),
            ("pod", token.pod.is_some()),
            ("claims", !token.claims.is_empty()),
            ("header", !token.header.is_empty()),
            ("signed_by", token.signed_by.is_some()),
            ("github", token.github.is_some()),
        ];
        if let Some((field, _)) = shaping.iter().find(|(_, set)| *set) {
            return Err(self.error(
                at(reference),
                format!("a from_pod token takes only cluster, not {field}"),
                Some("the pod's aws-iam-token volume sets the token's audience and lifetime, and the pod sets its names; to shape a token yourself, use cluster, namespace and service_account".into()),
            ));
        }
        let position = at(reference).unwrap_or_default();
        let cluster = self.step_cluster(token.cluster.as_ref(), names, position)?;
        let (namespace, name) = self.reference(reference)?;
        Ok(MintSpec {
            source: MintSource::Pod {
                cluster,
                namespace,
                name,
            },
            audiences: Vec::new(),
            lifetime: 0,
            issued_at: 0,
            pod: None,
            claims: Default::default(),
            header: Default::default(),
            signed_by: SignedBy::Issuer,
            github: None,
        })
    }
}
