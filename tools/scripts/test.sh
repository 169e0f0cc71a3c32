#!/usr/bin/env bash
# README command (b), and what CI runs: install, build, and run every test —
#   1. the test suite (ctest) in the release build;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the clang build of the whole tree, then every libFuzzer target for a short time.
# The last line is the total: "summary: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_JOBS=${FUZZ_JOBS:-2}  # targets fuzzed at once (one per core)
passed=0
failed=0

step() { printf '\n==== %s\n' "$*"; }
count() {  # count NAME RC
  if [[ $2 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
run_ctest() {  # run_ctest FLAVOUR: adds ctest's own totals
  local out rc total bad
  out=$(cd "build/$1" && ctest --output-on-failure --timeout 300 -j 2 2>&1); rc=$?
  echo "$out" | tail -n 80
  total=$(echo "$out" | sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' | tail -n 1)
  bad=$(echo "$out" | sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' | tail -n 1)
  if [[ -n $total && -n $bad ]]; then
    passed=$((passed + total - bad)); failed=$((failed + bad))
    if [[ $rc -ne 0 && $bad -eq 0 ]]; then count "ctest ($1)" $rc; fi
  else
    count "ctest ($1)" $rc
  fi
}

tools/scripts/install-deps.sh || { echo "summary: 0 passed, 1 failed"; exit 1; }

step "release build and tests"
if tools/scripts/build.sh release; then run_ctest release; else count "release build" 1; fi

step "ASan+UBSan build and tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if tools/scripts/build.sh asan; then run_ctest asan; else count "asan build" 1; fi

step "clang build and fuzzing (${FUZZ_SECONDS}s per target, ${FUZZ_JOBS} at a time)"
# fuzz_one TARGET RESULT_DIR: runs one target on a copy of its seed corpus; records its exit code.
fuzz_one() {
  local target=$1 results=$2 name work rc
  name=$(basename "$target")
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/" "$work" >"$work.log" 2>&1
  rc=$?
  { echo "-- $name"; tail -n 3 "$work.log"; if [[ $rc -ne 0 ]]; then tail -n 40 "$work.log"; fi; } \
    >"$results/$name.out"
  echo "$rc" >"$results/$name.rc"
  rm -rf "$work" "$work.log"
}
if tools/scripts/build.sh fuzz; then
  results=$(mktemp -d)
  for target in build/fuzz/fuzz/*_fuzz; do
    while (( $(jobs -rp | wc -l) >= FUZZ_JOBS )); do wait -n; done
    fuzz_one "$target" "$results" &
  done
  wait
  for rcfile in "$results"/*.rc; do
    name=$(basename "$rcfile" .rc)
    cat "$results/$name.out"
    count "fuzz $name" "$(cat "$rcfile")"
  done
  rm -rf "$results"
else
  count "fuzz build" 1
fi

echo
echo "summary: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
