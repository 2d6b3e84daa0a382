//! Running a scenario: a fresh world per scenario, built through the same
//! IAM actions a client would call, then each step against the same code
//! paths the server uses, with the result compared to the expectation.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::load::LoadError;
use super::model::{
    Action, AssumeCall, ExpectedError, ExpectedOutcome, ExpectedSuccess, IamCall, MintSource,
    MintSpec, Scenario, SignedBy, Step, TokenSource,
};
use crate::aws::{AwsError, Params};
use crate::clock::{Clock, FixedClock};
use crate::oidc::SigningKey;
use crate::oidc::mint::{self, TokenRequest};
use crate::state::{AppState, ServerOptions};
use crate::sts::{self, Decision, WebIdentityCall};
use crate::world::World;

/// The result of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub path: String,
    pub description: String,
    pub passed: bool,
    pub steps: Vec<StepReport>,
}

/// The result of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub name: String,
    /// `setup` or `step`.
    pub phase: &'static str,
    pub line: u64,
    pub action: String,
    pub passed: bool,
    /// The expectation, in one line.
    pub expected: String,
    pub actual: Actual,
    /// Each way the outcome differs from the expectation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<String>,
    /// The STS decision record, for AssumeRoleWithWebIdentity steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Arc<Decision>>,
}

/// The outcome of a step.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Actual {
    Success {
        #[serde(skip_serializing_if = "Option::is_none")]
        assumed_role_arn: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        provider: Option<String>,
        #[serde(skip)]
        body: String,
    },
    Error {
        code: String,
        status: u16,
        message: String,
    },
    Clock {
        now: String,
    },
    /// The world changed as the step requested.
    Changed {
        what: String,
    },
}

impl Actual {
    /// The outcome in one line.
    pub fn summary(&self) -> String {
        match self {
            Actual::Success {
                assumed_role_arn: Some(arn),
                ..
            } => format!("success: {arn}"),
            Actual::Success { .. } => "success".to_owned(),
            Actual::Error {
                code,
                status,
                message,
            } => format!("error {code} ({status}): {message}"),
            Actual::Clock { now } => format!("clock at {now}"),
            Actual::Changed { what } => what.clone(),
        }
    }
}

/// Runs a scenario from a fresh world and reports every step.
pub fn run(scenario: &Scenario) -> ScenarioReport {
    let clock = Arc::new(FixedClock::new(scenario.now));
    let mut report = ScenarioReport {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        passed: true,
        steps: Vec::new(),
    };
    let state = match build_state(scenario, clock.clone()) {
        Ok(state) => state,
        Err(error) => {
            report.passed = false;
            report.steps.push(world_failure(&error));
            return report;
        }
    };
    let phases = [("setup", &scenario.setup), ("step", &scenario.steps)];
    for (phase, steps) in phases {
        for step in steps.iter() {
            let step_report = run_step(&state, Some(&clock), scenario, step, phase);
            report.passed &= step_report.passed;
            report.steps.push(step_report);
        }
    }
    report
}

/// Runs many scenarios on all cores and returns the reports in input order.
pub fn run_all(scenarios: &[Scenario]) -> Vec<ScenarioReport> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(scenarios.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<ScenarioReport>> = vec![None; scenarios.len()];
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(scenario) = scenarios.get(index) else {
                        break;
                    };
                    // A panic is a harness bug; it fails this scenario and
                    // leaves the others running.
                    let report = std::panic::catch_unwind(|| run(scenario))
                        .unwrap_or_else(|panic| panicked(scenario, panic));
                    results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(report);
                }
            });
        }
    });
    slots.into_iter().flatten().collect()
}

fn panicked(scenario: &Scenario, panic: Box<dyn std::any::Any + Send>) -> ScenarioReport {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    let message = format!("the harness panicked running this scenario: {detail}");
    ScenarioReport {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        passed: false,
        steps: vec![StepReport {
            name: "run the scenario".into(),
            phase: "step",
            line: 0,
            action: "run".into(),
            passed: false,
            expected: "the scenario runs".into(),
            actual: Actual::Error {
                code: "HarnessPanic".into(),
                status: 0,
                message: message.clone(),
            },
            mismatches: vec![message],
            decision: None,
        }],
    }
}

/// Builds the scenario's world: clusters, then its providers and roles
/// through the IAM actions, so they pass the same checks a client's calls
/// would.
pub fn build_state(scenario: &Scenario, clock: Arc<dyn Clock>) -> Result<Arc<AppState>, LoadError> {
    let spec = &scenario.world;
    let mut world = World::new(scenario.seed, &spec.default_account);
    for (account, partition) in &spec.partitions {
        world.set_partition(account, partition);
    }
    let now = clock.now();
    let world_error = |message: String| LoadError {
        path: scenario.path.clone(),
        position: None,
        message,
        hint: None,
    };
    for cluster in &spec.clusters {
        world.add_cluster(cluster, now).map_err(world_error)?;
    }
    super::run_kube::apply_world_manifests(&mut world, &spec.kube, now).map_err(world_error)?;
    for issuer in &spec.issuers {
        world
            .add_issuer_with_keys(&issuer.url, &issuer.keys)
            .map_err(world_error)?;
    }
    for (url, faults) in &spec.faults {
        world.set_faults(url, faults.clone());
    }
    let options = ServerOptions {
        thumbprint_pinning: scenario.thumbprint_pinning,
        ..ServerOptions::default()
    };
    let state = AppState::new(world, clock, options);
    for call in &spec.iam_calls {
        if let Err(error) = iam_call(&state, &spec.default_account, call) {
            return Err(LoadError {
                path: scenario.path.clone(),
                position: Some(call.position),
                message: format!(
                    "the world's {} fails: {} {}",
                    call.action, error.code, error.message
                ),
                hint: Some(
                    "IAM would reject this entry the same way; fix it in the world section".into(),
                ),
            });
        }
    }
    state.write().create_node_roles(state.now());
    Ok(state)
}

/// Runs the setup steps against `state`, for `serve --scenario`; returns
/// the first failing step's report.
pub fn apply_setup(state: &Arc<AppState>, scenario: &Scenario) -> Result<(), Box<StepReport>> {
    for step in &scenario.setup {
        let report = run_step(state, None, scenario, step, "setup");
        if !report.passed {
            return Err(Box::new(report));
        }
    }
    Ok(())
}

fn world_failure(error: &LoadError) -> StepReport {
    StepReport {
        name: "build the world".into(),
        phase: "setup",
        line: error.position.map(|p| p.line).unwrap_or_default(),
        action: "world".into(),
        passed: false,
        expected: "the world builds".into(),
        actual: Actual::Error {
            code: "InvalidWorld".into(),
            status: 0,
            message: error.to_string(),
        },
        mismatches: vec![error.to_string()],
        decision: None,
    }
}

fn run_step(
    state: &Arc<AppState>,
    clock: Option<&Arc<FixedClock>>,
    scenario: &Scenario,
    step: &Step,
    phase: &'static str,
) -> StepReport {
    let mut checks = Vec::new();
    let (actual, decision) = match &step.action {
        Action::KubeApply { cluster, manifests } => (
            super::run_kube::change(state, cluster, |objects, admission| {
                manifests
                    .iter()
                    .map(|m| objects.apply(admission, m))
                    .collect()
            }),
            None,
        ),
        Action::KubeDelete {
            cluster,
            kind,
            namespace,
            name,
        } => (
            super::run_kube::change(state, cluster, |objects, admission| {
                vec![objects.delete(admission, *kind, namespace, name)]
            }),
            None,
        ),
        Action::RolloutRestart {
            cluster,
            namespace,
            name,
        } => (
            super::run_kube::change(state, cluster, |objects, admission| {
                vec![objects.rollout_restart(admission, namespace, name)]
            }),
            None,
        ),
        Action::PodShow(show) => {
            let (actual, mismatches) = super::run_kube::pod_show(state, show);
            checks = mismatches;
            (actual, None)
        }
        Action::Assume(call) => assume(state, scenario, call),
        Action::Iam(call) => (
            iam_outcome(iam_call(state, &scenario.world.default_account, call)),
            None,
        ),
        Action::AdvanceClock(seconds) => {
            move_clock(clock, |c| c.advance(time::Duration::seconds(*seconds)))
        }
        Action::SetClock(time) => move_clock(clock, |c| {
            c.set(*time);
            Ok(())
        }),
        Action::SetFaults(url, faults) => {
            state.write().set_faults(url, faults.clone());
            let what = if *faults == crate::world::IssuerFaults::default() {
                format!("{url} is served correctly")
            } else {
                format!("{url} is served with faults")
            };
            (Actual::Changed { what }, None)
        }
        Action::RotateKeys {
            url,
            algorithm,
            drop_previous,
        } => {
            let result = state.write().rotate_keys(url, *algorithm, *drop_previous);
            match result {
                Ok(issuer) => {
                    let key = issuer.signing_key();
                    let what = format!(
                        "{url} signs with {} key {}; the JWKS lists {} key(s)",
                        key.algorithm(),
                        key.kid(),
                        issuer.keys().len()
                    );
                    (Actual::Changed { what }, None)
                }
                Err(message) => (
                    Actual::Error {
                        code: "InvalidRotation".into(),
                        status: 0,
                        message,
                    },
                    None,
                ),
            }
        }
    };
    let mut mismatches = compare(&step.expect.outcome, &actual);
    if matches!(step.expect.outcome, ExpectedOutcome::Success(_)) {
        mismatches.extend(checks);
    }
    if let (Some(expected), Some(decision)) = (step.expect.decided_by, &decision)
        && decision.decided_by != expected
    {
        mismatches.push(format!(
            "decided by {}, expected {}",
            decision.decided_by.name(),
            expected.name()
        ));
    }
    StepReport {
        name: step.name.clone(),
        phase,
        line: step.position.line,
        action: step.action.label(),
        passed: mismatches.is_empty(),
        expected: describe_expectation(&step.expect.outcome, step.expect.decided_by),
        actual,
        mismatches,
        decision,
    }
}

fn move_clock(
    clock: Option<&Arc<FixedClock>>,
    change: impl FnOnce(&FixedClock) -> Result<(), String>,
) -> (Actual, Option<Arc<Decision>>) {
    match clock {
        Some(clock) => match change(clock) {
            Ok(()) => (Actual::Clock { now: rfc3339(clock.now()) }, None),
            Err(message) => (
                Actual::Error {
                    code: "InvalidClock".into(),
                    status: 0,
                    message,
                },
                None,
            ),
        },
        None => (
            Actual::Error {
                code: "ClockFixed".into(),
                status: 0,
                message: "a served scenario runs on the system clock, which setup steps cannot move; move the clock in steps instead".into(),
            },
            None,
        ),
    }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn iam_call(state: &AppState, default_account: &str, call: &IamCall) -> Result<String, AwsError> {
    let params = Params::from_pairs(call.params.iter().cloned());
    let request_id = state.next_request_id();
    let call_context = crate::iam::Call {
        state,
        params: &params,
        account: call.account.as_deref().unwrap_or(default_account),
        request_id: &request_id,
    };
    crate::iam::dispatch(&call.action, &call_context)
}

fn iam_outcome(result: Result<String, AwsError>) -> Actual {
    match result {
        Ok(body) => Actual::Success {
            assumed_role_arn: None,
            subject: None,
            audience: None,
            provider: None,
            body,
        },
        Err(error) => Actual::Error {
            code: error.code.to_owned(),
            status: error.status.as_u16(),
            message: error.message,
        },
    }
}

fn assume(
    state: &Arc<AppState>,
    scenario: &Scenario,
    call: &AssumeCall,
) -> (Actual, Option<Arc<Decision>>) {
    let token = match &call.token {
        TokenSource::Raw(raw) => raw.clone(),
        TokenSource::Minted(spec) => match mint_token(state, scenario, spec) {
            Ok(token) => token,
            Err(message) => {
                let actual = Actual::Error {
                    code: "InvalidToken".into(),
                    status: 0,
                    message,
                };
                return (actual, None);
            }
        },
    };
    let mut pairs = vec![
        ("Action".to_owned(), "AssumeRoleWithWebIdentity".to_owned()),
        ("Version".to_owned(), "2011-06-15".to_owned()),
        ("RoleArn".to_owned(), call.role_arn.clone()),
        ("RoleSessionName".to_owned(), call.session_name.clone()),
        ("WebIdentityToken".to_owned(), token),
    ];
    if let Some(duration) = &call.duration_seconds {
        pairs.push(("DurationSeconds".into(), duration.clone()));
    }
    pairs.extend(call.params.iter().cloned());
    let params = Params::from_pairs(pairs);
    let request_id = state.next_request_id();
    let web_identity = WebIdentityCall {
        params: &params,
        request_id: &request_id,
        source_ip: "127.0.0.1".into(),
        secure: false,
        region: crate::world::DEFAULT_REGION.into(),
    };
    // Scenario worlds host every issuer, so the pipeline never waits on the
    // network and its future is ready on the first poll.
    let Some((result, decision)) =
        ready_now(sts::assume_role_with_web_identity(state, &web_identity))
    else {
        let actual = Actual::Error {
            code: "NotReady".into(),
            status: 0,
            message: "the call needed a remote issuer, which scenarios cannot reach".into(),
        };
        return (actual, None);
    };
    let actual = match result {
        Ok(granted) => Actual::Success {
            assumed_role_arn: Some(granted.session.assumed_role_arn()),
            subject: Some(granted.subject.clone()),
            audience: Some(granted.audience.clone()),
            provider: Some(granted.provider_arn.clone()),
            body: String::new(),
        },
        Err(error) => {
            let aws = error.to_aws();
            Actual::Error {
                code: aws.code.to_owned(),
                status: aws.status.as_u16(),
                message: aws.message,
            }
        }
    };
    (actual, Some(decision))
}

/// Mints the step's token at the clock's current time, then applies the
/// overrides. The loader has checked that every named cluster exists.
fn mint_token(state: &AppState, scenario: &Scenario, spec: &MintSpec) -> Result<String, String> {
    let world = state.read();
    let find = |name: &str| {
        world
            .clusters()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.issuer.clone())
            .or_else(|| {
                let url = &scenario
                    .world
                    .issuers
                    .iter()
                    .find(|issuer| issuer.name == name)?
                    .url;
                world.issuer(url).cloned()
            })
            .expect("the loader checked that the cluster or issuer exists")
    };
    let issued = state
        .now()
        .checked_add(time::Duration::seconds(spec.issued_at))
        .ok_or_else(|| {
            format!(
                "issued_at {} s moves the token's times beyond the supported years",
                spec.issued_at
            )
        })?;
    let (issuer, mut claims) = match &spec.source {
        MintSource::Cluster {
            cluster,
            namespace,
            service_account,
        } => {
            let issuer = find(cluster);
            let kube = world
                .clusters()
                .iter()
                .find(|c| &c.name == cluster)
                .map(|c| &c.kube);
            let mut request = TokenRequest {
                namespace: namespace.clone(),
                service_account: service_account.clone(),
                audiences: spec.audiences.clone(),
                lifetime_seconds: spec.lifetime,
                pod: spec.pod.clone(),
                service_account_uid: None,
                pod_uid: None,
            };
            if let Some(kube) = kube {
                kube.fill_uids(&mut request);
            }
            let claims = mint::projected_claims(&issuer, world.seed(), issued, &request);
            (issuer, claims)
        }
        MintSource::Pod {
            cluster,
            namespace,
            name,
        } => {
            drop(world);
            return super::run_kube::pod_token(state, cluster, namespace, name);
        }
        MintSource::Issuer(name) => {
            let issuer = find(name);
            let iat = issued.unix_timestamp();
            let mut claims = issuer_claims(issuer.url(), &spec.audiences, iat, spec.lifetime);
            if let Some(run) = &spec.github {
                // GitHub Actions tokens carry an nbf ten minutes before iat.
                claims.insert(
                    "nbf".into(),
                    Value::from(iat.saturating_sub(GITHUB_NBF_BACKDATE_SECONDS)),
                );
                claims.extend(run.claims());
            }
            (issuer, claims)
        }
    };
    let key = match &spec.signed_by {
        SignedBy::Issuer => issuer.signing_key().clone(),
        SignedBy::Other(other) => find(other).signing_key().clone(),
        SignedBy::Unpublished => SigningKey::derived(scenario.seed, &["unpublished-key"]),
        SignedBy::Previous => issuer.keys().get(1).cloned().ok_or_else(|| {
            format!(
                "signed_by previous: {} publishes no previous key; give it previous_keys or rotate_keys first",
                issuer.url()
            )
        })?,
        SignedBy::Dropped => world.dropped_key(issuer.url()).cloned().ok_or_else(|| {
            format!(
                "signed_by dropped: {} has dropped no key; rotate_keys with drop_previous: true first",
                issuer.url()
            )
        })?,
    };
    overlay(&mut claims, &spec.claims);
    let mut header = mint::default_header(&key);
    overlay(&mut header, &spec.header);
    Ok(mint::sign(&key, &header, &claims))
}

/// Seconds GitHub Actions sets `nbf` before `iat`.
const GITHUB_NBF_BACKDATE_SECONDS: i64 = 600;

/// The base claims of an issuer token: `aud` as a plain string when there
/// is one audience, as CI issuers send it; the step's claims add `sub` and
/// the rest.
fn issuer_claims(
    iss: &str,
    audiences: &[String],
    iat: i64,
    lifetime: i64,
) -> serde_json::Map<String, Value> {
    let aud = match audiences {
        [one] => Value::String(one.clone()),
        many => Value::from(many.to_vec()),
    };
    let mut claims = serde_json::Map::new();
    claims.insert("aud".into(), aud);
    claims.insert("exp".into(), Value::from(iat.saturating_add(lifetime)));
    claims.insert("iat".into(), Value::from(iat));
    claims.insert("iss".into(), Value::from(iss));
    claims.insert("nbf".into(), Value::from(iat));
    claims
}

/// Polls a future once and returns its output if it is ready.
pub(crate) fn ready_now<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

fn overlay(
    target: &mut serde_json::Map<String, Value>,
    overrides: &serde_json::Map<String, Value>,
) {
    for (name, value) in overrides {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
}

fn compare(expected: &ExpectedOutcome, actual: &Actual) -> Vec<String> {
    match (expected, actual) {
        (
            ExpectedOutcome::Success(success),
            Actual::Success {
                assumed_role_arn,
                subject,
                audience,
                provider,
                body,
            },
        ) => compare_success(
            success,
            [assumed_role_arn, subject, audience, provider],
            body,
        ),
        (ExpectedOutcome::Success(_), Actual::Clock { .. } | Actual::Changed { .. }) => Vec::new(),
        (ExpectedOutcome::Success(_), other) => {
            vec![format!("expected success, got {}", other.summary())]
        }
        (
            ExpectedOutcome::Error(error),
            Actual::Error {
                code,
                status,
                message,
            },
        ) => compare_error(error, code, *status, message),
        (ExpectedOutcome::Error(error), other) => {
            vec![format!(
                "expected error {}, got {}",
                error.code,
                other.summary()
            )]
        }
    }
}

fn compare_success(
    expected: &ExpectedSuccess,
    actual: [&Option<String>; 4],
    body: &str,
) -> Vec<String> {
    let fields = [
        ("assumed_role_arn", &expected.assumed_role_arn),
        ("subject", &expected.subject),
        ("audience", &expected.audience),
        ("provider", &expected.provider),
    ];
    let mut mismatches = Vec::new();
    for ((name, want), got) in fields.into_iter().zip(actual) {
        if let Some(want) = want
            && got.as_deref() != Some(want.as_str())
        {
            mismatches.push(format!(
                "{name}: expected {want}, got {}",
                got.as_deref().unwrap_or("(none)")
            ));
        }
    }
    for (element, value) in &expected.fields {
        let wanted = format!(
            "<{element}>{}</{element}>",
            quick_xml::escape::partial_escape(value)
        );
        if !body.contains(&wanted) {
            mismatches.push(format!("response has no {element} with text {value}"));
        }
    }
    mismatches
}

fn compare_error(expected: &ExpectedError, code: &str, status: u16, message: &str) -> Vec<String> {
    let mut mismatches = Vec::new();
    if expected.code != code {
        mismatches.push(format!("code: expected {}, got {code}", expected.code));
    }
    if let Some(want) = expected.status
        && want != status
    {
        mismatches.push(format!("status: expected {want}, got {status}"));
    }
    if let Some(want) = &expected.message
        && want != message
    {
        mismatches.push(format!("message: expected {want:?}, got {message:?}"));
    }
    if let Some(pattern) = &expected.message_matches
        && !pattern.is_match(message)
    {
        mismatches.push(format!(
            "message: {message:?} does not match /{}/",
            pattern.as_str()
        ));
    }
    mismatches
}

fn describe_expectation(outcome: &ExpectedOutcome, decided_by: Option<sts::Check>) -> String {
    let mut text = match outcome {
        ExpectedOutcome::Success(success) => match &success.assumed_role_arn {
            Some(arn) => format!("success: {arn}"),
            None => "success".to_owned(),
        },
        ExpectedOutcome::Error(error) => {
            let mut text = format!("error {}", error.code);
            if let Some(status) = error.status {
                text.push_str(&format!(" ({status})"));
            }
            if let Some(message) = &error.message {
                text.push_str(&format!(": {message}"));
            } else if let Some(pattern) = &error.message_matches {
                text.push_str(&format!(": /{}/", pattern.as_str()));
            }
            text
        }
    };
    if let Some(check) = decided_by {
        text.push_str(&format!(", decided by {}", check.name()));
    }
    text
}
