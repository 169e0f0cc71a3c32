#!/usr/bin/env bash
# A private Dovecot instance for the IMAP/POP3 benchmark: imap and pop3 on 127.0.0.1 ports of
# its own, no TLS, plaintext logins, passwd-file users (PLAIN scheme), Maildir storage, all
# under one directory. Tuned as /work/shared/anchors/README.md describes (login processes
# serve many clients, mail processes are reused and kept warm), with limits raised for
# thousands of idle connections (one imap process per connection).
#
#   bench/imap/setup-dovecot.sh [DIR [IMAP_PORT POP3_PORT]]   write the config, (re)start
#   bench/imap/setup-dovecot.sh stop [DIR]                    stop the instance
#   bench/imap/setup-dovecot.sh clean [DIR]                   stop it and remove DIR
#   bench/imap/setup-dovecot.sh status [DIR]                  exit 0 if it is running
#
# DIR defaults to /tmp/ringmail-bench-dovecot, the ports to 14143 and 14110. Under DIR:
#   DIR/dovecot.conf  the config (`dovecot -c DIR/dovecot.conf`)
#   DIR/run           base_dir (master.pid, the services' sockets)
#   DIR/state         state_dir
#   DIR/users         passwd-file: USER:{PLAIN}PASSWORD
#   DIR/mail/USER     each user's home; mail in DIR/mail/USER/Maildir
#   DIR/dovecot.log   the instance's log
# The system's instance (/etc/dovecot) is neither used nor started: if the package started
# it, it is stopped and disabled so that it holds neither ports 143/110 nor CPU.
#
# Environment:
#   USERS        user names to (re)write into DIR/users (default: keep the file as it is);
#                Dovecot re-reads the file when it changes, so users may be added while
#                it runs with `USERS=... setup-dovecot.sh adduser DIR`
#   PASSWORD     their password (default "pass")
#   CONNECTIONS  idle IMAP connections the instance must hold (default 2000): sizes the
#                process and client limits
#   MAIL_UID     owner of the mail (default "mail"; Dovecot refuses root)
#   MAIL_FSYNC   Dovecot's mail_fsync (default: not set, Dovecot's default "optimized", which
#                syncs every saved message); "never" only to fill mailboxes quickly
#
# Needs root. Installs dovecot-imapd and dovecot-pop3d (Debian 12: Dovecot 2.3.19) if needed.
set -euo pipefail

die() { echo "setup-dovecot.sh: $*" >&2; exit 1; }
note() { echo "setup-dovecot.sh: $*" >&2; }

mode=start
case "${1:-}" in
  stop|clean|status|adduser) mode=$1; shift ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
dir=${1:-/tmp/ringmail-bench-dovecot}
imap_port=${2:-14143}
pop3_port=${3:-14110}
password=${PASSWORD:-pass}
connections=${CONNECTIONS:-2000}
mail_user=${MAIL_UID:-mail}
mail_fsync=${MAIL_FSYNC:-}

[[ $(id -u) -eq 0 ]] || die "must run as root"
[[ $dir == /* ]] || dir=$(pwd)/$dir
[[ $dir != /etc/dovecot* && $dir != /run/dovecot* && $dir != /var/* ]] || die "refusing to use $dir"
for p in "$imap_port" "$pop3_port"; do
  [[ $p =~ ^[0-9]+$ && $p -ge 1 && $p -le 65535 ]] || die "bad port '$p'"
done
[[ $connections =~ ^[0-9]+$ ]] || die "bad CONNECTIONS"
[[ -z $mail_fsync || $mail_fsync =~ ^(optimized|always|never)$ ]] || die "bad MAIL_FSYNC"
[[ $password != *:* && $password != *$'\n'* ]] || die "PASSWORD must not contain ':' or newlines"

conf=$dir/dovecot.conf

running() {
  [[ -f $conf && -f $dir/run/master.pid ]] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null
}

stop_instance() {
  running || return 0
  local pid
  pid=$(cat "$dir/run/master.pid")
  dovecot -c "$conf" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do  # the master waits for its children before it exits
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "the Dovecot instance in $dir (master $pid) did not stop"
}

write_users() {
  [[ -n ${USERS:-} ]] || return 0
  local u tmpf=$dir/users.new
  : >"$tmpf"
  for u in $USERS; do
    [[ $u != *:* ]] || die "bad user name '$u'"
    printf '%s:{PLAIN}%s\n' "$u" "$password" >>"$tmpf"
  done
  chmod 640 "$tmpf"
  chown "root:$(id -gn dovecot)" "$tmpf"
  mv -f "$tmpf" "$dir/users"  # atomically: Dovecot may be reading it
}

case $mode in
  status)
    running
    exit
    ;;
  stop)
    stop_instance
    note "stopped $dir"
    exit 0
    ;;
  clean)
    stop_instance
    if [[ -d $dir ]]; then  # only remove what looks like ours
      [[ -f $dir/.ringmail-bench-dovecot ]] || die "$dir was not made by this script; not removing it"
      rm -rf -- "$dir"
    fi
    note "removed $dir"
    exit 0
    ;;
  adduser)
    [[ -f $dir/.ringmail-bench-dovecot ]] || die "no instance in $dir"
    write_users
    exit 0
    ;;
esac

# ---- start: install, keep the system instance off, write the config, start ----
if ! command -v dovecot >/dev/null || [[ ! -e /usr/lib/dovecot/imap || ! -e /usr/lib/dovecot/pop3 ]]; then
  note "installing dovecot-imapd dovecot-pop3d"
  DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd dovecot-pop3d >&2
fi
id "$mail_user" >/dev/null 2>&1 || die "no user '$mail_user' for the mail"
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || die "no dovecot/dovenull users after installing"

# The package's own instance (started by the package's postinst where services may start):
# stop it, and keep it from starting at boot.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
else
  update-rc.d dovecot disable >/dev/null 2>&1 || true
  if [[ -f /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
    note "stopping the system's Dovecot (/etc/dovecot)"
    invoke-rc.d dovecot stop >/dev/null 2>&1 || dovecot -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || true
  fi
fi
if [[ -f /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  note "WARNING: the system's Dovecot still runs (pid $(cat /run/dovecot/master.pid))"
fi

stop_instance  # idempotent: a running instance is restarted with the new config

mkdir -p "$dir/run" "$dir/state" "$dir/mail"
touch "$dir/.ringmail-bench-dovecot"
# The mail processes (as $mail_user) and the login processes (dovenull) reach sockets below
# $dir: it must be searchable by them.
chmod 755 "$dir"
chown "$mail_user:$(id -gn "$mail_user")" "$dir/mail"
chmod 700 "$dir/mail"
[[ -f $dir/users ]] || : >"$dir/users"
write_users
chown "root:$(id -gn dovecot)" "$dir/users"
chmod 640 "$dir/users"

procs=$((connections + 200))     # one imap process per connection, and the rest
clients=$((4 * connections + 2000))  # auth, anvil, stats: a connection from each process

cat >"$conf" <<EOF
# Written by bench/imap/setup-dovecot.sh: a benchmark instance, not a mail server.
instance_name = ringmail-bench-dovecot
base_dir = $dir/run
state_dir = $dir/state
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
syslog_facility = local7
auth_verbose = no
mail_location = maildir:$dir/mail/%u/Maildir
${mail_fsync:+mail_fsync = $mail_fsync}
first_valid_uid = $(id -u "$mail_user")
first_valid_gid = $(id -g "$mail_user")
mail_privileged_group =

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=$mail_user gid=$(id -gn "$mail_user") home=$dir/mail/%u
}

# Thousands of connections: one imap process each, and a connection from each process to
# the auxiliary services.
default_process_limit = $procs
default_client_limit = $clients
default_vsz_limit = 512M
protocol imap {
  mail_max_userip_connections = $procs
}
protocol pop3 {
  mail_max_userip_connections = $procs
}

# Tuning for performance (Dovecot's documentation; anchors README): login processes each
# serve many clients, mail processes are reused for 100 sessions and some are kept ready.
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
  process_limit = 16
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3_port
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
  process_limit = 16
}
service imap {
  service_count = 100
  process_min_avail = 4
  process_limit = $procs
}
service pop3 {
  service_count = 100
  process_min_avail = 4
}
EOF

# The master checks the config, opens the listeners and forks into the background.
# (Its output to a file: the daemon would keep a pipe open.)
dovecot -c "$conf" >"$dir/start.out" 2>&1 </dev/null || {
  cat "$dir/start.out" >&2; tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null; die "dovecot -c $conf failed"
}
[[ -s $dir/start.out ]] && note "dovecot: $(cat "$dir/start.out")"

# Wait until both listeners greet.
for ((i = 0; i < 100; i++)); do
  if python3 - "$imap_port" "$pop3_port" <<'PY' 2>/dev/null; then
import socket, sys
for port, greet in ((int(sys.argv[1]), b"* OK"), (int(sys.argv[2]), b"+OK")):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    ok = s.recv(512).startswith(greet)
    s.close()
    if not ok:
        sys.exit(1)
PY
    note "Dovecot $(dovecot --version | cut -d' ' -f1) in $dir: imap 127.0.0.1:$imap_port, pop3 127.0.0.1:$pop3_port, master $(cat "$dir/run/master.pid")"
    exit 0
  fi
  sleep 0.1
done
tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null
die "Dovecot started but does not greet on $imap_port/$pop3_port"
