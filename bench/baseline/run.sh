#!/usr/bin/env bash
# `rampart baseline report` over HOSTS × INTERVALS host-rows of Arrow
# snapshot files against DuckDB (npm @duckdb/node-api) computing the same
# per-host and per-hostgroup quantiles (p50, p99, max of the four
# thresholded peaks) over the same rows as Parquet, alternating A B A B.
# Both are timed from outside as whole processes (wall clock, max RSS).
#
# Usage (from the repository root): bench/baseline/run.sh
# Environment: HOSTS (10000), INTERVALS (10000; 10-second snapshots),
# PAIRS (3), DATA (generated once and kept: bench/results/tmp/baseline-H-I),
# DUCKDB_MODE (exact: quantile_cont; approx: approx_quantile).
set -euo pipefail
cd "$(dirname "$0")/../.."
HOSTS=${HOSTS:-10000}
INTERVALS=${INTERVALS:-10000}
PAIRS=${PAIRS:-3}
DUCKDB_MODE=${DUCKDB_MODE:-exact}
DATA=${DATA:-bench/results/tmp/baseline-$HOSTS-$INTERVALS}
export PATH=/usr/local/go/bin:$PATH

mkdir -p bin
go build -o bin/rampart ./cmd/rampart
go build -o bin/bench-baseline-gen ./bench/baseline/gen
if [ ! -f "$DATA/.done" ]; then
	rm -rf "$DATA"
	echo "bench-baseline: generating $HOSTS hosts × $INTERVALS intervals into $DATA"
	bin/bench-baseline-gen -dir "$DATA" -hosts "$HOSTS" -intervals "$INTERVALS"
	touch "$DATA/.done"
fi
(cd bench/baseline && npm install --no-audit --no-fund --silent)
echo "bench-baseline: $(du -sh "$DATA/arrow" | cut -f1) Arrow IPC, $(du -sh "$DATA/parquet" | cut -f1) Parquet"

measure() { # label command...: prints "seconds max_rss_kb"
	local out
	out=$(mktemp)
	/usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null
	cat "$out"
	rm -f "$out"
}

ratios=()
for pair in $(seq 1 "$PAIRS"); do
	read -r rs rk < <(measure bin/rampart baseline report --config bench/baseline/rampart.yaml --snapshots "$DATA/arrow" --format json)
	read -r ds dk < <(measure node bench/baseline/duckdb.mjs "$DATA/parquet" "$DUCKDB_MODE")
	ratio=$(awk -v a="$rs" -v b="$ds" 'BEGIN { printf "%.2f", a / b }')
	ratios+=("$ratio")
	echo "pair $pair: rampart ${rs}s (max RSS $((rk / 1024)) MiB), duckdb-$DUCKDB_MODE ${ds}s (max RSS $((dk / 1024)) MiB), rampart/duckdb $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "bench-baseline: $((HOSTS * INTERVALS)) host-rows, median rampart/duckdb time ratio $median (below 1: rampart faster)"
