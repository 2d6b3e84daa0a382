//! The whole STS request path in process: any bytes as the form body of a
//! POST to an STS host, through the router, parameter validation, the token
//! checks, the signature, the trust policy and the XML rendering.
//!
//! The answer must never be a server error: every input is the client's
//! fault or a success.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let state = oidc_sts_harness_fuzz::state();
    let (status, body) = oidc_sts_harness_fuzz::send(state, "sts.amazonaws.com", data.to_vec());
    assert!(status < 500, "status {status} for a client's input: {body}");
});
