"""The sendmail command against a real ringmaild: -t (To/Cc/Bcc, Bcc removed), -i and the
lone-dot end of input, -f, -F, missing headers added, -bs, and sendmail's exit codes."""
import os
import subprocess
import unittest

from harness import ServerTestCase

SENDMAIL = os.environ.get("SENDMAIL", "build/release/tools/sendmail")


class SendmailTest(ServerTestCase):
    CONFIG = {"queue": {"deliver": True}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.cli("domain", "add", "example.org")
        for user in ["alice", "bob", "carol"]:
            cls.server.cli("user", "add", user + "@example.org", input=user + "-secret\n")

    def sendmail(self, *args, input=b"", socket=None):
        env = dict(os.environ, RINGMAIL_SUBMIT_SOCKET=socket or os.path.join(self.server.data, "submit.sock"))
        return subprocess.run([SENDMAIL, *args], input=input, env=env, capture_output=True, timeout=30)

    def last_message(self, address, count):
        self.server.wait_for(lambda: (self.server.mailbox(address) or {"count": 0})["count"] >= count,
                             what="%d messages for %s" % (count, address))
        listing = self.server.mailbox(address)
        return self.server.mailbox_body(address, listing["messages"][-1]["uid"])

    def count(self, address):
        return (self.server.mailbox(address) or {"count": 0})["count"]

    def test_t_takes_recipients_from_the_headers_and_drops_bcc(self):
        a, b, c = (self.count(x + "@example.org") for x in ["alice", "bob", "carol"])
        result = self.sendmail("-t", "-i", input=b"To: Alice <alice@example.org>\nCc: bob@example.org\n"
                               b"Bcc: carol@example.org\nSubject: headers\n\nBody line.\n.\nafter the dot\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        for address, before in [("alice", a), ("bob", b), ("carol", c)]:
            body = self.last_message(address + "@example.org", before + 1)
            self.assertNotIn(b"Bcc:", body)
            self.assertIn(b"Subject: headers\r\n", body)
            self.assertIn(b"Body line.\r\n.\r\nafter the dot\r\n", body)  # -i: the dot is text
            self.assertIn(b"Message-ID: <", body)  # added
            self.assertIn(b"Date: ", body)

    def test_lone_dot_ends_the_message_without_i(self):
        before = self.count("alice@example.org")
        result = self.sendmail("-f", "robot@example.org", "-F", "Cron Daemon", "alice@example.org",
                               input=b"Subject: dot\n\nkept\n.\nnot part of it\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        body = self.last_message("alice@example.org", before + 1)
        self.assertIn(b"From: \"Cron Daemon\" <robot@example.org>\r\n", body)
        self.assertTrue(body.endswith(b"\r\nkept\r\n"), body[-40:])

    def test_exit_codes(self):
        unknown = self.sendmail("nobody@example.org", input=b"Subject: x\n\nx\n")
        self.assertEqual(unknown.returncode, 67, unknown.stderr)  # EX_NOUSER
        self.assertIn(b"nobody@example.org", unknown.stderr)
        self.assertEqual(self.sendmail(input=b"Subject: x\n\nx\n").returncode, 64)  # no recipients
        down = self.sendmail("alice@example.org", input=b"x\n", socket="/nonexistent/submit.sock")
        self.assertEqual(down.returncode, 69)  # EX_UNAVAILABLE

    def test_bs_speaks_smtp_on_stdin_and_stdout(self):
        before = self.count("bob@example.org")
        env = dict(os.environ, RINGMAIL_SUBMIT_SOCKET=os.path.join(self.server.data, "submit.sock"))
        proc = subprocess.Popen([SENDMAIL, "-bs"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

        def reply():
            lines = []
            while True:
                line = proc.stdout.readline()
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    return b"".join(lines)

        def say(text):
            proc.stdin.write(text)
            proc.stdin.flush()
            return reply()

        try:
            self.assertTrue(reply().startswith(b"220 "))
            self.assertTrue(say(b"EHLO localhost\r\n").startswith(b"250-"))
            self.assertTrue(say(b"MAIL FROM:<script@example.org>\r\n").startswith(b"250 "))
            self.assertTrue(say(b"RCPT TO:<bob@example.org>\r\n").startswith(b"250 "))
            self.assertTrue(say(b"DATA\r\n").startswith(b"354 "))
            self.assertTrue(say(b"Subject: bs\r\n\r\nvia -bs\r\n.\r\n").startswith(b"250 2.0.0"))
            self.assertTrue(say(b"QUIT\r\n").startswith(b"221 "))
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertIn(b"Subject: bs", self.last_message("bob@example.org", before + 1))


if __name__ == "__main__":
    unittest.main()
