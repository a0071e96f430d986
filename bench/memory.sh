#!/usr/bin/env bash
# Memory per open document: RSS of `quire serve` before, and its peak while DOCS documents are
# open with one client each (0.2 op/s per client, RUN_SECONDS), divided by DOCS. The figure
# includes each document's one WebSocket connection.
#
#   bench/memory.sh
#   DOCS=10000 RUN_SECONDS=20 bench/memory.sh
source "$(dirname "$0")/lib.sh"

DOCS="${DOCS:-10000}"
RUN_SECONDS="${RUN_SECONDS:-20}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
RESULTS_FILE="$RESULTS_DIR/memory-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

RUN_MARGIN="${RUN_MARGIN:-900}"

build_quire
start_quire "$QUIRE_PORT" "$BENCH_WORK/quire-data"
sleep 1
before=$(rss_kib "$QUIRE_PID")
run_load "$RUN_SECONDS" --url "http://127.0.0.1:$QUIRE_PORT" --docs "$DOCS" --clients 1 --rate 0.2 \
  --settle-seconds 60 >"$BENCH_WORK/load.json" &
load_pid=$!
peak=$before
while kill -0 "$load_pid" 2>/dev/null; do
  rss=$(rss_kib "$QUIRE_PID")
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 0.5
done
wait "$load_pid" || true
cat "$BENCH_WORK/load.json"
after=$(rss_kib "$QUIRE_PID")
line="{\"benchmark\":\"memory_per_open_document\",\"docs\":$DOCS,\"rss_before_kib\":$before,\"rss_peak_kib\":$peak,\"rss_after_kib\":$after,\"peak_delta_per_doc_kib\":$(awk "BEGIN { printf \"%.1f\", ($peak - $before) / $DOCS }")}"
echo "$line"
echo "$line" >>"$RESULTS_FILE"
