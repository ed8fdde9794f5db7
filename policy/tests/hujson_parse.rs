//! Parser unit tests: tree shape, extras placement, numbers, strings, duplicates, limits.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use tailpolicy_policy::hujson::{MAX_DEPTH, parse, parse_bytes};

fn codes(src: &str) -> Vec<&'static str> {
    parse(src).1.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn extras_are_placed_like_tailscale_hujson() {
    let src =
        "// head\n{ /*a*/ \"k\" /*b*/ : /*c*/ 1 /*d*/ , \"l\": [ 2 , 3 , /*e*/ ] /*f*/ } // tail\n";
    let (doc, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:?}");
    let doc = doc.unwrap();
    let t = |e: &tailpolicy_policy::hujson::Extra| e.text(src).to_owned();
    assert_eq!(t(&doc.root.before), "// head\n");
    assert_eq!(t(&doc.root.after), " // tail\n");
    let obj = doc.root.as_object().unwrap();
    assert!(!obj.trailing_comma);
    assert_eq!(t(&obj.after_last), " /*f*/ ");
    let k = obj.members.first().unwrap();
    assert_eq!(t(&k.name.before), " /*a*/ ");
    assert_eq!(t(&k.name.after), " /*b*/ ");
    assert_eq!(t(&k.value.before), " /*c*/ ");
    assert_eq!(t(&k.value.after), " /*d*/ ");
    assert_eq!(k.value.text(src), "1");
    let l = obj.members.get(1).unwrap();
    assert_eq!(t(&l.value.after), "", "last member without trailing comma");
    let arr = l.value.as_array().unwrap();
    assert!(arr.trailing_comma);
    assert_eq!(t(&arr.after_last), " /*e*/ ");
    assert_eq!(arr.elements.len(), 2);
    assert_eq!(l.value.text(src), "[ 2 , 3 , /*e*/ ]");
    assert_eq!(doc.to_source(), src);
}

#[test]
fn empty_composites_keep_their_inside_as_after_last() {
    let src = "{\"a\": [ /* x */ ], \"b\": {}}";
    let doc = parse(src).0.unwrap();
    let obj = doc.root.as_object().unwrap();
    let a = obj.get("a").unwrap().value.as_array().unwrap();
    assert!(a.elements.is_empty() && !a.trailing_comma);
    assert_eq!(a.after_last.text(src), " /* x */ ");
    assert_eq!(doc.to_source(), src);
}

#[test]
fn values_convert_like_serde_json() {
    let src = r#"{"n": [0, -0, 1, -1, 1.5, 1e3, 18446744073709551615, 18446744073709551616, -9223372036854775808],
                 "s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "t": true, "f": false, "z": null, "o": {"x": []}}"#;
    let ours = parse(src).0.unwrap().root.to_json();
    let theirs: serde_json::Value = serde_json::from_str(src).unwrap();
    assert_eq!(ours, theirs);
    let doc = parse("[1, 2.5]").0.unwrap();
    let a = doc.root.as_array().unwrap();
    assert_eq!(a.elements.first().unwrap().as_i64(), Some(1));
    assert_eq!(a.elements.get(1).unwrap().as_f64(), Some(2.5));
}

#[test]
fn scalar_roots_and_surrounding_comments() {
    for src in ["1", " \"x\" ", "/**/null//\n", "true\n", "[]", "{}"] {
        let (doc, diags) = parse(src);
        assert!(diags.is_empty(), "{src}: {diags:?}");
        assert_eq!(doc.unwrap().to_source(), src);
    }
}

#[test]
fn duplicate_keys_are_reported_and_kept() {
    let src = r#"{"a": 1, "b": 2, "a": 3, "A": 4, "a": 5}"#;
    let (doc, diags) = parse(src);
    let doc = doc.expect("duplicates keep the tree");
    assert_eq!(doc.root.as_object().unwrap().members.len(), 5);
    let dups: Vec<_> = diags.iter().collect();
    assert_eq!(dups.len(), 2, "{dups:?}");
    for d in &dups {
        assert_eq!(d.code.as_str(), "TP0006");
        assert_eq!(d.message, "duplicate key `a`");
        assert_eq!(
            d.labels.first().unwrap().span.start,
            1,
            "label on the first occurrence"
        );
    }
    assert_eq!(dups.first().unwrap().span.start, 17);
}

#[test]
fn duplicate_keys_in_large_objects_use_the_hashed_path() {
    let mut src = String::from("{");
    for i in 0..100 {
        src.push_str(&format!("\"k{i}\": {i}, "));
    }
    src.push_str("\"k42\": 0}");
    let diags = parse(&src).1;
    assert_eq!(diags.len(), 1);
    assert_eq!(diags.iter().next().unwrap().message, "duplicate key `k42`");
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let src = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    let (doc, diags) = parse(&src);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(doc.unwrap().to_source(), src);
}

/// pest recurses per level and has no stack guard of its own (pest 2.8): the depth bound
/// must leave room on a small thread stack, on the fast path (valid input) and on the
/// diagnostic path (invalid input at the deepest level), for objects and arrays.
#[test]
fn nesting_at_the_limit_fits_a_one_mebibyte_stack() {
    let deep = |open: &str, close: &str, inner: &str| {
        format!(
            "{}{inner}{}",
            open.repeat(MAX_DEPTH),
            close.repeat(MAX_DEPTH)
        )
    };
    let cases = [
        (deep("[", "]", ""), None),
        (deep("{\"a\": ", "}", "1"), None),
        (
            format!(
                "{}1{}",
                "[{\"a\":".repeat(MAX_DEPTH / 2),
                "}]".repeat(MAX_DEPTH / 2)
            ),
            None,
        ),
        (deep("[", "]", "1 2"), Some("TP0001")),
        (deep("{\"a\": ", "}", "[1,,]"), Some("TP0007")),
        (deep("{\"a\": ", "}", "1 2"), Some("TP0001")),
    ];
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for (src, code) in cases {
                let (doc, diags) = parse(&src);
                match code {
                    None => assert!(doc.is_some() && diags.is_empty(), "{diags:?}"),
                    Some(code) => {
                        assert!(doc.is_none());
                        assert_eq!(
                            diags.iter().next().unwrap().code.as_str(),
                            code,
                            "{diags:?}"
                        );
                    }
                }
            }
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_crash() {
    for depth in [MAX_DEPTH + 1, 100_000] {
        let src = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let (doc, diags) = parse(&src);
        assert!(doc.is_none());
        let d = diags.iter().next().unwrap();
        assert_eq!(d.code.as_str(), "TP0007");
        assert_eq!(
            d.span.start as usize, MAX_DEPTH,
            "the bracket that opens level MAX_DEPTH + 1"
        );
    }
    // Unbalanced and mixed deep input too.
    let src = "{\"a\":".repeat(50_000);
    assert_eq!(codes(&src), ["TP0007"]);
}

#[test]
fn bad_bytes_get_diagnostics() {
    let cases: &[(&[u8], &str, u32)] = &[
        (b"", "TP0002", 0),
        (b"  // nothing\n", "TP0002", 13),
        (b"{\"a\": \"\xff\"}", "TP0008", 7),
        (b"\xEF\xBB\xBF{}", "TP0008", 0),
        (b"{}\x00", "TP0008", 2),
        (b"\x7fELF\x02\x01\x01\x00", "TP0008", 7),
        (b"\xff\xfe{\x00}\x00", "TP0008", 0),
    ];
    for (bytes, code, at) in cases {
        let (doc, diags) = parse_bytes(bytes);
        assert!(doc.is_none(), "{bytes:?}");
        let d = diags.iter().next().unwrap();
        assert_eq!(
            (d.code.as_str(), d.span.start),
            (*code, *at),
            "{bytes:?}: {d:?}"
        );
    }
}

#[test]
fn control_characters_in_strings_are_errors() {
    let (doc, diags) = parse("{\"a\": \"x\ty\"}");
    assert!(doc.is_none());
    let d = diags.iter().next().unwrap();
    assert_eq!((d.code.as_str(), d.span.start), ("TP0004", 8));
}

#[test]
fn out_of_range_numbers_are_errors() {
    let (doc, diags) = parse("[1e400]");
    assert!(doc.is_none());
    assert_eq!(
        diags.iter().next().unwrap().message,
        "number `1e400` is out of range"
    );
}

#[test]
fn not_hujson() {
    for src in [
        "{a: 1}",
        "{'a': 1}",
        "[0x10]",
        "[+1]",
        "[.5]",
        "[1.]",
        "[01]",
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[undefined]",
        "# x\n{}",
        "[1,,2]",
        "[,]",
        "{,}",
        "{\"a\" 1}",
        "[\"a\\x\"]",
        "[\"a\nb\"]",
        "{} {}",
        "[1 2]",
        "/* x",
        "{} // no newline",
        "[",
        "{\"a\":1",
        "[}",
        "[1] /",
        "[True]",
        "[\"\\u12\"]",
    ] {
        let (doc, diags) = parse(src);
        assert!(doc.is_none(), "{src:?} must not parse");
        assert_eq!(diags.len(), 1, "{src:?}: {diags:?}");
    }
}

#[test]
fn huge_inputs_get_one_diagnostic() {
    // 50 MiB when the tests are optimised (`cargo test --release`); unoptimised pest
    // is far slower (about 1 µs per byte of whitespace), so debug runs use 1 MiB.
    let size = if cfg!(debug_assertions) { 1 } else { 50 } * 1024 * 1024;
    let word = "a".repeat(size);
    let unterminated = format!("[\"{}", "x".repeat(size));
    let spaces = format!("{}#", " ".repeat(size));
    let array = format!("[{}", "1,".repeat(size / 2));
    for (name, src) in [
        ("word", &word),
        ("unterminated", &unterminated),
        ("spaces", &spaces),
        ("array", &array),
    ] {
        let (doc, diags) = parse(src);
        assert!(doc.is_none(), "{name}");
        assert_eq!(diags.len(), 1, "{name}: {diags:?}");
        assert!(
            diags.iter().all(|d| d.message.len() < 200),
            "{name}: short message"
        );
    }
}
