//! Random policies and inventories never make the compiler panic.
//!
//! The input is split at its first NUL byte: the part before is the policy, the part
//! after the inventory (any of the three formats). Whatever the front ends accept is
//! compiled, a node is then added through the incremental API, and the output is
//! serialised.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailpolicy_compiler::OutputJson;
use tailpolicy_compiler::{CompileOptions, Compiler, inventory};
use tailpolicy_policy::{CheckOptions, analyse};

fuzz_target!(|data: &[u8]| {
    let (policy_bytes, inventory_bytes) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"nodes\": []}"[..]),
    };
    let (Ok(policy_text), Ok(inventory_text)) = (
        std::str::from_utf8(policy_bytes),
        std::str::from_utf8(inventory_bytes),
    ) else {
        return;
    };
    let (inv, _) = inventory::load(inventory_text);
    let inv = inv.unwrap_or_default();
    let analysis = analyse(policy_text, &CheckOptions::default());
    let Some(policy) = analysis.policy else { return };
    // Compile even policies with errors: the compiler must not panic on them either.
    for auto_approve in [true, false] {
        let options = CompileOptions { auto_approve, ..CompileOptions::default() };
        let mut c = Compiler::new(&policy, inv.clone(), options);
        let _ = serde_json::to_string(&OutputJson::new(c.nodes()));
        if let Some(n) = inv.nodes.first() {
            let mut joining = n.clone();
            joining.name.push_str("-joining");
            joining.ipv4 = None;
            joining.ipv6 = None;
            let _ = c.add_node(joining);
        }
    }
});
