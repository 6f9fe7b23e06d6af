#!/usr/bin/env bash
# The test command (npm test): installs what the tests need, builds, runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
npm run build --silent
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=2 "${files[@]}"
