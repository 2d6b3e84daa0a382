//! oidc-sts-harness: a local emulator of the EKS "IAM roles for service
//! accounts" trust flow.

pub mod policy;
pub mod seed;
