//! The IAM actions the harness serves: OpenID Connect providers and roles.
//!
//! Each action reads its parameters, runs the model-constraint checks, then
//! the IAM rules, and returns the response XML or an [`AwsError`].

mod providers;
pub(crate) mod roles;
mod tags;

use axum::http::StatusCode;

use crate::aws::xml::{XmlWriter, finish_with_request_id};
use crate::aws::{AwsError, Params, Service};
use crate::state::AppState;

/// One IAM call: the parameters and the account it acts in.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub params: &'a Params,
    pub account: &'a str,
    pub request_id: &'a str,
}

/// Whether `action` is an IAM action the harness serves.
pub fn serves(action: &str) -> bool {
    ACTIONS.iter().any(|(name, _)| *name == action)
}

type Handler = fn(&Call<'_>) -> Result<String, AwsError>;

const ACTIONS: &[(&str, Handler)] = &[
    ("CreateOpenIDConnectProvider", providers::create),
    ("GetOpenIDConnectProvider", providers::get),
    ("ListOpenIDConnectProviders", providers::list),
    ("DeleteOpenIDConnectProvider", providers::delete),
    (
        "AddClientIDToOpenIDConnectProvider",
        providers::add_client_id,
    ),
    (
        "RemoveClientIDFromOpenIDConnectProvider",
        providers::remove_client_id,
    ),
    (
        "UpdateOpenIDConnectProviderThumbprint",
        providers::update_thumbprint,
    ),
    ("CreateRole", roles::create),
    ("GetRole", roles::get),
    ("ListRoles", roles::list),
    ("DeleteRole", roles::delete),
    ("UpdateAssumeRolePolicy", roles::update_assume_role_policy),
    ("UpdateRole", roles::update),
];

/// Runs an IAM action.
pub fn dispatch(action: &str, call: &Call<'_>) -> Result<String, AwsError> {
    match ACTIONS.iter().find(|(name, _)| *name == action) {
        Some((_, handler)) => handler(call),
        None => Err(invalid_action(action)),
    }
}

fn invalid_action(action: &str) -> AwsError {
    AwsError::sender(
        Service::Iam,
        StatusCode::BAD_REQUEST,
        "InvalidAction",
        format!(
            "Could not find operation {action} for version {}",
            Service::Iam.api_version()
        ),
    )
}

/// Starts `<{action}Response>` with an open `<{action}Result>`.
fn result_document(action: &str) -> XmlWriter {
    let mut xml = XmlWriter::document(&format!("{action}Response"), Service::Iam.namespace());
    xml.open(&format!("{action}Result"));
    xml
}

/// Closes the result element and adds the request id.
fn finish_result(mut xml: XmlWriter, request_id: &str) -> String {
    xml.close();
    finish_with_request_id(xml, request_id)
}

/// The response of an action without output: only the request id.
fn empty_response(action: &str, request_id: &str) -> String {
    let xml = XmlWriter::document(&format!("{action}Response"), Service::Iam.namespace());
    finish_with_request_id(xml, request_id)
}

fn no_such_entity(message: String) -> AwsError {
    AwsError::sender(Service::Iam, StatusCode::NOT_FOUND, "NoSuchEntity", message)
}

fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::sender(
        Service::Iam,
        StatusCode::BAD_REQUEST,
        "InvalidInput",
        message,
    )
}

fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::sender(Service::Iam, StatusCode::CONFLICT, "LimitExceeded", message)
}

fn entity_already_exists(message: String) -> AwsError {
    AwsError::sender(
        Service::Iam,
        StatusCode::CONFLICT,
        "EntityAlreadyExists",
        message,
    )
}
