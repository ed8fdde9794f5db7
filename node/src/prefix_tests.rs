#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn parses_and_canonicalises() {
    assert_eq!(p("10.1.2.3/8").to_string(), "10.0.0.0/8");
    assert_eq!(p("10.1.2.3").to_string(), "10.1.2.3/32");
    assert_eq!(p("0.0.0.0/0").to_string(), "0.0.0.0/0");
    assert_eq!(p("fd7a::1/64").to_string(), "fd7a::/64");
    assert!(p("::/0").is_default());
    assert!("10.0.0.0/33".parse::<Prefix>().is_err());
    assert!("fd7a::/129".parse::<Prefix>().is_err());
    assert!("host/24".parse::<Prefix>().is_err());
    assert!("10.0.0.0/x".parse::<Prefix>().is_err());
}

#[test]
fn contains_respects_family_and_length() {
    assert!(p("10.100.0.0/24").contains(ip("10.100.0.7")));
    assert!(!p("10.100.0.0/24").contains(ip("10.100.1.7")));
    assert!(p("0.0.0.0/0").contains(ip("1.2.3.4")));
    assert!(!p("0.0.0.0/0").contains(ip("::1")));
    assert!(p("10.100.0.2/32").contains(ip("10.100.0.2")));
    assert!(!p("10.100.0.2/32").contains(ip("10.100.0.3")));
    assert!(p("fd7a::/16").contains(ip("fd7a:1::5")));
}

#[test]
fn lookup_prefers_the_most_specific_prefix() {
    let mut t = AllowedIps::default();
    t.insert(p("10.0.0.0/8"), 0);
    t.insert(p("10.100.0.0/24"), 1);
    t.insert(p("10.100.0.9/32"), 2);
    assert_eq!(t.lookup(ip("10.100.0.9")), Some(2));
    assert_eq!(t.lookup(ip("10.100.0.8")), Some(1));
    assert_eq!(t.lookup(ip("10.7.0.1")), Some(0));
    assert_eq!(t.lookup(ip("11.0.0.1")), None);
    assert_eq!(t.lookup(ip("::1")), None);
}

#[test]
fn a_prefix_added_twice_belongs_to_the_last_peer() {
    let mut t = AllowedIps::default();
    t.insert(p("10.100.0.0/24"), 0);
    t.insert(p("10.100.0.0/24"), 1);
    assert_eq!(t.lookup(ip("10.100.0.1")), Some(1));
    assert_eq!(t.entries.len(), 1);
}
