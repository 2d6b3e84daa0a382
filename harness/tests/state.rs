//! `serve --state FILE` and `serve`'s address checks, with the real binary.
//! A server killed with SIGKILL in the middle of a stream of creates comes
//! back with every create it acknowledged. A node role deleted through IAM
//! stays deleted. Broken, newer and conflicting state files are rejected
//! with the file named. Addresses beyond loopback need
//! `--allow-non-loopback`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn harness() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oidc-sts-harness"));
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn");
    command
}

/// A running `serve`, killed when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = harness()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .expect("serve prints a line")
            .expect("stdout is UTF-8");
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Served { child, addr }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; returns status and body, or
/// `None` when the server is gone.
fn request(addr: &str, method: &str, path: &str, host: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let status = reply.get(9..12)?.parse().ok()?;
    let body = reply.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn iam(addr: &str, body: &str) -> Option<(u16, String)> {
    request(addr, "POST", "/", "iam.amazonaws.com", body)
}

fn create_provider(addr: &str, url: &str) -> Option<(u16, String)> {
    let body = format!(
        "Action=CreateOpenIDConnectProvider&Version=2010-05-08&Url={}&ClientIDList.member.1=sts.amazonaws.com&Tags.member.1.Key=k&Tags.member.1.Value=v",
        encode(url)
    );
    iam(addr, &body)
}

fn create_role(addr: &str, name: &str) -> Option<(u16, String)> {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/p.example"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}&Tags.member.1.Key=team&Tags.member.1.Value=a",
        encode(policy)
    );
    iam(addr, &body)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn jwks(addr: &str) -> String {
    let (status, body) = request(
        addr,
        "GET",
        "/id/C891F985BAF5A4C1C7ABBA6A00DFD39E/keys",
        "oidc.eks.ap-northeast-2.amazonaws.com",
        "",
    )
    .expect("the issuer answers");
    assert_eq!(status, 200, "{body}");
    body
}

const CLUSTER: &str = "demo@ap-northeast-2/C891F985BAF5A4C1C7ABBA6A00DFD39E";

#[test]
fn kill_during_creates_keeps_every_acknowledged_one() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("world.json");
    let file_arg = file.to_str().expect("a UTF-8 path");
    let mut served = Served::start(&[
        "--state",
        file_arg,
        "--cluster",
        CLUSTER,
        "--seed",
        "random",
    ]);
    let keys_before = jwks(&served.addr);

    // Four clients create providers and roles as fast as they can; each
    // records what the server acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let addr = served.addr.clone();
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (kind, name, reply) = if i % 2 == 0 {
                        let url = format!("https://w{worker}-{i}.example.com");
                        let reply = create_provider(&addr, &url);
                        ("provider", format!("w{worker}-{i}.example.com"), reply)
                    } else {
                        let name = format!("role-{worker}-{i}");
                        let reply = create_role(&addr, &name);
                        ("role", name, reply)
                    };
                    match reply {
                        Some((200, _)) => acknowledged
                            .lock()
                            .expect("no worker panics")
                            .push(format!("{kind} {name}")),
                        Some((status, body)) => panic!("create answered {status}: {body}"),
                        None => break,
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().expect("no worker panics").len() < 80 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL while the workers still send: some writes are in flight.
    served.child.kill().expect("SIGKILL reaches the server");
    served.child.wait().expect("the server is reaped");
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a worker finishes");
    }
    let acknowledged = acknowledged.lock().expect("no worker panics").clone();

    let text = std::fs::read(&file).expect("the state file exists");
    oidc_sts_harness::persist::parse(&text).expect("the state file is valid after SIGKILL");

    let served = Served::start(&["--state", file_arg, "--cluster", CLUSTER]);
    let (_, providers) = iam(
        &served.addr,
        "Action=ListOpenIDConnectProviders&Version=2010-05-08",
    )
    .expect("the restarted server answers");
    let (_, roles) = iam(
        &served.addr,
        "Action=ListRoles&Version=2010-05-08&MaxItems=1000",
    )
    .expect("the restarted server answers");
    for entry in &acknowledged {
        let (kind, name) = entry.split_once(' ').expect("kind and name");
        let found = match kind {
            "provider" => providers.contains(&format!("oidc-provider/{name}<")),
            _ => roles.contains(&format!("<RoleName>{name}</RoleName>")),
        };
        assert!(
            found,
            "{entry} was acknowledged before the kill but is missing"
        );
    }
    // Tags and the random seed's keys came back too.
    let first = acknowledged
        .iter()
        .find_map(|e| e.strip_prefix("provider "))
        .expect("a provider was acknowledged");
    let (_, provider) = iam(
        &served.addr,
        &format!(
            "Action=GetOpenIDConnectProvider&Version=2010-05-08&OpenIDConnectProviderArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Aoidc-provider%2F{first}"
        ),
    )
    .expect("the restarted server answers");
    assert!(provider.contains("<Key>k</Key>"), "{provider}");
    assert_eq!(
        jwks(&served.addr),
        keys_before,
        "keys of a random seed survive"
    );
}

fn serve_fails(args: &[&str]) -> String {
    let output = harness()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("serve runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "serve should refuse {args:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn broken_and_newer_state_files_are_refused_not_replaced() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("world.json");
    std::fs::write(&file, "{\"format\": \"oidc-sts-harness-state\", \"vers").expect("write");
    let stderr = serve_fails(&["--state", path(&file)]);
    assert!(stderr.contains(path(&file)), "{stderr}");
    assert!(stderr.contains("not valid JSON"), "{stderr}");
    assert!(stderr.contains("--reset-state"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "{\"format\": \"oidc-sts-harness-state\", \"vers",
        "a refused file is left as it was"
    );

    std::fs::write(
        &file,
        r#"{"format": "oidc-sts-harness-state", "version": 99}"#,
    )
    .expect("write");
    let stderr = serve_fails(&["--state", path(&file)]);
    assert!(stderr.contains("format version 99"), "{stderr}");
    assert!(stderr.contains(path(&file)), "{stderr}");

    // --reset-state starts anew and replaces the file.
    let served = Served::start(&["--state", path(&file), "--reset-state"]);
    drop(served);
    let text = std::fs::read(&file).expect("read");
    oidc_sts_harness::persist::parse(&text).expect("a new state file");
}

#[test]
fn state_file_wins_and_clusters_and_scenarios_follow_the_rules() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("world.json");
    let served = Served::start(&["--state", path(&file), "--cluster", CLUSTER, "--seed", "41"]);
    assert_eq!(create_role(&served.addr, "kept").map(|r| r.0), Some(200));
    drop(served);

    // The file wins over --seed; --cluster adds a cluster it lacks.
    let served = Served::start(&[
        "--state",
        path(&file),
        "--seed",
        "5",
        "--cluster",
        "other@eu-west-1",
    ]);
    let (_, role) = iam(
        &served.addr,
        "Action=GetRole&Version=2010-05-08&RoleName=kept",
    )
    .expect("the server responds");
    assert!(role.contains("<RoleName>kept</RoleName>"), "{role}");
    for cluster in ["demo", "other"] {
        let (status, body) = request(
            &served.addr,
            "GET",
            &format!("/clusters/{cluster}"),
            "eks",
            "",
        )
        .expect("the server responds");
        assert_eq!(status, 200, "{cluster}: {body}");
    }
    drop(served);
    let saved = oidc_sts_harness::persist::parse(&std::fs::read(&file).expect("read"))
        .expect("a valid file");
    let world = oidc_sts_harness::persist::restore(&saved).expect("a world");
    assert_eq!(world.seed(), 41);
    assert_eq!(world.clusters().len(), 2);

    // --scenario with an existing file needs --reset-state.
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/reference/working-eks-setup.yaml");
    let stderr = serve_fails(&["--state", path(&file), "--scenario", path(&scenario)]);
    assert!(
        stderr.contains(path(&file)) && stderr.contains("--reset-state"),
        "{stderr}"
    );
    let served = Served::start(&[
        "--state",
        path(&file),
        "--scenario",
        path(&scenario),
        "--reset-state",
    ]);
    let (_, role) = iam(
        &served.addr,
        "Action=GetRole&Version=2010-05-08&RoleName=kept",
    )
    .expect("the server responds");
    assert!(
        role.contains("NoSuchEntity"),
        "the old world is gone: {role}"
    );
}

#[test]
fn deleted_node_role_stays_deleted() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("world.json");
    let get_node_role = "Action=GetRole&Version=2010-05-08&RoleName=AmazonEKSNodeRole";
    let served = Served::start(&["--state", path(&file), "--cluster", CLUSTER]);
    let (status, body) = iam(&served.addr, get_node_role).expect("the server responds");
    assert_eq!(status, 200, "a new cluster gets its node role: {body}");
    let (status, body) = iam(
        &served.addr,
        "Action=DeleteRole&Version=2010-05-08&RoleName=AmazonEKSNodeRole",
    )
    .expect("the server responds");
    assert_eq!(status, 200, "{body}");
    drop(served);

    // The same --cluster again: the saved cluster and its roles win.
    let served = Served::start(&["--state", path(&file), "--cluster", CLUSTER]);
    let (status, body) = iam(&served.addr, get_node_role).expect("the server responds");
    assert_eq!(status, 404, "the deleted node role came back: {body}");
    assert!(body.contains("NoSuchEntity"), "{body}");
    drop(served);

    // A cluster the file lacks gets its node role, as on a fresh start.
    let served = Served::start(&["--state", path(&file), "--cluster", "other@eu-west-1"]);
    let (status, body) = iam(&served.addr, get_node_role).expect("the server responds");
    assert_eq!(
        status, 200,
        "the added cluster's node role is missing: {body}"
    );
}

#[test]
fn addresses_beyond_loopback_need_a_flag_and_get_a_warning() {
    // 192.0.2.1 is a documentation address no machine has, so nothing
    // ever listens beyond loopback here.
    let output = harness()
        .args(["serve", "--listen", "192.0.2.1:0"])
        .output()
        .expect("serve runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 192.0.2.1:0"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-non-loopback"), "{stderr}");

    let output = harness()
        .args([
            "serve",
            "--tls-listen",
            "192.0.2.1:0",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("serve runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "the HTTPS address is checked too"
    );

    let output = harness()
        .args(["serve", "--listen", "192.0.2.1:0", "--allow-non-loopback"])
        .output()
        .expect("serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: listening on 192.0.2.1:0")
            && stderr.contains("accepts forged credentials"),
        "{stderr}"
    );
    // The flag lets serve try; this address cannot be bound.
    assert!(stderr.contains("cannot listen on 192.0.2.1:0"), "{stderr}");
}
