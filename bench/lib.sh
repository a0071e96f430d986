# Shared by the benchmark scripts in bench/ (sourced, not run). Starts servers on loopback in a
# scratch directory, runs `quire bench load` with a time bound, and stops what it started.
# Everything here talks to 127.0.0.1 only.

set -euo pipefail
export RUST_BACKTRACE=0  # a failed run prints its error, not a stack

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUIRE="${QUIRE:-$BENCH_ROOT/target/release/quire}"
RESULTS_DIR="${RESULTS_DIR:-$BENCH_ROOT/target/bench-results}"
BENCH_WORK="$(mktemp -d -t quire-bench.XXXXXX)"
BENCH_PIDS=()

bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench] $*" >&2; }

# Builds the release binary unless QUIRE points at one already built.
build_quire() {
  if [ -z "${QUIRE_SKIP_BUILD:-}" ]; then
    log "building target/release/quire"
    (cd "$BENCH_ROOT" && cargo build --release -p quire >&2)
  fi
}

# wait_for_line FILE REGEX SECONDS: waits until FILE has a line matching REGEX.
wait_for_line() {
  local file=$1 pattern=$2 limit=$3 waited=0
  until grep -qE "$pattern" "$file" 2>/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
    if [ "$waited" -ge $((limit * 10)) ]; then
      log "timed out waiting for /$pattern/ in $file:"
      tail -20 "$file" >&2 || true
      return 1
    fi
  done
}

# start_quire PORT DATA_DIR: `quire serve` (SQLite in DATA_DIR, durable acks); sets QUIRE_PID.
# The per-connection submit limit (default 2,000 ops/s, an abuse guard that ShareDB does not
# have) is lifted, so that a fast closed-loop client measures the server, not the policy.
start_quire() {
  local port=$1 data=$2 logfile="$BENCH_WORK/quire-$1.log"
  "$QUIRE" serve --listen "127.0.0.1:$port" --data "$data" \
    --max-ops-per-second 1000000 --max-ops-burst 1000000 >"$logfile" 2>&1 &
  QUIRE_PID=$!
  BENCH_PIDS+=("$QUIRE_PID")
  wait_for_line "$logfile" "listening on http://" 30
  log "quire serve pid $QUIRE_PID on 127.0.0.1:$port (data $data)"
}

# start_sharedb PORT: ShareDB 7 in memory (../shared/peers/sharedb); sets SHAREDB_PID.
start_sharedb() {
  local port=$1 logfile="$BENCH_WORK/sharedb-$1.log"
  "$BENCH_ROOT/bench/setup-sharedb.sh" >&2
  (cd "$BENCH_ROOT/target/peers/sharedb" && exec node server.js "$port" memory) >"$logfile" 2>&1 &
  SHAREDB_PID=$!
  BENCH_PIDS+=("$SHAREDB_PID")
  wait_for_line "$logfile" "listening on" 30
  log "sharedb (memory) pid $SHAREDB_PID on 127.0.0.1:$port"
}

# stop_server PID: SIGTERM and wait.
stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# rss_kib PID: resident set size of a process, in KiB.
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# run_load SECONDS ARGS...: one `quire bench load` run, bounded to SECONDS + RUN_MARGIN
# (default 180 s, for setup, joins and settling); prints its
# JSON line on stdout and appends it to $RESULTS_FILE. A run that fails still prints its line
# (with converged false) when it got that far.
run_load() {
  local seconds=$1
  shift
  log "quire bench load --seconds $seconds $*"
  local line status=0
  line=$(timeout $((${seconds%.*} + ${RUN_MARGIN:-180})) "$QUIRE" bench load --seconds "$seconds" "$@") || status=$?
  if [ -n "$line" ]; then
    echo "$line"
    mkdir -p "$RESULTS_DIR"
    echo "$line" >>"${RESULTS_FILE:-$RESULTS_DIR/runs.jsonl}"
  fi
  if [ "$status" -ne 0 ]; then
    log "run exited with status $status"
  fi
}

# machine_summary: one line describing this machine.
machine_summary() {
  local cpu mem
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "$(nproc) cores ($cpu), $mem RAM, $(uname -sr)"
}
