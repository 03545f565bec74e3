#!/bin/bash
# What a load balancer costs, and what shared passive ports cost: runs
# ftpbench's login and small-get from a client network namespace against one
# rftpd node, directly (routed through the balancer's namespace by the kernel)
# and through HAProxy with PROXY v2 (cmd/rftpd/deploy/haproxy-slices.cfg, both
# slices pointing at the node), then on loopback with passive_shared off and
# on. Rounds alternate; each prints rftpd's and HAProxy's CPU per operation.
# Needs root (network namespaces) and haproxy.
#
#   bench/cluster.sh RFTPD FTPBENCH DATA_DIR [ROUNDS] [DURATION]
set -euo pipefail
rftpd=$(realpath "${1:?usage: cluster.sh RFTPD FTPBENCH DATA_DIR [ROUNDS] [DURATION]}")
ftpbench=$(realpath "${2:?usage}")
data=$(realpath "${3:?usage}")
rounds=${4:-3}
dur=${5:-5s}
here=$(cd "$(dirname "$0")/.." && pwd)
tag=$(printf '%04x' $((RANDOM)))
c=rfb${tag}c l=rfb${tag}l n=rfb${tag}n
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for ns in $c $l $n; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM PIPE # so that the clean-up runs then too

for ns in $c $l $n; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add vb${tag}ca type veth peer name vb${tag}cb
ip link set vb${tag}ca netns $c; ip link set vb${tag}cb netns $l
ip link add vb${tag}na type veth peer name vb${tag}nb
ip link set vb${tag}na netns $n; ip link set vb${tag}nb netns $l
ip -n $c addr add 10.78.1.2/24 dev vb${tag}ca; ip -n $l addr add 10.78.1.1/24 dev vb${tag}cb
ip -n $n addr add 10.78.2.2/24 dev vb${tag}na; ip -n $l addr add 10.78.2.1/24 dev vb${tag}nb
for d in "$c vb${tag}ca" "$l vb${tag}cb" "$n vb${tag}na" "$l vb${tag}nb"; do set -- $d; ip -n "$1" link set "$2" up; done
ip -n $c route add default via 10.78.1.1
ip -n $n route add default via 10.78.2.1
ip netns exec $l sysctl -qw net.ipv4.ip_forward=1

# One node: a PROXY listener for HAProxy and a plain one for direct clients.
cat > "$work/node.toml" <<EOF
anonymous = "$data"
passive_ports = "30000-30019"
[[listener]]
address = "10.78.2.2:2121"
proxy = "required"
proxy_data = true
[[listener]]
address = "10.78.2.2:2122"
[proxy]
trusted = ["10.78.2.1"]
EOF
ip netns exec $n "$rftpd" -config "$work/node.toml" -listen 10.78.2.2:2123 >"$work/node.out" 2>&1 &
pids+=($!)
RFTPD_FRONT=10.78.1.1 RFTPD_PORT=21 RFTPD_NODE1=10.78.2.2 RFTPD_NODE2=10.78.2.2 \
	RFTPD_NODE1_PASSIVE=30000-30009 RFTPD_NODE2_PASSIVE=30010-30019 \
	ip netns exec $l haproxy -db -f "$here/cmd/rftpd/deploy/haproxy-slices.cfg" >"$work/haproxy.out" 2>&1 &
pids+=($!)
sleep 2
node=$(pgrep -f -- "-config $work/node.toml" | head -1)
ha=$(pgrep -f "haproxy -db -f $here/cmd/rftpd/deploy/haproxy-slices.cfg" | tail -1)

# cpu PID: its user+system time in clock ticks, children included.
cpu() { awk '{print $14+$15+$16+$17}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

run() { # label url
	local h0 h1 out ops
	h0=$(cpu "$ha")
	out=$(ip netns exec $c "$ftpbench" -url "$2" -s login,small-get -c 8 -d "$dur" -q -pid "$node" 2>&1)
	h1=$(cpu "$ha")
	echo "$out" | awk -v l="$1" '/^ *(login|small-get) / && $3 ~ /^[0-9]+$/ {print l, $1, $5, $6 "/s"}
		/server CPU/{print l, "  rftpd", $0}'
	ops=$(echo "$out" | awk '/^ *(login|small-get) / && $3 ~ /^[0-9]+$/ {gsub(",","",$4); s+=$4} END{print s}')
	awk -v d=$((h1 - h0)) -v hz="$hz" -v ops="$ops" -v l="$1" 'BEGIN{if (ops>0) printf "%s   haproxy CPU: %.1f µs per operation (login and small-get together)\n", l, d/hz*1e6/ops}'
}
for i in $(seq 1 "$rounds"); do
	echo "== round $i"
	run direct ftp://10.78.2.2:2122/
	run haproxy ftp://10.78.1.1:21/
done

# Shared passive ports against a listener per session, on loopback.
for i in $(seq 1 "$rounds"); do
	for shared in false true; do
		echo "passive_shared = $shared" > "$work/lo.toml"
		"$rftpd" -config "$work/lo.toml" -listen 127.0.0.1:2391 -anonymous "$data" -passive-ports 31000-31009 >/dev/null 2>&1 &
		p=$!
		sleep 0.5
		echo "== round $i, passive_shared = $shared"
		"$ftpbench" -url ftp://127.0.0.1:2391/ -s small-get -c 8 -d "$dur" -q -pid "$p" 2>&1 | awk '/^ *small-get / && $3 ~ /^[0-9]+$/ {print "small-get", $5, "files/s"} /server CPU/{print}'
		kill "$p"; wait "$p" 2>/dev/null || true
	done
done
