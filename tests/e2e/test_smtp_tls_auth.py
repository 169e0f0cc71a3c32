"""TLS and authentication end to end: STARTTLS and AUTH on the submission port, implicit
TLS, relay refused to strangers, failed AUTH slowed down then refused, and swaks."""
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from harness import Server


def client_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's certificate is self-signed
    return ctx


class SmtpTlsAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({
            "smtp": {"trusted_networks": ["127.0.0.1/32"], "auth_failures_before_delay": 2,
                     "auth_failures_max": 4},
        }).start()
        cls.server.cli("domain", "add", "example.org")
        cls.server.cli("user", "add", "alice@example.org", input="correct horse\n")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, code

    def port(self, name):
        return self.server.ports[name]

    def test_submission_starttls_then_auth_then_relay(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=10,
                          source_address=("127.0.0.2", 0)) as s:
            s.ehlo("laptop.example")
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"), "AUTH must wait for TLS")
            s.starttls(context=client_tls())
            s.ehlo("laptop.example")
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            self.assertIn("PLAIN", s.esmtp_features["auth"])
            s.login("alice@example.org", "correct horse")
            refused = s.sendmail("alice@example.org", ["friend@elsewhere.example"],
                                 "Subject: via submission\r\n\r\nhello\r\n")
            self.assertEqual(refused, {})
        queued = [m for m in self.server.queue() if m["recipients"] == "friend@elsewhere.example"]
        self.assertEqual(len(queued), 1)
        shown = self.server.body(queued[0]["id"])
        self.assertEqual(shown["auth_user"], "alice@example.org")
        # Submission hides the client: no address or HELO name in Received.
        self.assertNotIn("127.0.0.2", shown["headers"])
        self.assertIn("with ESMTPSA", shown["headers"])

    def test_implicit_tls_and_old_tls_refused(self):
        with smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), context=client_tls(), timeout=10) as s:
            s.ehlo("laptop.example")
            s.login("alice@example.org", "correct horse")
            self.assertEqual(s.sendmail("alice@example.org", ["x@elsewhere.example"], "Subject: 465\r\n\r\nx\r\n"), {})
        old = client_tls()
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, OSError, smtplib.SMTPException)):
            smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), context=old, timeout=10).ehlo()

    def test_relay_refused_to_untrusted_unauthenticated_client(self):
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=10, source_address=("127.0.0.3", 0)) as s:
            s.ehlo("stranger.example")
            self.assertFalse(s.has_extn("auth"), "no AUTH on the MX port")
            s.mail("x@stranger.example")
            code, text = s.rcpt("victim@elsewhere.example")
            self.assertEqual(code, 554)
            self.assertIn(b"5.7.1", text)
            self.assertEqual(s.rcpt("alice@example.org")[0], 250)  # local mail is fine

    def test_failed_auth_is_slowed_then_refused(self):
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30, source_address=("127.0.0.4", 0)) as s:
            s.ehlo("guesser.example")
            s.starttls(context=client_tls())
            s.ehlo("guesser.example")
            times = []
            codes = []
            s.user = "alice@example.org"
            for attempt in range(5):
                start = time.time()
                s.password = "guess %d" % attempt
                try:
                    s.auth("PLAIN", s.auth_plain)  # one attempt (login() would try each mechanism)
                except smtplib.SMTPAuthenticationError as e:
                    codes.append(e.smtp_code)
                except smtplib.SMTPServerDisconnected:
                    codes.append("closed")
                    break
                times.append(time.time() - start)
            self.assertEqual(codes[:2], [535, 535])
            self.assertLess(max(times[:2]), 0.9, "the first failures are answered at once")
            self.assertGreaterEqual(times[2], 0.9, "then failures are slowed down")
            self.assertIn(421, codes[3:] + [421 if "closed" in codes else 0])
        # The right password from that address is refused too while the window lasts.
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30, source_address=("127.0.0.4", 0)) as s:
            s.ehlo("guesser.example")
            s.starttls(context=client_tls())
            s.ehlo("guesser.example")
            with self.assertRaises((smtplib.SMTPAuthenticationError, smtplib.SMTPServerDisconnected)):
                s.login("alice@example.org", "correct horse")

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
    def test_swaks_submission_with_tls_and_auth(self):
        result = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(self.port("submission")), "--tls",
             "--auth", "LOGIN", "--auth-user", "alice@example.org", "--auth-password", "correct horse",
             "--from", "alice@example.org", "--to", "swaks@elsewhere.example",
             "--header", "Subject: swaks test", "--body", "sent by swaks"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("queued as", result.stdout)
        self.assertTrue(any(m["recipients"] == "swaks@elsewhere.example" for m in self.server.queue()))

    def test_large_message_is_stored_whole(self):
        body = b"".join(b"line %07d of a large message, padded to about eighty bytes .......\r\n" % i
                        for i in range(700000))  # about 50 MB
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=120) as s:
            s.ehlo("big.example")
            s.mail("big@remote.example", ["SIZE=%d" % len(body)])
            s.rcpt("alice@example.org")
            code, reply = s.data(b"Subject: big\r\n\r\n" + body)
            self.assertEqual(code, 250, reply)
            queue_id = reply.decode().rsplit(" ", 1)[-1]
        result = subprocess.run([self.server_cli_path(), "--data", self.server.data, "queue", "cat", queue_id],
                                capture_output=True, timeout=120)
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.endswith(b"Subject: big\r\n\r\n" + body))

    def server_cli_path(self):
        from harness import RINGMAIL
        return RINGMAIL


if __name__ == "__main__":
    unittest.main()
