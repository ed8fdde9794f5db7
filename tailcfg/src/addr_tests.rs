use super::*;

fn v4(first: &str, last: &str) -> ParsedAddr {
    let f: Ipv4Addr = first.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let l: Ipv4Addr = last.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
    ParsedAddr::V4(AddrRange {
        first: u32::from(f),
        last: u32::from(l),
    })
}

#[test]
fn parses_every_form() {
    assert_eq!(parse_addr("*", false), Ok(ParsedAddr::Any));
    assert_eq!(parse_addr("1.2.3.4", false), Ok(v4("1.2.3.4", "1.2.3.4")));
    assert_eq!(
        parse_addr("10.0.0.0/8", false),
        Ok(v4("10.0.0.0", "10.255.255.255"))
    );
    assert_eq!(
        parse_addr("0.0.0.0/0", false),
        Ok(v4("0.0.0.0", "255.255.255.255"))
    );
    assert_eq!(
        parse_addr("1.0.0.0-2.1.2.3", false),
        Ok(v4("1.0.0.0", "2.1.2.3"))
    );
    assert_eq!(
        parse_addr("fd7a:115c:a1e0::/48", false),
        Ok(ParsedAddr::V6(AddrRange {
            first: 0xfd7a_115c_a1e0_u128 << 80,
            last: (0xfd7a_115c_a1e0_u128 << 80) | (u128::MAX >> 48),
        }))
    );
    assert_eq!(
        parse_addr("::/0", false)
            .map(|p| matches!(p, ParsedAddr::V6(r) if r.first == 0 && r.last == u128::MAX)),
        Ok(true)
    );
    assert_eq!(
        parse_addr("cap:foo", true),
        Ok(ParsedAddr::Cap("foo".into()))
    );
}

#[test]
fn rejects_malformed_strings() {
    assert_eq!(
        parse_addr("8.8.8.8/24", false),
        Err(AddrProblem::HostBitsSet)
    );
    assert_eq!(
        parse_addr("1.0.0.2-1.0.0.1", false),
        Err(AddrProblem::ReversedRange)
    );
    assert_eq!(
        parse_addr("1.0.0.1-::1", false),
        Err(AddrProblem::MixedFamilyRange)
    );
    assert_eq!(
        parse_addr("1.2.3.4/33", false),
        Err(AddrProblem::BadPrefixLength)
    );
    assert_eq!(
        parse_addr("1.2.3.4/+3", false),
        Err(AddrProblem::BadPrefixLength)
    );
    assert_eq!(
        parse_addr("::/129", false),
        Err(AddrProblem::BadPrefixLength)
    );
    assert_eq!(parse_addr("1.2.3", false), Err(AddrProblem::NotAnAddress));
    assert_eq!(parse_addr("", false), Err(AddrProblem::NotAnAddress));
    assert_eq!(
        parse_addr("cap:foo", false),
        Err(AddrProblem::CapNotAllowed)
    );
    assert_eq!(parse_addr("cap:", true), Err(AddrProblem::CapNotAllowed));
    assert_eq!(parse_addr("-", false), Err(AddrProblem::NotAnAddress));
    assert_eq!(parse_addr("/", false), Err(AddrProblem::NotAnAddress));
}

#[test]
fn addr_list_reports_the_bad_index() {
    assert_eq!(
        parse_addr_list(&["100.64.0.1/32", "nope"]).map(|_| ()),
        Err((1, AddrProblem::NotAnAddress))
    );
    let set = parse_addr_list(&["100.64.0.1", "fd7a::/16"]);
    assert!(set.is_ok_and(|s| s.v4.len() == 1 && s.v6.len() == 1));
}
