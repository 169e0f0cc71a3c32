#!/usr/bin/env bash
# Runtime benchmark: the line-echo service on ringmail vs the same protocol on a plain epoll
# loop, driven by rm_echo_load at 1, 64 and 1000 connections (one request in flight each).
#
#   bench/runtime/run.sh [BUILD_DIR]        (default ./build; this script builds nothing)
#
# Environment:
#   SECONDS_PER_RUN  length of each measured run (default 5)
#   SHARDS           server threads, the same for both servers (default 1: on a 2-core
#                    machine the other core is the load generator's)
#   ROUNDS           measurements per (server, connections); the table shows the median
#                    (default 1)
#   CONNECTIONS      connection counts to run (default "1 64 1000")
#   LOAD_THREADS     rm_echo_load threads (default 1)
#   SIZE             bytes per line, LF included (default 32)
#   SERVER_CPUS, LOAD_CPUS  taskset CPU lists; by default the servers get CPUs 0..SHARDS-1
#                    and the load the rest (no pinning when SHARDS covers every CPU)
#   WAIT_QUIET       before each run, wait up to this many seconds for the machine to be
#                    idle (< 5% of a CPU busy over 1 s); default 0: do not wait
#   NOISY_RETRIES    repeat a run (up to this many times) when other processes used more
#                    than 5% of a CPU during it; default 0
#
# For every connection count and round, each server in turn is started on a free 127.0.0.1
# port (it binds port 0 and prints the port it got), measured, and stopped with SIGTERM
# (which also checks that it shuts down); a trap stops it if the script is interrupted.
# Alternating the servers this way exposes both to the same drift in machine load.
# Prints the machine, a Markdown table of requests/s, the server CPU time per request, and
# how busy the rest of the machine was: other processes' CPU time makes numbers meaningless,
# so runs are flagged when it exceeds 5% of a CPU.
set -euo pipefail

build=${1:-./build}
seconds=${SECONDS_PER_RUN:-5}
shards=${SHARDS:-1}
rounds=${ROUNDS:-1}
wait_quiet=${WAIT_QUIET:-0}
noisy_retries=${NOISY_RETRIES:-0}
conn_list=${CONNECTIONS:-"1 64 1000"}
load_threads=${LOAD_THREADS:-1}
size=${SIZE:-32}
bin=$build/bench
servers=(ringmail epoll)

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

for b in rm_echo_ringmail rm_echo_epoll rm_echo_load; do
  [[ -x $bin/$b ]] || die "$bin/$b not found: build first (ninja -C $build rm_echo_ringmail rm_echo_epoll rm_echo_load)"
done
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 1 && $seconds -le 600 ]] || die "SECONDS_PER_RUN must be 1..600"
[[ $shards =~ ^[0-9]+$ && $shards -ge 1 ]] || die "SHARDS must be a positive number"
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 20 ]] || die "ROUNDS must be 1..20"
[[ $wait_quiet =~ ^[0-9]+$ ]] || die "WAIT_QUIET must be a number of seconds"
[[ $noisy_retries =~ ^[0-9]+$ ]] || die "NOISY_RETRIES must be a number"
command -v taskset >/dev/null || die "taskset (util-linux) is needed"

# CPU placement: servers and load apart, so they do not steal each other's time slices.
ncpu=$(nproc)
if [[ -z ${SERVER_CPUS:-} && $shards -lt $ncpu ]]; then
  SERVER_CPUS="0-$((shards - 1))"
  LOAD_CPUS=${LOAD_CPUS:-"$shards-$((ncpu - 1))"}
fi
SERVER_CPUS=${SERVER_CPUS:-"0-$((ncpu - 1))"}
LOAD_CPUS=${LOAD_CPUS:-"0-$((ncpu - 1))"}

tmp=$(mktemp -d)
server_pid=""
server_name=""
port=""
clk_tck=$(getconf CLK_TCK)

stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do  # 10 s: the servers drain for at most 1 s
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    note "WARNING: $server_name did not stop within 10 s of SIGTERM; killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || note "WARNING: $server_name exited with status $?"
  server_pid=""
}
# shellcheck disable=SC2317  # called from the trap
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM  # the EXIT trap then stops the server

# Starts rm_echo_$1 on a kernel-chosen loopback port and waits (5 s at most) until it listens.
start_server() {
  server_name=$1
  : >"$tmp/$1.out"  # exists before the server opens it, so polling it cannot fail
  taskset -c "$SERVER_CPUS" "$bin/rm_echo_$1" 0 --shards "$shards" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  server_pid=$!
  local i
  for ((i = 0; i < 50; i++)); do
    port=$(sed -n 's/^listening port=\([0-9]*\).*/\1/p' "$tmp/$1.out")
    [[ -n $port ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/$1.err" >&2; die "$1 failed to start"; }
    sleep 0.1
  done
  die "$1 did not report its port within 5 s"
}

# CPU time in clock ticks: of the server (utime+stime, /proc/PID/stat fields 14-15; our
# command names have no spaces), of this shell's finished children (cutime+cstime, 16-17:
# the load generator once waited for), and of the whole machine (user+nice+system).
server_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
children_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4; exit}' /proc/stat; }

# Waits (at most $wait_quiet s) until the machine is idle apart from the idle server: a
# parallel build or test run would otherwise take CPU from the server or the load.
await_quiet() {
  local deadline=$((SECONDS + wait_quiet)) m0 m1
  while ((SECONDS < deadline)); do
    m0=$(machine_ticks)
    sleep 1
    m1=$(machine_ticks)
    (((m1 - m0) * 100 < 5 * clk_tck)) && return 0
  done
  ((wait_quiet == 0)) || note "the machine did not become quiet within $wait_quiet s; measuring anyway"
}

declare -A rps errs cpu_us foreign  # rps and cpu_us are read through median_of's nameref
# Runs the load against the current server with $1 connections, round $2; records req/s,
# errors, server CPU µs per completed request, and other processes' CPU (% of one CPU).
measure() {
  local c=$1 r=$2 s0 l0 m0 t0 s1 l1 m1 t1 out rate e
  s0=$(server_ticks) l0=$(children_ticks) m0=$(machine_ticks) t0=$(date +%s%N)
  out=$(taskset -c "$LOAD_CPUS" "$bin/rm_echo_load" --host 127.0.0.1 --port "$port" \
        --connections "$c" --seconds "$seconds" --threads "$load_threads" --size "$size") || true
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$tmp/$server_name.err" >&2
    die "$server_name died during the run with $c connections"
  fi
  s1=$(server_ticks) l1=$(children_ticks) m1=$(machine_ticks) t1=$(date +%s%N)
  rate=$(sed -n 's/^requests_per_s=\([0-9]*\).*/\1/p' <<<"$out")
  e=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out")
  [[ -n $rate ]] || die "rm_echo_load printed no result against $server_name ($c connections)"
  # shellcheck disable=SC2034  # read through the nameref in median_of
  rps[$server_name,$c,$r]=$rate
  errs[$server_name,$c,$r]=$e
  # Approximate: the CPU window also covers connection set-up and tear-down.
  cpu_us[$server_name,$c,$r]=$(awk -v t=$((s1 - s0)) -v hz="$clk_tck" -v q="$rate" -v s="$seconds" \
    'BEGIN { if (q > 0) printf "%.2f", t / hz * 1e6 / (q * s); else print "n/a" }')
  foreign[$server_name,$c,$r]=$(awk -v t=$(((m1 - m0) - (s1 - s0) - (l1 - l0))) -v hz="$clk_tck" \
    -v ns=$((t1 - t0)) 'BEGIN { f = t / hz / (ns / 1e9) * 100; printf "%.0f", f < 0 ? 0 : f }')
  note "$server_name round $r: $out server_cpu_us_per_req=${cpu_us[$server_name,$c,$r]}" \
       "other_processes_cpu=${foreign[$server_name,$c,$r]}%"
}

# The median of the numbers on stdin (the lower middle one for an even count).
median() { sort -n | awk '{v[NR] = $1} END { print v[int((NR + 1) / 2)] }'; }
# The median over rounds of array $1 at server $2, connections $3.
median_of() {
  local -n arr=$1
  local r
  for ((r = 1; r <= rounds; r++)); do echo "${arr[$2,$3,$r]}"; done | median
}

echo "## Machine"
echo
echo "- nproc: $ncpu"
echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "- kernel: $(uname -srm)"
echo "- shards: $shards (server CPUs $SERVER_CPUS, load CPUs $LOAD_CPUS), load threads: $load_threads," \
     "$size-byte lines, $seconds s per run, median of $rounds round(s)"
echo

for c in $conn_list; do
  for ((r = 1; r <= rounds; r++)); do
    for s in "${servers[@]}"; do
      start_server "$s"
      for ((attempt = 0; attempt <= noisy_retries; attempt++)); do
        await_quiet
        measure "$c" "$r"
        ((${foreign[$s,$c,$r]} > 5)) || break
      done
      stop_server
    done
  done
done

echo "## Line echo, ringmail vs epoll (requests/s, one request in flight per connection)"
echo
echo "| connections | ringmail req/s | epoll req/s | ratio |"
echo "|---:|---:|---:|---:|"
for c in $conn_list; do
  a=$(median_of rps ringmail "$c") b=$(median_of rps epoll "$c")
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  echo "| $c | $a | $b | $ratio |"
done
echo
echo "Server CPU time per request (µs, median; lower is better; includes connection set-up):"
echo
echo "| connections | ringmail | epoll |"
echo "|---:|---:|---:|"
for c in $conn_list; do
  echo "| $c | $(median_of cpu_us ringmail "$c") | $(median_of cpu_us epoll "$c") |"
done
bad=0
noisy=""
for key in $(printf '%s\n' "${!foreign[@]}" | sort); do
  ((${foreign[$key]} <= 5)) || noisy+=" ${key//,/\/}:${foreign[$key]}%"
done
if [[ -n $noisy ]]; then
  echo
  echo "WARNING: the machine was not quiet; other processes' CPU (server/connections/round:" \
       "% of one CPU):$noisy"
fi
for key in $(printf '%s\n' "${!errs[@]}" | sort); do
  if [[ ${errs[$key]} != 0 ]]; then
    echo "ERRORS: run ${key//,/\/} (server/connections/round): ${errs[$key]} failed connections" >&2
    bad=1
  fi
done
exit $bad
