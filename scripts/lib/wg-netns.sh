# Shared setup for scripts/interop-test and scripts/throughput (sourced, not run).
#
# Two network namespaces joined by a veth pair (underlay 10.99.0.0/24): `tailpolicy node` in
# NS_NODE (overlay 10.100.0.1, fd00:100::1), Debian's wireguard-go in NS_PEER (overlay
# 10.100.0.2, fd00:100::2). Every
# name carries this shell's PID so parallel runs do not collide, and cleanup removes exactly
# the namespaces, interfaces and processes this run created. No traffic leaves the namespaces.

SUFFIX=$$
NS_NODE="tpnode$SUFFIX"
NS_PEER="tppeer$SUFFIX"
VETH_NODE="tpva$SUFFIX"
VETH_PEER="tpvb$SUFFIX"
IF_NODE="tpn$SUFFIX"
IF_PEER="tpg$SUFFIX"
NODE_UL=10.99.0.1
PEER_UL=10.99.0.2
NODE_IP=10.100.0.1
PEER_IP=10.100.0.2
NODE_IP6=fd00:100::1
PEER_IP6=fd00:100::2
WG_PORT=51820
WORK=$(mktemp -d /tmp/tailpolicy-netns.XXXXXX)
PIDS=()
NODE_PID=""
PEER_PID=""
# The newer upstream wireguard-go (TUN offloads), next to the repository when present.
SHARED_WG_GO=$(realpath -m "$(dirname "${BASH_SOURCE[0]}")/../../../shared/tools/wireguard-go/wireguard-go")

# Note: `in_node CMD &` forks a subshell, so its $! is not CMD's PID; background processes
# whose PID matters are started with `ip netns exec` directly.
in_node() { ip netns exec "$NS_NODE" "$@"; }
in_peer() { ip netns exec "$NS_PEER" "$@"; }

# Installs the Debian packages the tests need when a tool is missing.
ensure_tools() {
  local missing=()
  command -v wireguard-go >/dev/null || missing+=(wireguard-go)
  command -v wg >/dev/null || missing+=(wireguard-tools)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v iperf3 >/dev/null || missing+=(iperf3)
  command -v socat >/dev/null || missing+=(socat)
  command -v ping >/dev/null || missing+=(iputils-ping)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ! -c /dev/net/tun ]; then
    echo "error: /dev/net/tun is missing" >&2
    return 1
  fi
}

cleanup() {
  set +e
  if [ -n "$NODE_PID" ]; then kill -TERM "$NODE_PID" 2>/dev/null; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  sleep 0.3
  for pid in "${PIDS[@]}" $NODE_PID; do kill -KILL "$pid" 2>/dev/null; done
  ip netns pids "$NS_NODE" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
  ip netns pids "$NS_PEER" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$NS_NODE" 2>/dev/null
  ip netns del "$NS_PEER" 2>/dev/null
  rm -f "/var/run/wireguard/$IF_PEER.sock" "/var/run/wireguard/$IF_PEER.name"
  rm -rf "$WORK"
}

# Namespaces, veth, keys, and the wireguard-go peer (allowed the node's two overlay addresses,
# endpoint the node).
setup_underlay_and_peer() {
  ip netns add "$NS_NODE"
  ip netns add "$NS_PEER"
  ip link add "$VETH_NODE" type veth peer name "$VETH_PEER"
  ip link set "$VETH_NODE" netns "$NS_NODE"
  ip link set "$VETH_PEER" netns "$NS_PEER"
  ip -n "$NS_NODE" addr add "$NODE_UL/24" dev "$VETH_NODE"
  ip -n "$NS_PEER" addr add "$PEER_UL/24" dev "$VETH_PEER"
  for ns in "$NS_NODE" "$NS_PEER"; do ip -n "$ns" link set lo up; done
  ip -n "$NS_NODE" link set "$VETH_NODE" up
  ip -n "$NS_PEER" link set "$VETH_PEER" up
  in_node ping -c1 -W2 "$PEER_UL" >/dev/null

  (umask 077
   wg genkey > "$WORK/node.key"; wg pubkey < "$WORK/node.key" > "$WORK/node.pub"
   wg genkey > "$WORK/peer.key"; wg pubkey < "$WORK/peer.key" > "$WORK/peer.pub")

  start_wggo_peer wireguard-go

  cat > "$WORK/$IF_NODE.conf" <<CONF
# written by scripts/lib/wg-netns.sh
[Interface]
PrivateKey = $(cat "$WORK/node.key")
Address = $NODE_IP/24, $NODE_IP6/64
ListenPort = $WG_PORT

[Peer]
PublicKey = $(cat "$WORK/peer.pub")
Endpoint = $PEER_UL:$WG_PORT
AllowedIPs = $PEER_IP/32, $PEER_IP6/128
CONF
}

# Starts `tailpolicy node` in NS_NODE with the given filter arguments; waits until its
# status socket answers.
start_node() {
  # A simple command (not the in_node function) so that $! is the node's own PID:
  # `ip netns exec` execs the node in place.
  ip netns exec "$NS_NODE" "$BIN" node --wg "$WORK/$IF_NODE.conf" \
    --status-socket "$WORK/node.sock" "$@" >> "$WORK/node.log" 2>&1 &
  NODE_PID=$!
  for _ in $(seq 100); do
    "$BIN" node --status --status-socket "$WORK/node.sock" >/dev/null 2>&1 && return 0
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "error: the node did not start; its log:" >&2
  cat "$WORK/node.log" >&2
  return 1
}

# start_wggo_peer BINARY: wireguard-go (Debian's `wireguard-go` or another build) as the peer
# in NS_PEER, allowed the node's two overlay addresses, endpoint the node.
start_wggo_peer() {
  ip netns exec "$NS_PEER" env WG_PROCESS_FOREGROUND=1 "$1" "$IF_PEER" \
    > "$WORK/wireguard-go.log" 2>&1 &
  PEER_PID=$!
  PIDS+=($!)
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$IF_PEER.sock" ] && break; sleep 0.1; done
  in_peer wg set "$IF_PEER" listen-port "$WG_PORT" private-key "$WORK/peer.key" \
    peer "$(cat "$WORK/node.pub")" allowed-ips "$NODE_IP/32,$NODE_IP6/128" endpoint "$NODE_UL:$WG_PORT"
  ip -n "$NS_PEER" addr add "$PEER_IP/24" dev "$IF_PEER"
  ip -n "$NS_PEER" addr add "$PEER_IP6/64" dev "$IF_PEER" nodad
  ip -n "$NS_PEER" link set "$IF_PEER" mtu 1420 up
}

# start_node_peer ARGS...: `tailpolicy node` as the peer in NS_PEER (its own configuration,
# status socket $WORK/peer.sock), with the given filter arguments.
start_node_peer() {
  cat > "$WORK/$IF_PEER.conf" <<CONF
# written by scripts/lib/wg-netns.sh
[Interface]
PrivateKey = $(cat "$WORK/peer.key")
Address = $PEER_IP/24, $PEER_IP6/64
ListenPort = $WG_PORT

[Peer]
PublicKey = $(cat "$WORK/node.pub")
Endpoint = $NODE_UL:$WG_PORT
AllowedIPs = $NODE_IP/32, $NODE_IP6/128
CONF
  ip netns exec "$NS_PEER" "$BIN" node --wg "$WORK/$IF_PEER.conf" \
    --status-socket "$WORK/peer.sock" "$@" >> "$WORK/peer-node.log" 2>&1 &
  PEER_PID=$!
  PIDS+=($!)
  for _ in $(seq 100); do
    "$BIN" node --status --status-socket "$WORK/peer.sock" >/dev/null 2>&1 && return 0
    kill -0 "$PEER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "error: the peer node did not start; its log:" >&2
  cat "$WORK/peer-node.log" >&2
  return 1
}

# Stops the peer started by start_wggo_peer or start_node_peer and removes its interface.
stop_peer() {
  [ -n "$PEER_PID" ] || return 0
  kill -TERM "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
  PEER_PID=""
  ip -n "$NS_PEER" link del "$IF_PEER" 2>/dev/null || true
  rm -f "/var/run/wireguard/$IF_PEER.sock" "/var/run/wireguard/$IF_PEER.name"
}

stop_node() {
  [ -n "$NODE_PID" ] || return 0
  kill -TERM "$NODE_PID" 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=""
}

node_status() { "$BIN" node --status --status-socket "$WORK/node.sock" "$@"; }
