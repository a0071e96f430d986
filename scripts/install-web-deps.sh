#!/usr/bin/env bash
# Installs the web workspace's npm packages once (npm ci from the lock file),
# again only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../web"
stamp=node_modules/.quire-lock-stamp
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
npm ci --no-audit --no-fund
cp package-lock.json "$stamp"
