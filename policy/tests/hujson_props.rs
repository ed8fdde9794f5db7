//! Property tests: random JSON values printed as HuJSON with random comments, whitespace
//! and trailing commas parse to what `serde_json` reads; printing is lossless; the
//! formatter keeps the data and is idempotent; `json5` (a superset of HuJSON) and
//! `serde_json` (on standard JSON) act as differential oracles on mutated input.
#![expect(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;
use serde_json::{Map, Number, Value as Json};
use tailpolicy_policy::hujson::{Value, ValueKind, format, parse, parse_bytes};

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| Json::Number(n.into())),
        any::<u64>().prop_map(|n| Json::Number(n.into())),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::from_f64(f).map_or(Json::Null, Json::Number)),
        any::<String>().prop_map(Json::String),
        "[a-z:@.*-]{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec(("[a-zA-Z:#]{0,8}", inner), 0..6)
                .prop_map(|members| Json::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Prints `value` as HuJSON, taking layout decisions from `choices` (cycled).
struct Printer<'a> {
    choices: &'a [u8],
    next: usize,
    out: String,
}

impl Printer<'_> {
    fn choose(&mut self, n: u8) -> u8 {
        let c = self
            .choices
            .get(self.next % self.choices.len().max(1))
            .copied()
            .unwrap_or(0);
        self.next += 1;
        c % n
    }

    /// Whitespace and comments between tokens.
    fn extra(&mut self) {
        match self.choose(8) {
            0 => self.out.push(' '),
            1 => self.out.push_str("\n\t"),
            2 => self.out.push_str(" // note: \"quoted\" {[,:]}\n"),
            3 => self.out.push_str("/* block */"),
            4 => self.out.push_str("\n/* multi\n   line * / */\n"),
            5 => self.out.push_str("\r\n  "),
            _ => {}
        }
    }

    fn value(&mut self, value: &Json) {
        self.extra();
        match value {
            Json::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.value(item);
                    if i + 1 < items.len() || self.choose(2) == 0 {
                        self.out.push(',');
                    }
                }
                self.extra();
                self.out.push(']');
            }
            Json::Object(members) => {
                self.out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    self.extra();
                    self.out.push_str(&serde_json::to_string(k).unwrap());
                    self.extra();
                    self.out.push(':');
                    self.value(v);
                    if i + 1 < members.len() || self.choose(2) == 0 {
                        self.out.push(',');
                    }
                }
                self.extra();
                self.out.push('}');
            }
            scalar => self.out.push_str(&serde_json::to_string(scalar).unwrap()),
        }
        self.extra();
    }
}

fn print(value: &Json, choices: &[u8]) -> String {
    let mut p = Printer {
        choices,
        next: 0,
        out: String::new(),
    };
    p.value(value);
    // A line comment must end with a newline, also at the end of the file.
    p.out.push('\n');
    p.out
}

/// Every value's span re-parses on its own to the same data.
fn spans_hold(source: &str, value: &Value) -> bool {
    let text = value.text(source);
    let alone = parse(text).0;
    if !alone.is_some_and(|d| d.root.same_data(value)) {
        return false;
    }
    match &value.kind {
        ValueKind::Object(o) => o
            .members
            .iter()
            .all(|m| spans_hold(source, &m.name) && spans_hold(source, &m.value)),
        ValueKind::Array(a) => a.elements.iter().all(|e| spans_hold(source, e)),
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hujson_parses_to_the_serde_json_value(value in json(), choices in prop::collection::vec(any::<u8>(), 1..64)) {
        let text = print(&value, &choices);
        let (doc, diags) = parse(&text);
        prop_assert!(diags.is_empty(), "{text}: {diags:?}");
        let doc = doc.unwrap();
        // Exact: the printer writes shortest round-trip floats and we round correctly.
        prop_assert_eq!(&doc.root.to_json(), &value);
        // serde_json (without `float_roundtrip`) may be one ULP off on floats.
        let standard: Json = serde_json::from_str(&doc.to_standard_json()).unwrap();
        prop_assert!(same_up_to_float_rounding(&standard, &value), "{standard} vs {value}");
        prop_assert_eq!(doc.to_source(), text.clone());
        prop_assert!(spans_hold(&text, &doc.root));
    }

    #[test]
    fn formatting_keeps_the_data_and_is_idempotent(value in json(), choices in prop::collection::vec(any::<u8>(), 1..64)) {
        let text = print(&value, &choices);
        let doc = parse(&text).0.unwrap();
        let once = format(&doc);
        let again = parse(&once).0.unwrap();
        prop_assert!(again.root.same_data(&doc.root), "{once}");
        prop_assert_eq!(again.comment_count(), doc.comment_count());
        prop_assert_eq!(format(&again), once);
    }

    #[test]
    fn json5_agrees_where_both_accept(value in json(), choices in prop::collection::vec(any::<u8>(), 1..64)) {
        let text = print(&value, &choices);
        let ours = parse(&text).0.unwrap().root.to_json();
        if let Ok(theirs) = json5::from_str::<Json>(&text) {
            prop_assert!(same_up_to_number_type(&ours, &theirs), "{text}\nours {ours}\njson5 {theirs}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let (doc, diags) = parse_bytes(&bytes);
        match doc {
            Some(doc) => prop_assert_eq!(doc.to_source().into_bytes(), bytes),
            None => prop_assert!(diags.has_errors()),
        }
    }

    #[test]
    fn hujson_like_text_never_panics(text in r#"[ \t\r\n{}\[\],:"\\/*#'a-zA-Z0-9.+\-é€\x00-\x1f]{0,120}"#) {
        let (doc, diags) = parse(&text);
        match doc {
            Some(doc) => {
                prop_assert_eq!(doc.to_source(), text.clone());
                let formatted = format(&doc);
                let again = parse(&formatted).0;
                prop_assert!(again.is_some_and(|a| a.root.same_data(&doc.root)), "{text:?} -> {formatted:?}");
            }
            None => {
                prop_assert!(diags.has_errors());
                for d in &diags {
                    prop_assert!(text.get(d.span.range()).is_some() || d.span.start as usize >= text.len(), "{text:?}: span {:?}", d.span);
                }
            }
        }
    }

    #[test]
    fn mutated_input_never_panics_and_oracles_agree(
        value in json(),
        choices in prop::collection::vec(any::<u8>(), 1..32),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, prop::sample::select(&b",:{}[]\"/*#'a0-+. \n\\"[..])), 1..4),
    ) {
        let mut bytes = print(&value, &choices).into_bytes();
        for (at, op, byte) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 if i < bytes.len() => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => { if let Some(b) = bytes.get_mut(i) { *b = byte; } }
                _ => {}
            }
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        let (doc, diags) = parse(&text);
        let serde = serde_json::from_str::<Json>(&text);
        match doc {
            Some(doc) => {
                prop_assert_eq!(doc.to_source(), text.clone());
                // HuJSON is a subset of JSON5: json5 must accept it too.
                let json5 = json5::from_str::<Json>(&text);
                prop_assert!(json5.is_ok(), "json5 rejects what we accept: {text:?}");
                if let (Ok(theirs), true) = (json5, diags.is_empty()) {
                    prop_assert!(same_up_to_number_type(&doc.root.to_json(), &theirs), "{text:?}");
                }
                if let Ok(theirs) = serde {
                    prop_assert!(same_up_to_float_rounding(&doc.root.to_json(), &theirs), "{text:?}");
                }
            }
            None => {
                prop_assert!(diags.has_errors());
                // Standard JSON that serde_json accepts, we accept too.
                prop_assert!(serde.is_err(), "serde_json accepts what we reject: {text:?}: {diags:?}");
            }
        }
    }
}

/// Equality that accepts floats a few rounding steps apart (serde_json without
/// `float_roundtrip` is not correctly rounded).
fn same_up_to_float_rounding(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| same_up_to_float_rounding(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_up_to_float_rounding(v, w)))
        }
        _ => a == b,
    }
}

/// Equality that lets json5's floats stand for integers of the same value.
fn same_up_to_number_type(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_up_to_number_type(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_up_to_number_type(v, w)))
        }
        _ => a == b,
    }
}
