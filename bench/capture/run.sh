#!/usr/bin/env bash
# Receive-and-free through Rampart's DPDK binding (rxbench) against
# dpdk-testpmd --forward-mode=rxonly on the same link, alternating
# A B A B, one worker core, 64-byte frames to 16K hosts:
#   1. net_pcap with infinite_rx=1 (no generator)
#   2. net_memif, fed by a fresh dpdk-testpmd flowgen per measurement,
#      pinned crosswise (generator forwards on core 0, receiver on core 1)
# Prints medians and the ratio to testpmd. Every process is timeout-wrapped
# and leftovers are killed by PID.
#
# Usage (root, from the repository root): bench/capture/run.sh
# Environment: PAIRS (3), SECS measured seconds per run (5), NO_HUGE (1;
# 0 needs reserved and mounted hugepages), SOURCES ("pcap memif"), MODE
# (burst: the binding's Burst alone; capture: through capture.Queue, as the
# sensor's worker, which also fills its frame array).
set -euo pipefail

PAIRS=${PAIRS:-3}
SECS=${SECS:-5}
NO_HUGE=${NO_HUGE:-1}
SOURCES=${SOURCES:-"pcap memif"}
MODE=${MODE:-burst}
MBUFS=32767 # net_pcap infinite_rx holds the whole pcap (16K mbufs) in the pool

cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/rxbench.XXXXXX)
pids=()
prefix="rb$$"

cleanup() {
	for p in "${pids[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
	sleep 0.5
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$work" /var/run/dpdk/"$prefix"-*
}
trap cleanup EXIT

if [ "$NO_HUGE" = 1 ]; then
	mem=(--no-huge -m 512)
	rxmem=(-no-huge=true -memory 512)
else
	mem=(--huge-unlink -m 512)
	rxmem=(-no-huge=false -memory 512)
fi

go build -o "$work/rxbench" ./bench/capture/rxbench
"$work/rxbench" -write-pcap "$work/b64.pcap" -hosts 16384 -size 64

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# testpmd prints Rx-pps each second; drop the first two (start, warm-up).
testpmd_rx() { # vdev tag -> Mpps
	local log="$work/tp-$2.log"
	timeout -s INT --kill-after=5 $((SECS + 4)) dpdk-testpmd --lcores=0@0,1@1 "${mem[@]}" --no-pci --no-telemetry \
		--file-prefix="$prefix-rx-$2" --vdev="$1" -- --forward-mode=rxonly --nb-cores=1 --burst=64 \
		--total-num-mbufs=$MBUFS --stats-period=1 >"$log" 2>&1 </dev/null &
	local pid=$!
	pids+=("$pid")
	wait "$pid" || true
	grep -a 'Rx-pps:' "$log" | awk '{print $2/1e6}' | tail -n +3 | head -n "$SECS" | median
}

rxbench_rx() { # vdev tag -> Mpps
	local out="$work/rb-$2.json"
	timeout -s INT --kill-after=5 $((SECS + 20)) "$work/rxbench" -vdev "$1" "${rxmem[@]}" -mbufs $MBUFS \
		-main-core 0 -worker-core 1 -seconds "$SECS" -mode "$MODE" -file-prefix "$prefix-rx-$2" >"$out" 2>"$work/rb-$2.log" </dev/null &
	local pid=$!
	pids+=("$pid")
	wait "$pid" || { echo "rxbench failed: $(tail -3 "$work/rb-$2.log")" >&2; echo 0; return; }
	sed -n 's/.*"mpps":\([0-9.e+-]*\).*/\1/p' "$out"
}

# A fresh generator per measurement: flowgen's server has segfaulted when
# its client left.
gen_start() { # socket tag
	timeout -s INT --kill-after=5 $((SECS + 30)) dpdk-testpmd --lcores=0@1,1@0 "${mem[@]}" --no-pci --no-telemetry \
		--file-prefix="$prefix-gen-$2" --vdev="net_memif0,role=server,socket=$1" -- --forward-mode=flowgen \
		--txpkts=64 --nb-cores=1 --total-num-mbufs=16384 --burst=64 --flowgen-flows=65536 \
		--stats-period=1 >"$work/gen-$2.log" 2>&1 </dev/null &
	gen_pid=$!
	pids+=("$gen_pid")
	sleep 1.5
}
gen_stop() {
	kill -INT "$gen_pid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$gen_pid" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$gen_pid" 2>/dev/null || true
	wait "$gen_pid" 2>/dev/null || true
}

measure() { # which source pair -> Mpps
	local which=$1 src=$2 i=$3 tag="$2-$1-$3"
	case $src in
	pcap)
		local vdev="net_pcap0,rx_pcap=$work/b64.pcap,infinite_rx=1"
		if [ "$which" = testpmd ]; then testpmd_rx "$vdev" "$tag"; else rxbench_rx "$vdev" "$tag"; fi
		;;
	memif)
		local sock="/run/$prefix-$tag.sock"
		gen_start "$sock" "$tag"
		local vdev="net_memif0,role=client,socket=$sock"
		if [ "$which" = testpmd ]; then testpmd_rx "$vdev" "$tag"; else rxbench_rx "$vdev" "$tag"; fi
		gen_stop
		;;
	esac
}

printf '%-7s %-5s %12s %12s %8s\n' source pair testpmd_Mpps rxbench_Mpps ratio
summary=()
for src in $SOURCES; do
	tp=() rb=() ratios=()
	for i in $(seq 1 "$PAIRS"); do
		a=$(measure testpmd "$src" "$i")
		b=$(measure rxbench "$src" "$i")
		if awk -v a="$a" -v b="$b" 'BEGIN {exit !(a > 0 && b > 0)}'; then
			r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b / a}')
			tp+=("$a") rb+=("$b") ratios+=("$r")
		else
			r="failed" # a run received nothing (link never came up): left out of the medians
		fi
		printf '%-7s %-5s %12.2f %12.2f %8s\n' "$src" "$i" "$a" "$b" "$r"
	done
	if [ ${#ratios[@]} -eq 0 ]; then
		summary+=("$(printf '%-7s %-5s %12s %12s %8s' "$src" median - - failed)")
		continue
	fi
	mtp=$(printf '%s\n' "${tp[@]}" | median)
	mrb=$(printf '%s\n' "${rb[@]}" | median)
	mr=$(printf '%s\n' "${ratios[@]}" | median)
	summary+=("$(printf '%-7s %-5s %12.2f %12.2f %8.3f' "$src" median "$mtp" "$mrb" "$mr")")
done
echo
printf '%-7s %-5s %12s %12s %8s\n' source pair testpmd_Mpps rxbench_Mpps ratio
printf '%s\n' "${summary[@]}"
echo "(ratio column of the medians row: median of the per-pair ratios; MODE=$MODE, NO_HUGE=$NO_HUGE, burst 64, one worker core)"
