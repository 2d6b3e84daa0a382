//! The `oidc-sts-harness` command line: parses flags and calls the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use oidc_sts_harness::clock::SystemClock;
use oidc_sts_harness::seed::DEFAULT_SEED;
use oidc_sts_harness::state::{AppState, ServerOptions};
use oidc_sts_harness::world::{ClusterSpec, DEFAULT_ACCOUNT, World};
use tokio::net::TcpListener;

/// Address `serve` listens on when `--listen` is not given.
const DEFAULT_LISTEN: &str = "127.0.0.1:7460";

#[derive(Parser)]
#[command(
    name = "oidc-sts-harness",
    version,
    about = "Local emulator of the EKS IRSA trust flow: OIDC issuer, IAM OIDC providers and roles, STS AssumeRoleWithWebIdentity"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve STS, IAM, EKS DescribeCluster and the clusters' issuers on one port.
    Serve(ServeArgs),
    /// Print a projected service-account token signed by a served cluster's key.
    Token(TokenArgs),
    /// Run scenario files and folders and report each step against its
    /// expectation; exit 0 when all hold, 1 when one fails, 2 when a file is invalid.
    Run(RunArgs),
    /// Evaluate a trust policy against a token's claims offline and explain
    /// the decision; exit 0 on allow, 1 on deny, 2 on invalid input.
    Explain(ExplainArgs),
    /// Print the thumbprint IAM computes for an issuer: the SHA-1 of the last
    /// certificate the jwks_uri host presents.
    Thumbprint(ThumbprintArgs),
    /// Change a running harness's Kubernetes objects as kubectl would.
    Kube(KubeArgs),
    /// Show a running harness's pods as stored, after the pod identity webhook.
    Pod(PodArgs),
    /// Run a command with the environment of a pod's container: its env,
    /// its projected token, and the harness as AWS endpoint and instance
    /// metadata. Exits with the command's status.
    Exec(ExecArgs),
}

#[derive(Args)]
struct KubeArgs {
    #[command(subcommand)]
    command: KubeCommand,
}

/// The server and cluster a kube or pod command acts on.
#[derive(Args)]
struct KubeTarget {
    /// URL of a running harness, e.g. http://127.0.0.1:7460.
    #[arg(long)]
    endpoint: String,
    /// Cluster whose objects change; may be left out when the harness serves one.
    #[arg(long)]
    cluster: Option<String>,
}

#[derive(Subcommand)]
enum KubeCommand {
    /// Create or update the objects of a manifest file, as `kubectl apply -f`.
    Apply {
        #[command(flatten)]
        target: KubeTarget,
        /// Multi-document YAML of ServiceAccounts, Pods and Deployments; `-` reads stdin.
        #[arg(short = 'f', long = "filename", value_name = "FILE")]
        file: PathBuf,
    },
    /// Delete the objects of a manifest file, or one object named KIND NS/NAME.
    Delete {
        #[command(flatten)]
        target: KubeTarget,
        /// Manifests whose objects to delete; `-` reads stdin.
        #[arg(short = 'f', long = "filename", value_name = "FILE", conflicts_with_all = ["kind", "reference"])]
        file: Option<PathBuf>,
        /// serviceaccount, pod or deployment (kubectl's short names work too).
        #[arg(required_unless_present = "file", requires = "reference")]
        kind: Option<String>,
        /// NAMESPACE/NAME of the object.
        #[arg(value_name = "NS/NAME")]
        reference: Option<String>,
    },
    /// Re-create the pods of the Deployment NS/NAME, or the bare pod NS/NAME,
    /// so that the pod identity webhook runs on them again.
    RolloutRestart {
        #[command(flatten)]
        target: KubeTarget,
        /// NAMESPACE/NAME of the Deployment or pod.
        #[arg(value_name = "NS/NAME")]
        reference: String,
    },
}

#[derive(Args)]
struct PodArgs {
    #[command(subcommand)]
    command: PodCommand,
}

#[derive(Subcommand)]
enum PodCommand {
    /// Print the stored pod as YAML, with what the webhook added.
    Show {
        #[command(flatten)]
        target: KubeTarget,
        /// NAMESPACE/NAME of the pod.
        #[arg(value_name = "NS/NAME")]
        reference: String,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("server").required(true).args(["scenario", "endpoint"])))]
struct ExecArgs {
    /// Start a harness in this process from a scenario's world (after its
    /// setup steps) for the command's lifetime.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// URL of a running harness, e.g. http://127.0.0.1:7460.
    #[arg(long)]
    endpoint: Option<String>,
    /// The pod, as NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pod: String,
    /// The container whose environment the command gets; the first when absent.
    #[arg(long)]
    container: Option<String>,
    /// The cluster that stores the pod, when the harness serves several.
    #[arg(long)]
    cluster: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<std::ffi::OsString>,
}

#[derive(Args)]
struct RunArgs {
    /// Scenario files, or folders searched recursively for *.yaml and *.yml.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Run only scenarios whose name or path contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Draw each STS step as the chain of checks, with the values the
    /// failing one compared and its fix (human format only).
    #[arg(long)]
    explain: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["token", "claims"])))]
struct ExplainArgs {
    /// The role's trust policy (IAM JSON).
    #[arg(long, value_name = "FILE")]
    trust_policy: PathBuf,
    /// A web identity token (JWT); its signature is not checked.
    #[arg(long, value_name = "FILE")]
    token: Option<PathBuf>,
    /// The token's claims as a JSON object.
    #[arg(long, value_name = "FILE")]
    claims: Option<PathBuf>,
    /// The role's ARN; its account owns the provider (123456789012 when absent).
    #[arg(long)]
    role_arn: Option<String>,
    /// The provider client id the token audience must equal.
    #[arg(long, default_value = "sts.amazonaws.com")]
    client_id: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    format: ExplainFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
}

#[derive(Args)]
struct ThumbprintArgs {
    /// Issuer URL (https://…) or its discovery document URL.
    url: String,
    /// PEM file of the CA to trust, e.g. the one `serve --tls-listen` writes.
    #[arg(long)]
    cacert: Option<PathBuf>,
    /// Connect to ADDR for HOST:PORT instead of resolving HOST, as curl's
    /// --resolve (repeatable, for a jwks_uri on another host or port).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on; 127.0.0.1:0 picks a free port.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Also serve the clusters' issuers over HTTPS on this address, with a
    /// certificate chain derived from the seed.
    #[arg(long, value_name = "ADDR")]
    tls_listen: Option<SocketAddr>,
    /// Where to write the root CA certificate of the HTTPS listener (PEM);
    /// a file named after the seed in the temporary directory by default.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// An emulated EKS cluster, NAME[@REGION[/ID]] (repeatable); region
    /// us-east-1 when none is given, ID derived from the seed when none is given.
    #[arg(long = "cluster", value_name = "NAME[@REGION[/ID]]")]
    clusters: Vec<String>,
    /// Account of unsigned calls and of the clusters.
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    account: String,
    /// Seed of every key, id and secret: a number, or `random`.
    #[arg(long, default_value_t = DEFAULT_SEED.to_string())]
    seed: String,
    /// Reject unsigned IAM calls with MissingAuthenticationToken, as AWS does.
    #[arg(long)]
    strict_auth: bool,
    /// Fetch the discovery document and JWKS of token issuers the harness
    /// does not host, over HTTPS, as STS does; off by default.
    #[arg(long)]
    allow_remote_issuers: bool,
    /// A PEM file of CA certificates that remote issuers' chains may end
    /// at, beside the system's and the harness's own (repeatable).
    #[arg(long = "trust-ca", value_name = "FILE")]
    trust_ca: Vec<PathBuf>,
    /// Reach HOST:PORT at ADDR when fetching remote issuers, as curl's
    /// --resolve (repeatable).
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Check every issuer's TLS chain against its provider's thumbprints, as
    /// IAM did before mid-2023, even when a trusted CA signed the chain.
    #[arg(long)]
    thumbprint_pinning: bool,
    /// Serve a scenario's world after its setup steps (its steps are not run).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Keep the world in this file: read on start when it exists, written
    /// after every change before the reply.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Start a new world even though the --state file exists, replacing it.
    #[arg(long, requires = "state")]
    reset_state: bool,
    /// Allow --listen and --tls-listen on addresses other than loopback.
    /// The harness accepts forged IAM credentials, so anyone who can reach
    /// it can change its world.
    #[arg(long)]
    allow_non_loopback: bool,
}

#[derive(Args)]
struct TokenArgs {
    /// URL of a running harness, e.g. http://127.0.0.1:7460.
    #[arg(long)]
    endpoint: String,
    /// Name of the cluster whose key signs the token.
    #[arg(long)]
    cluster: String,
    /// Namespace of the service account.
    #[arg(long)]
    namespace: String,
    /// Name of the service account.
    #[arg(long)]
    service_account: String,
    /// Token audience (repeatable); sts.amazonaws.com when none is given.
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// Seconds until the token expires; negative gives an expired token.
    /// 86400 when absent, or the lifetime of the pod's aws-iam-token volume.
    #[arg(long, allow_negative_numbers = true)]
    expires_in: Option<i64>,
    /// Pod name to bind the token to; a pod of the cluster with an
    /// aws-iam-token volume gives the audience and lifetime of its volume.
    #[arg(long)]
    pod: Option<String>,
}

/// Every request allocates many short-lived strings and maps, so the
/// allocator is a measured share of a request's cost: mimalloc's fast path
/// is several times shorter than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `exec` shares stderr with the command it runs, so it logs only
    // warnings unless RUST_LOG asks for more.
    let default_filter = match cli.command {
        Command::Exec(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let cli = match cli.command {
        Command::Run(args) => return run(args),
        Command::Explain(args) => return explain(args),
        Command::Kube(args) => return runtime.block_on(kube(args.command)),
        Command::Pod(args) => return runtime.block_on(pod(args.command)),
        Command::Exec(args) => return runtime.block_on(exec(args)),
        command => Cli { command },
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(_)
            | Command::Explain(_)
            | Command::Kube(_)
            | Command::Pod(_)
            | Command::Exec(_) => {
                unreachable!("handled above")
            }
            Command::Serve(args) => serve(args).await,
            Command::Token(args) => token(args).await,
            Command::Thumbprint(args) => {
                let line = oidc_sts_harness::tls::run_thumbprint_command(
                    &args.url,
                    args.cacert,
                    args.resolve,
                )
                .await?;
                println!("{line}");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    check_binding(&args)?;
    let saved = saved_world(&args)?;
    let seed = match &saved {
        Some(world) => world.seed(),
        None => parse_seed(&args.seed)?,
    };
    if !oidc_sts_harness::aws::arn::is_account_id(&args.account) {
        bail!(
            "invalid --account {:?}: use a 12-digit account id",
            args.account
        );
    }
    let options = ServerOptions {
        strict_auth: args.strict_auth,
        thumbprint_pinning: args.thumbprint_pinning,
        ..ServerOptions::default()
    };
    let state = match (&args.scenario, saved) {
        (Some(path), _) => scenario_state(path, Some(&args), options).await?,
        (None, saved) => {
            let clock = Arc::new(SystemClock);
            let restored = saved.is_some();
            let mut world = saved.unwrap_or_else(|| World::new(seed, &args.account));
            for text in &args.clusters {
                let spec = ClusterSpec::parse(text).map_err(anyhow::Error::msg)?;
                // A saved world keeps its clusters; --cluster adds only
                // the ones it lacks.
                if restored && world.clusters().iter().any(|c| c.name == spec.name) {
                    continue;
                }
                let now = oidc_sts_harness::clock::Clock::now(clock.as_ref());
                world.add_cluster(&spec, now).map_err(anyhow::Error::msg)?;
            }
            // Only the clusters added above get a node role, because a
            // restored world's node roles are as saved, deleted ones included.
            world.create_node_roles(oidc_sts_harness::clock::Clock::now(clock.as_ref()));
            let options = ServerOptions {
                remote: remote_config(&args, seed).await?,
                ..options
            };
            AppState::new(world, clock, options)
        }
    };
    if let Some(path) = &args.state {
        state.set_state_file(oidc_sts_harness::persist::StateFile::new(path));
        // Written at once, so the seed (also a random one) and the
        // clusters survive a restart before any change.
        state.save_state()?;
        tracing::info!(state = %path.display(), "saving the world after every change");
    }
    for cluster in state.read().clusters() {
        tracing::info!(cluster = %cluster.name, issuer = %cluster.issuer.url(), "cluster ready");
    }
    let listener = oidc_sts_harness::listener::bind(args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, seed, "serving");
    println!("listening on http://{addr}");

    let (stop, _) = tokio::sync::watch::channel(false);
    let stopped = |stop: &tokio::sync::watch::Sender<bool>| {
        let mut receiver = stop.subscribe();
        async move {
            let _ = receiver.wait_for(|stopped| *stopped).await;
        }
    };
    let http = tokio::spawn(oidc_sts_harness::server::serve(
        listener,
        state.clone(),
        stopped(&stop),
    ));
    let https = match args.tls_listen {
        Some(tls_addr) => {
            let ca_file = args.ca_file.unwrap_or_else(|| {
                std::env::temp_dir().join(format!("oidc-sts-harness-ca-{seed}.pem"))
            });
            let tls_listener = start_tls(tls_addr, &ca_file, state.clone()).await?;
            let app = oidc_sts_harness::server::app(state.clone());
            Some(tokio::spawn(oidc_sts_harness::tls::serve_tls(
                tls_listener.0,
                tls_listener.1,
                app,
                stopped(&stop),
            )))
        }
        None => None,
    };

    shutdown_signal().await;
    // Open teaching pages hold event streams; end them so the listeners stop.
    state.feed().close();
    let _ = stop.send(true);
    http.await
        .context("HTTP listener task failed")?
        .context("HTTP listener failed")?;
    if let Some(https) = https {
        https
            .await
            .context("HTTPS listener task failed")?
            .context("HTTPS listener failed")?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Refuses addresses other than loopback unless `--allow-non-loopback`,
/// and warns when it is given for one.
fn check_binding(args: &ServeArgs) -> anyhow::Result<()> {
    let exposed: Vec<SocketAddr> = std::iter::once(args.listen)
        .chain(args.tls_listen)
        .filter(|addr| !addr.ip().is_loopback())
        .collect();
    if exposed.is_empty() {
        return Ok(());
    }
    let list = exposed
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if !args.allow_non_loopback {
        bail!(
            "refusing to listen on {list}, which is not a loopback address: the harness accepts forged credentials (it does not check IAM signatures), so anyone who reaches it can change its world. Listen on 127.0.0.1, or add --allow-non-loopback if the network is yours alone"
        );
    }
    eprintln!(
        "warning: listening on {list}, beyond loopback. oidc-sts-harness is a test tool: it accepts forged credentials by design (IAM signatures are not checked), so anyone who can reach these addresses can create providers and roles and obtain credentials"
    );
    Ok(())
}

/// The world saved in the `--state` file, when the file exists and
/// `--reset-state` is not given. A file that cannot be read is an error,
/// never replaced silently.
fn saved_world(args: &ServeArgs) -> anyhow::Result<Option<World>> {
    let Some(path) = &args.state else {
        return Ok(None);
    };
    if args.reset_state {
        return Ok(None);
    }
    if args.scenario.is_some() && path.exists() {
        bail!(
            "{} exists, and --scenario would replace its world; add --reset-state to start the scenario's world in its place, or leave out --scenario to continue the saved one",
            path.display()
        );
    }
    let world = oidc_sts_harness::persist::StateFile::new(path).load()?;
    if let Some(world) = &world {
        if args.seed != DEFAULT_SEED.to_string() && args.seed != world.seed().to_string() {
            eprintln!(
                "warning: {} holds seed {}; it wins over --seed {} (add --reset-state to start anew)",
                path.display(),
                world.seed(),
                args.seed
            );
        }
        if args.account != DEFAULT_ACCOUNT && args.account != world.default_account() {
            eprintln!(
                "warning: {} has default account {}; it wins over --account {}",
                path.display(),
                world.default_account(),
                args.account
            );
        }
    }
    Ok(world)
}

/// Binds the HTTPS listener, writes the CA file and prints the two lines
/// that report HTTPS is ready.
async fn start_tls(
    addr: SocketAddr,
    ca_file: &std::path::Path,
    state: Arc<AppState>,
) -> anyhow::Result<(TcpListener, Arc<rustls::ServerConfig>)> {
    let seed = state.seed();
    // Generating the chain's RSA keys takes a fraction of a second of CPU,
    // so it runs off the async workers.
    let ca = tokio::task::spawn_blocking(move || {
        oidc_sts_harness::tls::CertificateAuthority::generate(seed)
    })
    .await
    .context("CA generation task failed")?
    .context("cannot build the HTTPS certificate chain")?;
    let ca = Arc::new(ca);
    ca.write_root_pem(ca_file)
        .with_context(|| format!("cannot write the CA certificate to {}", ca_file.display()))?;
    let hosts = state.clone();
    let config = oidc_sts_harness::tls::server_config(
        ca,
        Arc::new(move |host: &str| hosts.read().hosts_issuer_on(host)),
    )
    .context("cannot configure TLS")?;
    let listener = oidc_sts_harness::listener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} for HTTPS"))?;
    let tls_addr = listener.local_addr()?;
    println!("listening on https://{tls_addr}");
    println!("ca certificate: {}", ca_file.display());
    tracing::info!(addr = %tls_addr, ca = %ca_file.display(), "serving issuers over HTTPS");
    Ok((listener, config))
}

/// Builds the state of `serve --scenario`: the scenario's world after its
/// setup steps, on the system clock. `--cluster` adds clusters the scenario
/// lacks; `--seed` and `--account` must not contradict it.
async fn scenario_state(
    path: &std::path::Path,
    args: Option<&ServeArgs>,
    options: ServerOptions,
) -> anyhow::Result<Arc<AppState>> {
    use oidc_sts_harness::scenario;
    let mut loaded = scenario::load(path).map_err(|error| anyhow::anyhow!("{error}"))?;
    for text in args.map(|a| a.clusters.as_slice()).unwrap_or_default() {
        let spec = ClusterSpec::parse(text).map_err(anyhow::Error::msg)?;
        if !loaded.world.clusters.iter().any(|c| c.name == spec.name) {
            loaded.world.clusters.push(spec);
        }
    }
    let remote = match args {
        Some(args) => remote_config(args, loaded.seed).await?,
        None => None,
    };
    let built = scenario::run::build_state(&loaded, Arc::new(SystemClock))
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    // The command line's switches add to the scenario's own.
    let options = ServerOptions {
        strict_auth: options.strict_auth,
        thumbprint_pinning: options.thumbprint_pinning || loaded.thumbprint_pinning,
        remote,
        ..options
    };
    let world = std::mem::replace(&mut *built.write(), World::new(0, DEFAULT_ACCOUNT));
    let state = AppState::new(world, Arc::new(SystemClock), options);
    if let Err(step) = scenario::run::apply_setup(&state, &loaded) {
        bail!(
            "setup step {:?} of {} failed: expected {}, got {}",
            step.name,
            path.display(),
            step.expected,
            step.actual.summary()
        );
    }
    tracing::info!(scenario = %loaded.name, "scenario world ready");
    Ok(state)
}

/// Runs `oidc-sts-harness exec`: with `--scenario`, against a harness
/// started in this process on a free loopback port for the command's
/// lifetime.
async fn exec(args: ExecArgs) -> ExitCode {
    use oidc_sts_harness::exec::{self, EXIT_EXEC_FAILED, ExecOptions};
    let mut options = ExecOptions {
        endpoint: args.endpoint.clone().unwrap_or_default(),
        pod: args.pod,
        container: args.container,
        cluster: args.cluster,
        command: args.command,
    };
    let mut server = None;
    if let Some(path) = &args.scenario {
        match start_exec_server(path).await {
            Ok((endpoint, stop, task)) => {
                options.endpoint = endpoint;
                server = Some((stop, task));
            }
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::from(EXIT_EXEC_FAILED as u8);
            }
        }
    }
    let code = match exec::run(&options).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_EXEC_FAILED
        }
    };
    if let Some((stop, task)) = server {
        let _ = stop.send(());
        let _ = task.await;
    }
    ExitCode::from(u8::try_from(code).unwrap_or(EXIT_EXEC_FAILED as u8))
}

/// Serves a scenario's world on a free loopback port; returns the endpoint
/// URL, the sender that stops the server and its task.
async fn start_exec_server(
    path: &std::path::Path,
) -> anyhow::Result<(
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let state = scenario_state(path, None, ServerOptions::default()).await?;
    let listener = oidc_sts_harness::listener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .context("cannot listen on a loopback port")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(oidc_sts_harness::server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Ok((endpoint, stop, task))
}

/// Runs `oidc-sts-harness explain`.
fn explain(args: ExplainArgs) -> ExitCode {
    use oidc_sts_harness::explain::{self, ExplainInput};
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))
    };
    let result = (|| {
        let trust_policy = read(&args.trust_policy)?;
        let claims = match (&args.token, &args.claims) {
            (Some(token), _) => explain::claims_of_token(&read(token)?)?,
            (None, Some(claims)) => match serde_json::from_str(&read(claims)?) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => {
                    return Err(format!(
                        "{} holds JSON that is not an object of claims",
                        claims.display()
                    ));
                }
                Err(error) => return Err(format!("{} is not JSON: {error}", claims.display())),
            },
            (None, None) => unreachable!("clap requires --token or --claims"),
        };
        explain::explain(&ExplainInput {
            trust_policy: &trust_policy,
            claims,
            role_arn: args.role_arn.as_deref(),
            client_id: &args.client_id,
            now: time::OffsetDateTime::now_utc(),
        })
    })();
    match result {
        Ok(explanation) => {
            match args.format {
                ExplainFormat::Human => emit(&explain::render_human(&explanation)),
                ExplainFormat::Json => emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&explanation).unwrap_or_default()
                )),
            }
            if explanation.decision == "allow" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs `oidc-sts-harness run`.
fn run(args: RunArgs) -> ExitCode {
    use oidc_sts_harness::scenario::{self, report};
    if args.explain && !matches!(args.format, Format::Human) {
        eprintln!(
            "error: --explain draws the human report; use it without --format, or with --format human"
        );
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    let mut invalid = Vec::new();
    for path in &args.paths {
        if let Err(error) = collect_scenarios(path, &mut files) {
            invalid.push(report::InvalidFile {
                path: path.display().to_string(),
                message: format!("{}: {error}", path.display()),
            });
        }
    }
    let mut scenarios = Vec::new();
    for file in files {
        match scenario::load(&file) {
            Ok(loaded) => scenarios.push(loaded),
            Err(error) => invalid.push(report::InvalidFile {
                path: file.display().to_string(),
                message: error.to_string(),
            }),
        }
    }
    for file in &invalid {
        eprintln!("error: {}", file.message);
    }
    if let Some(filter) = &args.filter {
        scenarios.retain(|s| {
            s.name.contains(filter.as_str())
                || s.path.display().to_string().contains(filter.as_str())
        });
    }
    if scenarios.is_empty() && invalid.is_empty() {
        match &args.filter {
            Some(filter) => eprintln!("error: no scenario's name or path contains {filter:?}"),
            None => eprintln!("error: no scenario files (*.yaml, *.yml) found"),
        }
        return ExitCode::from(2);
    }
    let reports = scenario::run::run_all(&scenarios);
    let style = report::Style {
        color: std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut text = String::new();
    match args.format {
        Format::Human => {
            for one in &reports {
                text.push_str(&report::human_with(one, style, args.explain));
            }
            text.push_str(&report::summary(&reports));
            text.push('\n');
        }
        Format::Json => {
            for file in &invalid {
                text.push_str(&report::json_invalid(file));
                text.push('\n');
            }
            for one in &reports {
                text.push_str(&report::json(one));
                text.push('\n');
            }
        }
        Format::Junit => text.push_str(&report::junit(&reports, &invalid)),
    }
    emit(&text);
    if !invalid.is_empty() {
        ExitCode::from(2)
    } else if reports.iter().all(|r| r.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Writes a report to stdout. A reader that closed the pipe early (`| head`)
/// is not an error of the run, so the exit code stays the run's own.
fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write the report: {error}");
    }
}

/// Adds `path` (a file) or every *.yaml and *.yml under it (a folder), in
/// sorted order.
fn collect_scenarios(path: &std::path::Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_scenarios(&entry, files)?;
        } else if entry
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(entry);
        }
    }
    Ok(())
}

/// The remote-issuer settings of `serve`, or `None` without
/// `--allow-remote-issuers`.
async fn remote_config(
    args: &ServeArgs,
    seed: u64,
) -> anyhow::Result<Option<oidc_sts_harness::oidc::remote::RemoteConfig>> {
    if !args.allow_remote_issuers {
        if !args.trust_ca.is_empty() || !args.resolve.is_empty() {
            bail!("--trust-ca and --resolve apply to remote issuers; add --allow-remote-issuers");
        }
        return Ok(None);
    }
    let resolve = args
        .resolve
        .iter()
        .map(|text| oidc_sts_harness::tls::parse_resolve(text))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let extra = args.trust_ca.clone();
    // The harness's own CA joins the roots; building it takes a fraction of
    // a second of CPU, so it runs off the async workers.
    let roots = tokio::task::spawn_blocking(move || {
        oidc_sts_harness::oidc::remote::trusted_roots(seed, &extra)
    })
    .await
    .context("root store task failed")?
    .map_err(anyhow::Error::msg)?;
    tracing::info!(roots = roots.len(), "remote issuers enabled");
    Ok(Some(oidc_sts_harness::oidc::remote::RemoteConfig {
        roots: Arc::new(roots),
        resolve,
    }))
}

fn parse_seed(text: &str) -> anyhow::Result<u64> {
    if text == "random" {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let digest =
            oidc_sts_harness::seed::derive(nanos as u64, &[&std::process::id().to_string()]);
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        return Ok(u64::from_be_bytes(bytes));
    }
    text.parse()
        .with_context(|| format!("invalid --seed {text:?}: use a whole number or `random`"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let url = format!("{}/_harness/token", args.endpoint.trim_end_matches('/'));
    let body = serde_json::json!({
        "cluster": args.cluster,
        "namespace": args.namespace,
        "service_account": args.service_account,
        "audiences": args.audiences,
        "expires_in": args.expires_in,
        "pod": args.pod,
    });
    let response = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .with_context(|| {
            format!("cannot reach the harness at {url}; is `oidc-sts-harness serve` running there?")
        })?;
    let status = response.status();
    let reply: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{url} did not answer with JSON"))?;
    if !status.is_success() {
        let message = reply["message"].as_str().unwrap_or("no message");
        bail!("the harness rejected the token request ({status}): {message}");
    }
    let Some(token) = reply["token"].as_str() else {
        bail!("the harness responded without a token: {reply}");
    };
    println!("{token}");
    Ok(())
}

/// Reads a manifest file, or stdin for `-`.
fn read_manifests(path: &std::path::Path) -> Result<String, String> {
    if path == std::path::Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|error| format!("cannot read manifests from stdin: {error}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read manifest file {}: {error}", path.display()))
}

/// Runs a kube command; exit 0 when every change went through, 1 when the
/// harness rejected one, 2 when the command could not run.
async fn kube(command: KubeCommand) -> ExitCode {
    use oidc_sts_harness::kube::client::{self, DeleteTarget};
    let result = match command {
        KubeCommand::Apply { target, file } => match read_manifests(&file) {
            Ok(yaml) => client::apply(&target.endpoint, target.cluster.as_deref(), yaml).await,
            Err(message) => Err(message),
        },
        KubeCommand::Delete {
            target,
            file,
            kind,
            reference,
        } => {
            let what = match (file, kind, reference) {
                (Some(file), _, _) => read_manifests(&file).map(DeleteTarget::Manifests),
                (None, Some(kind), Some(reference)) => Ok(DeleteTarget::Object { kind, reference }),
                _ => Err("name the objects with -f FILE or KIND NS/NAME".to_owned()),
            };
            match what {
                Ok(what) => client::delete(&target.endpoint, target.cluster.as_deref(), what).await,
                Err(message) => Err(message),
            }
        }
        KubeCommand::RolloutRestart { target, reference } => {
            client::rollout_restart(&target.endpoint, target.cluster.as_deref(), &reference).await
        }
    };
    match result {
        Ok(output) => {
            for line in &output.stdout {
                println!("{line}");
            }
            for line in &output.stderr {
                eprintln!("{line}");
            }
            if output.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs a pod command.
async fn pod(command: PodCommand) -> ExitCode {
    let PodCommand::Show { target, reference } = command;
    let result = oidc_sts_harness::kube::client::pod_show(
        &target.endpoint,
        target.cluster.as_deref(),
        &reference,
    )
    .await;
    match result {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
