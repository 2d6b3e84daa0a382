//! The world saved in a file, for `serve --state FILE`: read on start,
//! written after every change and before the change is acknowledged.
//!
//! The file is versioned JSON. It holds what cannot be derived: the seed,
//! the accounts with their OIDC providers and roles, the clusters, the
//! Kubernetes objects, and for every hosted issuer the key settings and
//! rotations it went through. Keys themselves are not stored: they derive
//! from the seed and the issuer's position, so replaying the issuers in
//! order gives back the same keys, kids and JWKS.
//!
//! Writes are atomic and ordered. One writer at a time takes a snapshot of
//! the world and writes it to a temporary file in the same folder, syncs
//! it, renames it over the state file and syncs the folder. Because the
//! snapshot is taken while holding the writer lock, a write that starts
//! later always carries a later world, and no earlier snapshot can land
//! after it.
//!
//! A world part added later (say, more Kubernetes kinds) gets a field in
//! [`SavedWorld`] with `#[serde(default)]`, filled in [`snapshot`] and read
//! back in [`restore`]; a change that old files cannot be read with raises
//! [`FORMAT_VERSION`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::kube::KubeObjects;
use crate::oidc::KeyAlgorithm;
use crate::policy::TrustPolicy;
use crate::world::{ClusterSpec, KeySpec, OidcProvider, Role, Rotation, World};

/// The `format` member every state file carries.
pub const FORMAT: &str = "oidc-sts-harness-state";
/// The newest format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The whole saved world.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedWorld {
    format: String,
    version: u32,
    seed: u64,
    default_account: String,
    role_serial: u64,
    accounts: Vec<SavedAccount>,
    /// Hosted issuers in hosting order, which fixes their keys.
    issuers: Vec<SavedIssuer>,
    clusters: Vec<SavedCluster>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedAccount {
    id: String,
    partition: String,
    providers: Vec<SavedProvider>,
    roles: Vec<SavedRole>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedProvider {
    url: String,
    arn: String,
    client_ids: Vec<String>,
    thumbprints: Vec<String>,
    tags: Vec<(String, String)>,
    created_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedRole {
    name: String,
    path: String,
    id: String,
    arn: String,
    trust_policy: String,
    description: Option<String>,
    max_session_duration: u32,
    permissions_boundary: Option<String>,
    tags: Vec<(String, String)>,
    created_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedIssuer {
    url: String,
    algorithm: String,
    previous_keys: u32,
    /// Each rotation: the new key's algorithm and whether older keys left
    /// the JWKS.
    rotations: Vec<(String, bool)>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedCluster {
    name: String,
    region: String,
    account: String,
    id: String,
    issuer: String,
    created_at: String,
    /// The role of the cluster's nodes, which instance metadata serves.
    node_role: String,
    /// ServiceAccounts, Pods and Deployments as stored.
    #[serde(default)]
    kube: crate::kube::SavedKube,
}

/// Why a state file cannot be used. Each message names the file and the
/// fix.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct StateError {
    pub path: PathBuf,
    pub message: String,
}

/// The state file of a running server and the lock that orders its writes.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    writer: Mutex<()>,
}

impl StateFile {
    /// A state file at `path`; nothing is read or written yet.
    pub fn new(path: &Path) -> StateFile {
        StateFile {
            path: path.to_owned(),
            writer: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves the world that `world` returns, atomically. `world` runs while
    /// the writer lock is held, so the snapshots of successive calls reach
    /// the disk in the order they were taken.
    pub fn save(&self, world: impl FnOnce() -> SavedWorld) -> Result<(), StateError> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let saved = world();
        let mut text = serde_json::to_vec_pretty(&saved).map_err(|error| self.error(error))?;
        text.push(b'\n');
        write_atomically(&self.path, &text).map_err(|error| StateError {
            path: self.path.clone(),
            message: format!(
                "cannot write the state file: {error}; check that its folder exists and is writable"
            ),
        })
    }

    /// Reads the world saved in the file, or `None` when there is no file.
    pub fn load(&self) -> Result<Option<World>, StateError> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(StateError {
                    path: self.path.clone(),
                    message: format!("cannot read the state file: {error}"),
                });
            }
        };
        parse(&text)
            .and_then(|saved| restore(&saved))
            .map(Some)
            .map_err(|message| StateError {
                path: self.path.clone(),
                message,
            })
    }

    fn error(&self, error: impl std::fmt::Display) -> StateError {
        StateError {
            path: self.path.clone(),
            message: error.to_string(),
        }
    }
}

/// The fix every refused file's message ends with.
const REFUSED_FIX: &str = "the harness never replaces it by itself: fix or move the file, or start with --reset-state to begin a new world in its place";

/// Parses a state file's text, refusing other formats and newer versions.
pub fn parse(text: &[u8]) -> Result<SavedWorld, String> {
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|error| format!("the state file is not valid JSON ({error}); {REFUSED_FIX}"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(format!(
            "this is not an oidc-sts-harness state file (no \"format\": \"{FORMAT}\"); {REFUSED_FIX}"
        ));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(version) if version > u64::from(FORMAT_VERSION) => {
            return Err(format!(
                "the state file has format version {version}, newer than version {FORMAT_VERSION} that this build reads; run the newer oidc-sts-harness that wrote it, or {}",
                "start with --reset-state to begin a new world in its place"
            ));
        }
        Some(_) => {}
        None => {
            return Err(format!(
                "the state file has no numeric \"version\"; {REFUSED_FIX}"
            ));
        }
    }
    serde_json::from_value(value).map_err(|error| {
        format!("the state file is not a valid saved world ({error}); {REFUSED_FIX}")
    })
}

/// Takes a snapshot of the world in the saved form.
pub fn snapshot(world: &World) -> SavedWorld {
    let accounts = world
        .accounts()
        .map(|account| SavedAccount {
            id: account.id.clone(),
            partition: account.partition.clone(),
            providers: account.providers.values().map(save_provider).collect(),
            roles: account.roles.values().map(save_role).collect(),
        })
        .collect();
    let issuers = world
        .issuer_history()
        .iter()
        .map(|record| SavedIssuer {
            url: record.url.clone(),
            algorithm: record.keys.algorithm.name().to_owned(),
            previous_keys: record.keys.previous_keys,
            rotations: record
                .rotations
                .iter()
                .map(|r| {
                    let algorithm = r.algorithm.map_or("", KeyAlgorithm::name);
                    (algorithm.to_owned(), r.drop_previous)
                })
                .collect(),
        })
        .collect();
    let clusters = world
        .clusters()
        .iter()
        .map(|cluster| SavedCluster {
            name: cluster.name.clone(),
            region: cluster.region.clone(),
            account: cluster.account.clone(),
            id: cluster.id.clone(),
            issuer: cluster.issuer.url().to_owned(),
            created_at: timestamp(cluster.created_at),
            node_role: cluster.node_role.clone(),
            kube: cluster.kube.to_saved(),
        })
        .collect();
    SavedWorld {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        seed: world.seed(),
        default_account: world.default_account().to_owned(),
        role_serial: world.role_serial(),
        accounts,
        issuers,
        clusters,
    }
}

fn save_provider(provider: &OidcProvider) -> SavedProvider {
    SavedProvider {
        url: provider.url.clone(),
        arn: provider.arn.clone(),
        client_ids: provider.client_ids.clone(),
        thumbprints: provider.thumbprints.clone(),
        tags: provider.tags.clone(),
        created_at: timestamp(provider.created_at),
    }
}

fn save_role(role: &Role) -> SavedRole {
    SavedRole {
        name: role.name.clone(),
        path: role.path.clone(),
        id: role.id.clone(),
        arn: role.arn.clone(),
        trust_policy: role.trust_policy.text().to_owned(),
        description: role.description.clone(),
        max_session_duration: role.max_session_duration,
        permissions_boundary: role.permissions_boundary.clone(),
        tags: role.tags.clone(),
        created_at: timestamp(role.created_at),
    }
}

/// Rebuilds a world from its saved form: issuers in their original order
/// (so each gets its keys back), then accounts, providers and roles. The
/// saved roles are the node roles as they were, so the restored clusters
/// count as having theirs and [`World::create_node_roles`] skips them.
pub fn restore(saved: &SavedWorld) -> Result<World, String> {
    let mut world = World::new(saved.seed, &saved.default_account);
    for account in &saved.accounts {
        world.set_partition(&account.id, &account.partition);
    }
    for issuer in &saved.issuers {
        let algorithm = algorithm_named(&issuer.algorithm)?;
        let keys = KeySpec {
            algorithm,
            previous_keys: issuer.previous_keys,
        };
        match saved.clusters.iter().find(|c| c.issuer == issuer.url) {
            Some(cluster) => {
                let spec = ClusterSpec {
                    name: cluster.name.clone(),
                    region: cluster.region.clone(),
                    id: Some(cluster.id.clone()),
                    account: Some(cluster.account.clone()),
                    keys,
                    node_role: Some(cluster.node_role.clone()),
                };
                let created_at = parse_time(&cluster.created_at)?;
                world.add_cluster(&spec, created_at)?;
                let kube = KubeObjects::from_saved(&cluster.kube)
                    .map_err(|error| format!("cluster {}: {error}", cluster.name))?;
                if let Some(added) = world.clusters_mut().last_mut() {
                    added.kube = kube;
                }
            }
            None => {
                world.add_issuer_with_keys(&issuer.url, &keys)?;
            }
        }
        for (algorithm_name, drop_previous) in &issuer.rotations {
            let rotation = Rotation {
                algorithm: match algorithm_name.as_str() {
                    "" => None,
                    name => Some(algorithm_named(name)?),
                },
                drop_previous: *drop_previous,
            };
            world.rotate_keys(&issuer.url, rotation.algorithm, rotation.drop_previous)?;
        }
    }
    if let Some(cluster) = saved
        .clusters
        .iter()
        .find(|c| !saved.issuers.iter().any(|i| i.url == c.issuer))
    {
        return Err(format!(
            "cluster {} names issuer {}, which the file does not list",
            cluster.name, cluster.issuer
        ));
    }
    for account in &saved.accounts {
        let target = world.account_mut(&account.id);
        for provider in &account.providers {
            let restored = OidcProvider {
                url: provider.url.clone(),
                arn: provider.arn.clone(),
                client_ids: provider.client_ids.clone(),
                thumbprints: provider.thumbprints.clone(),
                tags: provider.tags.clone(),
                created_at: parse_time(&provider.created_at)?,
            };
            target.providers.insert(provider.url.clone(), restored);
        }
        for role in &account.roles {
            // The raised quota: a role saved under it was valid when made.
            let policy = TrustPolicy::parse_with_quota(
                &role.trust_policy,
                crate::policy::limits::TRUST_POLICY_MAX_CHARS_RAISED,
            )
            .map_err(|error| {
                format!(
                    "role {}: the saved trust policy does not parse: {}",
                    role.name,
                    error.message()
                )
            })?;
            let restored = Role {
                name: role.name.clone(),
                path: role.path.clone(),
                id: role.id.clone(),
                arn: role.arn.clone(),
                trust_policy: std::sync::Arc::new(policy),
                description: role.description.clone(),
                max_session_duration: role.max_session_duration,
                permissions_boundary: role.permissions_boundary.clone(),
                tags: role.tags.clone(),
                created_at: parse_time(&role.created_at)?,
            };
            target
                .roles
                .insert(role.name.to_ascii_lowercase(), restored);
        }
    }
    world.set_role_serial(saved.role_serial);
    world.mark_node_roles_created();
    Ok(world)
}

fn algorithm_named(name: &str) -> Result<KeyAlgorithm, String> {
    KeyAlgorithm::from_name(name).ok_or_else(|| format!("unknown key algorithm {name:?}"))
}

fn timestamp(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|error| format!("invalid timestamp {text:?}: {error}"))
}

/// Writes `bytes` to `path` so that a reader, or a restart after a crash,
/// finds either the old file or the new one, never a mix: temporary file
/// in the same folder, sync, rename, sync the folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    // The rename is durable only once the folder's entry is.
    std::fs::File::open(&folder)?.sync_all()
}

/// Whether an IAM action changes the world, so its success must be saved
/// before it is acknowledged.
pub fn mutates(action: &str) -> bool {
    !(action.starts_with("Get") || action.starts_with("List"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::DEFAULT_ACCOUNT;

    #[test]
    fn newer_versions_and_other_files_are_refused() {
        let newer = format!(
            r#"{{"format":"{FORMAT}","version":{}}}"#,
            FORMAT_VERSION + 1
        );
        let error = parse(newer.as_bytes()).unwrap_err();
        assert!(error.contains("newer than version 1"), "{error}");
        assert!(parse(b"{").unwrap_err().contains("not valid JSON"));
        assert!(
            parse(b"{\"a\":1}")
                .unwrap_err()
                .contains("not an oidc-sts-harness state file")
        );
    }

    #[test]
    fn issuers_get_their_keys_back() {
        let mut world = World::new(9, DEFAULT_ACCOUNT);
        let now = OffsetDateTime::UNIX_EPOCH;
        world.add_issuer("https://ci.example").unwrap();
        let mut spec = ClusterSpec::parse("demo@eu-west-1").unwrap();
        spec.keys.previous_keys = 1;
        let url = world
            .add_cluster(&spec, now)
            .unwrap()
            .issuer
            .url()
            .to_owned();
        world
            .rotate_keys(&url, Some(KeyAlgorithm::ES256), true)
            .unwrap();
        let text = serde_json::to_vec(&snapshot(&world)).unwrap();
        let restored = restore(&parse(&text).unwrap()).unwrap();
        for url in [url.as_str(), "https://ci.example"] {
            assert_eq!(
                restored.issuer(url).unwrap().jwks_json(),
                world.issuer(url).unwrap().jwks_json()
            );
        }
        assert_eq!(
            restored.dropped_key(&url).unwrap().kid(),
            world.dropped_key(&url).unwrap().kid()
        );
    }
}
