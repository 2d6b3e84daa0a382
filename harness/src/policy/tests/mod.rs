//! Tests of the trust-policy engine as the STS pipeline uses it: parse,
//! evaluate, explain.

mod cases;
mod statements;
mod support;
mod validation;
