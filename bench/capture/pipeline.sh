#!/usr/bin/env bash
# The full sensor pipeline over DPDK (EAL, port, pinned worker, decode, host
# tables, flow cache, sampling, aggregator, detector) against dpdk-testpmd
# --forward-mode=rxonly on the same net_pcap device (infinite_rx), alternating
# A B A B, one worker core, 64-byte frames to 16K hosts of 10.0.0.0/16.
# The sensor's rate is its second "traffic summary" (5 s of steady state).
#
# Usage (root, from the repository root): bench/capture/pipeline.sh
# Environment: PAIRS (3), NO_HUGE (1; 0 needs reserved, mounted hugepages).
set -euo pipefail

PAIRS=${PAIRS:-3}
NO_HUGE=${NO_HUGE:-1}
MBUFS=32767 # net_pcap infinite_rx holds the whole pcap in the pool

cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/pipebench.XXXXXX)
pids=()
prefix="pb$$"
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$work" /var/run/dpdk/"$prefix"-*
}
trap cleanup EXIT

go build -o "$work/rampart" ./cmd/rampart
go build -o "$work/rxbench" ./bench/capture/rxbench
"$work/rxbench" -write-pcap "$work/b64.pcap" -hosts 16384 -size 64
vdev="net_pcap0,rx_pcap=$work/b64.pcap,infinite_rx=1"
if [ "$NO_HUGE" = 1 ]; then mem=(--no-huge -m 512); nohuge=true; else mem=(--huge-unlink -m 512); nohuge=false; fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

testpmd_rx() { # tag -> Mpps
	local log="$work/tp-$1.log"
	timeout -s INT --kill-after=5 10 dpdk-testpmd --lcores=0@0,1@1 "${mem[@]}" --no-pci --no-telemetry \
		--file-prefix="$prefix-tp-$1" --vdev="$vdev" -- --forward-mode=rxonly --nb-cores=1 --burst=64 \
		--total-num-mbufs=$MBUFS --stats-period=1 >"$log" 2>&1 </dev/null &
	local pid=$!; pids+=("$pid"); wait "$pid" || true
	grep -a 'Rx-pps:' "$log" | awk '{print $2/1e6}' | tail -n +3 | head -n 5 | median
}

sensor_rx() { # tag -> Mpps
	local cfg="$work/s-$1.yaml" log="$work/s-$1.log"
	cat >"$cfg" <<YAML
sensor_id: bench
networks: [10.0.0.0/16]
capture:
  source: dpdk
  dpdk:
    ports: [{device: "$vdev", queues: 1}]
    workers: [1]
    main_core: 0
    burst: 64
    no_huge: $nohuge
    memory_mb: 512
    mempool_size: $MBUFS
    file_prefix: $prefix-s-$1
YAML
	timeout -s INT --kill-after=5 13 "$work/rampart" sensor --config "$cfg" --log-format json >/dev/null 2>"$log" </dev/null &
	local pid=$!; pids+=("$pid"); wait "$pid" || true
	grep -a '"traffic summary"' "$log" | sed -n 2p | sed -n 's/.*"pps":\([0-9.e+-]*\).*/\1/p' | awk '{print $1/1e6}'
}

printf '%-5s %12s %12s %8s\n' pair testpmd_Mpps sensor_Mpps ratio
tps=(); sns=(); ratios=()
for i in $(seq 1 "$PAIRS"); do
	if [ $((i % 2)) = 1 ]; then a=$(testpmd_rx "$i"); b=$(sensor_rx "$i"); else b=$(sensor_rx "$i"); a=$(testpmd_rx "$i"); fi
	r=$(awk -v a="$a" -v b="$b" 'BEGIN {if (a > 0) printf "%.3f", b / a; else print 0}')
	printf '%-5s %12.2f %12.2f %8s\n' "$i" "$a" "$b" "$r"
	tps+=("$a"); sns+=("$b"); ratios+=("$r")
done
printf '%-5s %12.2f %12.2f %8s\n' median "$(printf '%s\n' "${tps[@]}" | median)" "$(printf '%s\n' "${sns[@]}" | median)" "$(printf '%s\n' "${ratios[@]}" | median)"
echo "(NO_HUGE=$NO_HUGE, burst 64, one worker core; ratio: median of the per-pair ratios)"
