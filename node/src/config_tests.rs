#![expect(clippy::unwrap_used, reason = "tests")]
#![expect(clippy::indexing_slicing, reason = "tests")]

use super::*;

const PRIV: &str = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const PUB: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const PSK: &str = "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=";

fn good() -> String {
    format!(
        "# node A\n[Interface]\nPrivateKey = {PRIV}\nAddress = 10.100.0.1/24, fd00::1/64\n\
         ListenPort = 51820\nDNS = 1.1.1.1\n\n[Peer]\nPublicKey = {PUB}\nPresharedKey = {PSK}\n\
         Endpoint = 10.99.0.2:51820\nAllowedIPs = 10.100.0.2/32\nAllowedIPs = 10.200.0.0/16 # more\n\
         PersistentKeepalive = 25\n"
    )
}

#[test]
fn parses_a_full_wg_quick_file() {
    let c = parse(&good()).unwrap();
    assert_eq!(c.interface.private_key.to_base64(), PRIV);
    assert_eq!(c.interface.addresses.len(), 2);
    assert_eq!(c.interface.addresses[0].to_string(), "10.100.0.1/24");
    assert_eq!(c.interface.listen_port, Some(51820));
    assert_eq!(c.interface.mtu, DEFAULT_MTU);
    assert_eq!(c.peers.len(), 1);
    let p = &c.peers[0];
    assert_eq!(p.public_key.to_base64(), PUB);
    assert_eq!(p.preshared_key.unwrap().to_base64(), PSK);
    assert_eq!(p.endpoint.unwrap().to_string(), "10.99.0.2:51820");
    let allowed: Vec<String> = p.allowed_ips.iter().map(ToString::to_string).collect();
    assert_eq!(allowed, ["10.100.0.2/32", "10.200.0.0/16"]);
    assert_eq!(p.persistent_keepalive, Some(25));
    assert_eq!(p.line, 8);
    assert_eq!(c.ignored.len(), 1);
    assert_eq!(c.ignored[0].line, 6);
}

#[test]
fn keys_are_case_insensitive_and_mtu_is_read() {
    let text = format!("[interface]\nprivatekey={PRIV}\naddress=10.0.0.1/32\nmtu=1380\n");
    let c = parse(&text).unwrap();
    assert_eq!(c.interface.mtu, 1380);
    assert!(c.peers.is_empty());
}

#[test]
fn every_error_has_its_line() {
    let text = format!(
        "[Interface]\nPrivateKey = no pe!\nAddress = 10.0.0.1/40\nListenPort = 70000\nBogus = 1\n\
         [Peer]\nAllowedIPs = 10.0.0.0/8, banana\nEndpoint = nowhere\nPersistentKeepalive = soon\n\
         [Peer]\nPublicKey = {PUB}\n"
    );
    let errs = parse(&text).unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9], "{errs:#?}");
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(text[0], "line 2: `PrivateKey` is not valid base64");
    assert!(text[4].contains("no `PublicKey`"), "{}", text[4]);
    assert!(text[5].contains("`banana`"), "{}", text[5]);
    let missing = parse("[Interface]\nListenPort = 1\n").unwrap_err();
    let msgs: Vec<String> = missing.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        [
            "line 1: `[Interface]` has no `PrivateKey`",
            "line 1: `[Interface]` has no `Address`"
        ]
    );
}

#[test]
fn missing_interface_and_stray_lines_are_reported() {
    let errs = parse("PublicKey = x\nnonsense\n[Wat]\n").unwrap_err();
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(msgs[0].contains("no `[Interface]`"));
    assert!(msgs[1].starts_with("line 1: `PublicKey` appears before"));
    assert!(msgs[2].starts_with("line 2: expected `Key = Value`"));
    assert!(msgs[3].starts_with("line 3: unknown section `[Wat]`"));
}

#[test]
fn duplicate_peers_and_short_keys_are_errors() {
    let text = format!(
        "[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {PUB}\n\
         [Peer]\nPublicKey = {PUB}\n[Peer]\nPublicKey = AAAA\n"
    );
    let errs = parse(&text).unwrap_err();
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("line 6: a second `[Peer]`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("line 9: `PublicKey` must be 32 bytes"))
    );
}

#[test]
fn interface_names_follow_wg_quick() {
    use std::path::Path;
    assert_eq!(
        interface_name_from_path(Path::new("/etc/wireguard/wg0.conf")).as_deref(),
        Some("wg0")
    );
    assert_eq!(
        interface_name_from_path(Path::new("a-very-long-interface-name.conf")),
        None
    );
    assert_eq!(interface_name_from_path(Path::new("bad name.conf")), None);
    assert!(valid_interface_name("tp_node+1"));
}

#[test]
fn table_and_fwmark_are_read() {
    let base = format!("[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/32\n");
    let c = parse(&base).unwrap();
    assert_eq!(
        (c.interface.table, c.interface.fwmark),
        (RouteTable::Auto, None)
    );
    for (table, mark, want) in [
        ("off", "0x1234", (RouteTable::Off, Some(0x1234))),
        ("main", "51820", (RouteTable::Id(254), Some(51820))),
        ("1000", "off", (RouteTable::Id(1000), None)),
        ("Auto", "0", (RouteTable::Auto, None)),
    ] {
        let c = parse(&format!("{base}Table = {table}\nFwMark = {mark}\n")).unwrap();
        assert_eq!(
            (c.interface.table, c.interface.fwmark),
            want,
            "{table} {mark}"
        );
        assert!(c.ignored.is_empty());
    }
    let errs = parse(&format!("{base}Table = wan\nFwMark = -1\n")).unwrap_err();
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "line 4: `Table` must be `off`, `auto`, `main` or a table number, not `wan`",
            "line 5: `FwMark` must be `off`, a number or `0x` hex, not `-1`",
        ]
    );
}
