//! What the harness reads from a request's SigV4 material.
//!
//! IAM calls are not verified here: the access key id only chooses the
//! account the call acts in. A key of 12 digits names that account, which
//! lets tests and workshops act in several accounts without any setup.

use axum::http::HeaderMap;

/// The credential parts of a signed request, from the `Authorization`
/// header or the presigned query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCredential {
    pub access_key_id: String,
    pub region: Option<String>,
    pub service: Option<String>,
    pub session_token: Option<String>,
}

/// Reads the signing credential, or `None` for an unsigned request.
pub fn signing_credential(headers: &HeaderMap) -> Option<SigningCredential> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let scope = authorization
        .split([' ', ','])
        .find_map(|part| part.trim().strip_prefix("Credential="))?;
    let mut fields = scope.split('/');
    let access_key_id = fields.next()?.to_owned();
    let _date = fields.next();
    let region = fields.next().map(str::to_owned);
    let service = fields.next().map(str::to_owned);
    let session_token = headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Some(SigningCredential {
        access_key_id,
        region,
        service,
        session_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_access_key_and_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=210987654321/20261204/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=ab"
                .parse()
                .unwrap(),
        );
        let credential = signing_credential(&headers).unwrap();
        assert_eq!(credential.access_key_id, "210987654321");
        assert_eq!(credential.service.as_deref(), Some("iam"));
    }
}
