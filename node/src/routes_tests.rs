#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::config::parse;

const PRIV: &str = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const PUB: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

fn conf(interface_extra: &str, allowed: &str) -> WgConfig {
    parse(&format!(
        "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.100.0.1/24, fd00:100::1/64\n{interface_extra}\n\
         [Peer]\nPublicKey = {PUB}\nAllowedIPs = {allowed}\n"
    ))
    .unwrap()
}

fn free(_: u32) -> bool {
    false
}

fn lines(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|s| s.args.join(" ")).collect()
}

fn undos(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| s.undo.as_ref().map(|u| u.join(" ")))
        .collect()
}

#[test]
fn plain_routes_go_to_the_main_table_and_connected_ones_are_skipped() {
    let p = plan(
        "wg0",
        &conf(
            "",
            "10.100.0.0/24, 10.100.0.2/32, 10.200.0.0/16, fd00:200::/64",
        ),
        &free,
    );
    assert_eq!(
        lines(&p.setup),
        [
            "link set dev wg0 mtu 1420",
            "address add 10.100.0.1/24 dev wg0",
            "address add fd00:100::1/64 dev wg0",
            "link set dev wg0 up",
            "-4 route add 10.100.0.2/32 dev wg0",
            "-4 route add 10.200.0.0/16 dev wg0",
            "-6 route add fd00:200::/64 dev wg0",
        ]
    );
    assert!(undos(&p.setup).is_empty());
    assert_eq!((p.socket_mark, p.src_valid_mark), (None, false));
}

#[test]
fn default_routes_use_policy_routing_with_the_socket_mark() {
    let p = plan("wg0", &conf("", "0.0.0.0/0, ::/0"), &free);
    let setup = lines(&p.setup);
    assert_eq!(
        setup.get(4..).unwrap(),
        [
            "-4 route add 0.0.0.0/0 dev wg0 table 51820",
            "-4 rule add not fwmark 51820 table 51820",
            "-4 rule add table main suppress_prefixlength 0",
            "-6 route add ::/0 dev wg0 table 51820",
            "-6 rule add not fwmark 51820 table 51820",
            "-6 rule add table main suppress_prefixlength 0",
        ]
    );
    assert_eq!(
        undos(&p.setup),
        [
            "-4 rule del not fwmark 51820 table 51820",
            "-4 rule del table main suppress_prefixlength 0",
            "-6 rule del not fwmark 51820 table 51820",
            "-6 rule del table main suppress_prefixlength 0",
        ]
    );
    assert_eq!((p.socket_mark, p.src_valid_mark), (Some(51820), true));
}

#[test]
fn a_default_route_takes_the_first_free_table() {
    let p = plan("wg1", &conf("", "::/0"), &|t| t < 51822);
    assert!(lines(&p.setup).contains(&"-6 rule add not fwmark 51822 table 51822".to_owned()));
    assert_eq!(p.socket_mark, Some(51822));
}

#[test]
fn fwmark_names_the_table_and_the_mark() {
    let p = plan("wg0", &conf("FwMark = 0x10", "::/0"), &|_| true);
    assert!(lines(&p.setup).contains(&"-6 rule add not fwmark 16 table 16".to_owned()));
    assert_eq!((p.socket_mark, p.src_valid_mark), (Some(16), false));
}

#[test]
fn table_off_adds_no_routes_and_a_numbered_table_takes_all() {
    let off = plan(
        "wg0",
        &conf("Table = off", "0.0.0.0/0, 10.200.0.0/16"),
        &free,
    );
    assert_eq!(off.setup.len(), 4, "{:?}", lines(&off.setup));
    assert_eq!(off.socket_mark, None);
    // A numbered table also gets the prefixes the interface's own subnet covers: the
    // kernel's connected route is in the main table only.
    let numbered = plan(
        "wg0",
        &conf("Table = 1000", "0.0.0.0/0, 10.200.0.0/16, 10.100.0.0/24"),
        &free,
    );
    assert_eq!(
        lines(&numbered.setup).get(4..).unwrap(),
        [
            "-4 route add 0.0.0.0/0 dev wg0 table 1000",
            "-4 route add 10.200.0.0/16 dev wg0 table 1000",
            "-4 route add 10.100.0.0/24 dev wg0 table 1000",
        ]
    );
    assert!(undos(&numbered.setup).is_empty());
}
