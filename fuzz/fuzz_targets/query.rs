//! The query-form decoder: any bytes as a form body, then every accessor a
//! handler uses, on names the bytes themselves supply.

#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_sts_harness::aws::Params;

fuzz_target!(|data: &[u8]| {
    let params = Params::decode(data);
    let mut merged = Params::decode(b"Action=GetRole&Version=2010-05-08");
    merged.merge_missing(params.clone());
    assert!(merged.len() >= params.len().min(1));
    for name in params.duplicates() {
        assert!(params.contains(name));
    }
    for name in [
        "Action",
        "ClientIDList",
        "ThumbprintList",
        "Tags",
        "PolicyArns",
    ] {
        let _ = params.get(name);
        let _ = params.list(name);
        let _ = params.tags(name);
    }
    // Names taken from the input reach the list and tag scanners too.
    let text = String::from_utf8_lossy(data);
    for name in text.split(['&', '=', '.']).take(8) {
        let _ = params.list(name);
        let _ = params.tags(name);
    }
});
