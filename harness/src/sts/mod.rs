//! STS: AssumeRoleWithWebIdentity, the issued credentials, and the decision
//! record each call leaves behind.

pub mod caller;
pub mod credentials;
mod error;
pub mod response;
pub mod trace;
mod web_identity;

pub use error::StsError;
pub use trace::{Check, Decision, Outcome, TraceEntry};
pub use web_identity::{Granted, WebIdentityCall, assume_role_with_web_identity};

/// Whether `action` is an STS action the harness serves.
pub fn serves(action: &str) -> bool {
    matches!(action, "AssumeRoleWithWebIdentity" | "GetCallerIdentity")
}
