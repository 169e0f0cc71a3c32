#!/usr/bin/env bash
# IMAP and POP3 benchmark: ringmaild against Dovecot (tuned, see setup-dovecot.sh), both
# driven in the same run by the anchors' load generators (imap-load, imap-idle-mem; Python
# stdlib clients) and, for pop3 and imap, also by rm_mail_load (the same sessions in C++: one
# epoll thread, so the client's CPU no longer bounds the rate on a 2-core machine), the two
# servers alternating within each round (the order flips every round so that neither always
# runs first; so does the order of the two clients), median of ROUNDS:
#
#   append  imap-load populate: APPEND_CLIENTS connections each APPENDing APPEND_MESSAGES
#           messages (pipelined with LITERAL+) to an empty INBOX of its own -> msgs/s
#   pop3    imap-load pop3 / rm_mail_load pop3: CLIENTS clients at once, each USER/PASS,
#           LIST, RETR of every message of its own POP3_MESSAGES-message mailbox -> msgs/s
#   imap    imap-load imap / rm_mail_load imap: one client on an IMAP_MESSAGES-message INBOX:
#           SELECT time, UID FETCH 1:* (FLAGS RFC822.SIZE) time, FETCH 1:* (BODY.PEEK[]) msgs/s
#   idle    imap-idle-mem: CONNECTIONS idle, logged-in, SELECTed IMAP connections (cycling
#           over the CLIENTS users); server memory per connection (RSS and PSS of Dovecot's
#           whole process tree; of ringmaild's process). Both servers are restarted before
#           each idle round (Dovecot keeps its imap processes for reuse after a connection
#           closes, which would hide them from the next round's "before").
# and for each the server's CPU time per operation (utime+stime of the server's process tree
# from /proc, dead children included), since the Python clients may be what saturates, and
# for pop3 and imap the client's CPU time per message too. Rows of pop3 and imap are labelled
# with the client that measured them ("python": imap-load, "cpp": rm_mail_load).
# Logins are not timed (ringmaild hashes passwords with Argon2id, Dovecot here compares
# PLAIN passwords); the POP3 rate includes the 20 logins, as imap-load measures it.
#
#   bench/imap/run.sh > out.md                        (as root; builds nothing)
#   MESSAGES=200 CONNECTIONS=200 ROUNDS=1 bench/imap/run.sh     (a quick look)
#
# Environment:
#   RINGMAILD, RINGMAIL  the binaries (default build/release/tools/ringmaild and ringmail in
#                   the repo); copied at the start, so a rebuild during the run does not
#                   change what is measured; if missing, waited for up to BINARY_WAIT s (600)
#   ANCHORS         where imap-load and imap-idle-mem are (default ../shared/anchors from the
#                   repo root); IMAP_LOAD and IMAP_IDLE_MEM override each tool
#   MAIL_LOAD       the rm_mail_load binary (default build/bench/bench/rm_mail_load in the
#                   repo; copied at the start)
#   CLIENT          which clients drive pop3 and imap: python (imap-load), cpp (rm_mail_load)
#                   or both (default: both when MAIL_LOAD exists, else python)
#   ROUNDS          rounds, the table shows the median (default 3)
#   IDLE_ROUNDS     rounds of the idle measurement (default 1: memory per connection hardly
#                   varies, and ringmaild's 2,000 Argon2id logins take ~40-130 s each round)
#   TESTS           which measurements (default "append pop3 imap idle")
#   CLIENTS         POP3 clients, one user each (default 20)
#   MESSAGES        sets POP3_MESSAGES, IMAP_MESSAGES and APPEND_MESSAGES at once
#   POP3_MESSAGES   messages in each POP3 mailbox (default 1000)
#   IMAP_MESSAGES   messages in the IMAP mailbox (default 10000)
#   APPEND_CLIENTS  parallel APPEND connections (default 4)
#   APPEND_MESSAGES messages each APPEND connection adds per round (default 500)
#   SIZE            message size in bytes (default 4096)
#   CONNECTIONS     idle IMAP connections (default 2000)
#   SHARDS          ringmaild runtime.shards (default 0: one per CPU)
#   LOG_LEVEL       ringmaild log level (default info: both servers log each login)
#   JSON_OUT        JSON lines written here (default /tmp/ringmail-bench-imap-TIME.jsonl):
#                   the parameters, one line per figure, server and round (with the server
#                   and client CPU, the other load and the load average during it), and the
#                   populate rates
#   KEEP_TMP=1      keep the temporary directory (server logs, configs, per-run output);
#                   it is kept anyway when a measurement fails
#
# stdout: Markdown (machine, parameters, the table, details); progress on stderr. The exit
# status is 1 if any measurement failed (its client error and the server's log are shown).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
imap_load=${IMAP_LOAD:-$anchors/imap-load}
idle_mem=${IMAP_IDLE_MEM:-$anchors/imap-idle-mem}
mail_load_src=${MAIL_LOAD:-$root/build/bench/bench/rm_mail_load}
if [[ -n ${CLIENT:-} ]]; then
  client_choice=$CLIENT
elif [[ -x $mail_load_src ]]; then
  client_choice=both
else
  client_choice=python
fi
ringmaild_src=${RINGMAILD:-$root/build/release/tools/ringmaild}
ringmail_src=${RINGMAIL:-$root/build/release/tools/ringmail}
binary_wait=${BINARY_WAIT:-600}
rounds=${ROUNDS:-3}
idle_rounds=${IDLE_ROUNDS:-1}
tests=${TESTS:-"append pop3 imap idle"}
clients=${CLIENTS:-20}
pop3_messages=${POP3_MESSAGES:-${MESSAGES:-1000}}
imap_messages=${IMAP_MESSAGES:-${MESSAGES:-10000}}
append_clients=${APPEND_CLIENTS:-4}
append_messages=${APPEND_MESSAGES:-${MESSAGES:-500}}
size=${SIZE:-4096}
connections=${CONNECTIONS:-2000}
shards=${SHARDS:-0}
log_level=${LOG_LEVEL:-info}
json_out=${JSON_OUT:-/tmp/ringmail-bench-imap-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
keep_tmp=${KEEP_TMP:-0}
domain=bench.test
password=pass

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "run as root (Dovecot)"
for t in "$imap_load" "$idle_mem"; do
  [[ -f $t ]] || die "$t not found (set ANCHORS, IMAP_LOAD or IMAP_IDLE_MEM)"
done
for v in rounds idle_rounds clients pop3_messages imap_messages append_clients append_messages size connections shards binary_wait; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number (is '${!v}')"
done
((rounds >= 1 && clients >= 1 && connections >= 1 && append_clients >= 1)) || die "ROUNDS, CLIENTS, CONNECTIONS and APPEND_CLIENTS must be >= 1"
for t in $tests; do
  [[ $t == append || $t == pop3 || $t == imap || $t == idle ]] || die "unknown test '$t' in TESTS"
done
case $client_choice in
  python) harnesses="python" ;;
  cpp) harnesses="cpp" ;;
  both) harnesses="python cpp" ;;
  *) die "CLIENT must be python, cpp or both (is '$client_choice')" ;;
esac
[[ $harnesses == python ]] || [[ -x $mail_load_src ]] || die "$mail_load_src not found (build rm_mail_load, set MAIL_LOAD, or CLIENT=python)"

tmp=$(mktemp -d /tmp/ringmail-bench-imap.XXXXXX)
chmod 755 "$tmp"  # Dovecot's unprivileged processes reach their sockets below it
mkdir -p "$tmp/bin" "$tmp/runs"
dv_dir=$tmp/dovecot
rm_data=$tmp/ringmail-data
rm_pid=""
failed=0

cleanup() {
  local rc=$?
  set +e
  stop_ringmail quiet
  "$here/setup-dovecot.sh" clean "$dv_dir" >/dev/null 2>&1 || note "WARNING: could not stop the Dovecot instance in $dv_dir"
  if [[ $keep_tmp == 1 || $failed == 1 ]]; then
    note "kept $tmp (server logs: $rm_data/ringmaild.log, $dv_dir/dovecot.log; per-run output: $tmp/runs)"
  else
    rm -rf -- "$tmp"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- binaries
# A copy of each: the tree may be rebuilt during the run. Wait while it is briefly missing.
for b in "$ringmaild_src" "$ringmail_src"; do
  start=$SECONDS
  until [[ -x $b ]]; do
    ((SECONDS - start < binary_wait)) || die "$b not found (set RINGMAILD / RINGMAIL)"
    note "waiting for $b"
    sleep 10
  done
done
sleep 1  # a binary that just appeared may still be being linked
cp "$ringmaild_src" "$tmp/bin/ringmaild"
cp "$ringmail_src" "$tmp/bin/ringmail"
ringmaild=$tmp/bin/ringmaild
ringmail=$tmp/bin/ringmail
mail_load=""
if [[ $harnesses != python ]]; then
  cp "$mail_load_src" "$tmp/bin/rm_mail_load"
  mail_load=$tmp/bin/rm_mail_load
fi

# ---------------------------------------------------------------- helpers
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_greeting PORT PREFIX SECONDS
wait_greeting() {
  python3 - "$1" "$2" "$3" <<'PY'
import socket, sys, time
port, prefix, deadline = int(sys.argv[1]), sys.argv[2].encode(), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        ok = s.recv(512).startswith(prefix)
        s.close()
        if ok:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
PY
}

json_field() {  # JSON-TEXT KEY -> value (or empty)
  python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

emit() {  # JSON-TEXT: append one line to the results
  echo "$1" >>"$json_out"
}

pop_users=""
for ((i = 1; i <= clients; i++)); do pop_users+="user$i@$domain "; done
imap_user=big@$domain
append_users=""
for ((r = 1; r <= rounds; r++)); do
  for ((i = 1; i <= append_clients; i++)); do append_users+="a${r}u$i@$domain "; done
done
all_users="$pop_users$imap_user $append_users"

# ---------------------------------------------------------------- Dovecot
dv_imap=$(free_port)
dv_pop3=$(free_port)
start_dovecot() {  # [MAIL_FSYNC]
  MAIL_FSYNC=${1:-} USERS=$all_users PASSWORD=$password CONNECTIONS=$connections \
    "$here/setup-dovecot.sh" "$dv_dir" "$dv_imap" "$dv_pop3" 2>>"$tmp/setup-dovecot.log" ||
    die "setup-dovecot.sh failed: $(tail -n 20 "$tmp/setup-dovecot.log")"
}
dovecot_pid() { cat "$dv_dir/run/master.pid"; }

# ---------------------------------------------------------------- ringmaild
rm_imap=$(free_port)
rm_pop3=$(free_port)
rm_starts=0
start_ringmail() {
  rm_starts=$((rm_starts + 1))
  mkdir -p "$rm_data"
  cat >"$tmp/ringmail.json" <<EOF
{
  "server": { "hostname": "ringmail.bench.invalid" },
  "listeners": {
    "smtp": { "enabled": false },
    "submission": { "enabled": false }, "submissions": { "enabled": false },
    "imap": { "address": "127.0.0.1", "port": $rm_imap },
    "pop3": { "address": "127.0.0.1", "port": $rm_pop3 },
    "imaps": { "enabled": false }, "pop3s": { "enabled": false }
  },
  "access": { "plaintext_auth_allowed": true },
  "limits": { "connections_max": 100000 },
  "runtime": { "shards": $shards },
  "log": { "level": "$log_level", "file": "$rm_data/ringmaild.log" }
}
EOF
  "$ringmaild" --check-config "$tmp/ringmail.json" >/dev/null || die "ringmaild refuses $tmp/ringmail.json"
  "$ringmaild" --data "$rm_data" --config "$tmp/ringmail.json" >>"$tmp/ringmaild.out" 2>&1 &
  rm_pid=$!
  if ! wait_greeting "$rm_imap" "* OK" 60 || ! wait_greeting "$rm_pop3" "+OK" 10; then
    tail -n 20 "$tmp/ringmaild.out" "$rm_data/ringmaild.log" >&2 2>/dev/null
    die "ringmaild does not greet on $rm_imap / $rm_pop3"
  fi
}

stop_ringmail() {
  [[ -n $rm_pid ]] || return 0
  kill -TERM "$rm_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$rm_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$rm_pid" 2>/dev/null; then
    note "WARNING: ringmaild did not stop within 30 s of SIGTERM; killing it"
    failed=1
    kill -KILL "$rm_pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$rm_pid" 2>/dev/null || rc=$?
  if [[ $rc -ne 0 && ${1:-} != quiet ]]; then
    note "WARNING: ringmaild exited with status $rc"
    failed=1
  fi
  rm_pid=""
}

ringmail_alive() {
  [[ -n $rm_pid ]] && kill -0 "$rm_pid" 2>/dev/null
}

add_ringmail_users() {
  "$ringmail" --data "$rm_data" domain add "$domain" >/dev/null || die "ringmail domain add $domain failed"
  local u t0=$SECONDS
  for u in $all_users; do
    echo "$password" | "$ringmail" --data "$rm_data" user add "$u" >/dev/null || die "ringmail user add $u failed"
  done
  note "ringmail: $(echo $all_users | wc -w) users added in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- measuring
server_pid() { if [[ $1 == dovecot ]]; then dovecot_pid; else echo "$rm_pid"; fi; }
imap_port() { if [[ $1 == dovecot ]]; then echo "$dv_imap"; else echo "$rm_imap"; fi; }
pop3_port() { if [[ $1 == dovecot ]]; then echo "$dv_pop3"; else echo "$rm_pop3"; fi; }

# measured SERVER NAME CMD...: runs CMD under measure.py; sets $m (its JSON) and $out (the
# prefix of CMD's output files). Returns 1, after showing why, if CMD failed.
failures=()
measured() {
  local server=$1 name=$2
  shift 2
  out=$tmp/runs/$name-$server
  m=$(python3 "$here/measure.py" run --pids "$(server_pid "$server")" \
    --stdout "$out.out" --stderr "$out.err" -- "$@")
  local rc
  rc=$(json_field "$m" rc)
  if [[ $rc != 0 ]] || { [[ $server == ringmail ]] && ! ringmail_alive; }; then
    failed=1
    local why
    why="$(grep -v '^[[:space:]]*$' "$out.err" | tail -n 1) (stdout: $(tail -n 1 "$out.out"))"
    [[ $server == ringmail ]] && ! ringmail_alive && why+=" [ringmaild is no longer running]"
    failures+=("$server $name (exit $rc): $*: $why")
    note "FAILED: $server $name (exit $rc): $why"
    if [[ $server == ringmail ]]; then
      note "ringmaild log (last lines of $rm_data/ringmaild.log):"
      tail -n 20 "$rm_data/ringmaild.log" >&2 2>/dev/null || true
      ringmail_alive || die "ringmaild died; stopping (everything is kept in $tmp)"
    fi
    return 1
  fi
  note "$server $name: $(tail -n 1 "$out.out")"
  return 0
}

# figure SERVER ROUND FIGURE VALUE [EXTRA-JSON]: one JSON line
figure() {
  emit "$(python3 -c '
import json, sys
server, rnd, fig, value, m, extra = sys.argv[1:7]
d = {"kind": "figure", "server": server, "round": int(rnd), "figure": fig,
     "value": None if value in ("", "None") else float(value), "measure": json.loads(m)}
if extra:
    d.update(json.loads(extra))
print(json.dumps(d))' "$1" "$2" "$3" "$4" "$m" "${5:-}")"
}

per_op_us() {  # CPU-SECONDS COUNT -> µs per op
  python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) * 1e6 / max(1, float(sys.argv[2]))))' "$1" "$2"
}

tool_median() {  # JSON-FILE KEY: the median field of the tool's last JSON line
  python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["median"][sys.argv[2]])' "$1" "$2"
}

emit_populate() {  # SERVER WHAT (after measured)
  emit "$(python3 -c 'import json,sys; print(json.dumps({"kind": "populate", "server": sys.argv[1],
    "what": sys.argv[2], "line": sys.argv[3], "measure": json.loads(sys.argv[4])}))' \
    "$1" "$2" "$(tail -n 1 "$out.out")" "$m")"
}

populate() {  # SERVER: fill the POP3 and IMAP mailboxes (not a figure; the rates are kept)
  local s=$1
  if measured "$s" populate-pop3 "$imap_load" populate --port "$(imap_port "$s")" \
    --user "user%d@$domain" --first 1 --count "$clients" --messages "$pop3_messages" \
    --size "$size" --populate-parallel "$clients" --pass "$password"; then
    emit_populate "$s" pop3
  fi
  if measured "$s" populate-imap "$imap_load" populate --port "$(imap_port "$s")" \
    --user "$imap_user" --messages "$imap_messages" --size "$size" --pass "$password"; then
    emit_populate "$s" imap
  fi
}

run_append() {  # SERVER ROUND
  local s=$1 r=$2 rate
  measured "$s" "append-r$r" "$imap_load" populate --port "$(imap_port "$s")" \
    --user "a${r}u%d@$domain" --first 1 --count "$append_clients" --messages "$append_messages" \
    --size "$size" --populate-parallel "$append_clients" --pass "$password" || return 0
  rate=$(sed -n 's/.* = \([0-9.]*\) APPEND\/s.*/\1/p' "$out.out" | tail -n 1)
  [[ -n $rate ]] || { failures+=("$s append round $r: no rate in: $(cat "$out.out")"); failed=1; return 0; }
  figure "$s" "$r" append_msgs_per_s "$rate"
  figure "$s" "$r" append_cpu_us "$(per_op_us "$(json_field "$m" server_cpu_s)" $((append_clients * append_messages)))"
}

load_tool() {  # HARNESS -> the program that drives pop3 and imap for it
  if [[ $1 == cpp ]]; then echo "$mail_load"; else echo "$imap_load"; fi
}

harness_order() {  # ROUND -> the clients in this round's order
  if (($1 % 2)) || [[ $harnesses != "python cpp" ]]; then echo "$harnesses"; else echo "cpp python"; fi
}

run_pop3() {  # SERVER ROUND HARNESS
  local s=$1 r=$2 h=$3
  local j=$tmp/runs/pop3-$h-r$r-$s.json
  measured "$s" "pop3-$h-r$r" "$(load_tool "$h")" pop3 --port "$(pop3_port "$s")" \
    --user "user%d@$domain" --clients "$clients" --messages "$pop3_messages" --size "$size" \
    --pass "$password" --timeout 600 --json "$j" || return 0
  local n hj="{\"harness\": \"$h\"}"
  n=$(tool_median "$j" messages)
  figure "$s" "$r" pop3_msgs_per_s "$(tool_median "$j" msgs_per_s)" "$hj"
  figure "$s" "$r" pop3_cpu_us "$(per_op_us "$(json_field "$m" server_cpu_s)" "$n")" "$hj"
  figure "$s" "$r" pop3_client_cpu_us "$(per_op_us "$(json_field "$m" client_cpu_s)" "$n")" "$hj"
}

run_imap() {  # SERVER ROUND HARNESS
  local s=$1 r=$2 h=$3
  local j=$tmp/runs/imap-$h-r$r-$s.json
  measured "$s" "imap-$h-r$r" "$(load_tool "$h")" imap --port "$(imap_port "$s")" \
    --user "$imap_user" --messages "$imap_messages" --size "$size" --pass "$password" \
    --timeout 600 --json "$j" || return 0
  local n hj="{\"harness\": \"$h\"}"
  n=$(tool_median "$j" messages)
  figure "$s" "$r" imap_select_s "$(tool_median "$j" select_s)" "$hj"
  figure "$s" "$r" imap_uid_fetch_s "$(tool_median "$j" uid_fetch_flags_size_s)" "$hj"
  figure "$s" "$r" imap_fetch_msgs_per_s "$(tool_median "$j" bodies_msgs_per_s)" "$hj"
  figure "$s" "$r" imap_cpu_us "$(per_op_us "$(json_field "$m" server_cpu_s)" "$n")" "$hj"
  figure "$s" "$r" imap_client_cpu_us "$(per_op_us "$(json_field "$m" client_cpu_s)" "$n")" "$hj"
  emit "{\"kind\": \"info\", \"server\": \"$s\", \"harness\": \"$h\", \"round\": $r, \"what\": \"imap_login_s\", \"value\": $(tool_median "$j" login_s)}"
}

run_idle() {
  local s=$1 r=$2 pid_args=()
  if [[ $s == dovecot ]]; then
    start_dovecot  # restarts it: no imap processes left over from earlier connections
    pid_args=(--pidfile "$dv_dir/run/master.pid" --children)
  else
    stop_ringmail
    start_ringmail
    pid_args=(--pids "$rm_pid")
  fi
  measured "$s" "idle-r$r" "$idle_mem" --port "$(imap_port "$s")" --user "user%d@$domain" \
    --users "$clients" --pass "$password" --connections "$connections" --select \
    "${pid_args[@]}" --open-timeout 900 --json "$tmp/runs/idle-r$r-$s.json" || return 0
  local j=$tmp/runs/idle-r$r-$s.json
  figure "$s" "$r" idle_rss_kib "$(tool_median "$j" rss_per_conn_kib)"
  figure "$s" "$r" idle_pss_kib "$(tool_median "$j" pss_per_conn_kib)"
  # Not a figure: what a LOGIN + SELECT cost the server (Argon2id against PLAIN).
  emit "{\"kind\": \"info\", \"server\": \"$s\", \"round\": $r, \"what\": \"idle_open_s\", \"value\": $(tool_median "$j" open_s), \"server_cpu_ms_per_login_select\": $(python3 -c "print(round($(json_field "$m" server_cpu_s) * 1000 / $connections, 3))")}"
}

# ---------------------------------------------------------------- run
: >"$json_out"
started=$(date -u +%FT%TZ)
emit "$(python3 -c '
import json, sys
k = ["rounds", "clients", "pop3_messages", "imap_messages", "append_clients", "append_messages",
     "size", "connections", "shards", "tests", "harnesses", "started"]
print(json.dumps(dict(kind="params", **dict(zip(k, sys.argv[1:])))))' \
  "$rounds" "$clients" "$pop3_messages" "$imap_messages" "$append_clients" "$append_messages" \
  "$size" "$connections" "$shards" "$tests" "$harnesses" "$started")"
note "results as JSON lines in $json_out"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
start_dovecot never
note "Dovecot: imap $dv_imap, pop3 $dv_pop3 (master $(dovecot_pid))"
start_ringmail
note "ringmaild: imap $rm_imap, pop3 $rm_pop3 (pid $rm_pid)"
add_ringmail_users

# Dovecot syncs each saved message (mail_fsync = optimized): filling 30,000 messages through
# one connection per mailbox would take minutes on a slow disk. The mailboxes are filled with
# mail_fsync = never (it was started so above), then Dovecot is restarted with its default
# for everything measured.
for s in dovecot ringmail; do
  note "populating $s: $clients x $pop3_messages and 1 x $imap_messages messages of $size B"
  populate "$s"
done
start_dovecot

order() {  # ROUND -> the servers in this round's order
  if (($1 % 2)); then echo "dovecot ringmail"; else echo "ringmail dovecot"; fi
}
for t in $tests; do
  [[ $t == pop3 || $t == imap || $t == idle ]] && [[ ${#failures[@]} -gt 0 ]] &&
    [[ " ${failures[*]}" == *populate* ]] && { note "skipping $t: populating failed"; continue; }
  n=$rounds
  [[ $t == idle ]] && n=$idle_rounds
  for ((r = 1; r <= n; r++)); do
    for s in $(order "$r"); do
      if [[ $t == pop3 || $t == imap ]]; then
        for h in $(harness_order "$r"); do
          note "$t round $r: $s ($h client)"
          "run_$t" "$s" "$r" "$h"
        done
      else
        note "$t round $r: $s"
        "run_$t" "$s" "$r"
      fi
    done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
ended=$(date -u +%FT%TZ)
# A synced 4 KiB write in the temp dir's file system (what each Dovecot APPEND waits for).
fsync_us=$(dd if=/dev/zero of="$tmp/dd.test" bs=4k count=200 oflag=dsync 2>&1 |
  sed -n 's/.* copied, \([0-9.]*\) s.*/\1/p' | python3 -c 'import sys; print("%.0f" % (float(sys.stdin.read()) * 1e6 / 200))' 2>/dev/null || echo "?")
rm -f "$tmp/dd.test"

# ---------------------------------------------------------------- report
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
echo "## IMAP and POP3: ringmaild against Dovecot ($started – $ended)"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs; $(uname -sr)"
echo "- load average (1, 5, 15 min): $load_start at the start, $load_end at the end;"
echo "  a synced 4 KiB write (dd oflag=dsync) in $(dirname "$tmp"): ${fsync_us} µs at the end"
echo "- Dovecot $(dovecot --version), tuned (setup-dovecot.sh): login services service_count = 0,"
echo "  process_min_avail = 2, client_limit = 1000; imap/pop3 service_count = 100, process_min_avail = 4;"
echo "  PLAIN passwords in a passwd-file; Maildir; default mail_fsync (optimized)"
echo "- ringmaild: $ringmaild_src (copied at the start; $(stat -c %y "$ringmaild_src" | cut -d. -f1)),"
echo "  repo at $commit; shards $shards (0: one per CPU); Argon2id passwords; log level $log_level"
echo "- $size-byte messages; $rounds round(s) ($idle_rounds for idle), servers alternating (order flipped each round);"
echo "  APPEND: $append_clients connections x $append_messages messages; POP3: $clients clients x $pop3_messages"
echo "  messages; IMAP: 1 client, $imap_messages messages; idle: $connections connections over $clients users"
echo "- clients for pop3 and imap: $harnesses (python: imap-load, poplib/imaplib, one process per"
echo "  client; cpp: rm_mail_load, $mail_load_src, one epoll thread for all clients)"
echo "- JSON lines: $json_out"
echo
python3 "$here/measure.py" table --jsonl "$json_out"
echo
echo "Populating (not a figure; one connection per mailbox; Dovecot with mail_fsync = never):"
echo
python3 - "$json_out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("kind") == "populate":
        print("- %s %s: %s (server CPU %.1f s)" % (d["server"], d["what"], d["line"], d["measure"]["server_cpu_s"]))
PY
echo
echo "Other load during each measurement (CPU cores used by other processes; load average at its end):"
echo
python3 - "$json_out" <<'PY'
import json, sys
seen = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("kind") != "figure":
        continue
    key = (d["figure"].split("_")[0], d["server"], d["round"]) + ((d["harness"],) if "harness" in d else ())
    if key in seen:
        continue
    seen[key] = "%s: %.2f cores, load %.1f" % ("/".join(map(str, key)), d["measure"]["other_cores"],
                                              d["measure"]["load1_after"])
print("; ".join(seen.values()) + ".")
info = [json.loads(l) for l in open(sys.argv[1])]
logins = ["%s r%d %.1f s, %.2f ms CPU" % (d["server"], d["round"], d["value"], d["server_cpu_ms_per_login_select"])
          for d in info if d.get("what") == "idle_open_s"]
if logins:
    print("\nOpening the idle connections (LOGIN + SELECT each; not timed as a figure): " + "; ".join(logins) + ".")
PY
if [[ ${#failures[@]} -gt 0 ]]; then
  echo
  echo "**Failures:**"
  echo
  for f in "${failures[@]}"; do echo "- $f"; done
  exit 1
fi
exit 0
