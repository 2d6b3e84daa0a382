//! `oidc-sts-harness exec`: runs a local command as if it ran in a
//! container of a stored pod, so the real AWS CLI and SDKs go through their
//! own credential chains against the harness.
//!
//! The child gets the container's literal environment, the pod's projected
//! `aws-iam-token` written to a private file, the harness as every AWS
//! endpoint and as instance metadata, and none of the parent's `AWS_`
//! variables or shared AWS files. While it runs, the token file is renewed
//! when 80% of the token's lifetime has passed, as the kubelet does.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, ServiceAccountTokenProjection};

use crate::kube::pod_route::{CLUSTER_HEADER, IMDS_PATH_HEADER};

/// Name of the volume the pod identity webhook adds.
pub const TOKEN_VOLUME: &str = "aws-iam-token";
/// Audience of a projected token that names none: the API server's own, as
/// EKS sets it.
pub const DEFAULT_TOKEN_AUDIENCE: &str = "https://kubernetes.default.svc";
/// Lifetime of a projected token that names none, in seconds (Kubernetes'
/// default for `expirationSeconds`).
pub const DEFAULT_TOKEN_SECONDS: i64 = 3600;
/// Shortest `expirationSeconds` the API server accepts on a projected token.
pub const MIN_TOKEN_SECONDS: i64 = 600;
/// Exit status when `exec` fails before or around the child, as `env` and
/// `docker run` use it.
pub const EXIT_EXEC_FAILED: i32 = 125;
/// Exit status when the command exists but cannot run.
pub const EXIT_CANNOT_RUN: i32 = 126;
/// Exit status when the command is not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// What `exec` runs and where.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The harness, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The pod as `NAMESPACE/NAME`.
    pub pod: String,
    /// The container whose environment the child gets; the first when absent.
    pub container: Option<String>,
    /// The cluster that stores the pod; needed when the harness serves several.
    pub cluster: Option<String>,
    /// The command and its arguments.
    pub command: Vec<OsString>,
}

/// Why `exec` could not run the command.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("invalid --pod {0:?}: use NAMESPACE/NAME, such as default/my-pod")]
    PodName(String),
    #[error("cannot reach the harness at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{0}")]
    Harness(String),
    #[error("{0}")]
    Pod(String),
    #[error("cannot prepare the token file: {0}")]
    Io(#[from] std::io::Error),
}

/// The pod as the harness stores it, with the cluster it belongs to.
#[derive(Debug, Clone)]
pub struct StoredPod {
    pub pod: Pod,
    pub cluster: String,
    /// Path of the cluster's instance metadata on the harness port.
    pub imds_path: String,
}

/// Where the pod's projected token comes from and where the child reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMount {
    /// Directory the container mounts the token volume at.
    pub mount_path: String,
    /// File name of the token inside the volume.
    pub file: String,
    pub audience: String,
    pub lifetime_seconds: i64,
}

/// The child's environment and the notes `exec` prints about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildEnvironment {
    /// Variables to set, after removing every parent `AWS_` variable.
    pub set: BTreeMap<String, String>,
    /// Warnings for stderr, one line each.
    pub warnings: Vec<String>,
}

/// Runs the command in the pod's environment and returns its exit status
/// (128 + n when a signal n ended it).
pub async fn run(options: &ExecOptions) -> Result<i32, ExecError> {
    let (namespace, name) = split_pod(&options.pod)?;
    let client = reqwest::Client::new();
    let stored = fetch_pod(&client, options, namespace, name).await?;
    let container = choose_container(&stored.pod, options.container.as_deref())?;
    let mount = token_mount(&stored.pod, container)?;

    let dir = tempfile::Builder::new()
        .prefix("oidc-sts-harness-exec-")
        .tempdir()?;
    let config_file = write_private(dir.path(), "config", b"")?;
    let credentials_file = write_private(dir.path(), "credentials", b"")?;
    let token_dir = dir.path().join("token");
    let minter = Minter {
        client: client.clone(),
        endpoint: options.endpoint.trim_end_matches('/').to_owned(),
        cluster: stored.cluster.clone(),
        namespace: namespace.to_owned(),
        service_account: service_account(&stored.pod),
        pod: name.to_owned(),
    };
    if let Some(mount) = &mount {
        std::fs::create_dir(&token_dir)?;
        let token = minter.mint(mount).await?;
        write_private(&token_dir, &mount.file, token.as_bytes())?;
    }

    let imds = format!(
        "{}{}",
        options.endpoint.trim_end_matches('/'),
        stored.imds_path
    );
    let environment = child_environment(
        container,
        &options.endpoint,
        &imds,
        mount.as_ref(),
        &token_dir,
        (&config_file, &credentials_file),
    );
    for warning in &environment.warnings {
        eprintln!("warning: {warning}");
    }
    let refresher = mount.map(|mount| tokio::spawn(refresh(minter, mount, token_dir)));
    let status = run_child(&options.command, &environment).await;
    if let Some(refresher) = refresher {
        refresher.abort();
    }
    drop(dir);
    status
}

fn split_pod(text: &str) -> Result<(&str, &str), ExecError> {
    match text.split_once('/') {
        Some((namespace, name))
            if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
        {
            Ok((namespace, name))
        }
        _ => Err(ExecError::PodName(text.to_owned())),
    }
}

/// Reads the stored pod from `GET /_harness/kube/pods/NS/NAME`.
async fn fetch_pod(
    client: &reqwest::Client,
    options: &ExecOptions,
    namespace: &str,
    name: &str,
) -> Result<StoredPod, ExecError> {
    let mut url = format!(
        "{}/_harness/kube/pods/{namespace}/{name}",
        options.endpoint.trim_end_matches('/')
    );
    if let Some(cluster) = &options.cluster {
        url.push_str("?cluster=");
        url.push_str(
            &percent_encoding::utf8_percent_encode(cluster, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
    }
    let Reply {
        status,
        headers,
        body,
    } = exchange(client.get(&url), &url, reqwest::Response::text).await?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (cluster, imds_path) = (header(CLUSTER_HEADER), header(IMDS_PATH_HEADER));
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(body);
        return Err(ExecError::Harness(message));
    }
    let pod: Pod = serde_json::from_str(&body).map_err(|error| {
        ExecError::Harness(format!("{url} sent a pod that does not parse: {error}"))
    })?;
    let (Some(cluster), Some(imds_path)) = (cluster, imds_path) else {
        return Err(ExecError::Harness(format!(
            "{url} did not name the pod's cluster; is the harness at {} an oidc-sts-harness of this version?",
            options.endpoint
        )));
    };
    Ok(StoredPod {
        pod,
        cluster,
        imds_path,
    })
}

/// The status, headers and decoded body of a harness reply.
struct Reply<T> {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: T,
}

/// Sends `request` to the harness at `url` and decodes the reply's body
/// with `decode` (`Response::text` or `Response::json`). A request that
/// cannot be sent, and a body that cannot be read or decoded, are
/// [`ExecError::Unreachable`] naming `url`.
async fn exchange<T, F>(
    request: reqwest::RequestBuilder,
    url: &str,
    decode: impl FnOnce(reqwest::Response) -> F,
) -> Result<Reply<T>, ExecError>
where
    F: Future<Output = reqwest::Result<T>>,
{
    let unreachable = |source| ExecError::Unreachable {
        url: url.to_owned(),
        source,
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = decode(response).await.map_err(unreachable)?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// The named container, or the first.
pub fn choose_container<'p>(pod: &'p Pod, name: Option<&str>) -> Result<&'p Container, ExecError> {
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let found = match name {
        Some(name) => containers.iter().find(|c| c.name == name),
        None => containers.first(),
    };
    found.ok_or_else(|| {
        let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
        ExecError::Pod(format!(
            "pod {} has no container {:?}; its containers: {}",
            pod_label(pod),
            name.unwrap_or_default(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ))
    })
}

/// The container's mount of the `aws-iam-token` volume, with the volume's
/// audience and lifetime; `None` when the container does not mount it.
pub fn token_mount(pod: &Pod, container: &Container) -> Result<Option<TokenMount>, ExecError> {
    let Some(mount) = container
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == TOKEN_VOLUME)
    else {
        return Ok(None);
    };
    let projection = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter(|v| v.name == TOKEN_VOLUME)
        .filter_map(|v| v.projected.as_ref())
        .flat_map(|p| p.sources.iter().flatten())
        .find_map(|s| s.service_account_token.as_ref());
    let Some(ServiceAccountTokenProjection {
        audience,
        expiration_seconds,
        path,
    }) = projection
    else {
        return Err(ExecError::Pod(format!(
            "container {:?} of pod {} mounts volume {TOKEN_VOLUME}, but the pod has no projected serviceAccountToken volume of that name",
            container.name,
            pod_label(pod)
        )));
    };
    let lifetime_seconds = expiration_seconds.unwrap_or(DEFAULT_TOKEN_SECONDS);
    if lifetime_seconds < MIN_TOKEN_SECONDS {
        return Err(ExecError::Pod(format!(
            "volume {TOKEN_VOLUME} of pod {} sets expirationSeconds {lifetime_seconds}; the API server rejects values below {MIN_TOKEN_SECONDS}",
            pod_label(pod)
        )));
    }
    if path.is_empty() || path.contains("..") || path.starts_with('/') {
        return Err(ExecError::Pod(format!(
            "volume {TOKEN_VOLUME} of pod {} has token path {path:?}; use a relative file name such as token",
            pod_label(pod)
        )));
    }
    Ok(Some(TokenMount {
        mount_path: mount.mount_path.trim_end_matches('/').to_owned(),
        file: path.clone(),
        audience: audience
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_AUDIENCE.to_owned()),
        lifetime_seconds,
    }))
}

/// Builds the child's environment from the container's env, the harness
/// endpoint and the prepared files.
///
/// `valueFrom` and `envFrom` entries are skipped with a warning: the harness
/// stores no Secrets or ConfigMaps and no pod status, so it has no value to
/// give them, and a pod's AWS settings (those the webhook injects) are
/// literal values.
pub fn child_environment(
    container: &Container,
    endpoint: &str,
    imds_endpoint: &str,
    mount: Option<&TokenMount>,
    token_dir: &Path,
    (config_file, credentials_file): (&Path, &Path),
) -> ChildEnvironment {
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    let mut environment = ChildEnvironment::default();
    let set = &mut environment.set;
    set.insert("AWS_EC2_METADATA_DISABLED".into(), "false".into());
    for var in container.env.iter().flatten() {
        match (&var.value, &var.value_from) {
            (_, Some(_)) => environment.warnings.push(format!(
                "container {:?}: env {} uses valueFrom, which exec does not resolve; the command runs without it",
                container.name, var.name
            )),
            (value, None) => {
                set.insert(var.name.clone(), value.clone().unwrap_or_default());
            }
        }
    }
    if container.env_from.as_ref().is_some_and(|e| !e.is_empty()) {
        environment.warnings.push(format!(
            "container {:?}: envFrom is not resolved; the command runs without those variables",
            container.name
        ));
    }
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_IAM",
    ] {
        set.insert(name.into(), endpoint.clone());
    }
    let imds = format!("{}/", imds_endpoint.trim_end_matches('/'));
    set.insert("AWS_EC2_METADATA_SERVICE_ENDPOINT".into(), imds);
    set.insert("AWS_CONFIG_FILE".into(), path_text(config_file));
    set.insert(
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        path_text(credentials_file),
    );
    if let (Some(mount), Some(path)) = (mount, set.get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
        let prefix = format!("{}/", mount.mount_path);
        if let Some(relative) = path.strip_prefix(&prefix) {
            let local = path_text(&token_dir.join(relative));
            set.insert("AWS_WEB_IDENTITY_TOKEN_FILE".into(), local);
        }
    }
    environment
}

/// Runs the command with `environment`, forwarding SIGINT and SIGTERM.
async fn run_child(command: &[OsString], environment: &ChildEnvironment) -> Result<i32, ExecError> {
    let Some((program, arguments)) = command.split_first() else {
        return Err(ExecError::Pod("no command given after --".into()));
    };
    let mut child_command = tokio::process::Command::new(program);
    child_command.args(arguments);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            child_command.env_remove(&name);
        }
    }
    child_command.envs(&environment.set);
    let mut child = match child_command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let program = program.to_string_lossy();
            return Ok(match error.kind() {
                std::io::ErrorKind::NotFound => {
                    eprintln!("error: command not found: {program}");
                    EXIT_NOT_FOUND
                }
                _ => {
                    eprintln!("error: cannot run {program}: {error}");
                    EXIT_CANNOT_RUN
                }
            });
        }
    };
    let status = wait_forwarding_signals(&mut child).await?;
    Ok(exit_code(status))
}

#[cfg(unix)]
async fn wait_forwarding_signals(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    use rustix::process::{Pid, Signal, kill_process};
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    loop {
        let forwarded = tokio::select! {
            status = child.wait() => return status,
            _ = interrupt.recv() => Signal::INT,
            _ = terminate.recv() => Signal::TERM,
        };
        if let Some(pid) = pid
            && let Err(error) = kill_process(pid, forwarded)
        {
            tracing::warn!(%error, "cannot forward the signal to the command");
        }
    }
}

#[cfg(not(unix))]
async fn wait_forwarding_signals(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    child.wait().await
}

/// The child's exit code, or 128 + n when signal n ended it, as shells
/// report it.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(EXIT_EXEC_FAILED)
}

/// Mints the pod's token through `POST /_harness/token`.
struct Minter {
    client: reqwest::Client,
    endpoint: String,
    cluster: String,
    namespace: String,
    service_account: String,
    pod: String,
}

impl Minter {
    async fn mint(&self, mount: &TokenMount) -> Result<String, ExecError> {
        let url = format!("{}/_harness/token", self.endpoint);
        let body = serde_json::json!({
            "cluster": self.cluster,
            "namespace": self.namespace,
            "service_account": self.service_account,
            "audiences": [mount.audience],
            "expires_in": mount.lifetime_seconds,
            "pod": self.pod,
        });
        let request = self.client.post(&url).json(&body);
        let Reply {
            status,
            body: reply,
            ..
        } = exchange(request, &url, reqwest::Response::json::<serde_json::Value>).await?;
        match (status.is_success(), reply["token"].as_str()) {
            (true, Some(token)) => Ok(token.to_owned()),
            _ => Err(ExecError::Harness(format!(
                "the harness rejected the token request ({status}): {}",
                reply["message"].as_str().unwrap_or("no message")
            ))),
        }
    }
}

/// Renews the token file whenever 80% of the token's lifetime has passed.
async fn refresh(minter: Minter, mount: TokenMount, token_dir: PathBuf) {
    let period = Duration::from_secs((mount.lifetime_seconds as u64) * 4 / 5);
    loop {
        tokio::time::sleep(period).await;
        match minter.mint(&mount).await {
            Ok(token) => {
                if let Err(error) = replace_private(&token_dir, &mount.file, token.as_bytes()) {
                    tracing::warn!(%error, "cannot renew the token file");
                }
            }
            Err(error) => tracing::warn!(%error, "cannot renew the pod's token"),
        }
    }
}

/// Writes a new file readable only by the owner.
fn write_private(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(path)
}

/// Replaces a file in one step, so a reader never sees a partial token.
fn replace_private(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<()> {
    let staged = format!(".{name}.new");
    let _ = std::fs::remove_file(dir.join(&staged));
    write_private(dir, &staged, contents)?;
    std::fs::rename(dir.join(&staged), dir.join(name))
}

fn service_account(pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.service_account_name.clone())
        .or_else(|| spec.and_then(|s| s.service_account.clone()))
        .unwrap_or_else(|| "default".to_owned())
}

fn pod_label(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata
            .namespace
            .as_deref()
            .unwrap_or(crate::kube::DEFAULT_NAMESPACE),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewed_token_replaces_file_privately() {
        let dir = tempfile::tempdir().unwrap();
        write_private(dir.path(), "token", b"first").unwrap();
        replace_private(dir.path(), "token", b"second").unwrap();
        let path = dir.path().join("token");
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "the staged file is renamed away");
    }

    #[test]
    fn pod_name_needs_namespace_and_name() {
        assert_eq!(split_pod("default/my-pod").unwrap(), ("default", "my-pod"));
        for bad in ["my-pod", "/my-pod", "default/", "a/b/c"] {
            assert!(split_pod(bad).is_err(), "{bad}");
        }
    }

    /// Serves `reply`, a whole HTTP/1.1 response, to every connection on a
    /// loopback port and returns the endpoint.
    async fn canned_harness(reply: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    // The whole request is read first, because closing a
                    // connection with unread bytes resets it and the client
                    // may lose the reply.
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let n = tcp.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        request.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                        let Some(head_end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let length: usize = text[..head_end]
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse().ok())
                            .unwrap_or(0);
                        if request.len() >= head_end + 4 + length {
                            break;
                        }
                    }
                    let _ = tcp.write_all(reply.as_bytes()).await;
                    let _ = tcp.shutdown().await;
                });
            }
        });
        format!("http://{addr}")
    }

    /// Returns an endpoint on a loopback port that nothing listens on.
    async fn closed_endpoint() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}")
    }

    async fn fetch_pod_error(endpoint: &str) -> String {
        let options = ExecOptions {
            endpoint: endpoint.to_owned(),
            pod: "default/p".to_owned(),
            container: None,
            cluster: None,
            command: Vec::new(),
        };
        fetch_pod(&reqwest::Client::new(), &options, "default", "p")
            .await
            .unwrap_err()
            .to_string()
    }

    async fn mint_error(endpoint: &str) -> String {
        let minter = Minter {
            client: reqwest::Client::new(),
            endpoint: endpoint.to_owned(),
            cluster: "demo".to_owned(),
            namespace: "default".to_owned(),
            service_account: "app".to_owned(),
            pod: "p".to_owned(),
        };
        let mount = TokenMount {
            mount_path: "/var/run/secrets/eks.amazonaws.com/serviceaccount".to_owned(),
            file: "token".to_owned(),
            audience: "sts.amazonaws.com".to_owned(),
            lifetime_seconds: 3600,
        };
        minter.mint(&mount).await.unwrap_err().to_string()
    }

    #[tokio::test]
    async fn pod_request_errors() {
        let endpoint = canned_harness(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 23\r\nconnection: close\r\n\r\n{\"message\":\"not found\"}",
        )
        .await;
        assert_eq!(fetch_pod_error(&endpoint).await, "not found");

        let endpoint = canned_harness(
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: 8\r\nconnection: close\r\n\r\nupstream",
        )
        .await;
        assert_eq!(fetch_pod_error(&endpoint).await, "upstream");

        let endpoint = canned_harness(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        )
        .await;
        assert_eq!(
            fetch_pod_error(&endpoint).await,
            format!(
                "{endpoint}/_harness/kube/pods/default/p did not name the pod's cluster; is the harness at {endpoint} an oidc-sts-harness of this version?"
            )
        );

        let endpoint = closed_endpoint().await;
        let error = fetch_pod_error(&endpoint).await;
        assert!(
            error.starts_with(&format!(
                "cannot reach the harness at {endpoint}/_harness/kube/pods/default/p: error sending request"
            )),
            "{error}"
        );
    }

    #[tokio::test]
    async fn token_request_errors() {
        let endpoint = canned_harness(
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 20\r\nconnection: close\r\n\r\n{\"message\":\"denied\"}",
        )
        .await;
        assert_eq!(
            mint_error(&endpoint).await,
            "the harness rejected the token request (403 Forbidden): denied"
        );

        let endpoint = canned_harness(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        )
        .await;
        assert_eq!(
            mint_error(&endpoint).await,
            "the harness rejected the token request (200 OK): no message"
        );

        let endpoint = canned_harness(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 8\r\nconnection: close\r\n\r\nnot json",
        )
        .await;
        let url = format!("{endpoint}/_harness/token");
        assert_eq!(
            mint_error(&endpoint).await,
            format!(
                "cannot reach the harness at {url}: error decoding response body for url ({url})"
            )
        );

        let endpoint = closed_endpoint().await;
        let error = mint_error(&endpoint).await;
        assert!(
            error.starts_with(&format!(
                "cannot reach the harness at {endpoint}/_harness/token: error sending request"
            )),
            "{error}"
        );
    }

    #[test]
    fn short_token_lifetime_is_rejected() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {
                "containers": [{"name": "c", "volumeMounts": [
                    {"name": TOKEN_VOLUME, "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount"}
                ]}],
                "volumes": [{"name": TOKEN_VOLUME, "projected": {"sources": [
                    {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 300, "path": "token"}}
                ]}}]
            }
        }))
        .unwrap();
        let container = choose_container(&pod, None).unwrap();
        let error = token_mount(&pod, container).unwrap_err().to_string();
        assert!(error.contains("expirationSeconds 300"), "{error}");
        assert!(error.contains("below 600"), "{error}");
    }
}
