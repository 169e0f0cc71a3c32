#!/usr/bin/env bash
# Memory per idle SMTP session: ringmaild vs Postfix's smtpd.
#
#   bench/smtp/idle-memory.sh [N]            (as root; N sessions, default 1000)
#
# For each server: start it fresh, measure RSS and PSS (/proc/PID/smaps_rollup), open N
# sessions that have each read the 220 greeting and sent EHLO (and read its reply), measure
# again with all of them idle, close them. Prints a Markdown table; the per-session figures
# are (open - before) / N.
#   ringmaild: the one process (all shards and lanes are threads of it); its config raises
#              limits.connections_max and smtp.connections_per_ip_max above N. Measured
#              twice: on the fresh server (this includes the first touch of pages of its
#              preallocated receive buffers, a one-time cost), then the marginal cost of N
#              more sessions while shards x 1024 + 500 others stay open.
#   Postfix:   one smtpd process per session; the figure is the sum over the smtpd
#              processes (--match smtpd), and the whole instance (master and every child)
#              is shown too. Instance from setup-postfix.sh, default_process_limit N + 50.
# Kernel memory for the sockets is not in RSS/PSS and is not counted for either server.
#
# Environment: BUILD_DIR (default build/release), SERVERS (default "ringmail postfix"),
# SOURCES (source addresses 127.0.0.1..K, default 4), SHARDS (ringmaild runtime.shards,
# default 0), KEEP_TMP=1 to keep the temporary directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-1000}
build=${BUILD_DIR:-$root/build/release}
servers=${SERVERS:-"ringmail postfix"}
sources=${SOURCES:-4}
shards=${SHARDS:-0}
keep_tmp=${KEEP_TMP:-0}

die() { echo "idle-memory.sh: $*" >&2; exit 1; }
note() { echo "idle-memory.sh: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "run as root"
[[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || die "N must be a positive number"
[[ -x $build/tools/ringmaild ]] || die "$build/tools/ringmaild not found: build first (tools/scripts/build.sh release)"
export PATH=$PATH:/usr/sbin

# Enough descriptors for N client sockets here (the Python client raises its own limit too).
ulimit -n $((2 * n + 8192)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/ringmail-bench-idle.XXXXXX)
chmod 755 "$tmp"
rm_pid=""
pf_started=0

cleanup() {
  local rc=$?
  set +e
  if [[ -n $rm_pid ]]; then
    kill -TERM "$rm_pid" 2>/dev/null
    wait "$rm_pid" 2>/dev/null
  fi
  [[ $pf_started == 1 ]] && "$here/setup-postfix.sh" clean "$tmp/postfix" >/dev/null 2>&1
  if [[ $keep_tmp == 1 ]]; then note "kept $tmp"; else rm -rf -- "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_greeting() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, deadline = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        ok = s.recv(512).startswith(b"220")
        s.sendall(b"QUIT\r\n")
        s.close()
        if ok:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
}

echo "## Idle SMTP sessions: memory per session"
echo
echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r)"
echo "- each session: connect from 127.0.0.1..$sources, read 220, EHLO, read 250; then idle"
echo
echo "| server | sessions | RSS before | RSS open | PSS before | PSS open | RSS KiB/session | PSS KiB/session | processes | RSS after close |"
echo "|---|---|---|---|---|---|---|---|---|---|"
status=0
for s in $servers; do
  case $s in
    ringmail)
      port=$(free_port)
      nshards=$shards
      [[ $nshards -eq 0 ]] && nshards=$(nproc)
      base=$((nshards * 1024 + 500))  # runtime.recv_buffer_count is 1024 by default
      cat >"$tmp/ringmail.json" <<EOF
{
  "listeners": {
    "smtp": { "address": "127.0.0.1", "port": $port },
    "submission": { "enabled": false }, "submissions": { "enabled": false },
    "imap": { "enabled": false }, "imaps": { "enabled": false },
    "pop3": { "enabled": false }, "pop3s": { "enabled": false }
  },
  "smtp": { "connections_per_ip_max": $((n + base + 100)) },
  "limits": { "connections_max": $((n + base + 100)) },
  "runtime": { "shards": $shards },
  "log": { "level": "warn", "file": "$tmp/ringmail.log" }
}
EOF
      "$build/tools/ringmaild" --data "$tmp/ringmail-data" --config "$tmp/ringmail.json" \
        >"$tmp/ringmail.out" 2>&1 &
      rm_pid=$!
      wait_greeting "$port" 30 || die "ringmaild does not greet: $(cat "$tmp/ringmail.out")"
      python3 "$here/idle_sessions.py" --port "$port" --pid "$rm_pid" --sessions "$n" \
        --sources "$sources" --view "ringmaild, fresh (shards=$nshards)" || status=1
      # Marginal cost: N more sessions on top of $base already open, by which time every
      # receive buffer (runtime.recv_buffer_count per shard) has been touched once.
      python3 "$here/idle_sessions.py" --port "$port" --pid "$rm_pid" --sessions "$n" \
        --base "$base" --sources "$sources" \
        --view "ringmaild, $base sessions already open" || status=1
      kill -TERM "$rm_pid"
      wait "$rm_pid" || note "WARNING: ringmaild exited with status $?"
      rm_pid=""
      [[ -s $tmp/ringmail.log ]] && note "ringmaild log: $(head -n 5 "$tmp/ringmail.log" | tr '\n' ' ')"
      ;;
    postfix)
      port=$(free_port)
      pf_started=1
      PROCESS_LIMIT=$((n + 50)) "$here/setup-postfix.sh" "$tmp/postfix" "$port" 2>"$tmp/setup-postfix.log" ||
        die "setup-postfix.sh failed: $(cat "$tmp/setup-postfix.log")"
      master=$(tr -d ' \n' <"$tmp/postfix/queue/pid/master.pid")
      # Two rows from the same sessions: the smtpd processes, and the whole instance
      # (master, qmgr, anvil, ... as well).
      python3 "$here/idle_sessions.py" --port "$port" --pid "$master" --sessions "$n" \
        --sources "$sources" --view "Postfix smtpd processes@smtpd" \
        --view "Postfix whole instance" || status=1
      "$here/setup-postfix.sh" clean "$tmp/postfix" >/dev/null 2>&1
      pf_started=0
      ;;
    *) die "unknown server '$s'" ;;
  esac
done
exit $status
