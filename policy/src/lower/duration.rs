//! Go's `time.ParseDuration` syntax and `Duration.String` output, for `checkPeriod`.

/// Parses a Go duration string (`"12h"`, `"1h30m"`, `"-1m"`, `"1.5s"`, `"0"`) into
/// nanoseconds. The error is Go's wording: `time: invalid duration "abc"`.
pub fn parse_go_duration(s: &str) -> Result<i128, String> {
    let err = || format!("time: invalid duration \"{s}\"");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() || num == "." {
            return Err(err());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        // A second `.` (`1.2.3h`): Go finds no unit after `1.2`.
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let int: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err())?
        };
        let mut value = int.checked_mul(scale).ok_or_else(err)?;
        let mut div: i128 = 1;
        for d in frac_part.bytes().take(18) {
            div *= 10;
            value += i128::from(d - b'0') * scale / div;
        }
        total = total.checked_add(value).ok_or_else(err)?;
        if total > i128::from(i64::MAX) {
            return Err(err());
        }
        rest = after;
    }
    Ok(if neg { -total } else { total })
}

/// Formats nanoseconds as Go's `Duration.String` does: `200h0m0s`, `1m0s`, `1.5s`,
/// `0s`, `-1m0s`.
pub fn format_go_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let n = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if n < 1_000_000_000 {
        let (value, unit) = if n < 1_000 {
            return format!("{sign}{n}ns");
        } else if n < 1_000_000 {
            (n, (1_000u128, "µs"))
        } else {
            (n, (1_000_000u128, "ms"))
        };
        return format!("{sign}{}{}", frac(value, unit.0), unit.1);
    }
    let total_secs = n / 1_000_000_000;
    let sub = n % 1_000_000_000;
    let h = total_secs / 3600;
    let m = (total_secs % 3600) / 60;
    let s = total_secs % 60;
    let secs = frac(s * 1_000_000_000 + sub, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{secs}s")
    } else if m > 0 {
        format!("{sign}{m}m{secs}s")
    } else {
        format!("{sign}{secs}s")
    }
}

/// `value / unit` with the fractional digits Go prints (trailing zeros removed).
fn frac(value: u128, unit: u128) -> String {
    let int = value / unit;
    let rem = value % unit;
    if rem == 0 {
        return int.to_string();
    }
    let width = unit.to_string().len() - 1;
    let digits = format!("{rem:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_like_go() {
        let h = 3_600_000_000_000i128;
        assert!(parse_go_duration("1.2.3h").is_err());
        assert!(parse_go_duration("1..h").is_err());
        assert_eq!(parse_go_duration("12h"), Ok(12 * h));
        assert_eq!(parse_go_duration("1h30m"), Ok(h + h / 2));
        assert_eq!(parse_go_duration("-1m"), Ok(-60_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert!(parse_go_duration("abc").is_err());
        assert!(parse_go_duration("12").is_err());
        assert!(parse_go_duration("").is_err());
        assert_eq!(format_go_duration(200 * h), "200h0m0s");
        assert_eq!(format_go_duration(168 * h + 1_000_000_000), "168h0m1s");
        assert_eq!(format_go_duration(-60_000_000_000), "-1m0s");
        assert_eq!(format_go_duration(30_000_000_000), "30s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(0), "0s");
    }
}
