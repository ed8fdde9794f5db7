//! Format arbitrary valid HuJSON: the output parses to the same data with the same
//! number of comments, and formatting it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailpolicy_policy::hujson::{format, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (Some(document), _) = parse(text) else { return };
    let once = format(&document);
    let (Some(again), diagnostics) = parse(&once) else {
        panic!("formatted output does not parse:\n{once}");
    };
    assert!(!diagnostics.iter().any(|d| d.code.as_str() != "TP0006"), "{diagnostics:?}");
    assert!(again.root.same_data(&document.root), "data changed:\n{once}");
    assert_eq!(again.comment_count(), document.comment_count(), "comments changed:\n{once}");
    assert_eq!(format(&again), once, "not idempotent");
});
