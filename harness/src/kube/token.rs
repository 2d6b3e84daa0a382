//! The projected token in a pod's `aws-iam-token` volume at a given
//! moment: audience and lifetime from the volume, names and uids from the
//! pod and its service account, and the kubelet's refresh schedule.
//!
//! The kubelet rewrites a projected token once it is older than 80% of its
//! lifetime or older than 24 hours, so the token in the file at time `now`
//! was issued at the last such refresh after the pod started.

use k8s_openapi::api::core::v1::{Pod, ServiceAccountTokenProjection};
use time::OffsetDateTime;

use super::webhook::{ROLE_ARN_ANNOTATION, SKIP_POD_LABEL, TOKEN_VOLUME};
use super::{DEFAULT_SERVICE_ACCOUNT, KubeObjects};
use crate::oidc::issuer::Issuer;
use crate::oidc::mint::{self, TokenRequest};

/// Lifetime the API server gives a projected token whose volume names none.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// Maximum lifetime EKS's API server issues, to which it cuts longer requests.
pub const MAX_EXPIRATION_SECONDS: i64 = 86_400;
/// The kubelet refreshes a token at least this often, in seconds.
const MAX_REFRESH_AGE_SECONDS: i64 = 86_400;

/// A pod's current projected token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodToken {
    pub token: String,
    pub audience: String,
    /// Unix seconds of `iat`.
    pub issued_at: i64,
    /// Unix seconds of `exp`.
    pub expires_at: i64,
}

/// The reason a pod has no web identity token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PodTokenError {
    #[error("pods {name:?} not found in namespace {namespace}")]
    NoPod { namespace: String, name: String },
    #[error("{0}")]
    NoVolume(String),
}

/// The `serviceAccountToken` projection of the pod's `aws-iam-token` volume.
pub fn token_projection(pod: &Pod) -> Option<&ServiceAccountTokenProjection> {
    let volumes = pod.spec.as_ref()?.volumes.as_ref()?;
    let volume = volumes.iter().find(|v| v.name == TOKEN_VOLUME)?;
    volume
        .projected
        .as_ref()?
        .sources
        .as_ref()?
        .iter()
        .find_map(|source| source.service_account_token.as_ref())
}

/// The token request for the pod's current token and the moment the
/// kubelet last refreshed it.
pub fn current_request(
    objects: &KubeObjects,
    namespace: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<(TokenRequest, OffsetDateTime), PodTokenError> {
    let pod = objects
        .pod(namespace, name)
        .ok_or_else(|| PodTokenError::NoPod {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })?;
    let service_account = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| DEFAULT_SERVICE_ACCOUNT.to_owned());
    let Some(projection) = token_projection(pod) else {
        return Err(PodTokenError::NoVolume(no_volume_reason(
            objects,
            pod,
            namespace,
            name,
            &service_account,
        )));
    };
    let requested = projection
        .expiration_seconds
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    let lifetime = requested.min(MAX_EXPIRATION_SECONDS);
    let mut request = TokenRequest::new(namespace, &service_account);
    // An empty audience makes the API server issue a token for its own
    // audience, which for EKS is the cluster's API server, not STS.
    request.audiences = match projection.audience.as_deref() {
        Some(audience) if !audience.is_empty() => vec![audience.to_owned()],
        _ => vec!["https://kubernetes.default.svc".to_owned()],
    };
    request.lifetime_seconds = lifetime;
    request.pod = Some(name.to_owned());
    objects.fill_uids(&mut request);
    let started = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .unwrap_or_else(|| now.unix_timestamp());
    let issued = last_refresh(started, lifetime, now.unix_timestamp());
    let issued = OffsetDateTime::from_unix_timestamp(issued).unwrap_or(now);
    Ok((request, issued))
}

/// Unix seconds of the kubelet's last refresh at `now` of a token first
/// issued at `started` with `lifetime` seconds.
pub fn last_refresh(started: i64, lifetime: i64, now: i64) -> i64 {
    let interval = (lifetime.saturating_mul(8) / 10).clamp(1, MAX_REFRESH_AGE_SECONDS);
    if now <= started {
        return started;
    }
    started + (now - started) / interval * interval
}

/// The pod's current token, signed by the cluster's issuer.
pub fn current_token(
    objects: &KubeObjects,
    issuer: &Issuer,
    world_seed: u64,
    namespace: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<PodToken, PodTokenError> {
    let (request, issued) = current_request(objects, namespace, name, now)?;
    let issued_at = issued.unix_timestamp();
    Ok(PodToken {
        token: mint::mint(issuer, world_seed, issued, &request),
        audience: request.audiences[0].clone(),
        issued_at,
        expires_at: issued_at.saturating_add(request.lifetime_seconds),
    })
}

/// Explains why the webhook left the pod without a token volume, with the fix.
fn no_volume_reason(
    objects: &KubeObjects,
    pod: &Pod,
    namespace: &str,
    name: &str,
    service_account: &str,
) -> String {
    let opted_out = pod
        .metadata
        .labels
        .as_ref()
        .is_some_and(|labels| labels.contains_key(SKIP_POD_LABEL));
    let head = format!(
        "pod {namespace}/{name} has no {TOKEN_VOLUME} volume, so its containers get no web identity token"
    );
    if opted_out {
        return format!(
            "{head}: the pod carries the label {SKIP_POD_LABEL}, which keeps the pod identity webhook from mutating it; remove the label and re-create the pod"
        );
    }
    let annotated = objects
        .service_account(namespace, service_account)
        .and_then(|sa| sa.metadata.annotations.as_ref())
        .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
        .is_some_and(|role| !role.is_empty());
    let restart = if pod
        .metadata
        .owner_references
        .as_ref()
        .is_some_and(|o| !o.is_empty())
    {
        "restart the Deployment that owns it (kubectl rollout restart)"
    } else {
        "re-create the pod (kubectl delete, then kubectl apply)"
    };
    if annotated {
        format!(
            "{head}: the pod was created before service account {namespace}/{service_account} had the {ROLE_ARN_ANNOTATION} annotation, and the webhook mutates pods only when they are created; {restart}"
        )
    } else {
        format!(
            "{head}: service account {namespace}/{service_account} has no {ROLE_ARN_ANNOTATION} annotation; annotate it with the role ARN, then {restart}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_at_eighty_percent() {
        // A one-hour token is refreshed every 48 minutes.
        assert_eq!(last_refresh(0, 3600, 0), 0);
        assert_eq!(last_refresh(0, 3600, 2879), 0);
        assert_eq!(last_refresh(0, 3600, 2880), 2880);
        assert_eq!(last_refresh(0, 3600, 6000), 5760);
    }

    #[test]
    fn refresh_at_least_daily() {
        // A two-day token is refreshed after 24 hours, not after 38.4.
        assert_eq!(last_refresh(100, 172_800, 100 + 86_399), 100);
        assert_eq!(last_refresh(100, 172_800, 100 + 86_400), 100 + 86_400);
    }

    #[test]
    fn clock_before_start_keeps_first_token() {
        assert_eq!(last_refresh(500, 3600, 10), 500);
    }
}
