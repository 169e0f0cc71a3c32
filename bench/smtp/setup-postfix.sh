#!/usr/bin/env bash
# A separate Postfix instance for the SMTP intake benchmark: smtpd on 127.0.0.1:PORT,
# relaying for bench.test and keeping every message in its own queue (defer_transports =
# relay), as /work/shared/anchors/README.md describes for "Postfix, intake to its queue".
#
#   bench/smtp/setup-postfix.sh [DIR [PORT]]     write the instance's config, start it
#   bench/smtp/setup-postfix.sh stop [DIR]       stop it and delete its queued mail
#   bench/smtp/setup-postfix.sh clean [DIR]      stop it and remove DIR altogether
#   bench/smtp/setup-postfix.sh status [DIR]     exit 0 if it is running
#
# DIR defaults to /tmp/ringmail-bench-postfix, PORT to 12525. Everything lives under DIR:
#   DIR/etc    config_directory (main.cf, master.cf)
#   DIR/queue  queue_directory
#   DIR/data   data_directory
#   DIR/maillog  the instance's log (written by its own postlogd; empty with MAILLOG=none)
# The system's default instance (/etc/postfix) is neither changed nor started; its
# postfix-files is only read by `post-install create-missing` to make the queue tree.
# Idempotent: running it again rewrites the config and restarts the instance.
#
# Environment:
#   PROCESS_LIMIT  default_process_limit of the instance (default 1000: enough smtpd and
#                  cleanup processes for 500 parallel sessions; Postfix's own default is 100)
#   RELAYHOST      "127.0.0.1:PORT": relay everything there (end-to-end relay benchmarks)
#                  instead of keeping it queued
#   MAILLOG        "file" (default): log to DIR/maillog through postlogd, as a deployed
#                  Postfix logs every message; "none": no log at all (this machine has no
#                  syslog daemon, so Postfix's syslog() calls go nowhere)
#
# Needs root (Postfix instances are started by root and drop to the postfix user).
set -euo pipefail

die() { echo "setup-postfix.sh: $*" >&2; exit 1; }

mode=start
case "${1:-}" in
  stop|clean|status) mode=$1; shift ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
dir=${1:-/tmp/ringmail-bench-postfix}
port=${2:-12525}
process_limit=${PROCESS_LIMIT:-1000}
maillog=${MAILLOG:-file}
relayhost=${RELAYHOST:-}
if [[ -n $relayhost ]]; then
  relay_lines="relayhost = [${relayhost%:*}]:${relayhost##*:}"
else
  relay_lines="relayhost =
# Intake only: messages for the relay transport stay in the queue.
defer_transports = relay"
fi

[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ $dir == /* ]] || dir=$(pwd)/$dir
[[ $dir != /etc/postfix* ]] || die "refusing to touch the system's instance ($dir)"
[[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || die "bad port '$port'"
[[ $process_limit =~ ^[0-9]+$ && $process_limit -ge 1 ]] || die "bad PROCESS_LIMIT"
[[ $maillog == file || $maillog == none ]] || die "MAILLOG must be file or none"

conf=$dir/etc

running() {
  [[ -f $conf/main.cf ]] && postfix -c "$conf" status >/dev/null 2>&1
}

stop_instance() {
  if running; then
    postfix -c "$conf" stop >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 100; i++)); do  # wait for the master to be gone
      running || break
      sleep 0.1
    done
    running && die "the instance in $conf did not stop"
  fi
  if [[ -f $conf/main.cf && -d $dir/queue ]]; then
    postsuper -c "$conf" -d ALL >/dev/null 2>&1 || true
  fi
  return 0
}

case $mode in
  status)
    running
    exit
    ;;
  stop)
    stop_instance
    echo "setup-postfix.sh: stopped $conf, queue emptied" >&2
    exit 0
    ;;
  clean)
    stop_instance
    # Only remove what looks like ours.
    if [[ -d $dir ]]; then
      [[ -f $conf/main.cf && -f $dir/.ringmail-bench-postfix ]] ||
        die "$dir does not look like an instance made by this script; not removing it"
      rm -rf -- "$dir"
    fi
    echo "setup-postfix.sh: removed $dir" >&2
    exit 0
    ;;
esac

# ---- start: install, write the config, start ----
if ! command -v postfix >/dev/null || [[ ! -x /usr/sbin/smtp-source ]]; then
  echo "setup-postfix.sh: installing postfix" >&2
  # Debconf: "No configuration" keeps the system instance unconfigured and stopped.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix >&2
fi
id postfix >/dev/null 2>&1 || die "no 'postfix' user after installing postfix"
getent group postdrop >/dev/null || die "no 'postdrop' group after installing postfix"

stop_instance  # idempotent: a running instance is restarted with the new config

mkdir -p "$conf" "$dir/queue" "$dir/data"
touch "$dir/.ringmail-bench-postfix"
# Postfix insists on root-owned, not group/world-writable config and queue directories.
chown root:root "$dir" "$conf" "$dir/queue"
chmod 755 "$dir" "$conf" "$dir/queue"
chown postfix:postfix "$dir/data"
chmod 700 "$dir/data"

if [[ $maillog == file ]]; then
  log_lines="maillog_file_prefixes = $dir
maillog_file = $dir/maillog"
else
  log_lines="# no maillog_file: syslog only (absent on this machine)"
fi

cat >"$conf/main.cf" <<EOF
# Written by bench/smtp/setup-postfix.sh: a benchmark instance, not a mail server.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.invalid
mydomain = bench.invalid
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
relay_domains = bench.test
$relay_lines
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
readme_directory = no
smtpd_banner = \$myhostname ESMTP Postfix (bench)
default_process_limit = $process_limit
# Nothing may reach out: no DSN bounces to anyone, no delivery attempts.
notify_classes =
$log_lines
EOF

# Only what intake and the deferral need; no chroot (the queue tree would need a copy of
# /etc files), smtpd on the benchmark port only.
cat >"$conf/master.cf" <<EOF
# Written by bench/smtp/setup-postfix.sh.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# Postfix reports fatal errors of its commands only to syslog (absent here) unless stderr
# is a terminal: give it one through script(1) when a step fails, to show why.
explain() {
  command -v script >/dev/null && script -qc "postfix -c $conf $*" /dev/null | tail -n 5 >&2
}

# `postfix check` also creates the missing queue subdirectories (incoming, active, deferred,
# ..., public, private) with Postfix's owners and modes (post-install create-missing, from
# the package's postfix-files; only this instance's directories are created).
out=$(postfix -c "$conf" check 2>&1) || { echo "$out" >&2; explain check; die "postfix -c $conf check failed"; }
[[ -z $out ]] || echo "setup-postfix.sh: postfix check: $out" >&2
[[ -d $dir/queue/incoming && -d $dir/queue/public ]] || die "no queue directories under $dir/queue"

postfix -c "$conf" start >/dev/null 2>&1 || {
  [[ -f $dir/maillog ]] && tail -n 20 "$dir/maillog" >&2
  explain start
  die "postfix -c $conf start failed"
}

# Wait until smtpd answers on the port.
for ((i = 0; i < 100; i++)); do
  if python3 - "$port" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
ok = s.recv(512).startswith(b"220")
s.sendall(b"QUIT\r\n")
s.close()
sys.exit(0 if ok else 1)
PY
    echo "setup-postfix.sh: Postfix instance $conf running, smtpd on 127.0.0.1:$port" >&2
    exit 0
  fi
  sleep 0.1
done
die "Postfix started but 127.0.0.1:$port does not greet"
