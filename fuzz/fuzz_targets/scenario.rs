//! The scenario loader: any bytes as a scenario file, through YAML parsing
//! and every validation the loader runs, with line and column on errors.
//!
//! The file is named under a folder that does not exist, so references to
//! other files (manifests, claims) fail to read instead of reaching files of
//! the machine.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-fuzz-scenarios/fuzz.yaml");
    if let Err(error) = oidc_sts_harness::scenario::load_str(path, text) {
        // Rendering the error is part of what a user sees.
        let _ = error.to_string();
    }
});
