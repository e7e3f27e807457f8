#!/usr/bin/env bash
# Installs what building and testing Runnel needs, from Debian 12 packages.
# Only calls apt when something is missing, so re-running it is fast.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config python3 git procps curl
  libasio-dev libssl-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libisal-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librdkafka-dev kcat
  # cluster metadata store (src/cluster): etcd's gRPC API, and a real etcd for its tests
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev etcd-server etcd-client nlohmann-json3-dev
  # compatibility suite (tests/compat): real clients in several languages
  python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard nodejs
  golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
  # fault tests (tests/fault): nft partitions in a private network namespace, etcdctl
  nftables etcd-client
  # fuzzing (fuzz/, scripts/fuzz.sh)
  clang-14 libclang-rt-14-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# npm ships inside nodesource's nodejs; Debian's own npm package conflicts with it.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
