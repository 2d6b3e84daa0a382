//! The HTML of the teaching page, rendered on the server with `maud`.
//!
//! maud escapes every interpolated value, so token claims, policy text and
//! names that came from a client cannot inject markup. The only unescaped
//! text is the page's own style sheet and script below. The page needs no
//! build step and loads nothing from elsewhere, so it works offline on a
//! projector.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Map, Value};

use super::{RequestEvent, WebIdentityView};
use crate::policy::{ConditionTrace, Evaluation, StatementTrace};
use crate::sts::{Check, Decision, TraceEntry};
use crate::world::World;

/// The annotation that names a service account's IAM role.
const ROLE_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

const STYLE: &str = r#"
:root { --ok: #17703a; --bad: #b3261e; --dim: #666; --line: #ccc; }
body { font: 20px/1.45 system-ui, sans-serif; margin: 1.2rem 2rem; color: #111; background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--line); margin-top: 1.6rem; }
h3 { font-size: 1.1rem; margin: .8rem 0 .3rem; }
code, pre, td.v { font-family: ui-monospace, monospace; font-size: .9em; overflow-wrap: anywhere; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .3rem 0; }
table.statement { width: 100%; table-layout: fixed; }
td { overflow-wrap: anywhere; }
td, th { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.muted { color: var(--dim); }
.req { border: 2px solid var(--line); border-radius: 8px; padding: .6rem 1rem; margin: .8rem 0; }
.req.failed { border-color: var(--bad); }
.req.new { animation: flash 2s ease-out; }
@keyframes flash { from { background: #fff3c4; } to { background: #fff; } }
.req header { display: flex; flex-wrap: wrap; gap: .8rem; align-items: baseline; }
.code.ok { color: var(--ok); font-weight: bold; }
.code.bad { color: var(--bad); font-weight: bold; }
ol.chain { display: flex; flex-wrap: wrap; list-style: none; padding: 0; gap: .3rem 1.4rem; margin: .6rem 0; }
ol.chain li { padding: .25rem .6rem; border-radius: 6px; border: 2px solid var(--line); color: var(--dim); position: relative; }
ol.chain li.passed { border-color: var(--ok); color: var(--ok); }
ol.chain li.failed { border-color: var(--bad); background: var(--bad); color: #fff; font-weight: bold; }
ol.chain li + li::before { content: "\2192"; color: var(--dim); position: absolute; left: -1.2rem; font-weight: normal; }
.failure { border-left: 6px solid var(--bad); padding: .2rem .8rem; margin: .5rem 0; background: #fdf1f0; }
.hint { font-weight: bold; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.2rem; }
tr.match td { background: #e7f5ec; }
tr.miss td { background: #fde4e1; }
.mark-ok { color: var(--ok); font-weight: bold; }
.mark-bad { color: var(--bad); font-weight: bold; }
#live { font-size: .9rem; }
"#;

/// Inserts each event the server pushes at the top of the list, replaces
/// the world with its newest rendering, and reloads when the harness was
/// restarted. Both fragments come from the server, already escaped.
const SCRIPT: &str = r#"
(function () {
  var list = document.getElementById('requests');
  var after = list.getAttribute('data-last-serial');
  var status = document.getElementById('live');
  var source = new EventSource('/_harness/events?after=' + after);
  source.onopen = function () { status.textContent = 'live: connected'; };
  source.onerror = function () { status.textContent = 'live: reconnecting'; };
  // Another epoch means the harness was restarted, maybe on another
  // scenario: show its world from the start.
  source.addEventListener('hello', function (e) {
    if (e.data !== list.getAttribute('data-epoch')) { window.location.reload(); }
  });
  source.addEventListener('request', function (e) {
    var empty = document.getElementById('no-requests');
    if (empty) { empty.remove(); }
    list.insertAdjacentHTML('afterbegin', e.data);
    list.setAttribute('data-last-serial', e.lastEventId);
  });
  source.addEventListener('world', function (e) {
    document.getElementById('world').innerHTML = e.data;
  });
})();
"#;

/// Renders the whole page: the world and every recorded request, newest
/// first.
pub fn render_page(world: &World, events: &[std::sync::Arc<RequestEvent>], epoch: &str) -> String {
    let last = events.last().map_or(0, |e| e.serial);
    let body = html! {
        h1 { "oidc-sts-harness: the trust flow, live" }
        p.muted {
            "Every STS, IAM and EKS request this harness answers appears below as it arrives. "
            span #live { "live: connecting" }
        }
        section #world { (world_markup(world)) }
        h2 { "Requests, newest first" }
        div #requests data-last-serial=(last) data-epoch=(epoch) {
            @if events.is_empty() {
                p #no-requests.muted { "No request yet. Send one with the AWS CLI and it appears here." }
            }
            @for event in events.iter().rev() {
                (request_markup(event, false))
            }
        }
        script { (PreEscaped(SCRIPT)) }
    };
    document("oidc-sts-harness", body)
}

/// Renders a page of one request, for linking and for printing.
pub fn render_request_page(event: &RequestEvent) -> String {
    let body = html! {
        p { a href="/_harness/" { "← all requests" } }
        (request_markup(event, false))
    };
    document(&format!("{} {}", event.action, event.request_id), body)
}

/// Renders the fragment of one request that the live stream sends.
pub fn render_request(event: &RequestEvent) -> String {
    request_markup(event, true).into_string()
}

/// Renders the fragment of the world that the live stream sends.
pub fn render_world(world: &World) -> String {
    world_markup(world).into_string()
}

fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

fn world_markup(world: &World) -> Markup {
    html! {
        h2 { "The world" }
        h3 { "Clusters" }
        @if world.clusters().is_empty() {
            p.muted { "No cluster." }
        } @else {
            table {
                tr { th { "name" } th { "account" } th { "region" } th { "issuer URL" } }
                @for cluster in world.clusters() {
                    tr {
                        td { (cluster.name) } td { (cluster.account) } td { (cluster.region) }
                        td.v { (cluster.issuer.url()) }
                    }
                }
            }
        }
        h3 { "IAM OIDC providers" }
        @let providers: Vec<_> = world.accounts().flat_map(|a| a.providers.values()).collect();
        @if providers.is_empty() {
            p.muted { "No provider: STS finds none for any token." }
        } @else {
            table {
                tr { th { "provider ARN" } th { "client ids (audiences)" } }
                @for provider in providers {
                    tr { td.v { (provider.arn) } td.v { (provider.client_ids.join(", ")) } }
                }
            }
        }
        h3 { "IAM roles and their trust policies" }
        @let roles: Vec<_> = world.accounts().flat_map(|a| a.roles.values()).collect();
        @if roles.is_empty() {
            p.muted { "No role." }
        } @else {
            @for role in roles {
                details {
                    summary { code { (role.arn) } }
                    pre { (pretty_json(role.trust_policy.text())) }
                }
            }
        }
        h3 { "Service accounts" }
        @let accounts: Vec<_> = world.clusters().iter().flat_map(|c| {
            c.kube.service_accounts.iter().map(move |((ns, name), sa)| (c, ns, name, sa))
        }).collect();
        @if accounts.is_empty() {
            p.muted { "No service account manifest is loaded." }
        } @else {
            table {
                tr { th { "cluster" } th { "namespace/name" } th { (ROLE_ANNOTATION) } }
                @for (cluster, ns, name, sa) in accounts {
                    @let role = sa.metadata.annotations.as_ref().and_then(|a| a.get(ROLE_ANNOTATION));
                    tr {
                        td { (cluster.name) } td.v { (ns) "/" (name) }
                        @match role {
                            Some(arn) => td.v { (arn) },
                            None => td.muted { "no annotation: the webhook injects nothing" },
                        }
                    }
                }
            }
        }
    }
}

fn request_markup(event: &RequestEvent, new: bool) -> Markup {
    let failed = !event.succeeded();
    html! {
        article.req.failed[failed].new[new] id={ "req-" (event.serial) } data-request-id=(event.request_id) {
            header {
                span.muted { "#" (event.serial) " " (event.time) }
                strong { (event.front.name()) " " (event.action) }
                @if let Some(account) = &event.account { span { "account " code { (account) } } }
                span.code.ok[!failed].bad[failed] { (event.code) " " (event.status) }
                a href={ "/_harness/requests/" (event.request_id) } { "permalink" }
            }
            @if let Some(message) = &event.message {
                p { "AWS answers: " q.v { (message) } }
            }
            @if let Some(view) = &event.web_identity {
                (web_identity_markup(view))
            }
        }
    }
}

fn web_identity_markup(view: &WebIdentityView) -> Markup {
    let decision = &view.decision;
    html! {
        @if let Some(role) = &decision.role_arn {
            p { "role " code { (role) }
                @if let Some(session) = &decision.role_session_name { ", session " code { (session) } } }
        }
        (chain_markup(decision))
        @for entry in decision.trace.iter().filter(|e| !e.passed) {
            (failure_markup(entry))
        }
        div.columns {
            section.claims {
                h3 { "Token claims (decoded, not verified)" }
                @match &view.claims {
                    Some(claims) => (claims_markup(claims, decision.policy.as_ref())),
                    None => p.muted { "The token is missing or is not a JWT." },
                }
            }
            section.policy {
                h3 { "Trust policy" }
                @match &decision.policy {
                    Some(evaluation) => (evaluation_markup(evaluation)),
                    None => p.muted {
                        "Not evaluated: the call stopped at the "
                        strong { (decision.decided_by.name()) } " check, before the trust policy."
                    },
                }
                @if let Some(text) = &view.trust_policy {
                    details { summary { "policy text" } pre { (pretty_json(text)) } }
                }
            }
        }
    }
}

/// Renders the checks in pipeline order, each passed, failed (the one that
/// decided) or not reached.
fn chain_markup(decision: &Decision) -> Markup {
    html! {
        ol.chain aria-label="checks" {
            @for check in Check::ALL {
                @let entry = decision.trace.iter().find(|e| e.check == check);
                @match entry {
                    Some(e) if e.passed => li.passed data-check=(check.name()) { "✓ " (check.name()) },
                    Some(_) => li.failed data-check=(check.name()) aria-current="step" { "✗ " (check.name()) },
                    None => li data-check=(check.name()) title="not reached" { (check.name()) },
                }
            }
        }
    }
}

fn failure_markup(entry: &TraceEntry) -> Markup {
    html! {
        div.failure data-check=(entry.check.name()) {
            p { strong { (entry.check.name()) " failed: " } (entry.summary) }
            @if !entry.compared.is_empty() {
                table.compared {
                    @for value in &entry.compared {
                        tr { th { (value.name) } td.v { (value.value) } }
                    }
                }
            }
            @if let Some(hint) = &entry.hint {
                p.hint { "Fix: " (hint) }
            }
        }
    }
}

/// Renders the claims, marking each row by whether the policy's conditions
/// on that claim held.
fn claims_markup(claims: &Map<String, Value>, policy: Option<&Evaluation>) -> Markup {
    let verdict = |claim: &str| -> Option<bool> {
        let conditions: Vec<&ConditionTrace> = policy?
            .statements
            .iter()
            .flat_map(|s| &s.conditions)
            .filter(|c| c.key.rsplit(':').next() == Some(claim))
            .collect();
        (!conditions.is_empty()).then(|| conditions.iter().all(|c| c.matched))
    };
    html! {
        table {
            tr { th { "claim" } th { "value" } }
            @for (name, value) in claims {
                @let mark = verdict(name);
                tr.match[mark == Some(true)].miss[mark == Some(false)] {
                    td { (name)
                        @match mark {
                            Some(true) => span.mark-ok { " ✓" },
                            Some(false) => span.mark-bad { " ✗" },
                            None => {},
                        }
                    }
                    td.v { (claim_text(value)) }
                }
            }
        }
    }
}

fn evaluation_markup(evaluation: &Evaluation) -> Markup {
    html! {
        p {
            "decision: "
            @if evaluation.allowed() { strong.mark-ok { "allow" } } @else { strong.mark-bad { "deny" } }
        }
        @for statement in &evaluation.statements {
            (statement_markup(statement))
        }
        @for warning in &evaluation.warnings {
            p.muted { "warning: " (warning.message) " Fix: " (warning.fix) }
        }
    }
}

fn statement_markup(statement: &StatementTrace) -> Markup {
    let mark = |ok: bool| {
        html! { @if ok { span.mark-ok { "✓" } } @else { span.mark-bad { "✗" } } }
    };
    html! {
        table.statement {
            colgroup { col style="width: 2rem"; col style="width: 45%"; col; }
            tr { th colspan="3" {
                "statement " (statement.index)
                @if let Some(sid) = &statement.sid { " (" (sid) ")" }
                " " (format!("{:?}", statement.effect))
                @if statement.applies { " applies" } @else { " does not apply" }
            } }
            tr.match[statement.principal_matched].miss[!statement.principal_matched] {
                td { (mark(statement.principal_matched)) } td { "Principal" } td.v { "Federated provider" }
            }
            tr.match[statement.action_matched].miss[!statement.action_matched] {
                td { (mark(statement.action_matched)) } td { "Action" } td.v { "sts:AssumeRoleWithWebIdentity" }
            }
            @for condition in &statement.conditions {
                tr.match[condition.matched].miss[!condition.matched] {
                    td { (mark(condition.matched)) }
                    td { (condition.operator) br; code { (condition.key) } }
                    td.v {
                        "policy: " (condition.policy_values.join(", ")) br;
                        "token: "
                        @match &condition.request_values {
                            Some(values) => (values.join(", ")),
                            None => em { "(key missing)" },
                        }
                    }
                }
                @if let Some(found) = &condition.diagnosis {
                    tr { td {} td colspan="2" { (found.message) br; strong { "Fix: " } (found.fix) } }
                }
            }
            @for found in &statement.diagnoses {
                tr { td {} td colspan="2" { (found.message) br; strong { "Fix: " } (found.fix) } }
            }
        }
    }
}

fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn pretty_json(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned())
}
