//! Tests of the trust-policy engine as the STS pipeline uses it: parse,
//! evaluate, explain.

mod cases;
mod context;
mod properties;
mod statements;
mod support;
mod trust_cases;
mod validation;
