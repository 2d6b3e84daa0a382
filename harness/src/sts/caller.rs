//! STS GetCallerIdentity for credentials the harness issued.
//!
//! The call is signed with SigV4. The harness recovers the session from
//! the security token (an HMAC guards it), derives the session's secret,
//! recomputes the signature with `aws-sigv4` over the signed headers the
//! client named, and compares. A key the harness did not issue is unknown
//! to it, as any other key is to AWS.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use super::credentials::{decode_session_token, secret_for};
use crate::aws::auth::signing_credential;
use crate::aws::xml::{XmlWriter, finish_with_request_id};
use crate::aws::{AwsError, Service};
use crate::state::AppState;

/// The parts of a request the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Answers GetCallerIdentity, or the error AWS sends for the credentials.
pub fn get_caller_identity(
    state: &AppState,
    request: &SignedRequest<'_>,
    request_id: &str,
) -> Result<String, AwsError> {
    let invalid = || {
        AwsError::sender(
            Service::Sts,
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    };
    let Some(credential) = signing_credential(request.headers) else {
        return Err(AwsError::sender(
            Service::Sts,
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ));
    };
    let session = credential
        .session_token
        .as_deref()
        .and_then(|token| decode_session_token(state.credential_key(), token))
        .filter(|session| session.access_key_id == credential.access_key_id)
        .ok_or_else(invalid)?;
    if session.expiration <= state.now().unix_timestamp() {
        return Err(AwsError::sender(
            Service::Sts,
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    let secret = secret_for(state.credential_key(), &session.access_key_id);
    if !signature_matches(
        request,
        &credential.access_key_id,
        &secret,
        credential.session_token.as_deref(),
    ) {
        return Err(AwsError::sender(
            Service::Sts,
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    let mut xml = XmlWriter::document("GetCallerIdentityResponse", Service::Sts.namespace());
    xml.open("GetCallerIdentityResult");
    xml.text("Arn", &session.assumed_role_arn());
    xml.text("UserId", &session.assumed_role_id());
    xml.text("Account", &session.account);
    xml.close();
    Ok(finish_with_request_id(xml, request_id))
}

/// Recomputes the SigV4 signature over the headers the client signed and
/// compares it with the one it sent.
fn signature_matches(
    request: &SignedRequest<'_>,
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> bool {
    let Some(authorization) = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let field = |name: &str| {
        authorization
            .split([' ', ','])
            .find_map(|part| part.trim().strip_prefix(name))
            .map(str::to_owned)
    };
    let (Some(scope), Some(signed_headers), Some(signature)) = (
        field("Credential="),
        field("SignedHeaders="),
        field("Signature="),
    ) else {
        return false;
    };
    let mut scope_parts = scope.split('/').skip(2);
    let (Some(region), Some(service)) = (scope_parts.next(), scope_parts.next()) else {
        return false;
    };
    let Some(time) = request
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_amz_date)
    else {
        return false;
    };
    let names: Vec<&str> = signed_headers.split(';').collect();
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| names.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let uri = request
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let Ok(signable) = SignableRequest::new(
        request.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body),
    ) else {
        return false;
    };
    let identity: Identity = Credentials::new(
        access_key_id,
        secret,
        session_token.map(str::to_owned),
        None,
        "harness",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let Ok(params) = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
    else {
        return false;
    };
    match sign(signable, &params.into()) {
        Ok(output) => output.signature() == signature,
        Err(_) => false,
    }
}

/// Parses `X-Amz-Date` (`20261204T120000Z`).
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        text.get(0..4)?,
        text.get(4..6)?,
        text.get(6..8)?,
        text.get(9..11)?,
        text.get(11..13)?,
        text.get(13..15)?
    );
    let time = OffsetDateTime::parse(&iso, &Iso8601::DEFAULT).ok()?;
    Some(SystemTime::from(time))
}
