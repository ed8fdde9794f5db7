#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::config::parse;
use std::time::{Duration, UNIX_EPOCH};
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FilterRule, Verdict};

const CONF: &str = "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n\
                    Address = 10.100.0.1/24\n[Peer]\n\
                    PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n\
                    Endpoint = 10.99.0.2:51820\nAllowedIPs = 10.100.0.2/32\n";

#[test]
fn reload_state_tracks_file_times_and_outcomes() {
    let file = |name: &str, t| (std::path::PathBuf::from(name), t);
    let t0 = Some(UNIX_EPOCH);
    let t1 = Some(UNIX_EPOCH + Duration::from_secs(1));
    let mut r = ReloadState::new(vec![file("a", t0)]);
    assert!(!r.files_changed(&[file("a", t0)]));
    assert!(r.files_changed(&[file("a", t1)]));
    // A fragment renamed (same time) or added is a change too.
    assert!(r.files_changed(&[file("b", t0)]));
    assert!(r.files_changed(&[file("a", t0), file("b", t0)]));
    r.observed(vec![file("a", t1)]);
    assert!(!r.files_changed(&[file("a", t1)]));
    r.succeeded(2);
    r.failed("bad\nworse".to_owned(), 2);
    assert_eq!((r.ok, r.failed), (1, 1));
    assert_eq!(r.last, Some(Err(("bad\nworse".to_owned(), 2))));
}

#[test]
fn status_lists_filter_peers_and_non_zero_counters() {
    let config = parse(CONF).unwrap();
    let rules: Vec<FilterRule> = serde_json::from_str(
        r#"[{"SrcIPs":["10.100.0.2"],"DstPorts":[{"IP":"10.100.0.1","Ports":{"First":22,"Last":22}}]}]"#,
    )
    .unwrap();
    let (filter, _) = Filter::new(&rules, &FilterConfig::default());
    let engine = Engine::new(&config, Some((filter, &rules, "rules r.json".to_owned())));
    engine.counters().verdict(
        Direction::In,
        Verdict::drop(tailpolicy_dataplane_filter::Reason::NoRule),
    );
    let mut reload = ReloadState::default();
    reload.failed("`p.hujson`: invalid JSON\nsecond".to_owned(), 1);
    let report = status_report("wg0", 51820, &engine, &reload);
    let json = serde_json::to_string(&report).unwrap();
    assert_eq!(
        serde_json::from_str::<StatusReport>(&json).unwrap(),
        report,
        "the JSON report round-trips"
    );
    assert!(
        json.contains(
            r#""counters":[{"direction":"in","verdict":"drop","reason":"no-rule","count":1}]"#
        ),
        "{json}"
    );
    let text = render_text(&report);
    for line in [
        "interface: wg0",
        "  public key: ",
        "  listening port: 51820",
        "  filter: generation 1, 1 rules from rules r.json",
        "  reloads: 0 ok, 1 failed",
        "  last reload: failed, keeping generation 1: `p.hujson`: invalid JSON; second",
        "peer: xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
        "  endpoint: 10.99.0.2:51820",
        "  allowed ips: 10.100.0.2/32",
        "  latest handshake: never",
        "  transfer: 0 B received, 0 B sent",
        "  in drop no-rule 1",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(
        !text.contains("accept"),
        "zero counters are left out:\n{text}"
    );
    let disabled = render_text(&status_report(
        "wg0",
        1,
        &Engine::new(&config, None),
        &ReloadState::default(),
    ));
    assert!(disabled.contains("  filter: disabled (--no-filter)"));
}

/// The TUN line shows the offload state and the average segment per direction; the JSON
/// field round-trips and is left out when absent.
#[test]
fn status_shows_tun_offload_and_segment_sizes() {
    let config = parse(CONF).unwrap();
    let engine = Engine::new(&config, None);
    let mut report = status_report("wg0", 1, &engine, &ReloadState::default());
    assert!(!serde_json::to_string(&report).unwrap().contains("tun"));
    report.tun = Some(TunReport {
        offload: true,
        offload_state: "on (virtio-net header, checksum, TSO, USO)".to_owned(),
        read: TunTrafficReport::new((2, 90, 126_000)),
        written: TunTrafficReport::new((0, 0, 0)),
    });
    let json = serde_json::to_string(&report).unwrap();
    assert_eq!(serde_json::from_str::<StatusReport>(&json).unwrap(), report);
    let text = render_text(&report);
    for line in [
        "  tun offload: on (virtio-net header, checksum, TSO, USO)",
        "  tun read: 90 packets in 2 frames, average segment 63000 B (45.00 packets)",
        "  tun written: 0 packets in 0 frames, average segment 0 B (0.00 packets)",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
}
