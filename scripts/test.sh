#!/usr/bin/env bash
# The README's test command: set up a fresh machine, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/run-tests.mjs "$@"
