#!/usr/bin/env bash
# Builds the Go compatibility clients offline in GOPATH mode against Debian's
# golang-*-dev packages (/usr/share/gocode). Usage: build-go.sh OUT_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out/gopath" "$out/gocache"
export GO111MODULE=off GOFLAGS= GOPROXY=off
export GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache"
# cgo warnings from Debian's zstd binding are not ours.
export CGO_CFLAGS="-O2 -Wno-deprecated-declarations"
for client in sarama kafka-go; do
  (cd "$src/$client" && go build -o "$out/$client-client" .)
done
