#!/usr/bin/env bash
# Restart time after SIGKILL: a 1 MiB document with a long history (10 clients typing for
# HISTORY_SECONDS, closed loop), then `kill -9` of the server, a restart on the same data
# directory, and the time until (a) it prints `listening on` and (b) a client has joined the
# document again (the document is loaded from its snapshot and log on first join).
#
#   bench/restart.sh
#   CHARS=1048576 HISTORY_SECONDS=30 bench/restart.sh
source "$(dirname "$0")/lib.sh"

CHARS="${CHARS:-1048576}"
HISTORY_SECONDS="${HISTORY_SECONDS:-30}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
RESULTS_FILE="$RESULTS_DIR/restart-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
data="$BENCH_WORK/quire-data"
setup="$BENCH_WORK/setup.json"
url="http://127.0.0.1:$QUIRE_PORT"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

build_quire
start_quire "$QUIRE_PORT" "$data"
history=$(run_load "$HISTORY_SECONDS" --url "$url" --docs 1 --clients 10 --initial-chars "$CHARS" --setup-file "$setup")
echo "$history"
kill -9 "$QUIRE_PID"
wait "$QUIRE_PID" 2>/dev/null || true
log "killed quire serve (pid $QUIRE_PID) with SIGKILL"

t0=$(now_ms)
start_quire "$QUIRE_PORT" "$data"
t_listening=$(now_ms)
rejoin=$(run_load 0.2 --url "$url" --docs 1 --clients 1 --setup-file "$setup")
t_joined=$(now_ms)
echo "$rejoin"
ops=$(node -e 'console.log(JSON.parse(process.argv[1]).ops)' "$history")
join_ms=$(node -e 'console.log(JSON.parse(process.argv[1]).join_max_ms)' "$rejoin")
line="{\"benchmark\":\"restart_after_sigkill\",\"initial_chars\":$CHARS,\"history_ops\":$ops,\"start_to_listening_ms\":$((t_listening - t0)),\"first_join_ms\":$join_ms,\"start_to_rejoined_ms\":$((t_joined - t0))}"
echo "$line"
echo "$line" >>"$RESULTS_FILE"
