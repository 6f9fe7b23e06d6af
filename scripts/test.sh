#!/usr/bin/env bash
# The test command (npm test): installs what the tests need, builds, runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
npm run build --silent
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
# A test that hangs (a server left open after a failure) fails after 5 minutes instead of holding CI.
node --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
