//! Decoding string and number literals whose syntax the grammar has already checked.

use smol_str::SmolStr;

/// A raw control character (U+0000..U+001F) inside a string, at this byte offset of
/// the literal (counting from its opening quote).
pub(crate) struct ControlChar {
    pub(crate) offset: usize,
    pub(crate) byte: u8,
}

/// Decodes a string literal (with its quotes) whose escapes the grammar accepted.
///
/// Lone UTF-16 surrogates in `\u` escapes become U+FFFD, as in Go's `encoding/json`.
/// Raw control characters are kept in the result and reported through `control`.
pub(crate) fn decode_string(literal: &str, control: &mut Vec<ControlChar>) -> SmolStr {
    let inner = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(literal);
    let bytes = inner.as_bytes();
    if !bytes.iter().any(|&b| b == b'\\' || b < 0x20) {
        return SmolStr::new(inner);
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x20 {
            control.push(ControlChar {
                offset: i + 1,
                byte: b,
            });
        }
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let high = hex4(&mut chars);
                if (0xD800..0xDC00).contains(&high) {
                    // A high surrogate: combine with a following `\uDC00..\uDFFF`.
                    let mut lookahead = chars.clone();
                    if lookahead.next() == Some('\\') && lookahead.next() == Some('u') {
                        let low = hex4(&mut lookahead);
                        if (0xDC00..0xE000).contains(&low) {
                            chars = lookahead;
                            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                    }
                    out.push('\u{FFFD}');
                } else {
                    out.push(char::from_u32(high).unwrap_or('\u{FFFD}'));
                }
            }
            // `"`, `\`, `/`: the character itself.
            Some(other) => out.push(other),
            None => {}
        }
    }
    SmolStr::from(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    let mut value = 0;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
        value = value * 16 + digit;
    }
    value
}

/// Reads a number literal the grammar accepted.
///
/// Integers that fit `i64`/`u64` stay exact, like `serde_json`'s (and `-0` is the float
/// -0.0, as there). Everything else is the correctly rounded nearest `f64`, as Go's
/// `strconv.ParseFloat` gives it (`serde_json` without `float_roundtrip` can be one ULP
/// off). `None` when the value does not fit an `f64`.
pub(crate) fn decode_number(literal: &str) -> Option<serde_json::Number> {
    let is_integer = !literal.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if is_integer {
        if literal == "-0" {
            return serde_json::Number::from_f64(-0.0);
        }
        let exact = if literal.starts_with('-') {
            literal.parse::<i64>().ok().map(serde_json::Number::from)
        } else {
            literal.parse::<u64>().ok().map(serde_json::Number::from)
        };
        if exact.is_some() {
            return exact;
        }
    }
    literal
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn dec(s: &str) -> String {
        decode_string(s, &mut Vec::new()).to_string()
    }

    #[test]
    fn strings_decode_like_serde_json() {
        for lit in [
            r#""""#,
            r#""plain""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u20AC\ud83d\ude00""#,
            r#""é€😀""#,
        ] {
            let expected: String = serde_json::from_str(lit).unwrap();
            assert_eq!(dec(lit), expected, "{lit}");
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(dec(r#""\ud800x""#), "\u{FFFD}x");
        assert_eq!(dec(r#""\udc00""#), "\u{FFFD}");
        assert_eq!(dec(r#""\ud800\u0041""#), "\u{FFFD}A");
    }

    #[test]
    fn control_characters_are_reported_with_offsets() {
        let mut control = Vec::new();
        assert_eq!(decode_string("\"a\tb\"", &mut control), "a\tb");
        assert_eq!(control.len(), 1);
        assert_eq!(
            control.first().map(|c| (c.offset, c.byte)),
            Some((2, b'\t'))
        );
    }

    #[test]
    fn numbers_decode_like_serde_json() {
        for lit in [
            "0",
            "-0",
            "1",
            "-1",
            "123456789012345678",
            "-123456789012345678",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5",
            "-0.0",
            "1e3",
            "1E-3",
            "2.5e+10",
            "1e400",
        ] {
            let ours = decode_number(lit);
            let theirs: Option<serde_json::Number> = serde_json::from_str(lit).ok();
            assert_eq!(ours, theirs, "{lit}");
        }
    }
}
