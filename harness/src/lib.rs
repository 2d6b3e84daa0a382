//! oidc-sts-harness: a local emulator of the EKS "IAM roles for service
//! accounts" trust flow, checked the way real AWS checks it.
//!
//! One server emulates an EKS cluster's OIDC issuer (discovery document and
//! JWKS), the IAM OpenID Connect provider and role APIs, and STS
//! `AssumeRoleWithWebIdentity`, so that real AWS SDKs and the AWS CLI work
//! against it unchanged. Every STS decision carries a trace of the checks it
//! ran, with the values compared and a hint for the fix.
//!
//! Layout:
//!
//! - [`server`]: the axum router; one port for everything, issuers chosen by
//!   the `Host` header.
//! - [`aws`]: the query protocol, XML, errors, ARNs, model constraints.
//! - [`iam`]: OIDC provider and role actions.
//! - [`sts`]: the AssumeRoleWithWebIdentity pipeline, credentials, traces.
//! - [`policy`]: the trust-policy language.
//! - [`scenario`]: scenario files, their runner and reporters.
//! - [`oidc`]: issuer keys, documents, token minting and parsing.
//! - [`world`]: accounts, clusters, providers, roles.
//! - [`persist`]: the state file of `serve --state`.
//! - [`kube`]: the clusters' service accounts, pods and Deployments, the pod
//!   identity webhook that mutates pods, and the tokens of their volumes.
//! - [`imds`]: EC2 instance metadata (IMDSv2) with the node role's credentials.
//! - [`exec`]: runs a command with a pod's environment and token.
//! - [`tls`]: the HTTPS listener for issuers, its CA chain, thumbprints.
//! - [`limits`]: request sizes, counts and slow-client timeouts, and the
//!   plain-HTTP listener that enforces them.
//! - [`listener`]: binding a listening socket, and the accept loop and
//!   graceful shutdown that the plain-HTTP and HTTPS listeners share.
//! - [`clock`], [`seed`]: the injected time and deterministic derivation.
//! - [`Harness`]: start a server in-process, for other projects' tests.

pub mod aws;
pub mod clock;
pub mod eks;
mod embed;
pub mod exec;
pub mod explain;
pub mod iam;
pub mod imds;
pub mod kube;
pub mod limits;
pub mod listener;
pub mod oidc;
pub mod persist;
pub mod policy;
pub mod scenario;
pub mod seed;
pub mod server;
pub mod state;
pub mod sts;
pub mod teach;
pub mod tls;
pub mod world;

pub use embed::{Harness, HarnessBuilder};
