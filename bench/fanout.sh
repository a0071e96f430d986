#!/usr/bin/env bash
# One document, many clients: 500 writers typing at 2 ops/s each and 500 read-only watchers
# (1,000 connections), 20 s, against Quire (SQLite, durable). Target: p99 broadcast arrival
# under 100 ms on a 2-core machine with the load generator on the same machine.
#
#   bench/fanout.sh
#   WRITERS=500 WATCHERS=500 RATE=2 RUN_SECONDS=20 THREADS=2 TARGETS="quire sharedb" bench/fanout.sh
#
# The generator runs on 2 threads here: every op arrives at ~1,000 clients, and applying a
# million arrivals a second (parse, rope insert, timing) is most of one core on its own; on one
# thread each delivery round waits for the previous one to be applied, and that queue, not the
# server, would be measured. Both targets get the same setting.
source "$(dirname "$0")/lib.sh"

WRITERS="${WRITERS:-500}"
WATCHERS="${WATCHERS:-500}"
RATE="${RATE:-2}"
RUN_SECONDS="${RUN_SECONDS:-20}"
THREADS="${THREADS:-2}"
TARGETS="${TARGETS:-quire}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
SHAREDB_PORT="${SHAREDB_PORT:-18090}"
RESULTS_FILE="$RESULTS_DIR/fanout-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

build_quire
for target in $TARGETS; do
  case $target in
    quire) start_quire "$QUIRE_PORT" "$BENCH_WORK/quire-data"; url="http://127.0.0.1:$QUIRE_PORT"; pid=$QUIRE_PID ;;
    sharedb) start_sharedb "$SHAREDB_PORT"; url="http://127.0.0.1:$SHAREDB_PORT"; pid=$SHAREDB_PID ;;
    *) log "unknown target $target"; exit 2 ;;
  esac
  run_load "$RUN_SECONDS" --target "$target" --url "$url" --docs 1 --clients "$WRITERS" \
    --watchers "$WATCHERS" --rate "$RATE" --threads "$THREADS"
  stop_server "$pid"
done
