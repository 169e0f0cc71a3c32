#!/usr/bin/env python3
"""Helpers of bench/imap/run.sh (Python 3 standard library only).

  measure.py run --pids PID[,PID...] --stdout FILE --stderr FILE -- CMD [ARG...]
      Runs CMD and prints one JSON object: its exit status, the wall time, and the CPU
      seconds used meanwhile by the server (each PID and all its descendants; children
      that exited count through their parent's cutime/cstime), by CMD and its children
      (the load generator), by the whole machine (/proc/stat), and by everything else
      (machine - server - client: other people's work), plus the load average.

  measure.py table --jsonl FILE [--servers A,B]
      Reads the run's JSON lines (one per measurement) and prints the Markdown table:
      for each figure the median over rounds for both servers and the ratio (> 1: ringmail
      is better), then the per-round values. Figures taken with more than one client
      ("harness": python, cpp) get a row per client, labelled with it.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu(roots):
    """CPU seconds of the given processes and all their descendants, dead ones included."""
    stats, children = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        pid, ppid = int(d), int(fields[1])
        stats[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, list(roots), set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += stats.get(p, 0)
        todo.extend(children.get(p, []))
    return total / TCK


def host_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TCK  # all but idle and iowait


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cmd_run(a):
    roots = [int(p) for p in a.pids.replace(",", " ").split()]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0, h0, l0, t0 = tree_cpu(roots), host_cpu(), loadavg(), time.perf_counter()
    with open(a.stdout, "wb") as out, open(a.stderr, "wb") as err:
        rc = subprocess.call(a.cmd, stdout=out, stderr=err)
    wall = time.perf_counter() - t0
    s1, h1, l1 = tree_cpu(roots), host_cpu(), loadavg()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    server, host = s1 - s0, h1 - h0
    print(json.dumps({"rc": rc, "wall_s": round(wall, 3), "server_cpu_s": round(server, 3),
                      "client_cpu_s": round(client, 3), "host_cpu_s": round(host, 3),
                      "other_cpu_s": round(max(0.0, host - server - client), 3),
                      "other_cores": round(max(0.0, host - server - client) / wall, 2) if wall else 0,
                      "load1_before": l0, "load1_after": l1}))
    return 0


# figure key -> (label, higher_is_better, format); higher_is_better None: no ratio (a cost of
# the load generator, not of the server)
FIGURES = [
    ("append_msgs_per_s", "APPEND, %(append_clients)s connections (msgs/s)", True, "%.0f"),
    ("append_cpu_us", "APPEND: server CPU per message (µs)", False, "%.0f"),
    ("pop3_msgs_per_s", "POP3 RETR, %(clients)s clients x %(pop3_messages)s msgs (msgs/s)", True, "%.0f"),
    ("pop3_cpu_us", "POP3: server CPU per message (µs)", False, "%.0f"),
    ("pop3_client_cpu_us", "POP3: client CPU per message (µs)", None, "%.0f"),
    ("imap_select_s", "IMAP SELECT, %(imap_messages)s msgs (s)", False, "%.4f"),
    ("imap_uid_fetch_s", "IMAP UID FETCH 1:* (FLAGS RFC822.SIZE) (s)", False, "%.4f"),
    ("imap_fetch_msgs_per_s", "IMAP FETCH 1:* (BODY.PEEK[]) (msgs/s)", True, "%.0f"),
    ("imap_cpu_us", "IMAP session: server CPU per message (µs)", False, "%.1f"),
    ("imap_client_cpu_us", "IMAP session: client CPU per message (µs)", None, "%.1f"),
    ("idle_rss_kib", "idle SELECTed IMAP connection, %(connections)s open: RSS (KiB)", False, "%.1f"),
    ("idle_pss_kib", "idle SELECTed IMAP connection, %(connections)s open: PSS (KiB)", False, "%.1f"),
]


def cmd_table(a):
    rows = [json.loads(line) for line in open(a.jsonl) if line.strip()]
    params = next((r for r in rows if r.get("kind") == "params"), {})
    servers = a.servers.split(",")
    vals = {}  # (figure, harness or None, server) -> [values by round]
    for r in rows:
        if r.get("kind") != "figure":
            continue
        vals.setdefault((r["figure"], r.get("harness"), r["server"]), []).append(r["value"])
    print("| figure | %s | ratio (>1: ringmail better) | rounds %s | rounds %s |" % (
        " | ".join(servers), servers[0], servers[1]))
    print("|---|%s---|---|---|" % ("---:|" * len(servers)))
    for key, label, higher, fmt in FIGURES:
        try:
            label = label % params
        except (KeyError, TypeError):
            pass
        for harness in (None, "python", "cpp"):
            if any((key, harness, s) in vals for s in servers):
                row(vals, servers, key, harness, label, higher, fmt)
    return 0


def row(vals, servers, key, harness, label, higher, fmt):
    meds = []
    for s in servers:
        v = [x for x in vals.get((key, harness, s), []) if x is not None]
        meds.append(statistics.median(v) if v else None)
    cells = [fmt % m if m is not None else "FAILED" for m in meds]
    ratio = ""
    d, r = meds[servers.index("dovecot")], meds[servers.index("ringmail")]
    if higher is not None and d is not None and r is not None and d > 0 and r > 0:
        ratio = "%.2f" % (r / d if higher else d / r)
    rounds = [" / ".join(fmt % x if x is not None else "FAIL" for x in vals.get((key, harness, s), []))
              for s in servers]
    if harness:
        label += " [%s client]" % harness
    print("| %s | %s | %s | %s |" % (label, " | ".join(cells), ratio, " | ".join(rounds)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--pids", required=True)
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", required=True)
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    t = sub.add_parser("table")
    t.add_argument("--jsonl", required=True)
    t.add_argument("--servers", default="dovecot,ringmail")
    a = ap.parse_args()
    if a.what == "run":
        if a.cmd and a.cmd[0] == "--":
            a.cmd = a.cmd[1:]
        if not a.cmd:
            ap.error("run: no command")
        return cmd_run(a)
    return cmd_table(a)


if __name__ == "__main__":
    sys.exit(main())
