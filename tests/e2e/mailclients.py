"""Helpers shared by the mail-access end-to-end tests: a TLS context for the server's
self-signed certificate, a raw IMAP client for what imaplib cannot express (IDLE,
pipelining, literals, exact bytes), test messages, SMTP delivery, and ImapTestBase (a
server per class, a fresh account per test)."""
import email.policy
import imaplib
import itertools
import re
import smtplib
import socket
import ssl
import time
import unittest
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from harness import Server


def client_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's certificate is self-signed
    return ctx


def simple_message(subject, body="Hello.\r\n", sender="sender@remote.test", to="alice@example.org",
                   extra_headers=""):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@remote.test>\r\n%s\r\n%s"
            % (sender, to, subject, subject.replace(" ", "."), extra_headers, body)).encode()


ATTACHMENT = bytes(range(256)) * 4  # binary: needs base64


def multipart_message(subject="Report with attachment"):
    """multipart/mixed: a text/plain part and a base64 application/octet-stream attachment."""
    msg = MIMEMultipart()
    msg["From"] = "Bob Sender <bob@remote.test>"
    msg["To"] = "alice@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = "<multipart.1@remote.test>"
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 +0000"
    msg.attach(MIMEText("The report is attached.\nSecond line.\n", "plain", "utf-8"))
    msg.attach(MIMEApplication(ATTACHMENT, Name="data.bin"))
    return msg.as_bytes(policy=email.policy.SMTP)  # CRLF line ends


def smtp_send(port, recipients, data, sender="sender@remote.test"):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.ehlo("client.remote.test")
        refused = s.sendmail(sender, recipients, data)
        assert refused == {}, refused


class RawImap:
    """A line-level IMAP client: command() sends one tagged command and returns the
    untagged lines and the tagged completion, each with literal payloads inlined."""

    def __init__(self, port, tls=True, timeout=10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            sock = client_tls().wrap_socket(sock)
        self.sock = sock
        self.file = sock.makefile("rb")
        self.next_tag = 0
        self.greeting = self.readline()

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def settimeout(self, seconds):
        self.sock.settimeout(seconds)

    def readline(self):
        """One response line without its CRLF, the payload of any literal included; b""
        once the server has closed."""
        out = b""
        while True:
            line = self.file.readline()
            if not line:
                return out
            out += line
            if not line.endswith(b"}\r\n"):
                return out[:-2] if out.endswith(b"\r\n") else out
            start = line.rfind(b"{")
            try:
                n = int(line[start + 1:-3])
            except ValueError:
                return out[:-2]
            out += self.file.read(n)

    def tag(self):
        self.next_tag += 1
        return "t%d" % self.next_tag

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if not line:
                raise ConnectionError("closed before %s completed; got %r" % (tag, untagged))
            if line.startswith(tag.encode() + b" "):
                return line, untagged
            untagged.append(line)

    def command(self, text):
        """Returns (tagged line, [untagged lines]); the tag is generated."""
        tag = self.tag()
        self.send("%s %s\r\n" % (tag, text))
        return self.read_until_tagged(tag)

    def ok(self, text):
        tagged, untagged = self.command(text)
        assert tagged.split(b" ", 2)[1] == b"OK", (text, tagged, untagged)
        return untagged

    def login(self, user, password):
        self.ok('LOGIN "%s" "%s"' % (user, password))


def wait_until(condition, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


PASSWORD = "imap-secret"


def tagged_ok(typ, data):
    assert typ == "OK", (typ, data)
    return data


def code_value(text, name):
    """The value of a response code such as [APPENDUID 123 4] -> "123 4"."""
    match = re.search(r"\[%s ([^\]]*)\]" % name, text.decode() if isinstance(text, bytes) else text)
    return match.group(1) if match else None


class ImapTestBase(unittest.TestCase):
    """A ringmaild per class; each test gets a fresh account (self.user) and helpers to
    log in with imaplib (imaps()) or the raw client (raw())."""
    CONFIG = {"queue": {"deliver": True}}
    users = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.CONFIG).start()
        cls.server.cli("domain", "add", "example.org")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def setUp(self):
        self.user = "user%d@example.org" % next(self.users)
        self.server.cli("user", "add", self.user, input=PASSWORD + "\n")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError, EOFError):
                pass

    def imaps(self, login=True):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], ssl_context=client_tls(),
                              timeout=10)
        self.clients.append(m)
        if login:
            m.login(self.user, PASSWORD)
        return m

    def raw(self, login=True):
        r = RawImap(self.server.ports["imaps"])
        self.addCleanup(r.close)
        if login:
            r.login(self.user, PASSWORD)
        return r

    def append(self, m, data, mailbox="INBOX", flags=None, date=None):
        typ, resp = m.append(mailbox, flags, date, data)
        self.assertEqual(typ, "OK", resp)
        return int(code_value(resp[0], "APPENDUID").split()[1])
