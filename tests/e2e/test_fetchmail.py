"""fetchmail retrieving from ringmail over POP3 with TLS (implicit on pop3s, STLS on pop3),
checking the server certificate by its fingerprint, into an MDA that writes one file per
message: the messages arrive intact; with --keep they stay on the server, without it they
are deleted there."""
import hashlib
import imaplib
import os
import shutil
import ssl
import stat
import subprocess
import tempfile
import unittest

from harness import Server
from mailclients import client_tls, simple_message

PASSWORD = "fetch-secret"


def normalise(data):
    return data.replace(b"\r\n", b"\n")


@unittest.skipUnless(shutil.which("fetchmail"), "fetchmail is not installed")
class FetchmailTest(unittest.TestCase):
    users = iter(range(1, 100))

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"queue": {"deliver": False}}).start()
        cls.server.cli("domain", "add", "example.org")
        with open(os.path.join(cls.server.data, "tls", "cert.pem")) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        digest = hashlib.md5(der).hexdigest().upper()
        cls.fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def setUp(self):
        self.user = "fetch%d@example.org" % next(self.users)
        self.server.cli("user", "add", self.user, input=PASSWORD + "\n")
        self.home = tempfile.mkdtemp(prefix="ringmail-fetchmail-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.out = os.path.join(self.home, "out")
        os.makedirs(self.out)
        self.mda = os.path.join(self.home, "deliver.sh")
        with open(self.mda, "w") as f:
            f.write('#!/bin/sh\nexec cat > "%s/$$.eml"\n' % self.out)
        os.chmod(self.mda, 0o755)
        self.sent = []
        m = self.imap()
        for i in range(3):
            body = "Message %d.\r\n.A line starting with a dot.\r\nFrom here on.\r\n" % i
            data = simple_message("fetch %d" % i, body=body, to=self.user)
            self.assertEqual(m.append("INBOX", None, None, data)[0], "OK")
            self.sent.append(data)
        m.logout()

    def imap(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], ssl_context=client_tls(), timeout=10)
        m.login(self.user, PASSWORD)
        return m

    def server_count(self):
        m = self.imap()
        typ, data = m.select("INBOX", readonly=True)
        m.logout()
        return int(data[0])

    def fetchmail(self, keep, listener="pop3s", fingerprint=None):
        rc = os.path.join(self.home, "fetchmailrc")
        tls = "ssl" if listener == "pop3s" else 'sslproto "tls1.2+"'  # the latter: STLS
        with open(rc, "w") as f:
            f.write('set no bouncemail\n'
                    'poll 127.0.0.1 proto POP3 port %d uidl\n'
                    '  user "%s" password "%s"\n'
                    '  %s no sslcertck sslfingerprint "%s"\n'
                    '  mda "%s"\n'
                    '  %s\n'
                    % (self.server.ports[listener], self.user, PASSWORD, tls, fingerprint or self.fingerprint,
                       self.mda, "keep" if keep else "nokeep"))
        os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)  # fetchmail insists
        env = dict(os.environ, HOME=self.home, FETCHMAILHOME=self.home)
        result = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "--invisible", "-v"],
                                capture_output=True, text=True, timeout=60, env=env)
        return result

    def received(self):
        out = []
        for name in os.listdir(self.out):
            with open(os.path.join(self.out, name), "rb") as f:
                out.append(f.read())
        return sorted(out, key=lambda d: d.split(b"Subject: ")[1])

    def assert_intact(self):
        got = self.received()
        self.assertEqual(len(got), 3)
        for data, sent in zip(got, self.sent):
            self.assertEqual(normalise(data), normalise(sent))

    def test_keep_leaves_the_messages_on_the_server(self):
        result = self.fetchmail(keep=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assert_intact()
        self.assertEqual(self.server_count(), 3)
        # With UIDL, a second run with keep fetches nothing new (exit code 1: no mail).
        result = self.fetchmail(keep=True)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(len(self.received()), 3)

    def test_without_keep_the_messages_are_deleted(self):
        result = self.fetchmail(keep=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assert_intact()
        self.assertEqual(self.server_count(), 0)

    def test_stls_on_the_plain_port(self):
        result = self.fetchmail(keep=False, listener="pop3")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("STLS", result.stderr + result.stdout)
        self.assert_intact()
        self.assertEqual(self.server_count(), 0)


    def test_a_wrong_fingerprint_stops_fetchmail(self):
        result = self.fetchmail(keep=False, fingerprint=":".join(["00"] * 16))
        self.assertNotIn(result.returncode, (0, 1), result.stdout + result.stderr)
        self.assertIn("fingerprint", (result.stdout + result.stderr).lower())
        self.assertEqual(self.received(), [])
        self.assertEqual(self.server_count(), 3)


if __name__ == "__main__":
    unittest.main()
