#!/usr/bin/env bash
# Configures and builds one flavour of the tree into build/<flavour>.
#   release  optimised with debug info, mimalloc, benchmarks (the default)
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer, for the test suite
#   fuzz     clang with libFuzzer; also the clang -Werror build of everything
set -euo pipefail
cd "$(dirname "$0")/../.."
flavour=${1:-release}
jobs=$(nproc)
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DRM_SANITIZE=ON -DRM_BENCH=OFF) ;;
  fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRM_FUZZ=ON -DRM_BENCH=OFF
              -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan, fuzz)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "build/$flavour" -j "$jobs"
