#!/usr/bin/env bash
# SMTP intake benchmark: smtp-sink (stores nothing), Postfix (intake to its queue, fsync per
# message) and ringmaild (intake to its RocksDB queue, group commit), all driven in one run
# by the anchors' smtp-load (Postfix's smtp-source), with connections reused (-d).
#
#   bench/smtp/run.sh                       (as root; builds nothing)
#
# For every message size and session count, and each round, the three servers are measured
# in turn (so they see the same drift in machine load): smtp-sink keeps running; Postfix's
# queue is emptied (postsuper -d ALL) before each run; ringmaild is restarted on a fresh
# data directory before each run. Each server runs in a cgroup of its own (v2, or v1
# cpuacct) when /sys/fs/cgroup is writable, and smtp-load reads its CPU time from there
# (--cpu-cgroup); otherwise the utime+stime of the server's process tree is read from
# /proc (dead children count through their parent's cutime/cstime). After each run the
# queue is counted: every acknowledged message must be in it.
#
# Environment:
#   SMTP_LOAD       the harness (default: ../shared/anchors/smtp-load from the repo root)
#   BUILD_DIR       where ringmaild and ringmail are (default: build/release)
#   SIZES           message sizes in bytes (default "4096 102400")
#   SESSIONS        parallel sessions (default "1 50 500")
#   SERVERS         which servers, in this order (default "sink postfix ringmail")
#   ROUNDS          runs per (server, size, sessions); the table shows the median (default 1)
#   MESSAGES_SCALE  multiplies every default message count (default 1; e.g. 0.2 for a quick
#                   look, 3 for longer runs)
#   MESSAGES        one message count for every run instead of the per-server defaults
#   SHARDS          ringmaild runtime.shards (default 0: one per CPU)
#   WAIT_QUIET      before each run wait up to this many seconds for the machine to be
#                   quiet (< 0.15 CPU busy over 1 s); default 0: do not wait
#   KEEP_TMP=1      keep the temporary directory (server logs, configs, per-run output)
#
# Default messages per run (so that each run lasts a few seconds on a 2-core VM):
#                 4 KiB: 1 / 50 / 500 sessions     100 KiB: 1 / 50 / 500 sessions
#   smtp-sink     20000 / 60000 / 40000            5000 / 10000 / 10000
#   Postfix        1000 /  3000 /  3000             600 /  1500 /  1500
#   ringmail       5000 / 50000 / 50000            3000 /  8000 /  8000
#   (other sizes: scaled from the nearest of these by bytes)
#
# stdout: Markdown (machine, commands, the table, per-run details); progress on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
smtp_load=${SMTP_LOAD:-$root/../shared/anchors/smtp-load}
build=${BUILD_DIR:-$root/build/release}
sizes=${SIZES:-"4096 102400"}
sessions_list=${SESSIONS:-"1 50 500"}
servers=${SERVERS:-"sink postfix ringmail"}
rounds=${ROUNDS:-1}
scale=${MESSAGES_SCALE:-1}
fixed_messages=${MESSAGES:-}
shards=${SHARDS:-0}
wait_quiet=${WAIT_QUIET:-0}
keep_tmp=${KEEP_TMP:-0}

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "run as root (Postfix, smtp-sink -u postfix, cgroups)"
[[ -f $smtp_load ]] || die "smtp-load not found at $smtp_load (set SMTP_LOAD)"
for b in ringmaild ringmail; do
  [[ -x $build/tools/$b ]] || die "$build/tools/$b not found: build first (tools/scripts/build.sh release)"
done
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || die "ROUNDS must be >= 1"
[[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || die "MESSAGES_SCALE must be a positive number"
[[ -z $fixed_messages || $fixed_messages =~ ^[0-9]+$ ]] || die "MESSAGES must be a number"
[[ $wait_quiet =~ ^[0-9]+$ ]] || die "WAIT_QUIET must be a number of seconds"
for s in $servers; do
  [[ $s == sink || $s == postfix || $s == ringmail ]] || die "unknown server '$s' in SERVERS"
done
command -v smtp-sink >/dev/null || [[ -x /usr/sbin/smtp-sink ]] || die "smtp-sink missing (apt-get install postfix)"
export PATH=$PATH:/usr/sbin

tmp=$(mktemp -d /tmp/ringmail-bench-smtp.XXXXXX)
chmod 755 "$tmp"  # Postfix wants its instance's parent directories root-owned, not writable by others
# A copy of the binaries: a rebuild of the tree during the run must not change what is measured.
mkdir -p "$tmp/bin" "$tmp/runs"
cp "$build/tools/ringmaild" "$build/tools/ringmail" "$tmp/bin/"
ringmaild=$tmp/bin/ringmaild
ringmail=$tmp/bin/ringmail

# ---------------------------------------------------------------- cleanup
sink_pid=""
load_pid=""
rm_pid=""
rm_data=""
pf_dir=$tmp/postfix
pf_started=0
cg_base=""
declare -A cg=()

cleanup() {
  local rc=$?
  set +e
  if [[ -n $load_pid ]]; then  # smtp-load and its smtp-source
    pkill -TERM -P "$load_pid" 2>/dev/null
    kill -TERM "$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null
  fi
  stop_ringmail quiet
  if [[ -n $sink_pid ]]; then
    kill -TERM "$sink_pid" 2>/dev/null
    wait "$sink_pid" 2>/dev/null
    sink_pid=""
  fi
  if [[ $pf_started == 1 ]]; then
    "$here/setup-postfix.sh" clean "$pf_dir" >/dev/null 2>&1 ||
      note "WARNING: could not stop the Postfix instance in $pf_dir"
    pf_started=0
  fi
  local name d i
  for name in "${!cg[@]}"; do
    d=${cg[$name]}
    for ((i = 0; i < 50; i++)); do  # processes leave the cgroup as they exit
      [[ -s $d/cgroup.procs ]] || break
      sleep 0.1
    done
    rmdir "$d" 2>/dev/null || note "WARNING: could not remove cgroup $d (processes left: $(tr '\n' ' ' <"$d/cgroup.procs" 2>/dev/null))"
  done
  if [[ $keep_tmp == 1 ]]; then
    note "kept $tmp"
  else
    rm -rf -- "$tmp"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_greeting PORT SECONDS: until a connection to 127.0.0.1:PORT gets a 220.
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

# Seconds of CPU used by PID and all its descendants, dead children included.
tree_cpu() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
tck = os.sysconf("SC_CLK_TCK")
stats, children = {}, {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open("/proc/%s/stat" % d) as f:
            s = f.read()
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()
    pid, ppid = int(d), int(f[1])
    stats[pid] = sum(int(x) for x in f[11:15])  # utime stime cutime cstime
    children.setdefault(ppid, []).append(pid)
total, todo = 0, [root]
while todo:
    p = todo.pop()
    total += stats.get(p, 0)
    todo.extend(children.get(p, []))
print("%.3f" % (total / tck))
PY
}

host_busy() {  # CPU busy over 1 s, in cores
  python3 - <<'PY'
import time
def snap():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)
b0, t0 = snap(); time.sleep(1); b1, t1 = snap()
import os
print("%.2f" % ((b1 - b0) / max(1, t1 - t0) * os.cpu_count()))
PY
}

wait_for_quiet() {
  [[ $wait_quiet -gt 0 ]] || return 0
  local start=$SECONDS busy="?"
  while ((SECONDS - start < wait_quiet)); do
    busy=$(host_busy)
    python3 -c "import sys; sys.exit(0 if $busy < 0.15 else 1)" && return 0
  done
  note "machine still busy after ${wait_quiet}s (last: $busy CPUs); running anyway"
}

# ---------------------------------------------------------------- cgroups
setup_cgroups() {
  local b probe
  for b in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/cpuacct; do
    [[ -f $b/cgroup.controllers || -f $b/cpuacct.usage ]] || continue
    probe=$b/rm-bench-$$-probe
    if mkdir "$probe" 2>/dev/null; then
      if [[ -f $probe/cpu.stat || -f $probe/cpuacct.usage ]]; then
        rmdir "$probe"
        cg_base=$b
        break
      fi
      rmdir "$probe"
    fi
  done
  if [[ -z $cg_base ]]; then
    note "no writable cgroup hierarchy: server CPU from /proc/PID/stat instead"
    return 0
  fi
  local s
  for s in $servers; do
    cg[$s]=$cg_base/rm-bench-$$-$s
    mkdir "${cg[$s]}"
  done
  note "cgroups under $cg_base"
}

# CPU seconds used so far by the processes of SERVER's cgroup (v2 cpu.stat or v1 cpuacct).
cg_usage() {
  local d=${cg[$1]}
  if [[ -f $d/cpu.stat ]]; then
    awk '$1 == "usage_usec" {printf "%.6f\n", $2 / 1e6}' "$d/cpu.stat"
  else
    awk '{printf "%.6f\n", $1 / 1e9}' "$d/cpuacct.usage"
  fi
}

# in_cgroup SERVER CMD...: run CMD with its shell already in SERVER's cgroup, so that
# everything CMD starts (Postfix's master and its children) is in there too.
in_cgroup() {
  local s=$1
  shift
  if [[ -n ${cg[$s]:-} ]]; then
    bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "${cg[$s]}" "$@"
  else
    "$@"
  fi
}
# exec_in_cgroup SERVER CMD...: the same, replacing the calling (background) subshell, so
# that $! is CMD's own pid.
exec_in_cgroup() {
  local s=$1
  shift
  if [[ -n ${cg[$s]:-} ]]; then
    exec bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "${cg[$s]}" "$@"
  else
    exec "$@"
  fi
}

# ---------------------------------------------------------------- servers
sink_port=""
pf_port=""
rm_port=""

start_sink() {
  sink_port=$(free_port)
  exec_in_cgroup sink smtp-sink -u postfix -m 1000 "127.0.0.1:$sink_port" 1024 \
    >"$tmp/smtp-sink.log" 2>&1 &
  sink_pid=$!
  wait_greeting "$sink_port" 10 || die "smtp-sink does not greet on $sink_port: $(cat "$tmp/smtp-sink.log")"
}

start_postfix() {
  pf_port=$(free_port)
  pf_started=1
  in_cgroup postfix "$here/setup-postfix.sh" "$pf_dir" "$pf_port" 2>"$tmp/setup-postfix.log" ||
    die "setup-postfix.sh failed: $(cat "$tmp/setup-postfix.log")"
}

postfix_master_pid() {
  tr -d ' \n' <"$pf_dir/queue/pid/master.pid"
}

# Messages in the queue: distinct queue file names, since the queue manager may move a file
# from one directory to the next while find walks them (incoming -> active -> deferred).
postfix_queue_count() {
  find "$pf_dir/queue/incoming" "$pf_dir/queue/active" "$pf_dir/queue/deferred" \
    "$pf_dir/queue/hold" "$pf_dir/queue/maildrop" -type f -printf '%f\n' 2>/dev/null |
    sort -u | wc -l
}

reset_postfix() {
  postsuper -c "$pf_dir/etc" -d ALL >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(postfix_queue_count) -eq 0 ]] && break
    sleep 0.1
  done
  sleep 0.5  # let qmgr and the error/defer processes of the last run settle
}

rm_run=0
start_ringmail() {
  rm_run=$((rm_run + 1))
  rm_port=$(free_port)
  rm_data=$tmp/ringmail-data
  rm -rf -- "$rm_data"
  local conf=$tmp/ringmail.json
  cat >"$conf" <<EOF
{
  "server": { "hostname": "ringmail.bench.invalid" },
  "listeners": {
    "smtp": { "address": "127.0.0.1", "port": $rm_port },
    "submission": { "enabled": false }, "submissions": { "enabled": false },
    "imap": { "enabled": false }, "imaps": { "enabled": false },
    "pop3": { "enabled": false }, "pop3s": { "enabled": false }
  },
  "smtp": { "connections_per_ip_max": 100000 },
  "queue": { "deliver": false },
  "limits": { "connections_max": 100000 },
  "runtime": { "shards": $shards },
  "log": { "level": "warn", "file": "$tmp/ringmail-$rm_run.log" }
}
EOF
  "$ringmaild" --check-config "$conf" >/dev/null || die "ringmaild refuses $conf"
  exec_in_cgroup ringmail "$ringmaild" --data "$rm_data" --config "$conf" \
    >"$tmp/ringmail-$rm_run.out" 2>&1 &
  rm_pid=$!
  if ! wait_greeting "$rm_port" 30; then
    cat "$tmp/ringmail-$rm_run.out" "$tmp/ringmail-$rm_run.log" >&2 2>/dev/null
    die "ringmaild does not greet on $rm_port"
  fi
}

stop_ringmail() {
  [[ -n $rm_pid ]] || return 0
  kill -TERM "$rm_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$rm_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$rm_pid" 2>/dev/null; then
    note "WARNING: ringmaild did not stop within 20 s of SIGTERM; killing it"
    kill -KILL "$rm_pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$rm_pid" 2>/dev/null || rc=$?
  [[ $rc -eq 0 || ${1:-} == quiet ]] || note "WARNING: ringmaild exited with status $rc"
  rm_pid=""
}

ringmail_queue_count() {
  "$ringmail" --data "$rm_data" --json queue list 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])' 2>/dev/null || echo "?"
}

# ---------------------------------------------------------------- message counts
messages_for() {  # SERVER SIZE SESSIONS
  local server=$1 size=$2 sess=$3 n
  if [[ -n $fixed_messages ]]; then
    n=$fixed_messages
  else
    local col=1
    [[ $sess -ge 50 ]] && col=2
    [[ $sess -ge 500 ]] && col=3
    local small big
    case $server in
      sink) small=(20000 60000 40000) big=(5000 10000 10000) ;;
      postfix) small=(1000 3000 3000) big=(600 1500 1500) ;;
      ringmail) small=(5000 50000 50000) big=(3000 8000 8000) ;;
    esac
    n=$(python3 -c "
size, small, big, scale = $size, ${small[$((col - 1))]}, ${big[$((col - 1))]}, $scale
if size <= 4096: n = small * 4096 / max(size, 1024)
elif size >= 102400: n = big * 102400 / size
else: n = small + (big - small) * (size - 4096) / (102400 - 4096)
print(max(int(n * scale), 1))")
  fi
  ((n < sess)) && n=$sess
  echo "$n"
}

# ---------------------------------------------------------------- one measurement
declare -A res=()  # key "server size sessions round" -> smtp-load line (or FAIL ...)

measure() {  # SERVER SIZE SESSIONS ROUND
  local server=$1 size=$2 sess=$3 round=$4 port n out rc=0 cpu_args=() extra=""
  n=$(messages_for "$server" "$size" "$sess")
  case $server in
    sink) port=$sink_port ;;
    postfix) reset_postfix; port=$pf_port ;;
    ringmail) stop_ringmail; start_ringmail; port=$rm_port ;;
  esac
  [[ -n ${cg[$server]:-} ]] && cpu_args=(--cpu-cgroup "${cg[$server]}")
  local pid0=""
  if [[ -z ${cg[$server]:-} ]]; then
    case $server in
      sink) pid0=$sink_pid ;;
      postfix) pid0=$(postfix_master_pid) ;;
      ringmail) pid0=$rm_pid ;;
    esac
  fi
  wait_for_quiet
  local c0="" c1="" u0=""
  [[ -n $pid0 ]] && c0=$(tree_cpu "$pid0")
  [[ $server == ringmail && -n ${cg[ringmail]:-} ]] && u0=$(cg_usage ringmail)
  note "$server size=$size sessions=$sess messages=$n round=$round"
  local log=$tmp/runs/$server-$size-$sess-$round
  # In the background and waited for, so that a signal reaches the trap at once.
  python3 "$smtp_load" 127.0.0.1 "$port" -s "$sess" -m "$n" -l "$size" -d \
    -f sender@bench.test -t rcpt@bench.test --cpu "${cpu_args[@]}" >"$log.out" 2>"$log.err" &
  load_pid=$!
  wait "$load_pid" || rc=$?
  load_pid=""
  out=$(cat "$log.out")
  [[ -n $pid0 ]] && c1=$(tree_cpu "$pid0")
  if [[ $rc -ne 0 || $out != msgs_per_s=* ]]; then
    note "FAILED: $server size=$size sessions=$sess: $(tail -n 5 "$log.err" | tr '\n' ' ')"
    res["$server $size $sess $round"]="FAIL rc=$rc"
    [[ $server == ringmail ]] && ringmail_log_check >/dev/null
    return 0
  fi
  if [[ -n $c0 && -n $c1 ]]; then
    extra=" server_cpu_us_per_msg=$(python3 -c "print(round(($c1 - $c0) / $n * 1e6))")"
  fi
  # Every acknowledged message must be in the queue.
  local queued="-"
  case $server in
    postfix) queued=$(postfix_queue_count) ;;
    ringmail) queued=$(ringmail_queue_count) ;;
  esac
  if [[ $queued != "-" && $queued != "$n" ]]; then
    note "WARNING: $server acknowledged $n messages but has $queued queued"
  fi
  local errs=""
  if [[ $server == ringmail ]]; then
    errs=$(ringmail_log_check)
    # ringmaild's CPU from just before the load until it has exited: this adds the flush
    # of its last memtable (bodies not yet moved to blob files) that the shutdown does.
    stop_ringmail
    if [[ -n $u0 ]]; then
      extra+=" server_cpu_with_shutdown_us_per_msg=$(python3 -c "print(round(($(cg_usage ringmail) - $u0) / $n * 1e6))")"
    fi
  fi
  res["$server $size $sess $round"]="$out$extra queued=$queued${errs:+ log_lines=$errs}"
  note "  $out$extra queued=$queued"
}

# Warn-or-worse lines ringmaild logged in this run (it logs at warn).
ringmail_log_check() {
  local f=$tmp/ringmail-$rm_run.log n=0
  [[ -f $f ]] && n=$(wc -l <"$f")
  if [[ $n -gt 0 ]]; then
    note "WARNING: ringmaild logged $n lines at warn or worse, e.g.: $(head -n 3 "$f" | tr '\n' ' ')"
    echo "$n"
  fi
}

field() {  # LINE KEY
  local kv
  for kv in $1; do
    [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }
  done
  echo ""
}

# The median run of a (server, size, sessions): prints its line.
median_line() {
  local server=$1 size=$2 sess=$3 r lines=()
  for ((r = 1; r <= rounds; r++)); do
    lines+=("${res["$server $size $sess $r"]:-}")
  done
  printf '%s\n' "${lines[@]}" | python3 -c '
import sys
ok = [l for l in sys.stdin.read().splitlines() if l.startswith("msgs_per_s=")]
if not ok:
    print("FAIL")
else:
    ok.sort(key=lambda l: float(l.split()[0].split("=")[1]))
    med = ok[(len(ok) - 1) // 2]
    rates = [l.split()[0].split("=")[1] for l in ok]
    print(med + (" min=%s max=%s n=%d" % (rates[0], rates[-1], len(ok)) if len(ok) > 1 else ""))'
}

# ---------------------------------------------------------------- machine
fsync_us() {  # µs per 4 KiB write with O_DSYNC, in the temp dir's file system
  local f=$tmp/fsync-test out
  out=$(dd if=/dev/zero of="$f" bs=4k count=1000 oflag=dsync 2>&1 | tail -n 1)
  rm -f "$f"
  python3 -c "
import re; m = re.search(r'copied, ([0-9.,]+) s', '''$out''')
print(round(float(m.group(1).replace(',', '.')) / 1000 * 1e6) if m else '?')"
}

# ---------------------------------------------------------------- main
setup_cgroups
for s in $servers; do
  case $s in
    sink) start_sink ;;
    postfix) start_postfix ;;
  esac
done

fsync=$(fsync_us)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for size in $sizes; do
  for sess in $sessions_list; do
    for ((round = 1; round <= rounds; round++)); do
      for s in $servers; do
        measure "$s" "$size" "$sess" "$round"
      done
    done
  done
done
stop_ringmail

# ---------------------------------------------------------------- report
fmt_size() {
  local b=$1
  if ((b % 1024 == 0)); then echo "$((b / 1024)) KiB"; else echo "$b B"; fi
}
rate() { field "$1" msgs_per_s; }
ratio() {
  python3 -c "
a, b = '$1', '$2'
print('%.2f' % (float(a) / float(b)) if a and b and float(b) > 0 else '-')" 2>/dev/null || echo "-"
}
cell() { [[ -n $1 ]] && echo "$1" || echo "-"; }

fs=$(df -T "$tmp" | awk 'NR==2 {print $2}')
echo "## SMTP intake: smtp-sink vs Postfix vs ringmail"
echo
echo "- started $started; $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "- temp dir file system: $fs; fsync latency (dd 4 KiB oflag=dsync): ~${fsync} µs per write"
echo "- Postfix $(postconf -d -h mail_version 2>/dev/null); ringmaild $("$ringmaild" --version | awk '{print $2}') from $build (binary built $(date -u -r "$build/tools/ringmaild" +%Y-%m-%dT%H:%M:%SZ); tree at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), shards=$shards (0 = one per CPU), log level warn"
echo "- server CPU: $([[ -n $cg_base ]] && echo "cgroup ($cg_base)" || echo "/proc/PID/stat of the process tree")"
echo "- smtp-load -d -f sender@bench.test -t rcpt@bench.test --cpu; rounds=$rounds (median by msgs/s), MESSAGES_SCALE=$scale"
echo
echo "| size | sessions | smtp-sink msgs/s | Postfix msgs/s | ringmail msgs/s | ringmail/Postfix | ringmail/sink | CPU µs/msg Postfix | CPU µs/msg ringmail |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in $sizes; do
  for sess in $sessions_list; do
    sk=""; pf=""; rmv=""; pfc=""; rmc=""
    [[ " $servers " == *" sink "* ]] && sk=$(rate "$(median_line sink "$size" "$sess")")
    if [[ " $servers " == *" postfix "* ]]; then
      l=$(median_line postfix "$size" "$sess"); pf=$(rate "$l"); pfc=$(field "$l" server_cpu_us_per_msg)
    fi
    if [[ " $servers " == *" ringmail "* ]]; then
      l=$(median_line ringmail "$size" "$sess"); rmv=$(rate "$l"); rmc=$(field "$l" server_cpu_us_per_msg)
    fi
    echo "| $(fmt_size "$size") | $sess | $(cell "$sk") | $(cell "$pf") | $(cell "$rmv") | $(ratio "$rmv" "$pf") | $(ratio "$rmv" "$sk") | $(cell "$pfc") | $(cell "$rmc") |"
  done
done
echo
echo "Per run (median of the rounds; min–max when ROUNDS > 1). Server CPU is counted while"
echo "smtp-source runs; for ringmaild also until it has exited after the run (its shutdown"
echo "flushes the last memtable into blob files). other_cores: CPU used by everything except"
echo "smtp-source and the server under test during the run."
echo
echo "| server | size | sessions | messages | seconds | msgs/s | min–max | server CPU µs/msg | ringmaild CPU µs/msg incl. shutdown | smtp-source CPU µs/msg | other_cores | queued after | warn lines |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for size in $sizes; do
  for sess in $sessions_list; do
    for s in $servers; do
      l=$(median_line "$s" "$size" "$sess")
      if [[ $l == FAIL* ]]; then
        echo "| $s | $(fmt_size "$size") | $sess | $(messages_for "$s" "$size" "$sess") | - | FAILED | | | | | | | |"
        continue
      fi
      mm="-"
      [[ -n $(field "$l" min) ]] && mm="$(field "$l" min)–$(field "$l" max)"
      echo "| $s | $(fmt_size "$size") | $sess | $(field "$l" messages) | $(field "$l" seconds) | $(field "$l" msgs_per_s) | $mm | $(cell "$(field "$l" server_cpu_us_per_msg)") | $(cell "$(field "$l" server_cpu_with_shutdown_us_per_msg)") | $(cell "$(field "$l" client_cpu_us_per_msg)") | $(cell "$(field "$l" other_cores)") | $(cell "$(field "$l" queued)") | $(cell "$(field "$l" log_lines)") |"
    done
  done
done
