//! Batched UDP IO over loopback (no root needed): GSO runs and GRO buffers deliver every
//! datagram intact and in order, including runs that must be split (another endpoint, a
//! longer datagram after a shorter one).
#![expect(clippy::unwrap_used, reason = "tests")]

use std::net::SocketAddr;
use std::time::Duration;
use tailpolicy_node::{RecvBatch, SendBatch, Udp};

async fn receive(udp: &Udp, want: usize) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut got = Vec::new();
    let mut batch = RecvBatch::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while got.len() < want && tokio::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(200), udp.readable()).await;
        let _ = batch.try_recv(udp, |from, d| got.push((from, d.to_vec())));
    }
    got
}

fn datagram(i: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| u8::try_from((i * 31 + j) % 251).unwrap())
        .collect()
}

#[tokio::test]
async fn gso_runs_arrive_whole_and_in_order() {
    let sender = Udp::bind(0).await.unwrap();
    let a = Udp::bind(0).await.unwrap();
    let b = Udp::bind(0).await.unwrap();
    let to_a: SocketAddr = format!("127.0.0.1:{}", a.local_port().unwrap())
        .parse()
        .unwrap();
    let to_b: SocketAddr = format!("[::1]:{}", b.local_port().unwrap())
        .parse()
        .unwrap();
    let mut out = SendBatch::default();
    // 40 full-size datagrams, a short one (ends the run), then full-size ones again, with
    // datagrams for another endpoint interleaved.
    let mut for_a = Vec::new();
    let mut for_b = Vec::new();
    for i in 0..60 {
        let len = if i == 40 { 300 } else { 1200 };
        let d = datagram(i, len);
        out.push(&sender, to_a, &d);
        for_a.push(d);
        if i % 25 == 24 {
            let d = datagram(1000 + i, 80);
            out.push(&sender, to_b, &d);
            for_b.push(d);
        }
    }
    out.flush(&sender);
    out.drain(&sender).await;
    let got_a = receive(&a, for_a.len()).await;
    let got_b = receive(&b, for_b.len()).await;
    let bytes = |v: &[(SocketAddr, Vec<u8>)]| v.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>();
    assert_eq!(bytes(&got_a), for_a);
    assert_eq!(bytes(&got_b), for_b);
    let sender_port = sender.local_port().unwrap();
    assert!(
        got_a
            .iter()
            .all(|(from, _)| from.port() == sender_port && from.ip().is_ipv4())
    );
}
