//! An in-process harness for tests: build a world, start the server on a
//! loopback port, mint tokens, stop.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::oidc::mint::{self, TokenRequest};
use crate::seed::DEFAULT_SEED;
use crate::state::{AppState, ServerOptions};
use crate::world::{ClusterSpec, DEFAULT_ACCOUNT, World};

/// Builder for a [`Harness`].
pub struct HarnessBuilder {
    seed: u64,
    account: String,
    clusters: Vec<ClusterSpec>,
    clock: Arc<dyn Clock>,
    options: ServerOptions,
    listen: SocketAddr,
}

impl Default for HarnessBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            account: DEFAULT_ACCOUNT.to_owned(),
            clusters: Vec::new(),
            clock: Arc::new(SystemClock),
            options: ServerOptions::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl HarnessBuilder {
    /// Sets the seed every key and id derives from.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the default account.
    pub fn account(mut self, account: &str) -> Self {
        self.account = account.to_owned();
        self
    }

    /// Adds a cluster from the `NAME[@REGION[/ID]]` form.
    ///
    /// # Panics
    ///
    /// Panics on an invalid spec, which in a test is a bug in the test.
    pub fn cluster(mut self, spec: &str) -> Self {
        let spec = ClusterSpec::parse(spec).unwrap_or_else(|error| panic!("{error}"));
        self.clusters.push(spec);
        self
    }

    /// Uses `clock` for every time check.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Rejects unsigned IAM calls, as AWS does.
    pub fn strict_auth(mut self, strict: bool) -> Self {
        self.options.strict_auth = strict;
        self
    }

    /// Checks every issuer's chain against provider thumbprints.
    pub fn thumbprint_pinning(mut self, pinning: bool) -> Self {
        self.options.thumbprint_pinning = pinning;
        self
    }

    /// Fetches the keys of issuers the harness does not host.
    pub fn remote_issuers(mut self, config: crate::oidc::remote::RemoteConfig) -> Self {
        self.options.remote = Some(config);
        self
    }

    /// Sets the slow-client timeouts, so tests can use short ones.
    pub fn limits(mut self, limits: crate::limits::Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Builds the shared state without starting a server.
    pub fn build_state(&self) -> Result<Arc<AppState>, String> {
        let mut world = World::new(self.seed, &self.account);
        let now = self.clock.now();
        for spec in &self.clusters {
            world.add_cluster(spec, now)?;
        }
        world.create_node_roles(now);
        Ok(AppState::new(
            world,
            self.clock.clone(),
            self.options.clone(),
        ))
    }

    /// Starts the server on a free loopback port.
    pub async fn start(self) -> std::io::Result<Harness> {
        let state = self.build_state().map_err(std::io::Error::other)?;
        let listener = crate::listener::bind(self.listen)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Ok(Harness {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }
}

/// A harness running in this process.
pub struct Harness {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Harness {
    /// Starts building a harness.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL to give clients, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state, to inspect the world or the recorded decisions.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Mints a projected token for a cluster of the default account.
    pub fn token(&self, cluster: &str, request: &TokenRequest) -> Result<String, String> {
        let world = self.state.read();
        let cluster = world
            .cluster(cluster, world.default_account())
            .ok_or_else(|| format!("cluster {cluster:?} not found"))?;
        Ok(mint::mint(
            &cluster.issuer,
            world.seed(),
            self.state.now(),
            request,
        ))
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.state.feed().close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.state.feed().close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
