#!/usr/bin/env bash
# Copy the ShareDB peer (read-only in ../shared/peers/sharedb) into a gitignored scratch
# directory and install its locked dependencies there. Idempotent: skips `npm ci` when
# node_modules already matches the lock file.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="${SHAREDB_PEER_SRC:-$root/../shared/peers/sharedb}"
dst="$root/target/peers/sharedb"
if [ ! -f "$src/server.js" ]; then
  echo "setup-sharedb: no ShareDB peer at $src" >&2
  exit 1
fi
mkdir -p "$dst"
for f in server.js load.js package.json package-lock.json; do
  install -m 0644 "$src/$f" "$dst/$f"
done
stamp="$dst/node_modules/.quire-lock-stamp"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dst/package-lock.json"; then
  exit 0
fi
(cd "$dst" && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
cp "$dst/package-lock.json" "$stamp"
