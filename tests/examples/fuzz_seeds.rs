//! Writes the seed corpora of the fuzz targets into `fuzz/corpus/<target>/`.
//!
//! Run it when the scenario library or the token fixtures change:
//! `cargo run -p harness-e2e --example fuzz_seeds`. It signs a handful of
//! tokens with the key of the fuzzing world (seed 7, the walkthrough's
//! cluster), which is the only RSA signing fuzzing ever does, copies the
//! scenario library, and takes trust policies and request bodies from the
//! scenarios' IAM steps and from the hostile-token fixtures.
//!
//! It lives in the end-to-end crate rather than in `fuzz/` because it needs
//! no fuzzing instrumentation and reuses this workspace's build.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use oidc_sts_harness::Harness;
use oidc_sts_harness::clock::FixedClock;
use oidc_sts_harness::oidc::mint::{self, TokenRequest};
use oidc_sts_harness::oidc::{KeyAlgorithm, SigningKey};
use oidc_sts_harness::scenario::model::Action;

/// These match `fuzz/src/lib.rs`, whose world the seed tokens must verify in.
const SEED: u64 = 7;
const CLUSTER: &str = "demo@ap-northeast-2/C891F985BAF5A4C1C7ABBA6A00DFD39E";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/app";
const NOW: i64 = 1_767_225_600;

fn main() -> std::io::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository");
    let mut corpus = Corpus::new(repo.join("fuzz/corpus"));

    let tokens = tokens(repo)?;
    for token in &tokens {
        corpus.add("jwt", token.as_bytes())?;
        let body = form_body(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "fuzz"),
            ("WebIdentityToken", token),
        ]);
        corpus.add("sts_request", body.as_bytes())?;
    }
    let genuine = &tokens[0];
    for extra in [
        ("DurationSeconds", "900"),
        ("DurationSeconds", "99999999999999999999"),
        ("Policy", "{\"Version\":\"2012-10-17\"}"),
        (
            "PolicyArns.member.1.arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        ("ProviderId", "www.amazon.com"),
        ("Action", "GetCallerIdentity"),
    ] {
        let body = form_body(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "fuzz"),
            ("WebIdentityToken", genuine),
            extra,
        ]);
        corpus.add("sts_request", body.as_bytes())?;
    }

    let mut scenarios = Vec::new();
    collect_yaml(&repo.join("scenarios"), &mut scenarios)?;
    for path in &scenarios {
        let text = std::fs::read(path)?;
        corpus.add("scenario", &text)?;
        let Ok(loaded) = oidc_sts_harness::scenario::load(path) else {
            continue;
        };
        for step in loaded.setup.iter().chain(&loaded.steps) {
            let Action::Iam(call) = &step.action else {
                continue;
            };
            let mut pairs = vec![("Action", call.action.as_str()), ("Version", "2010-05-08")];
            pairs.extend(call.params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            corpus.add("query", form_body(&pairs).as_bytes())?;
            for (name, value) in &call.params {
                if name == "AssumeRolePolicyDocument" || name == "PolicyDocument" {
                    corpus.add("policy", value.as_bytes())?;
                }
            }
        }
    }
    for body in [
        &b"Action=ListRoles&Version=2010-05-08&Marker=a&MaxItems=1"[..],
        b"A=a+b%2B&A=c&L.member.1=x&L.member.10=y&L=",
        b"Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=&Tags.member.x.Value=v",
        b"%ff%fe=%c3%28&\xff=\xfe",
    ] {
        corpus.add("query", body)?;
    }
    println!("{}", corpus.report());
    Ok(())
}

/// The genuine token first, then forgeries that reach each check once.
fn tokens(repo: &Path) -> std::io::Result<Vec<String>> {
    let state = Harness::builder()
        .seed(SEED)
        .cluster(CLUSTER)
        .clock(std::sync::Arc::new(FixedClock::at_unix(NOW)))
        .build_state()
        .map_err(std::io::Error::other)?;
    let world = state.read();
    let issuer = world.clusters()[0].issuer.clone();
    let key = issuer.signing_key().clone();
    let now = state.now();
    let claims = mint::projected_claims(
        &issuer,
        world.seed(),
        now,
        &TokenRequest::new("default", "app"),
    );
    let header = mint::default_header(&key);
    let mut tokens = vec![mint::sign(&key, &header, &claims)];

    let mut expired = TokenRequest::new("default", "app");
    expired.lifetime_seconds = -10;
    tokens.push(mint::mint(&issuer, world.seed(), now, &expired));
    let mut other = TokenRequest::new("kube-system", "admin");
    other.audiences = vec!["other".into(), "sts.amazonaws.com".into()];
    tokens.push(mint::mint(&issuer, world.seed(), now, &other));

    let ec = SigningKey::derived_for(KeyAlgorithm::ES256, SEED, &["fuzz"]);
    tokens.push(mint::sign(&ec, &mint::default_header(&ec), &claims));
    let mut none = header.clone();
    none.insert("alg".into(), "none".into());
    let unsigned = mint::sign(&key, &none, &claims);
    tokens.push(unsigned.clone());
    let parts: Vec<&str> = unsigned.split('.').collect();
    tokens.push(format!("{}.{}.", parts[0], parts[1]));
    tokens.push(format!(
        "{}.{}.{}.{}.{}",
        parts[0], parts[1], parts[2], parts[2], parts[2]
    ));

    let fixtures = std::fs::read_to_string(repo.join("tests/e2e/attacks/tokens.json"))?;
    let fixtures: serde_json::Value =
        serde_json::from_str(&fixtures).map_err(std::io::Error::other)?;
    if let Some(map) = fixtures.as_object() {
        tokens.extend(map.values().filter_map(|v| v.as_str()).map(str::to_owned));
    }
    Ok(tokens)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Seed files by target, named by a hash of their bytes as libFuzzer does.
struct Corpus {
    root: PathBuf,
    written: BTreeSet<(String, String)>,
}

impl Corpus {
    fn new(root: PathBuf) -> Self {
        Corpus {
            root,
            written: BTreeSet::new(),
        }
    }

    fn add(&mut self, target: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir)?;
        let name = hex(oidc_sts_harness::seed::derive(
            0,
            &[&String::from_utf8_lossy(bytes)],
        ));
        std::fs::write(dir.join(&name), bytes)?;
        self.written.insert((target.to_owned(), name));
        Ok(())
    }

    fn report(&self) -> String {
        let mut counts = std::collections::BTreeMap::new();
        for (target, _) in &self.written {
            *counts.entry(target.as_str()).or_insert(0) += 1;
        }
        counts
            .iter()
            .map(|(target, n)| format!("{target}: {n} seeds"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn hex(bytes: [u8; 32]) -> String {
    bytes[..20].iter().map(|b| format!("{b:02x}")).collect()
}

/// Form-encodes name-value pairs the way SDKs do.
fn form_body(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}
