"""IMAP sessions end to end: two clients on one mailbox see each other's changes, IDLE
announces mail delivered over SMTP (latency measured), pipelining, bad input, timeouts and
a server shutdown while a client idles, and failed logins slowed down then refused."""
import smtplib
import socket
import time
import unittest

from harness import Server
from mailclients import PASSWORD, ImapTestBase, RawImap, client_tls, simple_message


class ImapTwoClientsTest(ImapTestBase):
    def test_two_clients_see_flag_changes_and_expunges(self):
        a = self.imaps()
        for i in range(3):
            self.append(a, simple_message("shared %d" % i))
        a.select("INBOX")
        b = self.raw()
        b.ok("SELECT INBOX")
        a.store("2", "+FLAGS", "(\\Flagged)")
        untagged = b.ok("NOOP")
        self.assertIn(b"* 2 FETCH (UID 2 FLAGS (\\Flagged))", untagged)
        # b deletes and expunges message 1: a sees EXPUNGE at its next NOOP.
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        untagged = b.ok("EXPUNGE")
        self.assertIn(b"* 1 EXPUNGE", untagged)
        a.noop()
        self.assertEqual(a.untagged_responses.pop("EXPUNGE", None), [b"1"])
        typ, data = a.fetch("1:*", "(UID)")
        self.assertEqual([d.split()[2].rstrip(b")") for d in data], [b"2", b"3"])
        # a appends: b learns of it (EXISTS) without asking for it specially.
        self.append(a, simple_message("shared new"))
        untagged = b.ok("NOOP")
        self.assertIn(b"* 3 EXISTS", untagged)

    def test_no_expunge_during_fetch_but_after_noop(self):
        a = self.raw()
        b = self.raw()
        for i in range(2):
            a.ok("APPEND INBOX {%d+}\r\n%s" % (len(simple_message("x%d" % i)), simple_message("x%d" % i).decode()))
        a.ok("SELECT INBOX")
        b.ok("SELECT INBOX")
        b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        untagged = a.ok("FETCH 1:* (FLAGS)")
        self.assertFalse(any(line.endswith(b"EXPUNGE") for line in untagged),
                         "no EXPUNGE while a FETCH runs (RFC 9051 7.5.1): %r" % untagged)
        untagged = a.ok("NOOP")
        self.assertIn(b"* 1 EXPUNGE", untagged)


    # Session B DELETEs the mailbox session A has selected: A's session ends with a BYE
    # (as Dovecot does) and never sends a malformed "* 1 FETCH ()".
    def test_mailbox_deleted_by_another_session(self):
        a = self.raw()
        b = self.raw()
        a.ok("CREATE Work")
        data = simple_message("doomed").decode()
        a.ok("APPEND Work {%d+}\r\n%s" % (len(data), data))
        a.ok("SELECT Work")
        b.ok("DELETE Work")
        with self.assertRaises(ConnectionError) as closed:
            a.command("FETCH 1 (BODY[])")
        self.assertIn("BYE The selected mailbox was deleted", str(closed.exception))
        self.assertNotIn("FETCH ()", str(closed.exception))

    # Server bug: with IMAP4rev2 enabled, SELECT/EXAMINE while a mailbox is selected sends
    # no "* OK [CLOSED]" before the new mailbox's responses (RFC 9051 6.3.1 and 7.1: an
    # IMAP4rev2 server returns CLOSED when the selected mailbox is closed implicitly).
    def test_select_while_selected_reports_closed_with_imap4rev2(self):
        r = self.raw()
        r.ok("ENABLE IMAP4rev2")
        r.ok("SELECT INBOX")
        untagged = r.ok("EXAMINE Sent")
        self.assertIn(b"* OK [CLOSED]", [line[:13] for line in untagged])


class ImapIdleTest(ImapTestBase):
    def test_idle_announces_mail_delivered_over_smtp(self):
        r = self.raw()
        r.ok("SELECT INBOX")
        tag = r.tag()
        r.send("%s IDLE\r\n" % tag)
        self.assertTrue(r.readline().startswith(b"+"))
        latencies = []
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo("client.remote.test")
            for n in range(1, 4):
                s.sendmail("sender@remote.test", [self.user], simple_message("idle %d" % n, to=self.user))
                accepted = time.monotonic()
                r.settimeout(5)
                while True:
                    line = r.readline()
                    self.assertTrue(line, "connection closed while idling")
                    if line.endswith(b" EXISTS"):
                        break
                latencies.append(time.monotonic() - accepted)
                self.assertEqual(line, b"* %d EXISTS" % n)
        r.send("DONE\r\n")
        tagged, untagged = r.read_until_tagged(tag)
        self.assertIn(b"OK", tagged)
        print("\nIDLE latency (SMTP 250 after DATA -> * EXISTS): %s ms"
              % ", ".join("%.1f" % (x * 1000) for x in latencies))
        self.assertLess(max(latencies), 1.0, latencies)

    def test_idle_sees_other_clients_flags_and_expunge(self):
        a = self.imaps()
        for i in range(2):
            self.append(a, simple_message("idle flags %d" % i))
        a.select("INBOX")
        r = self.raw()
        r.ok("SELECT INBOX")
        tag = r.tag()
        r.send("%s IDLE\r\n" % tag)
        self.assertTrue(r.readline().startswith(b"+"))
        r.settimeout(5)
        a.store("1", "+FLAGS", "(\\Seen)")
        self.assertEqual(r.readline(), b"* 1 FETCH (UID 1 FLAGS (\\Seen))")
        a.store("2", "+FLAGS.SILENT", "(\\Deleted)")
        self.assertEqual(r.readline(), b"* 2 FETCH (UID 2 FLAGS (\\Deleted))")
        a.expunge()
        self.assertEqual(r.readline(), b"* 2 EXPUNGE")
        r.send("DONE\r\n")
        tagged, _ = r.read_until_tagged(tag)
        self.assertTrue(tagged.startswith(tag.encode() + b" OK"))

    def test_pipelined_commands_are_answered_in_order(self):
        r = self.raw()
        msg = simple_message("piped")
        r.send("p1 SELECT INBOX\r\np2 APPEND INBOX {%d+}\r\n%s\r\np3 NOOP\r\np4 FETCH 1 (UID)\r\n"
               "p5 UID SEARCH ALL\r\n" % (len(msg), msg.decode()))
        order = []
        for tag in ["p1", "p2", "p3", "p4", "p5"]:
            tagged, untagged = r.read_until_tagged(tag)
            self.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
            order.append((tag, untagged))
        self.assertIn(b"* 1 EXISTS", order[1][1] + order[2][1])
        self.assertIn(b"* 1 FETCH (UID 1)", order[3][1])
        self.assertIn(b"* SEARCH 1", order[4][1])


class ImapBadInputTest(ImapTestBase):
    CONFIG = {"queue": {"deliver": False}, "access": {"errors_max": 4, "append_bytes_max": 65536}}

    def test_unknown_command_and_garbage_are_bad(self):
        r = self.raw()
        tagged, _ = r.command("FROBNICATE now")
        self.assertRegex(tagged, rb"^t\d+ BAD ")
        tagged, _ = r.command("SELECT")
        self.assertRegex(tagged, rb"^t\d+ BAD ")
        r.send(b"\x01\x02garbage \xff\r\n")
        line = r.readline()
        self.assertRegex(line, rb"^(\*|\S+) BAD ")
        tagged, _ = r.command("NOOP")  # still usable
        self.assertRegex(tagged, rb"^t\d+ OK")

    def test_too_many_errors_end_the_session(self):
        r = self.raw()
        lines = []
        for i in range(6):
            try:
                r.send("x%d BOGUS\r\n" % i)
            except OSError:
                break
        while True:
            line = r.readline()
            if not line:
                break
            lines.append(line)
        self.assertEqual(sum(1 for l in lines if b" BAD " in l), 4, lines)
        self.assertTrue(any(l.startswith(b"* BYE") for l in lines), lines)

    def test_huge_append_literal_is_refused(self):
        r = self.raw()
        tagged, _ = r.command("APPEND INBOX {10000000}")
        self.assertRegex(tagged, rb"^t\d+ (NO \[TOOBIG\]|BAD)")
        tagged, _ = r.command("NOOP")
        self.assertRegex(tagged, rb"^t\d+ OK", "the session goes on")
        # A non-synchronizing literal too big to skip: refused and the connection closed.
        r.send("t99 APPEND INBOX {100000000+}\r\n")
        line = r.readline()
        self.assertRegex(line, rb"^t99 (NO \[TOOBIG\]|BAD)")
        rest = []
        while True:
            line = r.readline()
            if not line:
                break
            rest.append(line)
        self.assertTrue(any(l.startswith(b"* BYE") for l in rest), rest)
        m = self.imaps()
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"0"], "nothing was stored")

    def test_append_just_over_the_limit_is_toobig(self):
        r = self.raw()
        body = b"Subject: big\r\n\r\n" + b"y" * 70000 + b"\r\n"
        tagged, _ = r.command("APPEND INBOX {%d}" % len(body))
        self.assertRegex(tagged, rb"^t\d+ NO \[TOOBIG\]")
        body = b"Subject: fits\r\n\r\n" + b"y" * 1000 + b"\r\n"
        r.send(b"a1 APPEND INBOX {%d}\r\n" % len(body))
        self.assertTrue(r.readline().startswith(b"+"))
        r.send(body + b"\r\n")
        tagged, _ = r.read_until_tagged("a1")
        self.assertIn(b"APPENDUID", tagged)

    def test_commands_in_the_wrong_state(self):
        r = self.raw(login=False)
        tagged, _ = r.command("SELECT INBOX")
        self.assertRegex(tagged, rb"^t\d+ BAD ")
        r.login(self.user, PASSWORD)
        tagged, _ = r.command("FETCH 1 (FLAGS)")
        self.assertRegex(tagged, rb"^t\d+ BAD ")
        r.ok("SELECT INBOX")
        tagged, _ = r.command("FETCH 5 (FLAGS)")
        self.assertRegex(tagged, rb"^t\d+ (BAD|NO) ", "no message 5 in an empty mailbox")


class ImapTimeoutTest(ImapTestBase):
    CONFIG = {"queue": {"deliver": False},
              "access": {"imap_login_timeout_ms": 1000, "imap_idle_timeout_ms": 1500}}

    def read_to_close(self, r, timeout=5):
        r.settimeout(timeout)
        lines = []
        while True:
            line = r.readline()
            if not line:
                return lines
            lines.append(line)

    def test_silent_client_is_logged_out_before_login(self):
        r = self.raw(login=False)
        start = time.monotonic()
        lines = self.read_to_close(r)
        self.assertEqual(lines, [b"* BYE Autologout; idle for too long"])
        self.assertLess(time.monotonic() - start, 3)

    def test_idle_client_is_logged_out_after_the_idle_timeout(self):
        r = self.raw()
        r.ok("SELECT INBOX")
        time.sleep(0.8)
        r.ok("NOOP")  # a command restarts the timer
        start = time.monotonic()
        lines = self.read_to_close(r)
        self.assertEqual(lines, [b"* BYE Autologout; idle for too long"])
        self.assertGreater(time.monotonic() - start, 1.2)


class ImapShutdownTest(unittest.TestCase):
    def test_idling_client_gets_bye_when_the_server_stops(self):
        server = Server({"queue": {"deliver": False}})
        try:
            server.start()
            server.cli("domain", "add", "example.org")
            server.cli("user", "add", "idle@example.org", input=PASSWORD + "\n")
            r = RawImap(server.ports["imaps"])
            r.login("idle@example.org", PASSWORD)
            r.ok("SELECT INBOX")
            r.send("i1 IDLE\r\n")
            self.assertTrue(r.readline().startswith(b"+"))
            self.assertEqual(server.stop(), 0)
            r.settimeout(5)
            self.assertEqual(r.readline(), b"* BYE Server shutting down")
            self.assertEqual(r.readline(), b"")
            r.close()
        finally:
            server.cleanup()


class LoginThrottleTest(ImapTestBase):
    CONFIG = {"queue": {"deliver": False},
              "smtp": {"auth_failures_before_delay": 2, "auth_failures_max": 4}}

    def connect_from(self, address, port_name):
        sock = socket.create_connection(("127.0.0.1", self.server.ports[port_name]), timeout=10,
                                        source_address=(address, 0))
        tls = client_tls().wrap_socket(sock)
        self.addCleanup(tls.close)
        f = tls.makefile("rb")
        self.assertTrue(f.readline().startswith((b"* OK", b"+OK")))
        return tls, f

    def test_failed_logins_are_slowed_then_refused_across_imap_and_pop3(self):
        tls, f = self.connect_from("127.0.0.9", "imaps")
        times = []
        for i in range(4):
            start = time.monotonic()
            tls.sendall(b"x%d LOGIN %s wrong%d\r\n" % (i, self.user.encode(), i))
            self.assertEqual(f.readline(), b"x%d NO [AUTHENTICATIONFAILED] Invalid credentials\r\n" % i)
            times.append(time.monotonic() - start)
        self.assertLess(max(times[:2]), 0.9, times)
        self.assertGreaterEqual(min(times[2:]), 0.9, times)
        tls.sendall(b"x9 LOGIN %s wrong\r\n" % self.user.encode())
        self.assertEqual(f.readline(), b"* BYE Too many failed logins\r\n")
        self.assertEqual(f.readline(), b"x9 NO [AUTHENTICATIONFAILED] Too many failed logins\r\n")
        self.assertEqual(f.readline(), b"")
        # The right password from that address is refused too, by POP3 as well.
        tls, f = self.connect_from("127.0.0.9", "imaps")
        tls.sendall(b"y LOGIN %s %s\r\n" % (self.user.encode(), PASSWORD.encode()))
        self.assertEqual(f.readline(), b"* BYE Too many failed logins\r\n")
        tls, f = self.connect_from("127.0.0.9", "pop3s")
        tls.sendall(b"USER %s\r\nPASS %s\r\n" % (self.user.encode(), PASSWORD.encode()))
        self.assertEqual(f.readline(), b"+OK Send PASS\r\n")
        self.assertTrue(f.readline().startswith(b"-ERR [AUTH]"))
        # Another address is not affected.
        tls, f = self.connect_from("127.0.0.10", "imaps")
        tls.sendall(b"z LOGIN %s %s\r\n" % (self.user.encode(), PASSWORD.encode()))
        self.assertTrue(f.readline().startswith(b"z OK "))


if __name__ == "__main__":
    unittest.main()
