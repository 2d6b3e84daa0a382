//! The `oidc-sts-harness` command line: parses flags and calls the library.

use std::net::SocketAddr;
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
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on; 127.0.0.1:0 picks a free port.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
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
    #[arg(long, default_value_t = 86_400, allow_negative_numbers = true)]
    expires_in: i64,
    /// Pod name to bind the token to.
    #[arg(long)]
    pod: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Token(args) => token(args).await,
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
    let seed = parse_seed(&args.seed)?;
    if !oidc_sts_harness::aws::arn::is_account_id(&args.account) {
        bail!(
            "invalid --account {:?}: use a 12-digit account id",
            args.account
        );
    }
    let clock = Arc::new(SystemClock);
    let mut world = World::new(seed, &args.account);
    for text in &args.clusters {
        let spec = ClusterSpec::parse(text).map_err(anyhow::Error::msg)?;
        let now = oidc_sts_harness::clock::Clock::now(clock.as_ref());
        let cluster = world.add_cluster(&spec, now).map_err(anyhow::Error::msg)?;
        tracing::info!(cluster = %cluster.name, issuer = %cluster.issuer.url(), "cluster ready");
    }
    let options = ServerOptions {
        strict_auth: args.strict_auth,
    };
    let state = AppState::new(world, clock, options);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, seed, "serving");
    println!("listening on http://{addr}");
    oidc_sts_harness::server::serve(listener, state, shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
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
        bail!("the harness answered without a token: {reply}");
    };
    println!("{token}");
    Ok(())
}
