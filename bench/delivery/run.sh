#!/usr/bin/env bash
# Delivery benchmarks, end to end, measured with the anchors' smtp-load (smtp-source, 50
# sessions, connections reused) until the server's queue is empty:
#   relay  smtp-source -> server -> smtp-sink, Postfix (relayhost) and ringmaild (transport
#          map) side by side in one run, for each message size
#   local  smtp-source -> ringmaild -> its own mailboxes (one local user)
#
#   bench/delivery/run.sh            (as root: Postfix and smtp-sink need it)
#
# Environment: BUILD_DIR (default build/release), SIZES (default "4096 65536 102400"),
# MESSAGES (default per size, so that each run lasts a few seconds: ringmail 30000 at 4 KiB,
# 8000 above; Postfix 6000 and 2500), SESSIONS (default 50), ROUNDS (default 3, median),
# SMTP_LOAD (default ../shared/anchors/smtp-load).
# stdout: a Markdown table; progress on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build/release}
smtp_load=${SMTP_LOAD:-$root/../shared/anchors/smtp-load}
sizes=${SIZES:-"4096 65536 102400"}
sessions=${SESSIONS:-50}
rounds=${ROUNDS:-3}
tmp=$(mktemp -d /tmp/ringmail-delivery-bench.XXXXXX)
pids=()

note() { echo "run.sh: $*" >&2; }
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "$here/../smtp/setup-postfix.sh" clean "$tmp/postfix" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root" >&2; exit 1; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() {  # PORT MESSAGES SIZE WAIT-UNTIL-COMMAND
  "$smtp_load" 127.0.0.1 "$1" -s "$sessions" -m "$2" -l "$3" -d -f sender@src.test \
    -t rcpt@bench.test --wait-until "$4" --timeout 600 | tail -1
}
rate() { sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p'; }
median() { python3 -c 'import statistics,sys; print(int(statistics.median(int(x) for x in sys.argv[1:])))' "$@"; }

sink_port=$(port)
chmod 755 "$tmp"
smtp-sink -u postfix -m 1000 "127.0.0.1:$sink_port" 1024 >/dev/null 2>&1 &
pids+=($!)

start_ringmail() {  # DATA-DIR PORT
  cat >"$tmp/ringmail.json" <<JSON
{
  "server": { "hostname": "ringmail.bench.invalid" },
  "listeners": {
    "smtp": { "address": "127.0.0.1", "port": $2 },
    "submission": { "enabled": false }, "submissions": { "enabled": false },
    "imap": { "enabled": false }, "imaps": { "enabled": false },
    "pop3": { "enabled": false }, "pop3s": { "enabled": false }
  },
  "smtp": { "connections_per_ip_max": 100000 },
  "relay": { "transport_map": ["bench.test=127.0.0.1:$sink_port"], "tls": "none",
             "dns_servers": "127.0.0.1:9" },
  "limits": { "connections_max": 100000 },
  "log": { "level": "warn", "file": "$1.log" }
}
JSON
  rm -rf "$1"
  "$build/tools/ringmaild" --data "$1" --config "$tmp/ringmail.json" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do "$build/tools/ringmail" --data "$1" status >/dev/null 2>&1 && return; sleep 0.1; done
  echo "run.sh: ringmaild did not start" >&2; exit 1
}
stop_ringmail() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
rm_empty() { echo "$build/tools/ringmail --data $1 --json queue list | grep -q '\"count\":0'"; }

echo "## Delivery, end to end (smtp-source, $sessions sessions, connections reused, until the queue is empty; median of $rounds)"
echo
echo "- $(date -u +%FT%TZ); $(nproc) CPUs; ringmaild from $build ($(git -C "$root" rev-parse --short HEAD))"
echo
echo "| test | size | Postfix msgs/s | ringmail msgs/s | ringmail/Postfix |"
echo "|---|---|---|---|---|"
for size in $sizes; do
  if ((size <= 4096)); then rm_n=${MESSAGES:-30000} pf_n=${MESSAGES:-6000}; else rm_n=${MESSAGES:-8000} pf_n=${MESSAGES:-2500}; fi
  pf_runs=() rm_runs=()
  for ((round = 1; round <= rounds; round++)); do  # the two servers alternate
    pf_port=$(port)
    RELAYHOST="127.0.0.1:$sink_port" MAILLOG=none "$here/../smtp/setup-postfix.sh" "$tmp/postfix" "$pf_port" >/dev/null
    note "postfix relay size=$size round=$round"
    pf_runs+=("$(load "$pf_port" "$pf_n" "$size" "postqueue -c $tmp/postfix/etc -p | grep -q 'Mail queue is empty'" | rate)")
    "$here/../smtp/setup-postfix.sh" stop "$tmp/postfix" >/dev/null
    rm_port=$(port)
    start_ringmail "$tmp/rm" "$rm_port"
    note "ringmail relay size=$size round=$round"
    rm_runs+=("$(load "$rm_port" "$rm_n" "$size" "$(rm_empty "$tmp/rm")" | rate)")
    stop_ringmail
  done
  note "postfix ${pf_runs[*]}; ringmail ${rm_runs[*]}"
  pf=$(median "${pf_runs[@]}")
  rm=$(median "${rm_runs[@]}")
  echo "| relay to smtp-sink | $((size / 1024)) KiB | $pf | $rm | $(python3 -c "print(f'{$rm/$pf:.2f}')") |"
done

rm_port=$(port)
start_ringmail "$tmp/local" "$rm_port"
"$build/tools/ringmail" --data "$tmp/local" domain add bench.test >/dev/null
echo pw | "$build/tools/ringmail" --data "$tmp/local" user add rcpt@bench.test >/dev/null
note "ringmail local delivery"
local_rate=$(load "$rm_port" 50000 4096 "$(rm_empty "$tmp/local")" | rate)
stop_ringmail
echo "| local mailboxes (intake included) | 4 KiB | - | $local_rate | - |"
