//! Scenario files: a world, setup steps and steps with expected outcomes.
//!
//! [`file`] mirrors the YAML; [`load`] checks it and builds the
//! [`model`] (`load_kube` the Kubernetes steps); [`run`] applies a scenario to a fresh in-process world and
//! compares each outcome with its expectation; [`report`] prints the
//! results as text, JSON or JUnit XML; [`schema`] generates the JSON
//! Schema of the file format.

pub mod file;
pub mod load;
mod load_kube;
pub mod model;
pub mod report;
pub mod run;
mod run_kube;
pub mod schema;

pub use load::{LoadError, load, load_str};
pub use model::Scenario;
pub use run::{ScenarioReport, StepReport, run};

#[cfg(test)]
mod tests;
