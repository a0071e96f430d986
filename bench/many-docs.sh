#!/usr/bin/env bash
# Many documents open at once: 10,000 documents × 2 clients, 1 op/s per document (0.5 op/s per
# client), 30 s, against Quire (SQLite, durable). Target: p99 ack under 20 ms. 20,000 client
# sockets plus 20,000 server sockets on one machine: the file descriptor limit is raised here.
#
#   bench/many-docs.sh
#   DOCS=10000 RUN_SECONDS=30 bench/many-docs.sh
source "$(dirname "$0")/lib.sh"

DOCS="${DOCS:-10000}"
RUN_SECONDS="${RUN_SECONDS:-30}"
THREADS="${THREADS:-1}"
QUIRE_PORT="${QUIRE_PORT:-18080}"
RESULTS_FILE="$RESULTS_DIR/many-docs-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Each connection is one descriptor in the generator and one in the server (+ a margin for
# the server's database, listener and logs).
needed=$((DOCS * 2 + 200))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$needed" ]; then
  log "open files limit $(ulimit -n) (hard $(ulimit -Hn)) is below the $needed that $DOCS documents × 2 clients need"
  log "raise the hard limit (e.g. in /etc/security/limits.conf) or run with DOCS=$((($(ulimit -n) - 200) / 2))"
  exit 2
fi
log "open files limit: $(ulimit -n)"

# Setting up 10,000 documents (create + share, each a durable write) and 20,000 joins take
# minutes on a small machine.
RUN_MARGIN="${RUN_MARGIN:-900}"

build_quire
start_quire "$QUIRE_PORT" "$BENCH_WORK/quire-data"
run_load "$RUN_SECONDS" --url "http://127.0.0.1:$QUIRE_PORT" --docs "$DOCS" --clients 2 \
  --rate 0.5 --threads "$THREADS" --settle-seconds 60
