#!/usr/bin/env python3
"""idle_sessions.py - memory per idle SMTP session of a server.

  idle_sessions.py --port PORT --pid PID [--sessions N] [--base B] [--sources K]
                   [--view LABEL[@COMM]]... [--settle S]

Measures the RSS and PSS (from /proc/PID/smaps_rollup) of PID and all its descendants,
opens N sessions to 127.0.0.1:PORT, each of which reads the 220 greeting, sends EHLO and
reads the whole 250 reply, then measures again with all of them open and idle, closes them
(QUIT) and measures a third time. Prints a Markdown table row per view:

  | label | sessions | RSS before | RSS open | PSS before | PSS open | RSS/session | PSS/session | processes | RSS after close |

Each --view prints a row: LABEL@COMM sums only the processes named COMM (e.g. smtpd), a
plain LABEL the whole process tree (default: one view, "server"). Sessions come from
--sources K addresses 127.0.0.1 .. 127.0.0.K in turn (per-IP limits).

With --base B, B sessions are opened first and kept open through all three measurements:
the rows then show the marginal cost of N more sessions on a server that already has B
(one-time costs such as the first touch of preallocated receive buffers are paid by then;
memory freed by earlier sessions is taken by the base sessions first, not reused by the
measured ones). RLIMIT_NOFILE is raised as far as needed. Loopback only. Python standard
library only.
"""
import argparse
import os
import resource
import socket
import sys
import time


def proc_tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def memory(root, match):
    """(rss_kib, pss_kib, processes) summed over root's tree (or its processes named match)."""
    rss = pss = n = 0
    for pid in proc_tree(root):
        if match and comm(pid) != match:
            continue
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                fields = {}
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and parts[0].endswith(":"):
                        fields[parts[0][:-1]] = parts[1]
        except OSError:
            continue
        rss += int(fields.get("Rss", 0))
        pss += int(fields.get("Pss", 0))
        n += 1
    return rss, pss, n


def read_reply(sock, buf):
    """Reads one complete SMTP reply (possibly multi-line); returns (code, rest_of_buffer)."""
    while True:
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if len(line) >= 4 and line[3:4] == b" ":
                return int(line[:3]), buf
            if len(line) < 4 or line[3:4] != b"-":
                raise OSError("bad reply line %r" % line[:80])
        data = sock.recv(4096)
        if not data:
            raise OSError("connection closed")
        buf += data


def open_session(port, source, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    code, buf = read_reply(s, b"")
    if code != 220:
        s.close()
        raise OSError("greeting %d" % code)
    s.sendall(b"EHLO idle.bench.test\r\n")
    code, buf = read_reply(s, buf)
    if code != 250:
        s.close()
        raise OSError("EHLO answered %d" % code)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="server (root) process")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--sources", type=int, default=4, help="source addresses 127.0.0.1..K")
    ap.add_argument("--view", action="append", default=[],
                    help="LABEL[@COMM]: a row summing the tree, or only processes named COMM")
    ap.add_argument("--base", type=int, default=0,
                    help="sessions opened first and kept open, not measured")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait before measuring")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-session greeting/EHLO timeout")
    a = ap.parse_args()

    need = a.base + a.sessions + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    views = [(v.rsplit("@", 1) + [""])[:2] if "@" in v else [v, ""] for v in (a.view or ["server"])]
    measure = lambda: [memory(a.pid, match) for _, match in views]
    errors = []

    def open_many(count, offset):
        out = []
        for i in range(count):
            source = "127.0.0.%d" % (1 + (offset + i) % max(1, a.sources))
            try:
                out.append(open_session(a.port, source, a.timeout))
            except OSError as e:
                errors.append(str(e))
                if len(errors) >= 20:
                    break
        return out

    base = open_many(a.base, 0)
    if errors:
        sys.exit("idle_sessions: opening the %d base sessions failed: %s" % (a.base, errors[0]))
    time.sleep(a.settle)
    before = measure()
    t0 = time.monotonic()
    socks = open_many(a.sessions, a.base)
    opened = time.monotonic() - t0
    time.sleep(a.settle)
    during = measure()
    # All still alive? A server that dropped idle sessions would make the figure meaningless.
    alive = 0
    for s in socks:
        try:
            s.setblocking(False)
            data = s.recv(1, socket.MSG_PEEK)
            if data:
                alive += 1  # unexpected output, but the connection is open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    for s in socks:
        try:
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
    for s in socks:
        s.close()
    time.sleep(a.settle)
    after = measure()

    n = len(socks)
    for s in base:
        s.close()
    sys.stderr.write("idle_sessions: port %d: %d base sessions, %d sessions open in %.1f s, "
                     "%d alive at measurement, %d errors%s\n" % (
                         a.port, len(base), n, opened, alive, len(errors),
                                        (": " + "; ".join(errors[:3])) if errors else ""))
    mib = lambda k: "%.1f MiB" % (k / 1024.0)
    for (label, _), b, d, f in zip(views, before, during, after):
        per = lambda i: "%.1f" % ((d[i] - b[i]) / n) if n else "-"
        print("| %s | %d | %s | %s | %s | %s | %s | %s | %d → %d | %s |" % (
            label, n, mib(b[0]), mib(d[0]), mib(b[1]), mib(d[1]), per(0), per(1), b[2], d[2],
            mib(f[0])))
    if errors or alive != n or n != a.sessions:
        sys.exit(1)


if __name__ == "__main__":
    main()
