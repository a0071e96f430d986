#!/usr/bin/env bash
# Side by side: ShareDB 7 (in memory, not durable) and Quire (`quire serve`, SQLite, acks only
# after fsync) on this machine, in one run, driven by the same load generator
# (`quire bench load`, speaking each server's own wire protocol). Prints every figure for both
# and their ratio, and keeps the raw JSON lines in target/bench-results/.
#
#   bench/compare.sh                 # 1 doc × 10 clients and 1 doc × 100 clients, 5 s each
#   RUN_SECONDS=10 bench/compare.sh
#
# Loopback only; every run is bounded by a timeout; both servers are stopped on exit.
source "$(dirname "$0")/lib.sh"

RUN_SECONDS="${RUN_SECONDS:-5}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
SHAREDB_PORT="${SHAREDB_PORT:-18090}"
WORKLOADS=("1 10" "1 100")   # "docs clients", closed loop
RESULTS_FILE="$RESULTS_DIR/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

build_quire
start_sharedb "$SHAREDB_PORT"
start_quire "$QUIRE_PORT" "$BENCH_WORK/quire-data"
echo "machine: $(machine_summary)"

for workload in "${WORKLOADS[@]}"; do
  read -r docs clients <<<"$workload"
  sharedb=$(run_load "$RUN_SECONDS" --target sharedb --url "http://127.0.0.1:$SHAREDB_PORT" --docs "$docs" --clients "$clients")
  quire=$(run_load "$RUN_SECONDS" --target quire --url "http://127.0.0.1:$QUIRE_PORT" --docs "$docs" --clients "$clients")
  node "$BENCH_ROOT/bench/table.js" "$docs doc × $clients clients, closed loop, ${RUN_SECONDS} s" "${sharedb:-{\}}" "${quire:-{\}}"
done
echo "raw results: $RESULTS_FILE"
