//! The HTTP front: one port for STS, IAM, EKS DescribeCluster, the emulated
//! issuers (chosen by `Host`), and the harness's own routes under
//! `/_harness/`.
//!
//! Routing is by hand rather than with an axum route table, because the
//! first decision is the `Host` header: a request to an issuer's host name is
//! an issuer request whatever its path, and every other request goes to the
//! AWS endpoints on `/` or the harness routes.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::aws::auth::signing_credential;
use crate::aws::{AwsError, Params, Service};
use crate::oidc::mint::{self, TokenRequest};
use crate::state::AppState;
use crate::sts::{self, WebIdentityCall, credentials};
use crate::{eks, iam};

/// Largest request body the harness reads, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Header that names the pipeline check that decided an STS call. It is an
/// addition no AWS client reads, so it leaves what clients see unchanged.
pub const DECIDED_BY_HEADER: &str = "x-oidc-sts-harness-decided-by";

/// Builds the router over shared state.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new().fallback(route).with_state(state).layer(
        tower_http::catch_panic::CatchPanicLayer::custom(panic_response),
    )
}

/// The response when a handler panics: a bug in the harness, never the
/// client's fault, so it is logged as an error and sent in AWS's shape for
/// an internal failure rather than as a dropped connection.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    internal_failure(Service::Sts).into_response("00000000-0000-4000-8000-000000000000", false)
}

/// AWS's error for a failure on the service's side.
fn internal_failure(service: Service) -> AwsError {
    AwsError {
        service,
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "InternalFailure",
        message:
            "The request processing has failed because of an unknown error, exception or failure."
                .into(),
        fault: crate::aws::error::Fault::Receiver,
    }
}

/// Serves `app(state)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::limits::serve_plain(listener, state.clone(), app(state), shutdown).await
}

async fn route(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let host = host_name(request.headers()).unwrap_or_default();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();

    if let Some(response) = issuer_response(&state, &host, &path, &method) {
        return response;
    }
    if path.starts_with("/latest/") {
        return crate::imds::respond(&state, &method, &path, request.headers(), None);
    }
    if let Some((cluster, rest)) = path
        .strip_prefix("/_harness/imds/")
        .and_then(|p| p.split_once('/'))
    {
        let rest = format!("/{rest}");
        return crate::imds::respond(&state, &method, &rest, request.headers(), Some(cluster));
    }
    match (method, path.as_str()) {
        (Method::GET | Method::POST, "/") => query(state, request, &host).await,
        (Method::GET, p) if p.starts_with("/_harness/kube/pods/") => crate::kube::pod_route::respond(
            &state,
            &p["/_harness/kube/pods/".len()..],
            request.uri().query(),
        ),
        (_, "/") => other_method(&state, &host, request.method()),
        (Method::GET, p) if p.starts_with("/clusters/") => describe_cluster(&state, request.headers(), &p["/clusters/".len()..]),
        (Method::POST, "/_harness/token") => mint_token(state, request).await,
        (Method::POST | Method::GET, p) if p.starts_with(crate::kube::http::PREFIX) => {
            crate::kube::http::handle(state, request).await
        }
        (Method::GET, "/_harness" | "/_harness/") => crate::teach::index(&state),
        (Method::GET, "/_harness/events") => {
            crate::teach::events(state.clone(), request.uri().query(), request.headers())
        }
        (Method::GET, p) if p.starts_with("/_harness/requests/") => {
            crate::teach::request_page(&state, &p["/_harness/requests/".len()..])
        }
        (Method::GET, "/_harness/decisions") => decisions(&state, None),
        (Method::GET, p) if p.starts_with("/_harness/decisions/") => {
            decisions(&state, Some(&p["/_harness/decisions/".len()..]))
        }
        (_, p) => (
            StatusCode::NOT_FOUND,
            format!("no route for {p}: the harness serves the AWS query API on /, EKS on /clusters/NAME and its own routes under /_harness/\n"),
        )
            .into_response(),
    }
}

/// Serves the discovery document and JWKS of a hosted issuer, and the 403
/// EKS sends for any other path on an issuer host.
fn issuer_response(state: &AppState, host: &str, path: &str, method: &Method) -> Option<Response> {
    let world = state.read();
    if !world.hosts_issuer_on(host) {
        return None;
    }
    if *method == Method::GET
        && let Some((issuer, document)) = world.issuer_for_request(host, path)
    {
        let faults = world.faults(issuer.url()).cloned().unwrap_or_default();
        let jwks = document == crate::oidc::issuer::JWKS_PATH;
        let status = if jwks {
            faults.jwks_status
        } else {
            faults.discovery_status
        };
        if let Some(status) = status.and_then(|s| StatusCode::from_u16(s).ok()) {
            return Some(json_response(
                status,
                r#"{"message":"fault injected by the scenario"}"#.to_owned(),
            ));
        }
        let body = if jwks {
            issuer.jwks_json().to_owned()
        } else if faults.discovery_missing.is_empty() {
            issuer.discovery_json().to_owned()
        } else {
            without_members(issuer.discovery_json(), &faults.discovery_missing)
        };
        return Some(json_response(StatusCode::OK, body));
    }
    Some(json_response(
        StatusCode::FORBIDDEN,
        r#"{"message":"Missing Authentication Token"}"#.to_owned(),
    ))
}

async fn query(state: Arc<AppState>, request: Request, host: &str) -> Response {
    let request_id = state.next_request_id();
    let (parts, body) = request.into_parts();
    let wants_json = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let host_service = host_service(host);
    if let Some(error) = head_error(&parts, host_service) {
        return error.into_response(&request_id, false);
    }
    // A declared length over the limit is rejected before any body byte is
    // waited for.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = state.options().limits.body_read_timeout;
    let read = async {
        match declared {
            Some(length) if length > MAX_BODY_BYTES as u64 => Err(axum::Error::new(format!(
                "declared length {length} is over the limit"
            ))),
            _ => axum::body::to_bytes(body, MAX_BODY_BYTES).await,
        }
    };
    let body = match tokio::time::timeout(limit, read).await {
        Ok(Ok(body)) => body,
        Err(_) => {
            tracing::debug!(%request_id, "request body not complete within the body-read timeout");
            let mut response =
                crate::limits::body_timeout(host_service, limit).into_response(&request_id, false);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, %request_id, "request body rejected");
            return AwsError::sender(
                host_service,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("Request body must be at most {MAX_BODY_BYTES} bytes"),
            )
            .into_response(&request_id, false);
        }
    };
    // Only a form body holds parameters, as for AWS's query services; a
    // body of another type leaves the request without them.
    let mut params = if is_form(&parts.headers) {
        Params::decode(&body)
    } else {
        Params::default()
    };
    if let Some(query) = parts.uri.query() {
        params.merge_missing(Params::decode(query.as_bytes()));
    }
    let service = service_for(host, &params);
    if let Err(error) = crate::limits::check_params(&params, service) {
        return error.into_response(&request_id, false);
    }
    let result = dispatch(&state, &parts, &body, &params, service, host, &request_id).await;
    observe_query(
        &state,
        &parts.headers,
        &params,
        service,
        &request_id,
        &result,
    );
    match result {
        Ok(Reply::Xml(xml)) => xml_response(xml, &request_id),
        Ok(Reply::Sts(granted, decided_by)) => {
            let mut response = if wants_json {
                json_response(StatusCode::OK, sts::response::json(&granted, &request_id))
            } else {
                xml_response(sts::response::xml(&granted, &request_id), &request_id)
            };
            set_header(&mut response, DECIDED_BY_HEADER, decided_by);
            set_header(&mut response, "x-amzn-requestid", &request_id);
            response
        }
        Err((error, decided_by)) => {
            let json = wants_json && error.service == Service::Sts;
            let mut response = error.into_response(&request_id, json);
            if let Some(check) = decided_by {
                set_header(&mut response, DECIDED_BY_HEADER, check);
            }
            response
        }
    }
}

/// Records an answered query for the teaching page.
fn observe_query(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    service: Service,
    request_id: &str,
    result: &Result<Reply, Failure>,
) {
    let (front, account) = match service {
        Service::Sts => (crate::teach::Front::Sts, None),
        Service::Iam => (crate::teach::Front::Iam, iam_account(state, headers).ok()),
    };
    let error = result.as_ref().err().map(|(e, _)| e);
    crate::teach::observe(
        state,
        crate::teach::Answered {
            front,
            request_id,
            action: params.get("Action").unwrap_or("(no Action)"),
            account,
            status: error.map_or(200, |e| e.status.as_u16()),
            error: error.map(|e| (e.code, e.message.as_str())),
            token: params.get("WebIdentityToken"),
        },
    );
}

/// The service a host name stands for before the parameters are read:
/// IAM for `iam.…`, else STS.
fn host_service(host: &str) -> Service {
    if host.starts_with("iam.") {
        Service::Iam
    } else {
        Service::Sts
    }
}

/// Whether the body is a query form: no content type (curl and old tools
/// send none with some bodies) or `application/x-www-form-urlencoded`.
fn is_form(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            }),
    }
}

/// The request line and header limits, for requests that reached the
/// handler on a kept-alive connection (the listener checks the first head
/// of each connection itself).
fn head_error(parts: &axum::http::request::Parts, service: Service) -> Option<AwsError> {
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    // Method, two spaces and `HTTP/1.1`.
    let line = parts.method.as_str().len() + target + 10;
    if line > crate::limits::MAX_REQUEST_LINE_BYTES {
        return Some(crate::limits::request_line_too_long(service, line));
    }
    let head = line
        + parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    (head > crate::limits::MAX_HEAD_BYTES).then(|| crate::limits::head_too_large(service, head))
}

/// The answer to a method other than GET and POST on `/`: the query API
/// knows no such operation.
fn other_method(state: &AppState, host: &str, method: &Method) -> Response {
    AwsError::sender(
        host_service(host),
        StatusCode::BAD_REQUEST,
        "InvalidAction",
        format!(
            "The action or operation requested is invalid. Verify that the action is typed correctly. The query API takes GET and POST, not {method}."
        ),
    )
    .into_response(&state.next_request_id(), false)
}

enum Reply {
    Xml(String),
    Sts(Box<sts::Granted>, &'static str),
}

type Failure = (AwsError, Option<&'static str>);

async fn dispatch(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &[u8],
    params: &Params,
    service: Service,
    host: &str,
    request_id: &str,
) -> Result<Reply, Failure> {
    let Some(action) = params.get("Action") else {
        return Err((
            AwsError::sender(
                service,
                StatusCode::BAD_REQUEST,
                "MissingAction",
                "Missing Action",
            ),
            None,
        ));
    };
    let version = params.get("Version");
    let Some(version) = version else {
        return Err((
            AwsError::sender(
                service,
                StatusCode::BAD_REQUEST,
                "MissingParameter",
                "The request must contain the parameter Version",
            ),
            None,
        ));
    };
    let known = match service {
        Service::Sts => sts::serves(action),
        Service::Iam => iam::serves(action),
    };
    if !known || version != service.api_version() {
        return Err((
            AwsError::sender(
                service,
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {action} for version {version}"),
            ),
            None,
        ));
    }
    match service {
        Service::Sts if action == "GetCallerIdentity" => {
            let signed = sts::caller::SignedRequest {
                method: &parts.method,
                uri: &parts.uri,
                headers: &parts.headers,
                body,
            };
            sts::caller::get_caller_identity(state, &signed, request_id)
                .map(Reply::Xml)
                .map_err(|e| (e, None))
        }
        Service::Sts => {
            let source_ip = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip().to_string())
                .unwrap_or_else(|| "127.0.0.1".to_owned());
            let call = WebIdentityCall {
                params,
                request_id,
                source_ip,
                secure: parts.uri.scheme_str() == Some("https"),
                region: sts_region(host, &parts.headers),
            };
            let (result, decision) = sts::assume_role_with_web_identity(state, &call).await;
            let decided_by = decision.decided_by.name();
            match result {
                Ok(granted) => Ok(Reply::Sts(Box::new(granted), decided_by)),
                Err(error) => Err((error.to_aws(), Some(decided_by))),
            }
        }
        Service::Iam => {
            let account = iam_account(state, &parts.headers).map_err(|e| (e, None))?;
            let call = iam::Call {
                state,
                params,
                account: &account,
                request_id,
            };
            let xml = iam::dispatch(action, &call).map_err(|e| (e, None))?;
            if crate::persist::mutates(action)
                && let Err(error) = state.save_state()
            {
                // The change is made but not saved: the reply must not
                // claim it will survive a restart.
                tracing::error!(%error, %request_id, "cannot save the state file");
                return Err((internal_failure(service), None));
            }
            Ok(Reply::Xml(xml))
        }
    }
}

/// Chooses the service: by host name (`iam.…`, `sts.…`) when the client
/// used a real endpoint name, else by the action, else by the version.
fn service_for(host: &str, params: &Params) -> Service {
    if host.starts_with("iam.") {
        return Service::Iam;
    }
    if host.starts_with("sts.") {
        return Service::Sts;
    }
    match params.get("Action") {
        Some(action) if sts::serves(action) => Service::Sts,
        Some(action) if iam::serves(action) => Service::Iam,
        _ if params.get("Version") == Some(Service::Sts.api_version()) => Service::Sts,
        _ => Service::Iam,
    }
}

/// The account an IAM call acts in: a 12-digit access key id names it; a
/// key the harness issued acts in its session's account; anything else, or
/// no signature, acts in the default account (or is rejected with
/// `--strict-auth`).
fn iam_account(state: &AppState, headers: &HeaderMap) -> Result<String, AwsError> {
    let Some(credential) = signing_credential(headers) else {
        if state.options().strict_auth {
            return Err(AwsError::sender(
                Service::Iam,
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ));
        }
        return Ok(state.read().default_account().to_owned());
    };
    if crate::aws::arn::is_account_id(&credential.access_key_id) {
        return Ok(credential.access_key_id);
    }
    let session = credential
        .session_token
        .as_deref()
        .and_then(|token| credentials::decode_session_token(state.credential_key(), token))
        .filter(|session| session.access_key_id == credential.access_key_id);
    Ok(match session {
        Some(session) => session.account,
        None => state.read().default_account().to_owned(),
    })
}

/// The region an STS endpoint stands for: from `sts.<region>.amazonaws.com`,
/// else from the signing scope, else `us-east-1` (the global endpoint).
fn sts_region(host: &str, headers: &HeaderMap) -> String {
    if let Some(rest) = host.strip_prefix("sts.")
        && let Some((region, _)) = rest.split_once('.')
        && region != "amazonaws"
    {
        return region.to_owned();
    }
    signing_credential(headers)
        .and_then(|c| c.region)
        .unwrap_or_else(|| crate::world::DEFAULT_REGION.to_owned())
}

fn describe_cluster(state: &AppState, headers: &HeaderMap, name: &str) -> Response {
    let request_id = state.next_request_id();
    let account = signing_credential(headers)
        .map(|c| c.access_key_id)
        .filter(|id| crate::aws::arn::is_account_id(id));
    let world = state.read();
    let account = account.unwrap_or_else(|| world.default_account().to_owned());
    let Some(cluster) = world.cluster(name, &account) else {
        drop(world);
        let message = format!("No cluster found for name: {name}.");
        observe_eks(state, &request_id, account, Some(&message));
        return eks::not_found(name, &request_id);
    };
    let partition = world
        .account(&cluster.account)
        .map(|a| a.partition.clone())
        .unwrap_or_else(|| crate::world::DEFAULT_PARTITION.to_owned());
    let mut response = json_response(
        StatusCode::OK,
        eks::describe(cluster, &partition).to_string(),
    );
    set_header(&mut response, "x-amzn-requestid", &request_id);
    drop(world);
    observe_eks(state, &request_id, account, None);
    response
}

fn observe_eks(state: &AppState, request_id: &str, account: String, missing: Option<&str>) {
    crate::teach::observe(
        state,
        crate::teach::Answered {
            front: crate::teach::Front::Eks,
            request_id,
            action: "DescribeCluster",
            account: Some(account),
            status: if missing.is_some() { 404 } else { 200 },
            error: missing.map(|message| ("ResourceNotFoundException", message)),
            token: None,
        },
    );
}

/// Body of `POST /_harness/token`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    cluster: String,
    namespace: String,
    #[serde(default)]
    service_account: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    expires_in: Option<i64>,
    pod: Option<String>,
}

async fn mint_token(state: Arc<AppState>, request: Request) -> Response {
    let limit = state.options().limits.body_read_timeout;
    let read = tokio::time::timeout(
        limit,
        axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES),
    );
    let body = match read.await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {error}"),
            );
        }
        Err(_) => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!("the body did not arrive within {} ms", limit.as_millis()),
            );
        }
    };
    let mint: MintRequest = match serde_json::from_slice(&body) {
        Ok(mint) => mint,
        Err(error) => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "invalid token request: {error}; send {{\"cluster\", \"namespace\", \"service_account\"}} and optionally audiences, expires_in, pod"
                ),
            );
        }
    };
    let world = state.read();
    let Some(cluster) = world.cluster(&mint.cluster, world.default_account()) else {
        let known: Vec<&str> = world.clusters().iter().map(|c| c.name.as_str()).collect();
        return harness_error(
            StatusCode::NOT_FOUND,
            &format!(
                "cluster {:?} not found; the harness serves: {}",
                mint.cluster,
                if known.is_empty() {
                    "no clusters (start serve with --cluster NAME)".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
    };
    let now = state.now();
    let stored_pod = mint
        .pod
        .as_deref()
        .and_then(|pod| cluster.kube.pod(&mint.namespace, pod));
    let pod_account = stored_pod.and_then(|pod| pod.spec.as_ref()?.service_account_name.clone());
    let service_account = match (&mint.service_account, &pod_account) {
        (Some(requested), Some(actual)) if requested != actual => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "pod {}/{} runs as service account {actual:?}, not {requested:?}; leave service_account out or name the pod's",
                    mint.namespace,
                    mint.pod.as_deref().unwrap_or_default()
                ),
            );
        }
        (Some(requested), _) => requested.clone(),
        (None, Some(actual)) => actual.clone(),
        (None, None) => {
            return harness_error(
                StatusCode::BAD_REQUEST,
                "invalid token request: service_account is missing; it may be left out only when pod names a pod of the cluster",
            );
        }
    };
    // A pod with a token volume gets the token its volume holds now, unless
    // the request sets the audience or lifetime itself.
    let from_volume = stored_pod
        .filter(|pod| crate::kube::token::token_projection(pod).is_some())
        .and_then(|_| {
            let pod = mint.pod.as_deref()?;
            crate::kube::token::current_request(&cluster.kube, &mint.namespace, pod, now).ok()
        });
    let (mut token_request, mut issued) = match from_volume {
        Some((request, issued)) => (request, issued),
        None => {
            let mut request = TokenRequest::new(&mint.namespace, &service_account);
            request.pod = mint.pod;
            cluster.kube.fill_uids(&mut request);
            (request, now)
        }
    };
    if !mint.audiences.is_empty() {
        token_request.audiences = mint.audiences;
        issued = now;
    }
    if let Some(lifetime) = mint.expires_in {
        token_request.lifetime_seconds = lifetime;
        issued = now;
    }
    let issuer = cluster.issuer.clone();
    let seed = world.seed();
    drop(world);
    let token = mint::mint(&issuer, seed, issued, &token_request);
    let issued_at = issued.unix_timestamp();
    json_response(
        StatusCode::OK,
        serde_json::json!({
            "token": token,
            "issued_at": issued_at,
            "expires_at": issued_at.saturating_add(token_request.lifetime_seconds),
        })
        .to_string(),
    )
}

fn decisions(state: &AppState, request_id: Option<&str>) -> Response {
    let decisions = state.recent_decisions();
    match request_id {
        None => {
            let all: Vec<&sts::Decision> = decisions.iter().map(|d| d.as_ref()).collect();
            json_response(
                StatusCode::OK,
                serde_json::to_string(&all).unwrap_or_default(),
            )
        }
        Some(id) => match decisions.iter().find(|d| d.request_id == id) {
            Some(decision) => json_response(
                StatusCode::OK,
                serde_json::to_string(decision.as_ref()).unwrap_or_default(),
            ),
            None => harness_error(
                StatusCode::NOT_FOUND,
                &format!("no recent decision has request id {id}"),
            ),
        },
    }
}

/// The discovery document with some members left out, for an issuer whose
/// scenario lists them as missing.
fn without_members(document: &str, missing: &[String]) -> String {
    let mut value: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
    if let Some(members) = value.as_object_mut() {
        for name in missing {
            members.remove(name);
        }
    }
    value.to_string()
}

/// A harness route's error: `{"message": …}` with `status`.
pub(crate) fn harness_error(status: StatusCode, message: &str) -> Response {
    json_response(status, serde_json::json!({"message": message}).to_string())
}

fn host_name(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    // Strip a port, keeping bracketed IPv6 literals whole.
    let name = match host.rfind(':') {
        Some(index) if !host[index..].contains(']') => &host[..index],
        _ => host,
    };
    Some(name.to_ascii_lowercase())
}

pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn xml_response(body: String, request_id: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    set_header(&mut response, "x-amzn-requestid", request_id);
    response
}

fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}
