//! IAM OpenID Connect provider actions.
//!
//! IAM stores a provider's URL without its scheme and with a default `:443`
//! removed; the ARN is `arn:<partition>:iam::<account>:oidc-provider/<url>`.
//! STS later matches a token's `iss` against `https://` + that URL, exactly:
//! case and a trailing slash count.

use crate::aws::constraint::Violations;
use crate::aws::xml::iam_time;
use crate::aws::{AwsError, Service};
use crate::world::OidcProvider;

use super::{
    Call, empty_response, entity_already_exists, finish_result, invalid_input, limit_exceeded,
    no_such_entity, result_document, tags,
};

/// Client ids (audiences) one provider may list.
pub const MAX_CLIENT_IDS: usize = 100;
/// Thumbprints one provider may list.
pub const MAX_THUMBPRINTS: usize = 5;
/// Providers one account may hold.
pub const MAX_PROVIDERS_PER_ACCOUNT: usize = 100;
/// Length of a hex SHA-1 thumbprint.
pub const THUMBPRINT_LENGTH: usize = 40;
const MAX_URL_LENGTH: usize = 255;
const MAX_CLIENT_ID_LENGTH: usize = 255;
const MIN_ARN_LENGTH: usize = 20;
const MAX_ARN_LENGTH: usize = 2048;

pub(super) fn create(call: &Call<'_>) -> Result<String, AwsError> {
    let mut violations = Violations::new(Service::Iam);
    let url = call.params.get("Url");
    match url {
        Some(url) => violations.length("url", url, 1, MAX_URL_LENGTH),
        None => violations.missing("url"),
    }
    let client_ids = call.params.list("ClientIDList").unwrap_or_default();
    violations.member_lengths("clientIDList", &client_ids, 1, MAX_CLIENT_ID_LENGTH);
    let thumbprints = call.params.list("ThumbprintList").unwrap_or_default();
    violations.member_lengths(
        "thumbprintList",
        &thumbprints,
        THUMBPRINT_LENGTH,
        THUMBPRINT_LENGTH,
    );
    let tags = tags::read(call.params, &mut violations);
    violations.into_result()?;
    let sent_url = url.unwrap_or_default();

    let stored_url = normalize_url(sent_url).ok_or_else(|| {
        AwsError::validation(Service::Iam, "Invalid Open ID Connect Provider URL")
    })?;
    check_thumbprint_count(&thumbprints)?;
    let client_ids = dedupe(client_ids);
    if client_ids.len() > MAX_CLIENT_IDS {
        return Err(client_id_quota());
    }
    tags::check_unique(&tags)?;

    let now = call.state.now();
    let mut world = call.state.write();
    let account = world.account_mut(call.account);
    if account.providers.contains_key(&stored_url) {
        return Err(entity_already_exists(format!(
            "Provider with url {sent_url} already exists."
        )));
    }
    if account.providers.len() >= MAX_PROVIDERS_PER_ACCOUNT {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS_PER_ACCOUNT}"
        )));
    }
    let arn = account.provider_arn(&stored_url);
    account.providers.insert(
        stored_url.clone(),
        OidcProvider {
            url: stored_url,
            arn: arn.clone(),
            client_ids,
            thumbprints: thumbprints.iter().map(|t| t.to_ascii_lowercase()).collect(),
            tags: tags.clone(),
            created_at: now,
        },
    );
    drop(world);

    let mut xml = result_document("CreateOpenIDConnectProvider");
    xml.text("OpenIDConnectProviderArn", &arn);
    if !tags.is_empty() {
        tags::write(&mut xml, &tags);
    }
    Ok(finish_result(xml, call.request_id))
}

pub(super) fn get(call: &Call<'_>) -> Result<String, AwsError> {
    let arn = required_arn(call)?;
    let world = call.state.read();
    let provider = world
        .account(call.account)
        .and_then(|account| account.provider_by_arn(arn))
        .ok_or_else(|| not_found_for_arn(arn))?;
    let mut xml = result_document("GetOpenIDConnectProvider");
    xml.members(
        "ThumbprintList",
        provider.thumbprints.iter().map(String::as_str),
    );
    xml.text("CreateDate", &iam_time(provider.created_at));
    xml.members(
        "ClientIDList",
        provider.client_ids.iter().map(String::as_str),
    );
    xml.text("Url", &provider.url);
    tags::write(&mut xml, &provider.tags);
    Ok(finish_result(xml, call.request_id))
}

pub(super) fn list(call: &Call<'_>) -> Result<String, AwsError> {
    let world = call.state.read();
    let mut arns: Vec<&str> = world
        .account(call.account)
        .map(|account| account.providers.values().map(|p| p.arn.as_str()).collect())
        .unwrap_or_default();
    arns.sort_unstable();
    let mut xml = result_document("ListOpenIDConnectProviders");
    xml.open("OpenIDConnectProviderList");
    for arn in arns {
        xml.open("member");
        xml.text("Arn", arn);
        xml.close();
    }
    xml.close();
    Ok(finish_result(xml, call.request_id))
}

pub(super) fn delete(call: &Call<'_>) -> Result<String, AwsError> {
    let arn = required_arn(call)?;
    let mut world = call.state.write();
    let account = world.account_mut(call.account);
    let removed = account
        .provider_url_from_arn(arn)
        .map(str::to_owned)
        .and_then(|url| account.providers.remove(&url));
    if removed.is_none() {
        return Err(no_such_entity(format!(
            "OpenId connect Provider {arn} cannot be found."
        )));
    }
    Ok(empty_response(
        "DeleteOpenIDConnectProvider",
        call.request_id,
    ))
}

pub(super) fn add_client_id(call: &Call<'_>) -> Result<String, AwsError> {
    let (arn, client_id) = arn_and_client_id(call)?;
    change_provider(call, arn, |provider| {
        if !provider.client_ids.iter().any(|id| id == client_id) {
            if provider.client_ids.len() >= MAX_CLIENT_IDS {
                return Err(client_id_quota());
            }
            provider.client_ids.push(client_id.to_owned());
        }
        Ok(())
    })?;
    Ok(empty_response(
        "AddClientIDToOpenIDConnectProvider",
        call.request_id,
    ))
}

pub(super) fn remove_client_id(call: &Call<'_>) -> Result<String, AwsError> {
    let (arn, client_id) = arn_and_client_id(call)?;
    change_provider(call, arn, |provider| {
        provider.client_ids.retain(|id| id != client_id);
        Ok(())
    })?;
    Ok(empty_response(
        "RemoveClientIDFromOpenIDConnectProvider",
        call.request_id,
    ))
}

pub(super) fn update_thumbprint(call: &Call<'_>) -> Result<String, AwsError> {
    let mut violations = Violations::new(Service::Iam);
    let arn = arn_param(call, &mut violations);
    let thumbprints = call.params.list("ThumbprintList");
    match &thumbprints {
        Some(list) => {
            violations.member_lengths("thumbprintList", list, THUMBPRINT_LENGTH, THUMBPRINT_LENGTH)
        }
        None => violations.missing("thumbprintList"),
    }
    violations.into_result()?;
    let thumbprints = thumbprints.unwrap_or_default();
    check_thumbprint_count(&thumbprints)?;
    change_provider(call, arn.unwrap_or_default(), |provider| {
        // The new list replaces the old one; IAM does not merge them.
        provider.thumbprints = thumbprints.iter().map(|t| t.to_ascii_lowercase()).collect();
        Ok(())
    })?;
    Ok(empty_response(
        "UpdateOpenIDConnectProviderThumbprint",
        call.request_id,
    ))
}

/// Turns a `Url` parameter into the form IAM stores, or `None` when IAM
/// rejects it: the scheme must be `https://`, a host must follow, and no
/// query or fragment may appear. A default `:443` is dropped (eksctl sends
/// it and gets the port-less ARN); other ports are kept as sent.
pub fn normalize_url(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return None;
    }
    let (host, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };
    let host = host.strip_suffix(":443").unwrap_or(host);
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return None;
    }
    Some(format!("{host}{path}"))
}

fn check_thumbprint_count(thumbprints: &[String]) -> Result<(), AwsError> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(invalid_input(
            "Thumbprint list must contain fewer than 5 entries.",
        ));
    }
    Ok(())
}

fn client_id_quota() -> AwsError {
    limit_exceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
    ))
}

fn dedupe(values: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    unique
}

fn not_found_for_arn(arn: &str) -> AwsError {
    no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn arn_param<'a>(call: &Call<'a>, violations: &mut Violations) -> Option<&'a str> {
    let arn = call.params.get("OpenIDConnectProviderArn");
    match arn {
        Some(arn) => violations.length(
            "openIDConnectProviderArn",
            arn,
            MIN_ARN_LENGTH,
            MAX_ARN_LENGTH,
        ),
        None => violations.missing("openIDConnectProviderArn"),
    }
    arn
}

fn required_arn<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let mut violations = Violations::new(Service::Iam);
    let arn = arn_param(call, &mut violations);
    violations.into_result()?;
    Ok(arn.unwrap_or_default())
}

fn arn_and_client_id<'a>(call: &Call<'a>) -> Result<(&'a str, &'a str), AwsError> {
    let mut violations = Violations::new(Service::Iam);
    let arn = arn_param(call, &mut violations);
    let client_id = call.params.get("ClientID");
    match client_id {
        Some(id) => violations.length("clientID", id, 1, MAX_CLIENT_ID_LENGTH),
        None => violations.missing("clientID"),
    }
    violations.into_result()?;
    Ok((arn.unwrap_or_default(), client_id.unwrap_or_default()))
}

fn change_provider(
    call: &Call<'_>,
    arn: &str,
    change: impl FnOnce(&mut OidcProvider) -> Result<(), AwsError>,
) -> Result<(), AwsError> {
    let mut world = call.state.write();
    let account = world.account_mut(call.account);
    let url = account
        .provider_url_from_arn(arn)
        .map(str::to_owned)
        .ok_or_else(|| not_found_for_arn(arn))?;
    let provider = account
        .providers
        .get_mut(&url)
        .ok_or_else(|| not_found_for_arn(arn))?;
    change(provider)
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn url_normalisation() {
        assert_eq!(
            normalize_url("https://a.example/id/X").as_deref(),
            Some("a.example/id/X")
        );
        assert_eq!(
            normalize_url("https://a.example:443/id/X").as_deref(),
            Some("a.example/id/X")
        );
        assert_eq!(
            normalize_url("https://a.example/").as_deref(),
            Some("a.example/")
        );
        assert_eq!(
            normalize_url("https://a.example:8443").as_deref(),
            Some("a.example:8443")
        );
        for bad in [
            "example.org",
            "http://a.example",
            "https://",
            "https://a?x=1",
            "https://a#f",
        ] {
            assert_eq!(normalize_url(bad), None, "{bad}");
        }
    }
}
