//! Comparing packet filters and SSH policies as the conformance README prescribes:
//! *exact* (rule multisets after sorting inside rules) and *semantic* (what the rules
//! allow, per protocol, destination address and port). Inputs are JSON values so that
//! captures from Tailscale compare directly with our output.

pub use crate::addr::Interval;
use crate::addr::normalise;
use serde_json::Value;
use std::collections::BTreeSet;
use wire::addr::{ParsedAddr, parse_addr};

/// The client's protocols when `IPProto` is absent.
const DEFAULT_PROTOS: [i64; 4] = [6, 17, 1, 58];

fn protos(rule: &Value) -> Vec<i64> {
    match rule.get("IPProto").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a.iter().filter_map(Value::as_i64).collect(),
        _ => DEFAULT_PROTOS.to_vec(),
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The intervals an address string denotes (`*`, IP, CIDR, range); `cap:` and
/// unreadable strings denote nothing.
pub fn addr_intervals(s: &str) -> Vec<Interval> {
    match parse_addr(s, true) {
        Ok(ParsedAddr::Any) => vec![
            Interval {
                v6: false,
                lo: 0,
                hi: u128::from(u32::MAX),
            },
            Interval {
                v6: true,
                lo: 0,
                hi: u128::MAX,
            },
        ],
        Ok(ParsedAddr::V4(r)) => vec![Interval {
            v6: false,
            lo: u128::from(r.first),
            hi: u128::from(r.last),
        }],
        Ok(ParsedAddr::V6(r)) => vec![Interval {
            v6: true,
            lo: r.first,
            hi: r.last,
        }],
        _ => Vec::new(),
    }
}

fn set_of(items: &[String]) -> Vec<Interval> {
    normalise(items.iter().flat_map(|s| addr_intervals(s)).collect())
}

/// One destination atom: (protocol, destination interval, ports, sources).
struct Atom {
    proto: i64,
    dst: Interval,
    first: u16,
    last: u16,
    src: Vec<Interval>,
}

fn atoms(rules: &[Value]) -> Vec<Atom> {
    let mut out = Vec::new();
    for r in rules {
        let Some(dsts) = r.get("DstPorts").and_then(Value::as_array) else {
            continue;
        };
        let src = set_of(&strs(r.get("SrcIPs")));
        for p in protos(r) {
            for d in dsts {
                let ip = d.get("IP").and_then(Value::as_str).unwrap_or("");
                let ports = d.get("Ports");
                let first = ports
                    .and_then(|p| p.get("First"))
                    .and_then(Value::as_u64)
                    .and_then(|x| u16::try_from(x).ok())
                    .unwrap_or(0);
                let last = ports
                    .and_then(|p| p.get("Last"))
                    .and_then(Value::as_u64)
                    .and_then(|x| u16::try_from(x).ok())
                    .unwrap_or(0);
                for dst in addr_intervals(ip) {
                    let same_family: Vec<Interval> =
                        src.iter().copied().filter(|s| s.v6 == dst.v6).collect();
                    if same_family.is_empty() {
                        continue;
                    }
                    out.push(Atom {
                        proto: p,
                        dst,
                        first,
                        last,
                        src: same_family,
                    });
                }
            }
        }
    }
    out
}

/// Whether two rule lists allow exactly the same traffic: for every protocol,
/// destination address and port, the union of allowed sources is equal (only sources of
/// the destination's address family count). `CapGrant`s must grant the same
/// (sources, destinations, capability, value) tuples.
pub fn semantic_equal(a: &[Value], b: &[Value]) -> bool {
    caps(a) == caps(b) && ports_equal(&atoms(a), &atoms(b))
}

fn ports_equal(a: &[Atom], b: &[Atom]) -> bool {
    let protos: BTreeSet<i64> = a.iter().chain(b).map(|x| x.proto).collect();
    for p in protos {
        for v6 in [false, true] {
            let sel = |v: &[Atom]| -> Vec<usize> {
                v.iter()
                    .enumerate()
                    .filter(|(_, x)| x.proto == p && x.dst.v6 == v6)
                    .map(|(i, _)| i)
                    .collect()
            };
            let (ia, ib) = (sel(a), sel(b));
            let mut dcuts: BTreeSet<u128> = BTreeSet::new();
            let mut pcuts: BTreeSet<u32> = BTreeSet::new();
            for x in ia
                .iter()
                .filter_map(|i| a.get(*i))
                .chain(ib.iter().filter_map(|i| b.get(*i)))
            {
                dcuts.insert(x.dst.lo);
                if let Some(n) = x.dst.hi.checked_add(1) {
                    dcuts.insert(n);
                }
                pcuts.insert(u32::from(x.first));
                pcuts.insert(u32::from(x.last) + 1);
            }
            let dcuts: Vec<u128> = dcuts.into_iter().collect();
            let pcuts: Vec<u32> = pcuts.into_iter().collect();
            for &d in &dcuts {
                for &port in &pcuts {
                    let at = |v: &[Atom], idx: &[usize]| -> Vec<Interval> {
                        normalise(
                            idx.iter()
                                .filter_map(|i| v.get(*i))
                                .filter(|x| {
                                    x.dst.lo <= d
                                        && d <= x.dst.hi
                                        && u32::from(x.first) <= port
                                        && port <= u32::from(x.last)
                                })
                                .flat_map(|x| x.src.iter().copied())
                                .collect(),
                        )
                    };
                    if at(a, &ia) != at(b, &ib) {
                        return false;
                    }
                }
            }
        }
    }
    true
}

fn canonical_values(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().map(|x| canonical(x).to_string()).collect(),
        _ => Vec::new(),
    }
}

/// (sources, destinations, capability, values) of one capability grant.
type CapTuple = (Vec<Interval>, Vec<Interval>, String, Vec<String>);

fn caps(rules: &[Value]) -> BTreeSet<CapTuple> {
    let mut out = BTreeSet::new();
    for r in rules {
        let Some(grants) = r.get("CapGrant").and_then(Value::as_array) else {
            continue;
        };
        let src = set_of(&strs(r.get("SrcIPs")));
        for g in grants {
            let dsts = set_of(&strs(g.get("Dsts")));
            if let Some(m) = g.get("CapMap").and_then(Value::as_object) {
                for (cap, values) in m {
                    out.insert((
                        src.clone(),
                        dsts.clone(),
                        cap.clone(),
                        canonical_values(Some(values)),
                    ));
                }
            }
        }
    }
    out
}

/// A JSON value with object keys sorted (for order-insensitive comparison).
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                if let Some(x) = m.get(k) {
                    out.insert(k.clone(), canonical(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn exact_key(rule: &Value) -> String {
    let mut src = strs(rule.get("SrcIPs"));
    src.sort();
    let mut dsts: Vec<(String, u64, u64)> = rule
        .get("DstPorts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| {
                    let p = d.get("Ports");
                    (
                        d.get("IP").and_then(Value::as_str).unwrap_or("").to_owned(),
                        p.and_then(|p| p.get("First"))
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                        p.and_then(|p| p.get("Last"))
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    dsts.sort();
    let mut proto = protos(rule);
    proto.sort_unstable();
    let caps: Vec<Value> = rule
        .get("CapGrant")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|g| {
                    let mut d = strs(g.get("Dsts"));
                    d.sort();
                    let m = g.get("CapMap").map(canonical);
                    serde_json::json!({"Dsts": d, "CapMap": m})
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({"SrcIPs": src, "DstPorts": dsts, "IPProto": proto, "CapGrant": caps})
        .to_string()
}

/// Exact comparison (the README's comparator 1): rule multisets equal after sorting
/// inside each rule, absent `IPProto` read as the default set, `CapMap` compared as
/// parsed JSON (so a `null` value list differs from `[]`).
pub fn exact_equal(a: &[Value], b: &[Value]) -> bool {
    let mut ka: Vec<String> = a.iter().map(exact_key).collect();
    let mut kb: Vec<String> = b.iter().map(exact_key).collect();
    ka.sort();
    kb.sort();
    ka == kb
}

/// Compares two SSH policies (`{"rules": [...]}` or `null`) as the README prescribes:
/// rules in order; principals as a multiset; `sshUsers` as a map; the check action's
/// URL by its path; `acceptEnv` as a list.
pub fn ssh_equal(a: &Value, b: &Value) -> bool {
    let rules = |v: &Value| -> Vec<Value> {
        v.get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (ra, rb) = (rules(a), rules(b));
    ra.len() == rb.len()
        && ra
            .iter()
            .zip(&rb)
            .all(|(x, y)| ssh_rule_key(x) == ssh_rule_key(y))
}

fn ssh_rule_key(r: &Value) -> Value {
    let mut principals: Vec<String> = r
        .get("principals")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|p| canonical(p).to_string()).collect())
        .unwrap_or_default();
    principals.sort();
    let mut action = canonical(r.get("action").unwrap_or(&Value::Null));
    if let Some(Value::String(url)) = action.get_mut("holdAndDelegate")
        && let Some(i) = url.find("/machine/")
    {
        *url = url.split_off(i);
    }
    serde_json::json!({
        "principals": principals,
        "sshUsers": canonical(r.get("sshUsers").unwrap_or(&Value::Null)),
        "action": action,
        "acceptEnv": r.get("acceptEnv").cloned().unwrap_or(Value::Array(Vec::new())),
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_equal_their_prefixes_semantically() {
        let a = vec![
            json!({"SrcIPs": ["100.64.0.0/10"], "DstPorts": [{"IP": "10.0.0.0/8", "Ports": {"First": 22, "Last": 22}}]}),
        ];
        let b = vec![
            json!({"SrcIPs": ["100.64.0.0-100.95.255.255", "100.96.0.0/11"], "DstPorts": [{"IP": "10.0.0.0-10.255.255.255", "Ports": {"First": 22, "Last": 22}}], "IPProto": [6, 17, 1, 58]}),
        ];
        assert!(semantic_equal(&a, &b));
        assert!(!exact_equal(&a, &b));
        let c = vec![
            json!({"SrcIPs": ["100.64.0.0/10"], "DstPorts": [{"IP": "10.0.0.0/8", "Ports": {"First": 22, "Last": 23}}]}),
        ];
        assert!(!semantic_equal(&a, &c));
        let d = vec![
            json!({"SrcIPs": ["100.64.0.0/10"], "DstPorts": [{"IP": "10.0.0.0/8", "Ports": {"First": 22, "Last": 22}}], "IPProto": [6]}),
        ];
        assert!(!semantic_equal(&a, &d));
        assert!(exact_equal(&a, &a.clone()));
        let e = vec![
            json!({"SrcIPs": ["1.2.3.4"], "CapGrant": [{"Dsts": ["100.64.0.1/32"], "CapMap": {"x.com/c": null}}]}),
        ];
        let f = vec![
            json!({"SrcIPs": ["1.2.3.4"], "CapGrant": [{"Dsts": ["100.64.0.1"], "CapMap": {"x.com/c": []}}]}),
        ];
        assert!(semantic_equal(&e, &f));
        assert!(!semantic_equal(&e, &a));
        let _ = serde_json::to_string(&e).unwrap();
    }

    #[test]
    fn ssh_policies_compare_check_urls_by_path() {
        let a = json!({"rules": [{"principals": [{"nodeIP": "1.1.1.1"}, {"nodeIP": "::1"}], "sshUsers": {"root": ""}, "action": {"holdAndDelegate": "https://unused/machine/ssh/action/x"}}]});
        let b = json!({"rules": [{"principals": [{"nodeIP": "::1"}, {"nodeIP": "1.1.1.1"}], "sshUsers": {"root": ""}, "action": {"holdAndDelegate": "https://login.example/machine/ssh/action/x"}}]});
        assert!(ssh_equal(&a, &b));
        assert!(ssh_equal(&Value::Null, &json!({"rules": []})));
        assert!(!ssh_equal(&a, &json!({"rules": []})));
    }
}
