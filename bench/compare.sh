#!/usr/bin/env bash
# Side by side: ShareDB 7 (in memory, not durable) and Quire (`quire serve`, SQLite, acks only
# after fsync) on this machine, in one run, driven by the same load generator
# (`quire bench load`, speaking each server's own wire protocol). Prints every figure for both
# and their ratio, and keeps the raw JSON lines in target/bench-results/.
#
#   bench/compare.sh                 # 1 doc × 10 clients and 1 doc × 100 clients, 5 s each
#   RUN_SECONDS=10 bench/compare.sh
#
# After each workload, `quire bench ceiling` with as many clients gives the machine's bound: a
# one-thread loop with durable acks and fan-out, no protocol (crates/bench/src/ceiling.rs),
# on a raw file and on SQLite, with free clients (a hard bound) and, up to 10 clients, with
# clients that spend on each op they read what the load generator spent per op it read in
# Quire's run (an estimate of the bound with this generator; with more clients the generator
# decodes one shared frame for many clients, so a cost per op overstates it).
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
  client_ns=$(node -e 'const r = JSON.parse(process.argv[1] || "{}");
    const read = (r.ops || 0) + (r.broadcasts || 0);
    console.log(r.client_cpu_s && read ? Math.round(r.client_cpu_s * 1e9 / read) : 0)' "$quire")
  ceiling_runs=("file 0" "sqlite 0")
  [ "$clients" -le 10 ] && ceiling_runs+=("file $client_ns" "sqlite $client_ns")
  for ceiling_run in "${ceiling_runs[@]}"; do
    read -r durability work <<<"$ceiling_run"
    ceiling=$(timeout $((RUN_SECONDS + 60)) "$QUIRE" bench ceiling --clients "$clients" --seconds "$RUN_SECONDS" \
      --durability "$durability" --client-work-ns "$work" --dir "$BENCH_WORK" || true)
    [ -n "$ceiling" ] && echo "$ceiling" >>"$RESULTS_FILE"
    node "$BENCH_ROOT/bench/ceiling.js" "${sharedb:-{\}}" "${quire:-{\}}" "${ceiling:-{\}}"
  done
done
echo "raw results: $RESULTS_FILE"
