#!/usr/bin/env bash
# README command (a): install what is needed, build, and run ringmaild in the foreground on
# its embedded defaults (data in ./var, 127.0.0.1 only). Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/scripts/install-deps.sh
tools/scripts/build.sh release
exec build/release/tools/ringmaild --data var "$@"
