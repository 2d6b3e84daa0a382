//! AWS wire protocols shared by the emulated services: query-form decoding,
//! XML and JSON responses, the error shapes, ARNs and model-constraint
//! messages.

pub mod arn;
pub mod auth;
pub mod constraint;
pub mod error;
pub mod query;
pub mod xml;

pub use error::{AwsError, Service};
pub use query::Params;
