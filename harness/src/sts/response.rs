//! Rendering of AssumeRoleWithWebIdentity results, as XML (the query
//! protocol) or as the JSON some clients ask for with
//! `Accept: application/json`.

use serde_json::json;

use super::web_identity::Granted;
use crate::aws::Service;
use crate::aws::xml::{XmlWriter, finish_with_request_id, sts_time};

/// The XML body, in the element order captured from real responses.
pub fn xml(granted: &Granted, request_id: &str) -> String {
    let mut xml = XmlWriter::document(
        "AssumeRoleWithWebIdentityResponse",
        Service::Sts.namespace(),
    );
    xml.open("AssumeRoleWithWebIdentityResult");
    xml.text("Audience", &granted.audience);
    xml.open("AssumedRoleUser");
    xml.text("AssumedRoleId", &granted.session.assumed_role_id());
    xml.text("Arn", &granted.session.assumed_role_arn());
    xml.close();
    xml.text("Provider", &granted.provider_arn);
    xml.open("Credentials");
    xml.text("AccessKeyId", &granted.credentials.access_key_id);
    xml.text("SecretAccessKey", &granted.credentials.secret_access_key);
    xml.text("SessionToken", &granted.credentials.session_token);
    xml.text("Expiration", &sts_time(granted.credentials.expiration));
    xml.close();
    xml.text("SubjectFromWebIdentityToken", &granted.subject);
    xml.close();
    finish_with_request_id(xml, request_id)
}

/// The JSON body; `Expiration` is Unix seconds, as clients of this form
/// parse it.
pub fn json(granted: &Granted, request_id: &str) -> String {
    json!({
        "AssumeRoleWithWebIdentityResponse": {
            "AssumeRoleWithWebIdentityResult": {
                "Audience": granted.audience,
                "AssumedRoleUser": {
                    "AssumedRoleId": granted.session.assumed_role_id(),
                    "Arn": granted.session.assumed_role_arn(),
                },
                "Provider": granted.provider_arn,
                "Credentials": {
                    "AccessKeyId": granted.credentials.access_key_id,
                    "SecretAccessKey": granted.credentials.secret_access_key,
                    "SessionToken": granted.credentials.session_token,
                    "Expiration": granted.credentials.expiration.unix_timestamp(),
                },
                "SubjectFromWebIdentityToken": granted.subject,
            },
            "ResponseMetadata": {"RequestId": request_id},
        }
    })
    .to_string()
}
