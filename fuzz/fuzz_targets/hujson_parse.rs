//! Parse + check arbitrary bytes: never panics; a successful parse prints back byte for
//! byte with every span on a UTF-8 boundary; a failed one has an error diagnostic; the
//! checker never reports an internal error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailpolicy_policy::hujson::{Value, ValueKind, parse_bytes};
use tailpolicy_policy::{CheckOptions, analyse};

fn spans_on_boundaries(source: &str, value: &Value) {
    for span in [value.before.span, value.span, value.after.span] {
        assert!(source.get(span.range()).is_some(), "span {span:?} not on a boundary");
    }
    match &value.kind {
        ValueKind::Object(o) => {
            for m in &o.members {
                spans_on_boundaries(source, &m.name);
                spans_on_boundaries(source, &m.value);
            }
        }
        ValueKind::Array(a) => a.elements.iter().for_each(|e| spans_on_boundaries(source, e)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (document, diagnostics) = parse_bytes(data);
    match document {
        Some(document) => {
            assert_eq!(document.to_source().as_bytes(), data);
            spans_on_boundaries(&document.source, &document.root);
            let analysis = analyse(&document.source, &CheckOptions::default());
            for d in &analysis.diagnostics {
                // Messages quote user input, so only a message that *is* an internal
                // error counts (they all start so).
                assert!(!d.message.starts_with("internal error"), "{d:?}");
            }
        }
        None => assert!(diagnostics.has_errors()),
    }
});
