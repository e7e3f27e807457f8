#!/usr/bin/env bash
# Lays out the Node.js compatibility clients in DEST (a build directory) and
# installs their pinned dependencies with `npm ci` when the lock file changed.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=$1
mkdir -p "$dest"
cp "$src"/*.mjs "$dest"/
if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" || [[ ! -d "$dest/node_modules" ]]; then
  cp "$src/package.json" "$src/package-lock.json" "$dest"/
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
