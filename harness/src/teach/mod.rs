//! The teaching view: a record of every AWS request the harness replied to,
//! kept for the live page at `/_harness/` and pushed to its subscribers as
//! server-sent events.
//!
//! The server calls [`observe`] after it answers an STS, IAM or EKS request.
//! The event keeps what a learner needs to see the call again later: the
//! action, the account, the outcome code, and for AssumeRoleWithWebIdentity
//! the decision trace, the token's claims and the trust policy as it stood
//! when the call was decided (a later `UpdateAssumeRolePolicy` must not
//! rewrite history). Nothing here changes what an AWS client receives.

pub mod page;
mod routes;
pub mod terminal;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::state::AppState;
use crate::sts::Decision;

pub use page::{render_page, render_request, render_request_page, render_world};
pub use routes::{events, index, request_page};

/// How many recent requests the page can list.
pub const REQUEST_HISTORY: usize = 1000;
/// How many events a slow subscriber may fall behind before it skips some.
const LIVE_BUFFER: usize = 256;

/// The front that served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    Sts,
    Iam,
    Eks,
}

impl Front {
    /// Returns the short name shown on the page.
    pub fn name(self) -> &'static str {
        match self {
            Front::Sts => "STS",
            Front::Iam => "IAM",
            Front::Eks => "EKS",
        }
    }
}

/// The part of an event only AssumeRoleWithWebIdentity calls have.
#[derive(Debug, Clone)]
pub struct WebIdentityView {
    pub decision: Arc<Decision>,
    /// The token's claims, read without verifying it; `None` when the token
    /// was missing or not a JWT.
    pub claims: Option<Arc<Map<String, Value>>>,
    /// The role's trust policy when the call was decided, if the role
    /// existed.
    pub trust_policy: Option<Arc<str>>,
}

/// One request the server replied to.
#[derive(Debug, Clone)]
pub struct RequestEvent {
    /// Position in the feed, from 1.
    pub serial: u64,
    pub request_id: String,
    /// RFC 3339 time of the world's clock.
    pub time: String,
    pub front: Front,
    /// The action, or `DescribeCluster` for EKS.
    pub action: String,
    /// The account the call acted in, when known.
    pub account: Option<String>,
    pub status: u16,
    /// `OK`, or the AWS error code sent back.
    pub code: String,
    /// The error message sent back.
    pub message: Option<String>,
    pub web_identity: Option<WebIdentityView>,
}

impl RequestEvent {
    /// Reports whether the client got a success.
    pub fn succeeded(&self) -> bool {
        self.status < 300
    }
}

/// A message for live subscribers.
#[derive(Debug, Clone)]
pub struct Live {
    pub event: Arc<RequestEvent>,
}

/// The bounded history of request events and the channel that carries new
/// ones to open pages.
pub struct Feed {
    /// The last serial number given, and the kept events.
    history: Mutex<(u64, VecDeque<Arc<RequestEvent>>)>,
    live: broadcast::Sender<Live>,
    /// Set when the server stops, so open streams end and a graceful
    /// shutdown does not wait for browsers to close their pages.
    closed: tokio::sync::watch::Sender<bool>,
    /// Tells one server run from the next: an open page whose stream
    /// reconnects to a restarted harness sees another value and reloads.
    epoch: String,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    /// An empty feed.
    pub fn new() -> Feed {
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (closed, _) = tokio::sync::watch::channel(false);
        // The start time only tells runs apart; nothing an AWS client sees
        // depends on it.
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos())
            .to_string();
        Feed {
            closed,
            epoch,
            history: Mutex::new((0, VecDeque::with_capacity(64))),
            live,
        }
    }

    /// Records an event, numbering it, and sends it to subscribers.
    pub fn push(&self, mut event: RequestEvent) -> Arc<RequestEvent> {
        let (event, evicted) = {
            let mut guard = self.lock();
            guard.0 += 1;
            event.serial = guard.0;
            let event = Arc::new(event);
            let evicted = if guard.1.len() == REQUEST_HISTORY {
                guard.1.pop_front()
            } else {
                None
            };
            guard.1.push_back(event.clone());
            (event, evicted)
        };
        // Freeing an evicted event can free a whole decision record, a few
        // hundred allocations, so it happens after the lock is released.
        drop(evicted);
        // No open page is not an error: the event stays in the history.
        let _ = self.live.send(Live {
            event: event.clone(),
        });
        event
    }

    /// The recorded events, oldest first.
    pub fn recent(&self) -> Vec<Arc<RequestEvent>> {
        self.lock().1.iter().cloned().collect()
    }

    /// The event with this request id, if it is still kept.
    pub fn find(&self, request_id: &str) -> Option<Arc<RequestEvent>> {
        self.lock()
            .1
            .iter()
            .rev()
            .find(|e| e.request_id == request_id)
            .cloned()
    }

    /// A receiver of the events recorded from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.live.subscribe()
    }

    /// The value that identifies this server run to open pages.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Ends every open event stream; call it when the server stops.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// A receiver that sees `true` once the feed is closed.
    pub fn closed(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closed.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, (u64, VecDeque<Arc<RequestEvent>>)> {
        // Each change is one push and at most one pop, so a poisoned lock
        // still guards a consistent history.
        self.history
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the server knows of a request after answering it.
pub struct Answered<'a> {
    pub front: Front,
    pub request_id: &'a str,
    pub action: &'a str,
    pub account: Option<String>,
    pub status: u16,
    /// The error code and message, on a failure.
    pub error: Option<(&'a str, &'a str)>,
    /// The `WebIdentityToken` parameter of an STS call.
    pub token: Option<&'a str>,
}

/// Records an answered request in the feed. For AssumeRoleWithWebIdentity
/// it joins the decision the STS pipeline recorded under the same request
/// id.
pub fn observe(state: &AppState, answered: Answered<'_>) {
    let decision = match answered.front {
        Front::Sts if answered.action == "AssumeRoleWithWebIdentity" => {
            state.decision(answered.request_id)
        }
        _ => None,
    };
    let web_identity = decision.map(|decision| {
        // The pipeline kept the claims it read; only a call that failed
        // before the token check needs the token decoded here.
        let claims = decision.claims.clone().or_else(|| {
            answered
                .token
                .and_then(|token| crate::explain::claims_of_token(token).ok())
                .map(Arc::new)
        });
        let trust_policy = decision
            .role_arn
            .as_deref()
            .and_then(|arn| trust_policy_of(state, arn));
        WebIdentityView {
            decision,
            claims,
            trust_policy,
        }
    });
    let account = answered.account.or_else(|| {
        web_identity
            .as_ref()
            .and_then(|view| view.decision.role_arn.as_deref())
            .and_then(account_of_arn)
    });
    let time = state
        .now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    state.feed().push(RequestEvent {
        serial: 0,
        request_id: answered.request_id.to_owned(),
        time,
        front: answered.front,
        action: answered.action.to_owned(),
        account,
        status: answered.status,
        code: answered
            .error
            .map(|(code, _)| code.to_owned())
            .unwrap_or_else(|| "OK".to_owned()),
        message: answered.error.map(|(_, message)| message.to_owned()),
        web_identity,
    });
}

/// The account of an ARN such as `arn:aws:iam::123456789012:role/x`.
fn account_of_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    crate::aws::arn::is_account_id(account).then(|| account.to_owned())
}

/// The current trust policy of the role an ARN names.
fn trust_policy_of(state: &AppState, role_arn: &str) -> Option<Arc<str>> {
    let account = account_of_arn(role_arn)?;
    let name = role_arn.rsplit('/').next()?;
    let world = state.read();
    let role = world.account(&account)?.role(name)?;
    Some(role.trust_policy.shared_text())
}

#[cfg(test)]
mod tests;
