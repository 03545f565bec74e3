#!/bin/bash
# What MODE Z gains on a slow link: rftpd in one network namespace, lftp in
# another, joined by a veth pair shaped to RATE each way (tbf), and lftp
# gets a 100 MiB random file and a 100 MiB text file in MODE S and in MODE Z
# at levels 1 and 6. Each line prints the wall time and rftpd's CPU.
# Needs root (network namespaces) and lftp.
#
#   bench/slowlink.sh RFTPD DATA_DIR [RATE]
#
# DATA_DIR gets rand-100MiB.bin and text-100MiB.txt if they are missing.
set -euo pipefail
rftpd=$(realpath "${1:?usage: slowlink.sh RFTPD DATA_DIR [RATE]}")
data=$(realpath "${2:?usage}")
rate=${3:-100mbit}
tag=$(printf '%04x' $((RANDOM)))
s=rfz${tag}s c=rfz${tag}c
work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	ip netns del "$s" 2>/dev/null || true
	ip netns del "$c" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 1" INT TERM PIPE

[ -f "$data/rand-100MiB.bin" ] || head -c 104857600 /dev/urandom >"$data/rand-100MiB.bin"
[ -f "$data/text-100MiB.txt" ] || yes "2026-12-01T20:58:29.131Z level=INFO msg=transfer client=127.0.0.1 user=bob op=STOR path=/up.bin bytes=3" |
	head -c 104857600 >"$data/text-100MiB.txt"

ip netns add "$s"
ip netns add "$c"
ip link add "v$s" type veth peer name "v$c"
ip link set "v$s" netns "$s"
ip link set "v$c" netns "$c"
ip -n "$s" addr add 10.78.0.1/24 dev "v$s"
ip -n "$c" addr add 10.78.0.2/24 dev "v$c"
for ns in $s $c; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "v$ns" up
	ip netns exec "$ns" tc qdisc add dev "v$ns" root tbf rate "$rate" burst 64kb latency 50ms
done

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for level in 1 6; do
	printf 'mode_z = true\nmode_z_level = %s\n' "$level" >"$work/rftpd.toml"
	ip netns exec "$s" "$rftpd" -listen 10.78.0.1:21 -anonymous "$data" -config "$work/rftpd.toml" >/dev/null 2>&1 &
	pid=$!
	sleep 0.7
	for f in rand-100MiB.bin text-100MiB.txt; do
		for z in no yes; do
			c0=$(cpu "$pid")
			t0=$(date +%s.%N)
			ip netns exec "$c" lftp -c "set ftp:use-mode-z $z; set net:timeout 60; set xfer:clobber yes; open ftp://anonymous:x@10.78.0.1; get /$f -o /dev/null"
			t1=$(date +%s.%N)
			c1=$(cpu "$pid")
			mode=S
			[ "$z" = yes ] && mode="Z level $level"
			printf '%s %-16s MODE %-10s wall %6.2f s  rftpd CPU %5.2f s\n' "$rate" "$f" "$mode" "$(echo "$t1 - $t0" | bc)" "$(echo "($c1 - $c0) / 100" | bc -l)"
		done
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
done
