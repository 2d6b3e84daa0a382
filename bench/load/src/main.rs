//! A bounded load generator for the harness and for peer emulators, on
//! loopback only.
//!
//! `run` keeps `--concurrency` HTTP/1.1 keep-alive connections busy with one
//! kind of request for `--seconds` (or until `--max-requests`), then prints
//! requests per second, the p50, p99 and maximum latency, the status codes
//! seen, and, for a server given by `--pid`, the CPU time it spent per
//! request (utime + stime from `/proc/PID/stat`, before and after) and its
//! peak resident memory (`VmHWM` from `/proc/PID/status`).
//!
//! `setup` creates the same OIDC provider and role on any server that
//! speaks the IAM query API, so the harness and a peer answer the same
//! calls. `populate` fills a server with providers and roles over many
//! accounts. `startup` starts a server process and times it from spawn to
//! its first answered IAM request, then reads its resident memory.
//!
//! The requests carry a syntactically valid but fake SigV4 `Authorization`
//! header: peers route by the credential scope in it, and neither the
//! harness nor the peers check IAM signatures. A purpose-made tool (`wrk`,
//! `oha`) is not used because the figures must include the server's own CPU
//! accounting and the same requests against every server, in one program
//! that CI's toolchain builds.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::net::TcpStream;

/// Linux reports utime and stime in USER_HZ ticks, 100 a second on every
/// architecture the project builds on.
const TICKS_PER_SECOND: f64 = 100.0;
/// The fake access key of every request; AWS documents it as an example.
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const ROLE_NAME: &str = "bench-role";
const SUB: &str = "system:serviceaccount:default:bench";

#[derive(Parser)]
#[command(about = "Bounded loopback load generator for oidc-sts-harness and its peers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive one kind of request and print the figures.
    Run(RunArgs),
    /// Create the bench's OIDC provider and role on a server.
    Setup {
        /// Server address, such as 127.0.0.1:7460.
        #[arg(long)]
        target: SocketAddr,
        /// The issuer URL the provider registers.
        #[arg(long)]
        issuer: String,
        /// The account to create them in.
        #[arg(long, default_value = "123456789012")]
        account: String,
    },
    /// Create `--accounts` accounts with `--per-account` providers and
    /// roles each.
    Populate {
        #[arg(long)]
        target: SocketAddr,
        #[arg(long, default_value_t = 100)]
        accounts: u32,
        #[arg(long, default_value_t = 100)]
        per_account: u32,
    },
    /// Start a server and time it to its first answered IAM request.
    Startup {
        /// Address the server will listen on.
        #[arg(long)]
        target: SocketAddr,
        /// How many times to start it.
        #[arg(long, default_value_t = 5)]
        runs: u32,
        /// The server command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

#[derive(Parser)]
struct RunArgs {
    /// Server address, such as 127.0.0.1:7460.
    #[arg(long)]
    target: SocketAddr,
    /// What to send.
    #[arg(long, value_enum)]
    call: Call,
    #[arg(long, default_value_t = 1)]
    concurrency: u32,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// A hard cap on requests, whatever the time.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// The web identity token (for the STS calls).
    #[arg(long, default_value = "")]
    token: String,
    /// The issuer URL (for the JWKS call).
    #[arg(long, default_value = "")]
    issuer: String,
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// The server's process id, for its CPU time and peak memory.
    #[arg(long)]
    pid: Option<u32>,
    /// A label for the output line, such as the server's name.
    #[arg(long, default_value = "server")]
    label: String,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Call {
    /// AssumeRoleWithWebIdentity with the given token.
    StsValid,
    /// AssumeRoleWithWebIdentity with the token's signature changed.
    StsInvalid,
    /// IAM ListOpenIDConnectProviders.
    ListProviders,
    /// GET of the issuer's JWKS, by Host header.
    Jwks,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::StsValid => "sts-valid",
            Call::StsInvalid => "sts-invalid",
            Call::ListProviders => "list-providers",
            Call::Jwks => "jwks",
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // One thread drives every connection: the machine has two cores, and a
    // second load thread would take the server's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(args).await,
            Command::Setup {
                target,
                issuer,
                account,
            } => setup(target, &issuer, &account).await,
            Command::Populate {
                target,
                accounts,
                per_account,
            } => populate(target, accounts, per_account).await,
            Command::Startup {
                target,
                runs,
                command,
            } => startup(target, runs, &command).await,
        }
    })
}

/// Refuses any address off the loopback range.
fn check_loopback(target: SocketAddr) -> Result<()> {
    let loopback = match target.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    };
    if !loopback {
        bail!(
            "{target} is not a loopback address; the load generator only sends to 127.0.0.0/8 or ::1"
        );
    }
    Ok(())
}

/// One request, ready to send many times.
#[derive(Clone)]
struct Prepared {
    method: Method,
    host: String,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Prepared {
    fn build(&self) -> Result<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header("host", &self.host);
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        Ok(builder.body(Full::new(self.body.clone()))?)
    }
}

/// Characters the AWS SDKs escape in a query body: all but RFC 3986's
/// unreserved ones, so a token's `.`, `-` and `_` go as they are, just as
/// a real client sends them.
const QUERY_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A form-encoded AWS query call, with a fake SigV4 header naming
/// `service` in its scope and `access_key` as the key.
fn query(target: SocketAddr, service: &str, access_key: &str, pairs: &[(&str, &str)]) -> Prepared {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_ESCAPED)))
        .collect();
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20261204/us-east-1/{service}/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={}",
        "0".repeat(64)
    );
    Prepared {
        method: Method::POST,
        host: target.to_string(),
        path: "/".into(),
        headers: vec![
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ),
            ("x-amz-date", "20261204T000000Z".into()),
            ("authorization", authorization),
        ],
        body: Bytes::from(body.join("&")),
    }
}

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE_NAME}")
}

fn prepare(args: &RunArgs) -> Result<Prepared> {
    let sts = |token: &str| {
        query(
            args.target,
            "sts",
            ACCESS_KEY,
            &[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", "2011-06-15"),
                ("RoleArn", &role_arn(&args.account)),
                ("RoleSessionName", "bench"),
                ("WebIdentityToken", token),
            ],
        )
    };
    Ok(match args.call {
        Call::StsValid | Call::StsInvalid if args.token.is_empty() => {
            bail!("--call {} needs --token", args.call.name())
        }
        Call::StsValid => sts(&args.token),
        Call::StsInvalid => sts(&tampered_signature(&args.token)?),
        Call::ListProviders => query(
            args.target,
            "iam",
            ACCESS_KEY,
            &[
                ("Action", "ListOpenIDConnectProviders"),
                ("Version", "2010-05-08"),
            ],
        ),
        Call::Jwks => {
            let Some(rest) = args.issuer.strip_prefix("https://") else {
                bail!("--call jwks needs --issuer https://HOST/PATH");
            };
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            Prepared {
                method: Method::GET,
                host: host.to_owned(),
                path: format!("/{path}/keys").replace("//", "/"),
                headers: Vec::new(),
                body: Bytes::new(),
            }
        }
    })
}

/// Latencies in microseconds and status counts of one connection.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    statuses: std::collections::BTreeMap<u16, u64>,
    errors: u64,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(target: SocketAddr) -> Result<Sender> {
    let stream = TcpStream::connect(target)
        .await
        .with_context(|| format!("cannot connect to {target}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One client: sends `request` over a keep-alive connection until the
/// deadline or the shared budget runs out. A server that closes the
/// connection (moto's does after every response) gets a new one, and the
/// time to connect counts in that request's latency, as it would for any
/// client of that server.
async fn connection(
    target: SocketAddr,
    request: Prepared,
    deadline: Instant,
    budget: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> Result<Tally> {
    use std::sync::atomic::Ordering;
    let mut tally = Tally::default();
    let mut sender: Option<Sender> = None;
    while Instant::now() < deadline {
        if budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_err()
        {
            break;
        }
        let start = Instant::now();
        let outcome = async {
            let mut current = match sender.take() {
                Some(open) if !open.is_closed() => open,
                _ => connect(target).await?,
            };
            current.ready().await?;
            let response = current.send_request(request.build()?).await?;
            let status = response.status().as_u16();
            let close = response
                .headers()
                .get("connection")
                .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
            response.into_body().collect().await?;
            anyhow::Ok((status, (!close).then_some(current)))
        }
        .await;
        match outcome {
            Ok((status, open)) => {
                sender = open;
                let micros = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                tally.latencies.push(micros);
                *tally.statuses.entry(status).or_default() += 1;
            }
            Err(_) => {
                // Counted, then retried on a new connection after a pause,
                // so a server that is down does not turn this into a spin.
                tally.errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Ok(tally)
}

/// The process's CPU time so far, in seconds (user + system).
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: count fields
    // after the last ')'. utime and stime are fields 14 and 15.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc/PID/stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11).context("no utime")?.parse()?;
    let stime: f64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime + stime) / TICKS_PER_SECOND)
}

/// A `kB` line of `/proc/PID/status`, such as `VmHWM` or `VmRSS`.
fn status_kb(pid: u32, field: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("no value")?
        .parse()?)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn run(args: RunArgs) -> Result<()> {
    check_loopback(args.target)?;
    if !(0.1..=600.0).contains(&args.seconds) {
        bail!("--seconds {} is out of range: use 0.1 to 600", args.seconds);
    }
    if !(1..=4096).contains(&args.concurrency) {
        bail!(
            "--concurrency {} is out of range: use 1 to 4096",
            args.concurrency
        );
    }
    let request = prepare(&args)?;
    let cpu_before = args.pid.map(cpu_seconds).transpose()?;
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(args.max_requests));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            tokio::spawn(connection(
                args.target,
                request.clone(),
                deadline,
                budget.clone(),
            ))
        })
        .collect();
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await??;
        total.latencies.extend(tally.latencies);
        for (status, count) in tally.statuses {
            *total.statuses.entry(status).or_default() += count;
        }
        total.errors += tally.errors;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_after = args.pid.map(cpu_seconds).transpose()?;
    let peak_kb = args.pid.map(|pid| status_kb(pid, "VmHWM")).transpose()?;
    total.latencies.sort_unstable();
    let requests = total.latencies.len() as u64;
    let cpu_per_request_us = match (cpu_before, cpu_after) {
        (Some(before), Some(after)) if requests > 0 => {
            Some((after - before) * 1e6 / requests as f64)
        }
        _ => None,
    };
    let statuses: serde_json::Map<String, serde_json::Value> = total
        .statuses
        .iter()
        .map(|(status, count)| (status.to_string(), (*count).into()))
        .collect();
    let line = serde_json::json!({
        "label": args.label,
        "call": args.call.name(),
        "concurrency": args.concurrency,
        "seconds": (elapsed * 1000.0).round() / 1000.0,
        "requests": requests,
        "rps": (requests as f64 / elapsed).round(),
        "p50_us": percentile(&total.latencies, 0.50),
        "p99_us": percentile(&total.latencies, 0.99),
        "max_us": total.latencies.last().copied().unwrap_or(0),
        "cpu_us_per_request": cpu_per_request_us.map(|v| (v * 10.0).round() / 10.0),
        "peak_rss_kb": peak_kb,
        "statuses": statuses,
        "errors": total.errors,
    });
    println!("{line}");
    Ok(())
}

/// Sends one request on a fresh connection and returns status and body.
async fn send_once(target: SocketAddr, request: &Prepared) -> Result<(u16, String)> {
    let mut sender = connect(target).await?;
    let response = sender.send_request(request.build()?).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Changes the 11th character of the token's signature. Each character
/// there carries six signature bits, so the token still parses and fails
/// only at the signature check. The last character would not do, because
/// it also carries padding bits that must be zero, and changing it can make
/// the token invalid base64url instead.
fn tampered_signature(token: &str) -> Result<String> {
    let at = token.rfind('.').map_or(0, |dot| dot + 1) + 10;
    let Some(original) = token.get(at..at + 1) else {
        bail!("--token has no signature of 11 or more characters to change");
    };
    let replacement = if original == "A" { "B" } else { "A" };
    let mut tampered = token.to_owned();
    tampered.replace_range(at..at + 1, replacement);
    Ok(tampered)
}

fn trust_policy(account: &str, issuer: &str) -> String {
    let prefix = issuer.trim_start_matches("https://");
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{account}:oidc-provider/{prefix}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{prefix}:sub"): SUB,
                format!("{prefix}:aud"): "sts.amazonaws.com",
            }},
        }],
    })
    .to_string()
}

/// Sends an IAM call and fails on any status but 200.
async fn iam(target: SocketAddr, access_key: &str, pairs: &[(&str, &str)]) -> Result<()> {
    let mut all = pairs.to_vec();
    all.push(("Version", "2010-05-08"));
    let (status, body) = send_once(target, &query(target, "iam", access_key, &all)).await?;
    if status != 200 {
        bail!("{} answered HTTP {status}: {body}", pairs[0].1);
    }
    Ok(())
}

async fn setup(target: SocketAddr, issuer: &str, account: &str) -> Result<()> {
    check_loopback(target)?;
    // Peers take the account from their own configuration; the harness
    // takes a 12-digit key as the account, which keeps both in one account
    // when it is the default.
    iam(
        target,
        ACCESS_KEY,
        &[
            ("Action", "CreateOpenIDConnectProvider"),
            ("Url", issuer),
            ("ClientIDList.member.1", "sts.amazonaws.com"),
            ("ThumbprintList.member.1", &"9".repeat(40)),
        ],
    )
    .await?;
    iam(
        target,
        ACCESS_KEY,
        &[
            ("Action", "CreateRole"),
            ("RoleName", ROLE_NAME),
            ("AssumeRolePolicyDocument", &trust_policy(account, issuer)),
        ],
    )
    .await?;
    println!(
        "created the provider for {issuer} and role {}",
        role_arn(account)
    );
    Ok(())
}

async fn populate(target: SocketAddr, accounts: u32, per_account: u32) -> Result<()> {
    check_loopback(target)?;
    let start = Instant::now();
    for a in 0..accounts {
        // A 12-digit access key id names the account the harness acts in.
        let account = format!("{:012}", 200_000_000_000u64 + u64::from(a));
        for p in 0..per_account {
            let issuer = format!("https://oidc.eks.us-east-1.amazonaws.com/id/{a:016X}{p:016X}");
            iam(
                target,
                &account,
                &[
                    ("Action", "CreateOpenIDConnectProvider"),
                    ("Url", &issuer),
                    ("ClientIDList.member.1", "sts.amazonaws.com"),
                ],
            )
            .await?;
            iam(
                target,
                &account,
                &[
                    ("Action", "CreateRole"),
                    ("RoleName", &format!("role-{p}")),
                    ("AssumeRolePolicyDocument", &trust_policy(&account, &issuer)),
                ],
            )
            .await?;
        }
    }
    println!(
        "created {} providers and {0} roles in {accounts} accounts in {:.1} s",
        u64::from(accounts) * u64::from(per_account),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn startup(target: SocketAddr, runs: u32, command: &[String]) -> Result<()> {
    check_loopback(target)?;
    let probe = query(
        target,
        "iam",
        ACCESS_KEY,
        &[
            ("Action", "ListOpenIDConnectProviders"),
            ("Version", "2010-05-08"),
        ],
    );
    let mut times = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = tokio::process::Command::new(&command[0])
            .args(&command[1..])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", command[0]))?;
        let pid = child.id().context("the server exited at once")?;
        let limit = start + Duration::from_secs(10);
        let answered = loop {
            if let Ok((200, _)) = send_once(target, &probe).await {
                break start.elapsed();
            }
            if Instant::now() > limit {
                let _ = child.kill().await;
                bail!(
                    "`{}` did not respond to an IAM request on {target} within 10 s; run it by hand to see its output",
                    command.join(" ")
                );
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        };
        // Idle memory: after the first answer and a short pause.
        tokio::time::sleep(Duration::from_millis(200)).await;
        idle.push(status_kb(pid, "VmRSS")?);
        times.push(answered);
        child.kill().await?;
    }
    times.sort();
    idle.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
    let line = serde_json::json!({
        "runs": runs,
        "startup_ms_min": ms(times[0]),
        "startup_ms_median": ms(times[times.len() / 2]),
        "startup_ms_max": ms(times[times.len() - 1]),
        "idle_rss_kb_median": idle[idle.len() / 2],
    });
    println!("{line}");
    Ok(())
}
