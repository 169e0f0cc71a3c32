"""IMAP input bounds while a command runs: a client that keeps a FETCH busy (it reads none of
the answer) and pipelines far more input than one command behind it gets its connection
closed once the server holds its limit; the server stays up and serves other clients."""
import imaplib
import socket
import time
import unittest

from harness import Server

PASSWORD = "limits-secret"
USER = "flood@example.org"
MESSAGE_BYTES = 150 * 1024
MESSAGES = 100  # 15 MB of FETCH answer: far more than the socket buffers and the output bound


def message(i):
    head = ("From: <a@example.org>\r\nTo: <%s>\r\nSubject: big %d\r\n\r\n" % (USER, i)).encode()
    line = b"x" * 98 + b"\r\n"
    return head + line * ((MESSAGE_BYTES - len(head)) // len(line))


class ImapPipelinedInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"access": {"plaintext_auth_allowed": True,
                                        "append_bytes_max": 200 * 1024}}).start()
        cls.server.cli("domain", "add", "example.org")
        cls.server.cli("user", "add", USER, input=PASSWORD + "\n")
        imap = imaplib.IMAP4("127.0.0.1", cls.server.ports["imap"], timeout=30)
        imap.login(USER, PASSWORD)
        for i in range(MESSAGES):
            imap.append("INBOX", None, None, message(i))
        imap.logout()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def test_a_flood_behind_a_busy_fetch_closes_only_that_connection(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(10)
        s.connect(("127.0.0.1", self.server.ports["imap"]))
        s.sendall(b"a LOGIN %s %s\r\nb SELECT INBOX\r\nc FETCH 1:* BODY.PEEK[]\r\n"
                  % (USER.encode(), PASSWORD.encode()))
        time.sleep(0.5)  # the FETCH is running and its answer is stuck in our unread buffer
        flood = b"d NOOP\r\n" * (64 * 1024)  # 512 KiB per send
        sent = 0
        closed = False
        s.settimeout(0.5)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                sent += s.send(flood)
            except socket.timeout:
                continue  # the server reads no more for now: it will close, not wait
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        s.close()
        self.assertTrue(closed, "the connection still took input after %d bytes" % sent)
        self.assertRegex(self.server.log_text(), r"event=input_overflow")
        # The server goes on serving.
        imap = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        imap.login(USER, PASSWORD)
        typ, data = imap.select("INBOX", readonly=True)
        self.assertEqual((typ, int(data[0])), ("OK", MESSAGES))
        imap.logout()


if __name__ == "__main__":
    unittest.main()
