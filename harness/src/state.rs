//! The state a running harness shares between requests.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::seed;
use crate::sts::Decision;
use crate::world::World;

/// How many recent STS decisions the harness keeps for `/_harness/decisions`.
pub const DECISION_HISTORY: usize = 1000;

/// Switches that change how requests are checked.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Reject unsigned IAM calls with `MissingAuthenticationToken`, as AWS
    /// does.
    pub strict_auth: bool,
    /// Check every issuer's TLS chain against the provider's thumbprints,
    /// as IAM did before mid-2023, even when a trusted CA signed it.
    pub thumbprint_pinning: bool,
    /// How to fetch the keys of issuers the harness does not host; `None`
    /// keeps remote fetching off.
    pub remote: Option<crate::oidc::remote::RemoteConfig>,
    /// How long slow clients may take over a request head and body.
    pub limits: crate::limits::Limits,
}

/// Everything a request handler can reach.
pub struct AppState {
    world: RwLock<World>,
    clock: Arc<dyn Clock>,
    options: ServerOptions,
    seed: u64,
    request_serial: AtomicU64,
    session_serial: AtomicU64,
    credential_key: [u8; 32],
    decisions: Mutex<VecDeque<Arc<Decision>>>,
    key_cache: crate::oidc::remote::KeyCache,
    feed: crate::teach::Feed,
    state_file: OnceLock<crate::persist::StateFile>,
}

impl AppState {
    /// Wraps a world, a clock and the options into shared state.
    pub fn new(world: World, clock: Arc<dyn Clock>, options: ServerOptions) -> Arc<AppState> {
        let seed = world.seed();
        Arc::new(AppState {
            world: RwLock::new(world),
            clock,
            options,
            seed,
            request_serial: AtomicU64::new(0),
            session_serial: AtomicU64::new(0),
            credential_key: seed::derive(seed, &["credential-key"]),
            decisions: Mutex::new(VecDeque::with_capacity(DECISION_HISTORY)),
            key_cache: Default::default(),
            feed: crate::teach::Feed::new(),
            state_file: OnceLock::new(),
        })
    }

    /// Locks the world for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, World> {
        // Handlers never leave the world half-changed: each change is one
        // insert or remove, so a poisoned lock still guards a valid world.
        self.world
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks the world for a change.
    pub fn write(&self) -> RwLockWriteGuard<'_, World> {
        self.world
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current time of the world's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The switches the server was started with.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// The world's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Keys of remote issuers fetched earlier.
    pub fn key_cache(&self) -> &crate::oidc::remote::KeyCache {
        &self.key_cache
    }

    /// The key issued credentials derive from.
    pub fn credential_key(&self) -> &[u8; 32] {
        &self.credential_key
    }

    /// Returns the next request id, a UUID derived from the seed and a
    /// serial number.
    pub fn next_request_id(&self) -> String {
        let serial = self.request_serial.fetch_add(1, Ordering::Relaxed) + 1;
        seed::uuid(self.seed, &["request", &serial.to_string()])
    }

    /// Returns the next session serial, from which access key ids derive.
    pub fn next_session_serial(&self) -> u64 {
        self.session_serial.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Saves the world to `file` after every change from now on (`serve
    /// --state`); a second call keeps the first file.
    pub fn set_state_file(&self, file: crate::persist::StateFile) {
        let _ = self.state_file.set(file);
    }

    /// Writes the world to the state file, if there is one. Called after a
    /// change and before it is acknowledged.
    pub fn save_state(&self) -> Result<(), crate::persist::StateError> {
        match self.state_file.get() {
            Some(file) => file.save(|| crate::persist::snapshot(&self.read())),
            None => Ok(()),
        }
    }

    /// Records an STS decision, dropping the oldest beyond the history size.
    pub fn record(&self, decision: Arc<Decision>) {
        let evicted = {
            let mut decisions = self.decisions();
            let evicted = if decisions.len() == DECISION_HISTORY {
                decisions.pop_front()
            } else {
                None
            };
            decisions.push_back(decision);
            evicted
        };
        // The last reference frees the whole record, so it is dropped
        // outside the lock.
        drop(evicted);
    }

    /// The recorded decisions, oldest first.
    pub fn recent_decisions(&self) -> Vec<Arc<Decision>> {
        self.decisions().iter().cloned().collect()
    }

    /// The recorded decision with this request id, if it is still kept.
    pub fn decision(&self, request_id: &str) -> Option<Arc<Decision>> {
        self.decisions()
            .iter()
            .rev()
            .find(|d| d.request_id == request_id)
            .cloned()
    }

    /// The recent AWS requests and their live subscribers, for the
    /// teaching page.
    pub fn feed(&self) -> &crate::teach::Feed {
        &self.feed
    }

    fn decisions(&self) -> MutexGuard<'_, VecDeque<Arc<Decision>>> {
        self.decisions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
