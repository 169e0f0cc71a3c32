"""A golden IMAP transcript: the session in transcripts/imap_basic.txt is replayed over a
raw socket (plaintext login allowed by the configuration) and the server's answers are
compared line by line with the expected ones, after UIDVALIDITY values and dates are
replaced by placeholders.

Transcript format, one line each:
  C: <line>   sent by the client (CRLF added); a literal's payload is written as the
              C: lines that follow its {n} / {n+} header, each counted with its CRLF
  S: <line>   expected from the server, normalised
  X: append <mailbox> <subject>   another session appends a message meanwhile
  # ...       a comment
The client sends its lines of a turn, then reads until the last command of the turn is
complete (its tagged answer, or the "+" of IDLE), or after X: until the server is quiet.
RINGMAIL_UPDATE_TRANSCRIPTS=1 rewrites the S: lines from the server's answers (review the
diff before committing it)."""
import difflib
import imaplib
import os
import re
import socket
import time
import unittest

from harness import Server
from mailclients import client_tls

TRANSCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "transcripts", "imap_basic.txt")
USER = "alice@example.org"
PASSWORD = "secret"

PLACEHOLDERS = [
    (re.compile(r"(UIDVALIDITY|APPENDUID|COPYUID) \d+"), r"\1 <UIDVALIDITY>"),
    (re.compile(r'"\d{1,2}-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"'), '"<DATE>"'),
]


def normalise(line):
    for pattern, replacement in PLACEHOLDERS:
        line = pattern.sub(replacement, line)
    return line


def parse(path):
    """[(kind, text)] for the C:, S: and X: lines of a transcript."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            if not raw or raw.startswith("#"):
                continue
            if raw[0] not in "CSX" or not (raw[1:] == ":" or raw[1:3] == ": "):
                raise ValueError("bad transcript line: %r" % raw)
            entries.append((raw[0], raw[3:]))
    return entries


def client_steps(entries):
    """The client's side in steps, each answered before the next is sent: one command (with
    its literal lines), a DONE, or a run of X: directives. S: lines are what to expect."""
    steps = []
    literal_left = 0
    for kind, text in entries:
        if kind == "S":
            continue
        if kind == "X":
            if steps and steps[-1][0] == "X" and literal_left == 0:
                steps[-1][1].append(text)
            else:
                steps.append(("X", [text]))
            continue
        if literal_left > 0:
            steps[-1][1].append(text)
            literal_left -= len(text.encode()) + 2
            continue
        if steps and steps[-1][0] == "C" and steps[-1][2]:  # the line ending a literal command
            steps[-1][1].append(text)
            steps[-1] = ("C", steps[-1][1], False)
        else:
            steps.append(("C", [text], False))
        match = re.search(r"\{(\d+)\+?\}$", text)
        if match:
            literal_left = int(match.group(1))
            steps[-1] = ("C", steps[-1][1], True)
    return steps


class Session:
    """The client side: sends lines, reads CRLF lines with literal payloads kept inline
    (a line ending in {n} is followed by its n bytes, shown as further lines)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.literal_left = 0  # bytes of a literal still to come in the client's lines
        self.last_tag = None
        self.idle_tag = None

    def read_line(self, timeout=5.0):
        deadline = time.time() + timeout
        while b"\r\n" not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def send(self, lines):
        data = "".join(line + "\r\n" for line in lines).encode()
        for line in lines:
            if self.literal_left > 0:
                self.literal_left -= len(line.encode()) + 2
                continue
            if not line:
                continue
            if line == "DONE" and self.idle_tag:
                self.last_tag, self.idle_tag = self.idle_tag, None
                continue
            words = line.split()
            if line.endswith("}"):  # a literal follows: its bytes are the next lines
                self.literal_left = int(line[line.rfind("{") + 1:-1].rstrip("+"))
            if len(words) == 2 and words[1].upper() == "IDLE":
                self.idle_tag = words[0]
            self.last_tag = words[0]
        self.sock.sendall(data)

    def read_answer(self):
        """Lines up to the completion of the last command sent."""
        out = []
        try:
            while True:
                line = self.read_line()
                out.append(line)
                if self.idle_tag and line.startswith("+"):
                    return out
                if self.last_tag is None or line.startswith(self.last_tag + " "):
                    return out
                if re.search(r"\{\d+\}$", line):
                    size = int(line[line.rfind("{") + 1:-1])
                    while len(self.buffer) < size:
                        self.sock.settimeout(5)
                        self.buffer += self.sock.recv(65536)
                    literal, self.buffer = self.buffer[:size], self.buffer[size:]
                    parts = literal.decode("utf-8", "replace").split("\r\n")
                    out.extend(parts[:-1])
                    rest = parts[-1] + self.read_line()
                    out.append(rest)
                    if self.last_tag and rest.startswith(self.last_tag + " "):
                        return out
        except (TimeoutError, ConnectionError, socket.timeout) as e:
            out.append("<%s>" % type(e).__name__)
        return out

    def read_until_quiet(self, quiet=0.5):
        out = []
        while True:
            try:
                out.append(self.read_line(timeout=quiet))
            except (TimeoutError, socket.timeout):
                return out
            except ConnectionError:
                out.append("<ConnectionError>")
                return out


class ImapTranscriptTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"server": {"hostname": "mail.example.org"},
                             "access": {"plaintext_auth_allowed": True},
                             "queue": {"deliver": False}}).start()
        cls.server.cli("domain", "add", "example.org")
        cls.server.cli("user", "add", USER, input=PASSWORD + "\n")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def other_session_appends(self, mailbox, subject):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], ssl_context=client_tls(), timeout=10)
        m.login(USER, PASSWORD)
        data = "From: <bob@example.org>\r\nSubject: %s\r\n\r\nMeanwhile.\r\n" % subject
        self.assertEqual(m.append(mailbox, None, None, data.encode())[0], "OK")
        m.logout()

    def test_basic_session(self):
        entries = parse(TRANSCRIPT)
        session = Session(self.server.ports["imap"])
        actual = ["S: " + normalise(session.read_line())]  # the transcript as this run saw it
        for step in client_steps(entries):
            kind, lines = step[0], step[1]
            actual.extend("%s: %s" % (kind, text) if text else kind + ":" for text in lines)
            if kind == "X":
                for text in lines:
                    verb, mailbox, subject = text.split(" ", 2)
                    self.assertEqual(verb, "append", text)
                    self.other_session_appends(mailbox, subject)
                got = session.read_until_quiet()
            else:
                session.send(lines)
                got = session.read_answer()
            actual.extend("S: " + normalise(line) if line else "S:" for line in got)
        session.sock.close()
        expected_text = [("%s: %s" % (k, t) if t else k + ":") for k, t in entries]
        if os.environ.get("RINGMAIL_UPDATE_TRANSCRIPTS"):
            self.write_transcript(actual)
            return
        if actual != expected_text:
            diff = "\n".join(difflib.unified_diff(expected_text, actual, "expected", "actual",
                                                  lineterm=""))
            self.fail("the session differs from %s:\n%s" % (TRANSCRIPT, diff))

    def write_transcript(self, actual):
        with open(TRANSCRIPT, encoding="utf-8") as f:
            comments = [line for line in f.read().split("\n") if line.startswith("#")]
        with open(TRANSCRIPT, "w", encoding="utf-8") as f:
            f.write("\n".join(comments + actual) + "\n")


if __name__ == "__main__":
    unittest.main()
