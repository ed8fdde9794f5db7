//! Asserts zero heap allocations per decision (decode + filter, both directions, both
//! families, every protocol path) with a counting global allocator.
#![expect(
    unsafe_code,
    reason = "a counting global allocator must implement GlobalAlloc"
)]
#![expect(clippy::unwrap_used, reason = "tests")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use tailpolicy_dataplane_filter::builder::{PacketSpec, build_packet};
use tailpolicy_dataplane_filter::wire::FilterRule;
use tailpolicy_dataplane_filter::{Dataplane, DecisionScratch, Filter, FilterConfig, FlowTable};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn spec(proto: u8, src: &str, dst: &str, sport: u16, dport: u16, flags: u8, icmp: u8) -> Vec<u8> {
    build_packet(&PacketSpec {
        proto,
        src: src.parse::<IpAddr>().unwrap(),
        dst: dst.parse::<IpAddr>().unwrap(),
        sport,
        dport,
        tcp_flags: flags,
        icmp_type: icmp,
        icmp_code: 0,
        payload_len: 16,
    })
    .unwrap()
}

#[test]
fn decisions_do_not_allocate() {
    let rules: Vec<FilterRule> = serde_json::from_str(
        r#"[{"SrcIPs":["10.0.0.0/8","fd7a::/16","cap:admin"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]},
            {"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}],"IPProto":[47]}]"#,
    )
    .unwrap();
    let config = FilterConfig {
        local_nets: None,
        node_caps: vec![("100.64.0.9".parse().unwrap(), vec!["admin".to_owned()])],
        merge_budget: None,
    };
    let (filter, _) = Filter::new(&rules, &config);
    let dp = Dataplane::new(filter, FlowTable::default());
    let inbound = [
        spec(6, "10.1.1.1", "100.64.0.1", 40000, 22, 0x02, 0),
        spec(6, "11.1.1.1", "100.64.0.1", 40000, 22, 0x02, 0),
        spec(6, "11.1.1.1", "100.64.0.1", 40000, 22, 0x10, 0),
        spec(6, "100.64.0.9", "100.64.0.1", 40000, 22, 0x02, 0),
        spec(6, "fd7a::1", "fd7a::2", 40000, 22, 0x02, 0),
        spec(17, "8.8.8.8", "100.64.0.1", 53, 5000, 0, 0),
        spec(17, "fd7a::9", "fd7a::2", 53, 5000, 0, 0),
        spec(1, "10.1.1.1", "100.64.0.1", 0, 0, 0, 8),
        spec(58, "fd7a::9", "fd7a::2", 0, 0, 0, 129),
        spec(47, "1.1.1.1", "100.64.0.1", 0, 0, 0, 0),
        spec(17, "1.1.1.1", "224.0.0.251", 5353, 5353, 0, 0),
        vec![0x45, 0, 0],
        Vec::new(),
    ];
    let outbound = [
        spec(17, "100.64.0.1", "8.8.8.8", 5000, 53, 0, 0),
        spec(17, "fd7a::2", "fd7a::9", 5000, 53, 0, 0),
        spec(6, "100.64.0.1", "8.8.8.8", 5000, 443, 0x02, 0),
    ];
    let mut scratch = DecisionScratch::default();
    // Warm up (the scratch caches the filter; arc-swap creates its per-thread debt list).
    for p in outbound.iter().chain(inbound.iter()) {
        dp.run_out(p, &mut scratch, 1);
        dp.run_in(p, &mut scratch, 1);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut accepted = 0;
    for round in 0..100u32 {
        for p in &outbound {
            accepted += usize::from(dp.run_out(p, &mut scratch, round).is_accept());
        }
        for p in &inbound {
            accepted += usize::from(dp.run_in(p, &mut scratch, round).is_accept());
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(accepted > 0);
    assert_eq!(after - before, 0, "allocations during 1600 decisions");
    // The counter works: an allocation is seen.
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(8));
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > after && v.capacity() >= 8);
}
