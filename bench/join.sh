#!/usr/bin/env bash
# Join time for a 1 MiB document: one document filled with 1,048,576 code points before the
# clients join; 10 clients join it (join_p50_ms / join_max_ms: socket open to state held),
# then type for 2 s. Quire (SQLite) and ShareDB (memory) with the same generator.
#
#   bench/join.sh
#   CHARS=1048576 CLIENTS=10 TARGETS=quire bench/join.sh
source "$(dirname "$0")/lib.sh"

CHARS="${CHARS:-1048576}"
CLIENTS="${CLIENTS:-10}"
TARGETS="${TARGETS:-quire sharedb}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
SHAREDB_PORT="${SHAREDB_PORT:-18090}"
RESULTS_FILE="$RESULTS_DIR/join-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

build_quire
for target in $TARGETS; do
  case $target in
    quire) start_quire "$QUIRE_PORT" "$BENCH_WORK/quire-data"; url="http://127.0.0.1:$QUIRE_PORT"; pid=$QUIRE_PID ;;
    sharedb) start_sharedb "$SHAREDB_PORT"; url="http://127.0.0.1:$SHAREDB_PORT"; pid=$SHAREDB_PID ;;
    *) log "unknown target $target"; exit 2 ;;
  esac
  run_load 2 --target "$target" --url "$url" --docs 1 --clients "$CLIENTS" --initial-chars "$CHARS" \
    --connect-concurrency 1
  stop_server "$pid"
done
