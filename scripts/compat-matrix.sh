#!/usr/bin/env bash
# Runs the client compatibility suite (tests/compat) in the normal build and
# regenerates docs/compatibility.md from its results.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
rm -rf build/compat-results
status=0
(cd build && ctest --output-on-failure -L compat) || status=1
/usr/bin/python3 tests/compat/gen_matrix.py build/compat-results docs/compatibility.md build/src/cli/runnel
echo "wrote docs/compatibility.md"
exit $status
