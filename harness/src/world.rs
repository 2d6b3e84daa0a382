//! The emulated world: accounts with their IAM OIDC providers and roles, and
//! EKS clusters with their issuers.
//!
//! The world is plain data behind one lock in the server state. Request
//! handlers copy what they need (an `Arc` of an issuer, a role's policy) out
//! of a read guard and do their crypto after releasing it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::aws::arn::partition_dns_suffix;
use crate::kube::KubeObjects;
use crate::oidc::issuer::KeySlot;
use crate::oidc::{Issuer, KeyAlgorithm, SigningKey};
use crate::policy::TrustPolicy;
use crate::seed;

/// Account used when the caller names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Region of a cluster whose `--cluster` value names none.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Partition of accounts that do not name one.
pub const DEFAULT_PARTITION: &str = "aws";
/// Kubernetes version reported by DescribeCluster.
pub const CLUSTER_VERSION: &str = "1.33";

/// The description a cluster is created from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    pub name: String,
    pub region: String,
    /// A fixed issuer id (32 upper-case hex digits); derived from the seed
    /// when absent.
    pub id: Option<String>,
    /// The owning account; the world's default account when absent.
    pub account: Option<String>,
    /// The issuer's keys: RS256 and no previous keys unless changed.
    pub keys: KeySpec,
    /// Name of the IAM role of the cluster's nodes; [`DEFAULT_NODE_ROLE`]
    /// when absent.
    pub node_role: Option<String>,
}

/// Name of a cluster's node role when its spec names none: the name the EKS
/// user guide gives the node IAM role it has readers create.
pub const DEFAULT_NODE_ROLE: &str = "AmazonEKSNodeRole";

/// Trust policy of a node role the harness creates: EC2 instances may assume
/// it, as on every EKS node role.
pub const NODE_ROLE_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// What keys an issuer starts with: one signing key of `algorithm`, and
/// `previous_keys` older keys still published in the JWKS, as during a
/// rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub algorithm: KeyAlgorithm,
    pub previous_keys: u32,
}

impl Default for KeySpec {
    /// EKS signs with RS256.
    fn default() -> Self {
        KeySpec {
            algorithm: KeyAlgorithm::RS256,
            previous_keys: 0,
        }
    }
}

/// Most previous keys an issuer may start with; real JWKS hold a few.
pub const MAX_PREVIOUS_KEYS: u32 = 8;

/// How a hosted issuer was made and rotated, kept in hosting order, so a
/// saved world can be rebuilt with the same keys: keys derive from the seed
/// and the issuer's position, not from anything random.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerRecord {
    pub url: String,
    pub keys: KeySpec,
    pub rotations: Vec<Rotation>,
}

/// One key rotation of an issuer, as [`World::rotate_keys`] took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub algorithm: Option<KeyAlgorithm>,
    pub drop_previous: bool,
}

/// How an issuer's keys are derived and which it has retired.
#[derive(Debug, Clone)]
struct KeyRing {
    /// The issuer's position in the world; keys derive from it.
    slot: String,
    /// The generation number the next new key gets.
    next_generation: u32,
    /// Keys dropped from the JWKS, newest first.
    dropped: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    /// Generation 0 of an RS256 issuer uses the labels keys had before
    /// issuers could rotate or change algorithm, so existing worlds keep
    /// their kids.
    ///
    /// The key is only described here; the issuer makes it on first use.
    fn key(&self, seed: u64, algorithm: KeyAlgorithm, generation: u32) -> KeySlot {
        let labels = if algorithm == KeyAlgorithm::RS256 && generation == 0 {
            vec!["cluster-key".to_owned(), self.slot.clone()]
        } else {
            vec![
                "cluster-key".to_owned(),
                self.slot.clone(),
                algorithm.name().to_owned(),
                generation.to_string(),
            ]
        };
        KeySlot::Derived {
            algorithm,
            seed,
            labels,
        }
    }

    /// The initial keys, signing key first.
    fn initial(&mut self, seed: u64, spec: &KeySpec) -> Vec<KeySlot> {
        let newest = spec.previous_keys;
        self.next_generation = newest + 1;
        (0..=newest)
            .rev()
            .map(|generation| self.key(seed, spec.algorithm, generation))
            .collect()
    }
}

impl ClusterSpec {
    /// Parses the `NAME[@REGION[/ID]]` form of `serve --cluster`.
    pub fn parse(text: &str) -> Result<ClusterSpec, String> {
        let (name, rest) = match text.split_once('@') {
            Some((name, rest)) => (name, Some(rest)),
            None => (text, None),
        };
        let (region, id) = match rest {
            Some(rest) => match rest.split_once('/') {
                Some((region, id)) => (region, Some(id)),
                None => (rest, None),
            },
            None => (DEFAULT_REGION, None),
        };
        if !is_cluster_name(name) {
            return Err(format!(
                "invalid cluster name {name:?}: use 1-100 letters, digits, '-' or '_', starting with a letter or digit"
            ));
        }
        if !is_region(region) {
            return Err(format!(
                "invalid region {region:?} in cluster {text:?}: use a region name such as us-east-1"
            ));
        }
        if let Some(id) = id
            && !is_cluster_id(id)
        {
            return Err(format!(
                "invalid cluster id {id:?} in cluster {text:?}: use 32 upper-case hex digits, as in oidc.eks.<region>.amazonaws.com/id/<ID>"
            ));
        }
        Ok(ClusterSpec {
            name: name.to_owned(),
            region: region.to_owned(),
            id: id.map(str::to_owned),
            account: None,
            keys: KeySpec::default(),
            node_role: None,
        })
    }
}

/// Checks that the text has the shape of an AWS region: lower-case words joined
/// by `-`, ending in a number, such as `us-east-1` or `us-gov-west-1`.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn is_cluster_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && name.len() <= 100
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks that the text is an EKS issuer id: 32 upper-case hex digits.
pub fn is_cluster_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// The issuer URL of an EKS cluster: `https://oidc.eks.<region>.<dns
/// suffix>/id/<ID>`.
pub fn issuer_url(partition: &str, region: &str, id: &str) -> String {
    format!(
        "https://oidc.eks.{region}.{}/id/{id}",
        partition_dns_suffix(partition)
    )
}

/// Ways an issuer can be mis-served, for reproducing STS's key-retrieval
/// and thumbprint failures. The default serves everything correctly, over
/// the harness's own chain, which counts as trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerFaults {
    /// No connection to the issuer host succeeds.
    pub unreachable: bool,
    /// The issuer responds only after STS has given up.
    pub slow: bool,
    /// HTTP status of the discovery document, when not 200.
    pub discovery_status: Option<u16>,
    /// Required discovery members left out.
    pub discovery_missing: Vec<String>,
    /// HTTP status of the JWKS, when not 200.
    pub jwks_status: Option<u16>,
    /// The TLS chain served instead of the harness's own.
    pub tls: Option<ServedChain>,
}

/// A TLS chain as an issuer host presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedChain {
    /// SHA-1 thumbprint of the last certificate presented.
    pub thumbprint: String,
    /// Whether the chain ends at a CA that AWS trusts.
    pub trusted: bool,
    /// Whether the leaf certificate names the issuer host.
    pub matches_host: bool,
}

/// Members a discovery document must have for STS to use it.
pub const REQUIRED_DISCOVERY_MEMBERS: [&str; 5] = [
    "issuer",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
];

/// An emulated EKS cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub region: String,
    pub account: String,
    pub id: String,
    pub issuer: Arc<Issuer>,
    pub created_at: OffsetDateTime,
    /// The cluster's service accounts and pods.
    pub kube: KubeObjects,
    /// Name of the IAM role the cluster's nodes run as, in the cluster's
    /// account.
    pub node_role: String,
}

impl Cluster {
    /// The EC2 instance id of the cluster's node: `i-` and 17 hex digits
    /// derived from the seed and the cluster, so it is the same on every run.
    pub fn instance_id(&self, world_seed: u64) -> String {
        let digest = seed::derive(
            world_seed,
            &["instance-id", &self.account, &self.region, &self.name],
        );
        let mut id = hex::encode(digest);
        id.truncate(17);
        format!("i-{id}")
    }
}

/// Checks that the text is a valid IAM role name: 1-64 characters of
/// letters, digits and `+=,.@_-`.
pub fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// An IAM OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// The URL as IAM stores it: no scheme, no default port.
    pub url: String,
    pub arn: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub created_at: OffsetDateTime,
}

impl OidcProvider {
    /// The `iss` value a token must carry to match this provider.
    pub fn issuer_url(&self) -> String {
        format!("https://{}", self.url)
    }
}

/// An IAM role.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub trust_policy: Arc<TrustPolicy>,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
    pub created_at: OffsetDateTime,
}

/// One AWS account's IAM state.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub partition: String,
    /// Providers by stored URL, which is unique within an account.
    pub providers: BTreeMap<String, OidcProvider>,
    /// Roles by lower-cased name: IAM role names are unique regardless of
    /// case.
    pub roles: BTreeMap<String, Role>,
}

impl Account {
    fn new(id: &str, partition: &str) -> Self {
        Self {
            id: id.to_owned(),
            partition: partition.to_owned(),
            providers: BTreeMap::new(),
            roles: BTreeMap::new(),
        }
    }

    /// Finds a provider by ARN.
    pub fn provider_by_arn(&self, arn: &str) -> Option<&OidcProvider> {
        let url = self.provider_url_from_arn(arn)?;
        self.providers.get(url)
    }

    /// The stored URL an ARN of this account names, if it is a provider ARN.
    pub fn provider_url_from_arn<'a>(&self, arn: &'a str) -> Option<&'a str> {
        let prefix = format!("arn:{}:iam::{}:oidc-provider/", self.partition, self.id);
        arn.strip_prefix(prefix.as_str())
    }

    /// Finds a provider whose issuer URL is exactly `iss`.
    pub fn provider_for_issuer(&self, iss: &str) -> Option<&OidcProvider> {
        self.providers.get(iss.strip_prefix("https://")?)
    }

    /// Builds the ARN of a provider with stored URL `url`.
    pub fn provider_arn(&self, url: &str) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{url}",
            self.partition, self.id
        )
    }

    /// Finds a role by name, ignoring case.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(&name.to_ascii_lowercase())
    }
}

/// The whole emulated world.
#[derive(Debug)]
pub struct World {
    seed: u64,
    default_account: String,
    accounts: BTreeMap<String, Account>,
    clusters: Vec<Cluster>,
    /// Positions in `clusters` by cluster name, in creation order, so the
    /// lookups on the request path do not scan every cluster.
    cluster_index: HashMap<String, Vec<usize>>,
    /// Cluster ids in use, for the duplicate check when adding one.
    cluster_ids: HashSet<String>,
    issuers: HashMap<String, Arc<Issuer>>,
    /// Host names of the hosted issuers: every request asks whether its
    /// `Host` is one.
    issuer_hosts: HashSet<String>,
    key_rings: HashMap<String, KeyRing>,
    faults: HashMap<String, IssuerFaults>,
    role_serial: u64,
    history: Vec<IssuerRecord>,
    /// Position in `clusters` of the first cluster whose node role is still
    /// to be created. Earlier clusters got theirs from
    /// [`World::create_node_roles`], or came from a state file that contains
    /// their node roles as the user left them.
    first_pending_node_role: usize,
}

impl World {
    /// Creates an empty world.
    pub fn new(seed: u64, default_account: &str) -> World {
        let mut world = World {
            seed,
            default_account: default_account.to_owned(),
            accounts: BTreeMap::new(),
            clusters: Vec::new(),
            cluster_index: HashMap::new(),
            cluster_ids: HashSet::new(),
            issuers: HashMap::new(),
            issuer_hosts: HashSet::new(),
            key_rings: HashMap::new(),
            faults: HashMap::new(),
            role_serial: 0,
            history: Vec::new(),
            first_pending_node_role: 0,
        };
        world.account_mut(default_account);
        world
    }

    /// The seed every derived value comes from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The account of unsigned calls and of calls whose key names none.
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// Finds an account.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// Every account, in id order.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// Returns an account, creating it (in the default partition) on first
    /// use, as any 12-digit account id names a usable account.
    pub fn account_mut(&mut self, id: &str) -> &mut Account {
        self.accounts
            .entry(id.to_owned())
            .or_insert_with(|| Account::new(id, DEFAULT_PARTITION))
    }

    /// Sets the partition of an account (creating it), for GovCloud and
    /// China accounts.
    pub fn set_partition(&mut self, id: &str, partition: &str) {
        self.account_mut(id).partition = partition.to_owned();
    }

    /// Adds a cluster and its issuer. Fails when the account already has a
    /// cluster of that name in that region, or another cluster has the id.
    pub fn add_cluster(
        &mut self,
        spec: &ClusterSpec,
        now: OffsetDateTime,
    ) -> Result<&Cluster, String> {
        let account = spec
            .account
            .clone()
            .unwrap_or_else(|| self.default_account.clone());
        if self
            .clusters_named(&spec.name)
            .any(|c| c.account == account && c.region == spec.region)
        {
            return Err(format!(
                "cluster {:?} already exists in account {account}, region {}",
                spec.name, spec.region
            ));
        }
        let id = match &spec.id {
            Some(id) => id.clone(),
            None => self.derived_cluster_id(&account, &spec.region, &spec.name),
        };
        if self.cluster_ids.contains(&id)
            && let Some(other) = self.clusters.iter().find(|c| c.id == id)
        {
            return Err(format!(
                "cluster id {id} is already used by cluster {:?}; give each cluster its own id",
                other.name
            ));
        }
        let partition = self.account_mut(&account).partition.clone();
        let url = issuer_url(&partition, &spec.region, &id);
        let issuer = self.host_issuer(&url, &spec.keys)?;
        self.cluster_index
            .entry(spec.name.clone())
            .or_default()
            .push(self.clusters.len());
        self.cluster_ids.insert(id.clone());
        self.clusters.push(Cluster {
            name: spec.name.clone(),
            region: spec.region.clone(),
            account,
            id,
            issuer,
            created_at: now,
            kube: KubeObjects::default(),
            node_role: spec
                .node_role
                .clone()
                .unwrap_or_else(|| DEFAULT_NODE_ROLE.to_owned()),
        });
        Ok(self.clusters.last().expect("a cluster was just pushed"))
    }

    /// Creates the node role of each cluster added since the last call that
    /// its account lacks, with an EC2 trust policy. Callers run it after the
    /// world's own IAM calls, so a scenario can define the node role itself
    /// (its own trust policy or tags) without a clash. Each cluster's node
    /// role is created once, so one deleted through IAM stays deleted.
    pub fn create_node_roles(&mut self, now: OffsetDateTime) {
        let pending: Vec<(String, String)> = self.clusters[self.first_pending_node_role..]
            .iter()
            .map(|c| (c.account.clone(), c.node_role.clone()))
            .collect();
        self.first_pending_node_role = self.clusters.len();
        for (account, name) in pending {
            if self
                .account(&account)
                .is_some_and(|a| a.role(&name).is_some())
            {
                continue;
            }
            // The id derives from the names alone rather than the creation
            // serial, so adding node roles renumbers no role of the scenario.
            let id = format!(
                "AROA{}",
                seed::id_chars(self.seed, &["node-role-id", &account, &name], 17)
            );
            let policy = TrustPolicy::parse(NODE_ROLE_TRUST_POLICY)
                .expect("the node role trust policy is valid IAM JSON");
            let account = self.account_mut(&account);
            let role = Role {
                arn: format!("arn:{}:iam::{}:role/{name}", account.partition, account.id),
                name: name.clone(),
                path: "/".to_owned(),
                id,
                trust_policy: Arc::new(policy),
                description: None,
                max_session_duration: crate::iam::roles::DEFAULT_MAX_SESSION_DURATION,
                permissions_boundary: None,
                tags: Vec::new(),
                created_at: now,
            };
            account.roles.insert(name.to_ascii_lowercase(), role);
        }
    }

    /// Marks the node roles of every cluster so far as created, for a world
    /// restored from a state file. The file's roles already include the node
    /// roles, except those a user deleted, and those must stay deleted.
    pub fn mark_node_roles_created(&mut self) {
        self.first_pending_node_role = self.clusters.len();
    }

    /// Adds an issuer that belongs to no cluster (a CI system's, or a
    /// self-hosted cluster's on its own URL), signing with its own key.
    pub fn add_issuer(&mut self, url: &str) -> Result<Arc<Issuer>, String> {
        self.add_issuer_with_keys(url, &KeySpec::default())
    }

    /// Adds an issuer of no cluster with the keys `keys` describes.
    pub fn add_issuer_with_keys(
        &mut self,
        url: &str,
        keys: &KeySpec,
    ) -> Result<Arc<Issuer>, String> {
        if !url.starts_with("https://") || url.len() <= "https://".len() {
            return Err(format!(
                "invalid issuer URL {url:?}: issuers are https URLs, such as https://token.actions.githubusercontent.com"
            ));
        }
        if self.issuers.contains_key(url) {
            return Err(format!("issuer {url} is defined twice"));
        }
        self.host_issuer(url, keys)
    }

    /// Builds an issuer's keys and hosts it.
    fn host_issuer(&mut self, url: &str, keys: &KeySpec) -> Result<Arc<Issuer>, String> {
        if keys.previous_keys > MAX_PREVIOUS_KEYS {
            return Err(format!(
                "issuer {url} asks for {} previous keys; the harness publishes at most {MAX_PREVIOUS_KEYS}",
                keys.previous_keys
            ));
        }
        // Keys derive from the issuer's position in the world, not its name,
        // so worlds with one seed share a small set of keys: RSA generation
        // dominates the cost of building a world, and scenario libraries
        // build many. Two issuers of one world never share a key.
        let mut ring = KeyRing {
            slot: self.issuers.len().to_string(),
            next_generation: 0,
            dropped: Vec::new(),
        };
        let issuer = Arc::new(Issuer::with_slots(url, ring.initial(self.seed, keys)));
        self.issuers.insert(url.to_owned(), issuer.clone());
        self.issuer_hosts.insert(issuer.host().to_owned());
        self.key_rings.insert(url.to_owned(), ring);
        self.history.push(IssuerRecord {
            url: url.to_owned(),
            keys: *keys,
            rotations: Vec::new(),
        });
        Ok(issuer)
    }

    /// Rotates an issuer's keys: a new key (of `algorithm`, or of the current
    /// signing key's algorithm) signs from now on, and the old keys stay in
    /// the JWKS unless `drop_previous` removes them. Tokens already minted
    /// keep their signatures, so they verify only while their key is
    /// published.
    pub fn rotate_keys(
        &mut self,
        url: &str,
        algorithm: Option<KeyAlgorithm>,
        drop_previous: bool,
    ) -> Result<Arc<Issuer>, String> {
        let (Some(current), Some(ring)) = (self.issuers.get(url), self.key_rings.get_mut(url))
        else {
            return Err(format!("the harness hosts no issuer {url}"));
        };
        let algorithm = algorithm.unwrap_or_else(|| current.signing_algorithm());
        let generation = ring.next_generation;
        ring.next_generation += 1;
        let new_key = ring.key(self.seed, algorithm, generation);
        let mut keys = vec![new_key];
        if drop_previous {
            // Dropped keys are kept made: a scenario signs with them to
            // show that a rotated-out key fails.
            let mut dropped = current.keys().to_vec();
            dropped.append(&mut ring.dropped);
            ring.dropped = dropped;
        } else {
            keys.extend(current.slots().iter().cloned());
        }
        let issuer = Arc::new(Issuer::with_slots(url, keys));
        self.issuers.insert(url.to_owned(), issuer.clone());
        for cluster in self.clusters.iter_mut().filter(|c| c.issuer.url() == url) {
            cluster.issuer = issuer.clone();
        }
        if let Some(record) = self.history.iter_mut().find(|r| r.url == url) {
            record.rotations.push(Rotation {
                algorithm: Some(algorithm),
                drop_previous,
            });
        }
        Ok(issuer)
    }

    /// The newest key an issuer no longer publishes, if rotation dropped any.
    pub fn dropped_key(&self, url: &str) -> Option<&Arc<SigningKey>> {
        self.key_rings.get(url)?.dropped.first()
    }

    /// The issuer id a cluster gets when none is given: the first 32 hex
    /// digits (upper case) of a SHA-256 over seed, account, region and name,
    /// so adding a cluster renumbers no other.
    pub fn derived_cluster_id(&self, account: &str, region: &str, name: &str) -> String {
        let digest = seed::derive(self.seed, &["cluster-id", account, region, name]);
        hex::encode_upper(&digest[..16])
    }

    /// Every cluster, in creation order.
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// The clusters named `name`, in creation order.
    fn clusters_named<'w>(&'w self, name: &str) -> impl Iterator<Item = &'w Cluster> + 'w {
        self.cluster_index
            .get(name)
            .into_iter()
            .flatten()
            .map(|&index| &self.clusters[index])
    }

    /// Finds a cluster by name: in `account` first, then in any account.
    pub fn cluster(&self, name: &str, account: &str) -> Option<&Cluster> {
        self.clusters_named(name)
            .find(|c| c.account == account)
            .or_else(|| self.clusters_named(name).next())
    }

    /// Every cluster, to change them, in creation order.
    pub fn clusters_mut(&mut self) -> &mut [Cluster] {
        &mut self.clusters
    }

    /// Every hosted issuer's keys and rotations, in hosting order.
    pub fn issuer_history(&self) -> &[IssuerRecord] {
        &self.history
    }

    /// The number of roles created so far, which role ids derive from.
    pub fn role_serial(&self) -> u64 {
        self.role_serial
    }

    /// Restores the role serial of a saved world, so ids of new roles do not
    /// repeat earlier ones.
    pub fn set_role_serial(&mut self, serial: u64) {
        self.role_serial = serial;
    }

    /// Finds a cluster by name in any account, to change its objects.
    pub fn cluster_mut(&mut self, name: &str) -> Option<&mut Cluster> {
        let index = *self.cluster_index.get(name)?.first()?;
        self.clusters.get_mut(index)
    }

    /// Finds a hosted issuer by its exact URL.
    pub fn issuer(&self, url: &str) -> Option<&Arc<Issuer>> {
        self.issuers.get(url)
    }

    /// Finds the hosted issuer that serves `path` on `host`, returning it
    /// with the part of the path after the issuer's own path.
    pub fn issuer_for_request<'p>(
        &self,
        host: &str,
        path: &'p str,
    ) -> Option<(&Arc<Issuer>, &'p str)> {
        for suffix in [
            crate::oidc::issuer::DISCOVERY_PATH,
            crate::oidc::issuer::JWKS_PATH,
        ] {
            if let Some(issuer_path) = path.strip_suffix(suffix) {
                let url = format!("https://{host}{issuer_path}");
                if let Some(issuer) = self.issuers.get(url.trim_end_matches('/')) {
                    return Some((issuer, &path[issuer_path.len()..]));
                }
                if let Some(issuer) = self.issuers.get(&url) {
                    return Some((issuer, &path[issuer_path.len()..]));
                }
            }
        }
        None
    }

    /// How an issuer is mis-served, if at all.
    pub fn faults(&self, url: &str) -> Option<&IssuerFaults> {
        self.faults.get(url)
    }

    /// Sets how an issuer is mis-served; the default removes every fault.
    pub fn set_faults(&mut self, url: &str, faults: IssuerFaults) {
        if faults == IssuerFaults::default() {
            self.faults.remove(url);
        } else {
            self.faults.insert(url.to_owned(), faults);
        }
    }

    /// Whether any hosted issuer lives on `host`.
    pub fn hosts_issuer_on(&self, host: &str) -> bool {
        self.issuer_hosts.contains(host)
    }

    /// Returns the next role id: `AROA` and 17 characters derived from the
    /// seed, the account, the name and a creation serial, so a role deleted
    /// and created again gets a new id, as in IAM.
    pub fn next_role_id(&mut self, account: &str, name: &str) -> String {
        self.role_serial += 1;
        let serial = self.role_serial.to_string();
        format!(
            "AROA{}",
            seed::id_chars(self.seed, &["role-id", account, name, &serial], 17)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_spec_forms() {
        let plain = ClusterSpec::parse("demo").unwrap();
        assert_eq!(plain.region, DEFAULT_REGION);
        let full =
            ClusterSpec::parse("demo@ap-northeast-2/C891F985BAF5A4C1C7ABBA6A00DFD39E").unwrap();
        assert_eq!(full.region, "ap-northeast-2");
        assert_eq!(full.id.as_deref(), Some("C891F985BAF5A4C1C7ABBA6A00DFD39E"));
        assert!(ClusterSpec::parse("demo@us-east-1/abc").is_err());
        assert!(ClusterSpec::parse("-x").is_err());
        assert!(ClusterSpec::parse("demo@not-a-region").is_err());
        assert!(ClusterSpec::parse("demo@us-gov-west-1").is_ok());
    }

    #[test]
    fn derived_id_depends_only_on_own_inputs() {
        let world = World::new(5, DEFAULT_ACCOUNT);
        let a = world.derived_cluster_id(DEFAULT_ACCOUNT, "us-east-1", "a");
        assert!(is_cluster_id(&a));
        assert_eq!(
            a,
            World::new(5, DEFAULT_ACCOUNT).derived_cluster_id(DEFAULT_ACCOUNT, "us-east-1", "a")
        );
        assert_ne!(
            a,
            world.derived_cluster_id(DEFAULT_ACCOUNT, "us-east-1", "b")
        );
    }

    #[test]
    fn issuer_lookup_by_host_and_path() {
        let mut world = World::new(5, DEFAULT_ACCOUNT);
        let now = OffsetDateTime::UNIX_EPOCH;
        let spec = ClusterSpec::parse("demo@eu-west-1/C891F985BAF5A4C1C7ABBA6A00DFD39E").unwrap();
        world.add_cluster(&spec, now).unwrap();
        let host = "oidc.eks.eu-west-1.amazonaws.com";
        let (issuer, rest) = world
            .issuer_for_request(host, "/id/C891F985BAF5A4C1C7ABBA6A00DFD39E/keys")
            .unwrap();
        assert_eq!(rest, "/keys");
        assert!(issuer.url().ends_with("C891F985BAF5A4C1C7ABBA6A00DFD39E"));
        assert!(world.issuer_for_request(host, "/id/OTHER/keys").is_none());
    }

    #[test]
    fn node_roles_are_created_once() {
        let mut world = World::new(5, DEFAULT_ACCOUNT);
        let now = OffsetDateTime::UNIX_EPOCH;
        world
            .add_cluster(&ClusterSpec::parse("demo").unwrap(), now)
            .unwrap();
        world.create_node_roles(now);
        let deleted = world
            .account_mut(DEFAULT_ACCOUNT)
            .roles
            .remove(&DEFAULT_NODE_ROLE.to_ascii_lowercase());
        assert!(deleted.is_some(), "the first call creates the node role");

        let mut other = ClusterSpec::parse("other").unwrap();
        other.node_role = Some("other-nodes".to_owned());
        world.add_cluster(&other, now).unwrap();
        world.create_node_roles(now);
        let account = world.account(DEFAULT_ACCOUNT).unwrap();
        assert!(account.role("other-nodes").is_some());
        assert!(
            account.role(DEFAULT_NODE_ROLE).is_none(),
            "a deleted node role came back"
        );
    }

    #[test]
    fn rotation_publishes_then_drops_old_keys() {
        let mut world = World::new(5, DEFAULT_ACCOUNT);
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut spec = ClusterSpec::parse("demo").unwrap();
        spec.keys = KeySpec {
            algorithm: KeyAlgorithm::ES256,
            previous_keys: 1,
        };
        let url = world
            .add_cluster(&spec, now)
            .unwrap()
            .issuer
            .url()
            .to_owned();
        let first: Vec<String> = world
            .issuer(&url)
            .unwrap()
            .keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(first.len(), 2);
        let rotated = world.rotate_keys(&url, None, false).unwrap();
        assert_eq!(rotated.keys().len(), 3);
        assert_eq!(rotated.keys()[1].kid(), first[0]);
        assert_eq!(rotated.signing_key().algorithm(), KeyAlgorithm::ES256);
        let cluster_issuer = world
            .cluster("demo", DEFAULT_ACCOUNT)
            .unwrap()
            .issuer
            .clone();
        assert_eq!(
            cluster_issuer.signing_key().kid(),
            rotated.signing_key().kid()
        );
        let dropped = world
            .rotate_keys(&url, Some(KeyAlgorithm::RS256), true)
            .unwrap();
        assert_eq!(dropped.keys().len(), 1);
        assert_eq!(dropped.signing_key().algorithm(), KeyAlgorithm::RS256);
        assert_eq!(
            world.dropped_key(&url).unwrap().kid(),
            rotated.signing_key().kid()
        );

        // The same world built again has the same kids.
        let mut again = World::new(5, DEFAULT_ACCOUNT);
        again.add_cluster(&spec, now).unwrap();
        let kids: Vec<String> = again
            .issuer(&url)
            .unwrap()
            .keys()
            .iter()
            .map(|k| k.kid().to_owned())
            .collect();
        assert_eq!(kids, first);
    }

    #[test]
    fn keys_are_made_on_first_use_in_any_order() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut world = World::new(41, DEFAULT_ACCOUNT);
        for name in ["first", "second"] {
            world
                .add_cluster(&ClusterSpec::parse(name).unwrap(), now)
                .unwrap();
        }
        let issuers: Vec<Arc<Issuer>> = world.clusters().iter().map(|c| c.issuer.clone()).collect();
        assert!(issuers.iter().all(|issuer| !issuer.keys_made()));
        assert!(
            issuers[0]
                .discovery_json()
                .contains(r#""id_token_signing_alg_values_supported":["RS256"]"#),
            "the discovery document needs no key"
        );
        // The second cluster's key is made first; each key still depends
        // only on the seed and its issuer's slot.
        let second = issuers[1].signing_key().kid().to_owned();
        assert!(!issuers[0].keys_made());
        let first = issuers[0].signing_key().kid().to_owned();
        assert_eq!(first, SigningKey::derived(41, &["cluster-key", "0"]).kid());
        assert_eq!(second, SigningKey::derived(41, &["cluster-key", "1"]).kid());
        assert!(issuers[1].jwks_json().contains(&second));
    }

    #[test]
    fn lookups_use_the_indexes() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut world = World::new(5, DEFAULT_ACCOUNT);
        let mut other = ClusterSpec::parse("demo@eu-west-1").unwrap();
        other.account = Some("210987654321".into());
        world.add_cluster(&other, now).unwrap();
        world
            .add_cluster(&ClusterSpec::parse("demo").unwrap(), now)
            .unwrap();
        assert_eq!(
            world.cluster("demo", DEFAULT_ACCOUNT).unwrap().region,
            "us-east-1"
        );
        assert_eq!(
            world.cluster("demo", "999999999999").unwrap().region,
            "eu-west-1"
        );
        assert!(world.cluster("absent", DEFAULT_ACCOUNT).is_none());
        assert_eq!(world.cluster_mut("demo").unwrap().region, "eu-west-1");
        assert!(world.hosts_issuer_on("oidc.eks.eu-west-1.amazonaws.com"));
        assert!(!world.hosts_issuer_on("oidc.eks.eu-west-2.amazonaws.com"));
        let duplicate = ClusterSpec::parse("demo").unwrap();
        assert!(world.add_cluster(&duplicate, now).is_err());
    }

    #[test]
    fn default_keys_keep_their_kid() {
        let mut world = World::new(5, DEFAULT_ACCOUNT);
        let issuer = world.add_issuer("https://ci.example").unwrap();
        assert_eq!(
            issuer.signing_key().kid(),
            SigningKey::derived(5, &["cluster-key", "0"]).kid()
        );
    }
}
