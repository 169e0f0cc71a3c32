"""SMTP intake end to end: a real ringmaild, real clients (Python's smtplib, raw sockets),
the queue read back with the ringmail CLI."""
import socket
import smtplib
import time
import unittest

from harness import Server


def recv_until(sock, marker, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class SmtpIntakeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"smtp": {"recipients_max": 5, "message_bytes_max": 200000,
                                      "errors_max": 5}}).start()
        cls.server.cli("domain", "add", "example.org")
        cls.server.cli("user", "add", "alice@example.org", input="alice-secret\n")
        cls.server.cli("user", "add", "bob@example.org", input="bob-secret\n")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def setUp(self):
        for message in self.server.queue():
            self.server.cli("queue", "delete", message["id"])

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10)

    def test_local_delivery_is_queued_byte_identical(self):
        body = "Subject: test\r\nFrom: x@remote.example\r\n\r\nhello\r\n.leading dot\r\n"
        with self.smtp() as s:
            refused = s.sendmail("x@remote.example", ["alice@example.org"], body)
        self.assertEqual(refused, {})
        queue = self.server.queue()
        self.assertEqual(len(queue), 1)
        shown = self.server.body(queue[0]["id"])
        self.assertEqual(shown["sender"], "x@remote.example")
        self.assertEqual([r["address"] for r in shown["recipients"]], ["alice@example.org"])
        self.assertIn("Received: from ", shown["headers"])
        self.assertIn("id " + queue[0]["id"], shown["headers"])

    def test_unknown_local_user_and_relay_refused(self):
        with self.smtp() as s:
            s.ehlo("client.example")
            s.mail("x@remote.example")
            code, text = s.rcpt("nobody@example.org")
            self.assertEqual(code, 550)
            self.assertIn(b"5.1.1", text)
        # From a trusted network (loopback), relay is allowed; from others it is 554 5.7.1 —
        # the transcripts cover that; here the trusted path.
        with self.smtp() as s:
            self.assertEqual(s.sendmail("x@remote.example", ["someone@far.example"], "Subject: r\r\n\r\nx\r\n"), {})

    def test_pipelined_recipients_and_limit(self):
        with self.smtp() as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("pipelining"))
            s.mail("x@remote.example")
            for _ in range(5):
                self.assertEqual(s.rcpt("alice@example.org")[0], 250)
            code, text = s.rcpt("bob@example.org")
            self.assertEqual(code, 452)
            self.assertIn(b"4.5.3", text)

    def test_smtputf8_address(self):
        with self.smtp() as s:
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("smtputf8"))
            refused = s.sendmail("jürgen@bücher.example", ["alice@example.org"],
                                 "Subject: utf8\r\n\r\nGrüße\r\n".encode("utf-8"),
                                 mail_options=["SMTPUTF8", "BODY=8BITMIME"])
            self.assertEqual(refused, {})
        sender = self.server.body(self.server.queue()[0]["id"])["sender"]
        self.assertEqual(sender, "jürgen@bücher.example")

    def test_size_limit(self):
        with self.smtp() as s:
            s.ehlo("client.example")
            self.assertEqual(int(s.esmtp_features["size"]), 200000)
            with self.assertRaises(smtplib.SMTPSenderRefused) as ctx:
                s.sendmail("x@remote.example", ["alice@example.org"], "x" * 300000)
            self.assertEqual(ctx.exception.smtp_code, 552)
        with self.smtp() as s:  # no SIZE= given: refused at the end of DATA
            s.ehlo("client.example")
            s.mail("x@remote.example")
            s.rcpt("alice@example.org")
            code, _ = s.data(("y" * 998 + "\r\n") * 250)
            self.assertEqual(code, 552)
        self.assertEqual(self.server.queue(), [])

    def test_bdat_over_raw_socket(self):
        sock = socket.create_connection(("127.0.0.1", self.server.ports["smtp"]), timeout=5)
        try:
            recv_until(sock, b"\r\n")
            sock.sendall(b"EHLO client.example\r\n")
            self.assertIn(b"CHUNKING", recv_until(sock, b"250 "))
            chunk1 = b"Subject: bdat\r\n\r\nfirst "
            chunk2 = b"second\r\n.\r\nnot an end\r\n"
            sock.sendall(b"MAIL FROM:<x@remote.example>\r\nRCPT TO:<bob@example.org>\r\n"
                         b"BDAT %d\r\n%sBDAT %d LAST\r\n%s" % (len(chunk1), chunk1, len(chunk2), chunk2))
            replies = recv_until(sock, b"queued as")
            self.assertIn(b"250 2.0.0 Ok: queued as", replies)
            sock.sendall(b"QUIT\r\n")
            self.assertIn(b"221", recv_until(sock, b"221"))
        finally:
            sock.close()
        self.assertEqual(len(self.server.queue()), 1)

    def test_smuggling_variants_queue_one_message(self):
        for variant in [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n"]:
            with self.subTest(variant=variant):
                for message in self.server.queue():
                    self.server.cli("queue", "delete", message["id"])
                sock = socket.create_connection(("127.0.0.1", self.server.ports["smtp"]), timeout=5)
                try:
                    recv_until(sock, b"\r\n")
                    sock.sendall(b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\n"
                                 b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
                    recv_until(sock, b"354")
                    sock.sendall(b"Subject: legit\r\n\r\nlegit" + variant +
                                 b"MAIL FROM:<admin@example.org>\r\nRCPT TO:<bob@example.org>\r\n"
                                 b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n")
                    replies = recv_until(sock, b"221")
                finally:
                    sock.close()
                queue = self.server.queue()
                # Refused whole (bare CR/LF): nothing queued, and bob never got the smuggled one.
                self.assertIn(b"550 5.5.2", replies)
                self.assertEqual(queue, [])
        # A well-formed message on the same server still goes through: exactly one queued.
        with self.smtp() as s:
            s.sendmail("x@remote.example", ["alice@example.org"], "Subject: ok\r\n\r\nfine\r\n")
        self.assertEqual(len(self.server.queue()), 1)

    def test_errors_limit_closes_the_session(self):
        sock = socket.create_connection(("127.0.0.1", self.server.ports["smtp"]), timeout=5)
        try:
            recv_until(sock, b"\r\n")
            sock.sendall(b"FOO\r\n" * 5)
            data = recv_until(sock, b"421")
            self.assertIn(b"421 4.7.0", data)
            self.assertEqual(recv_until(sock, b"never"), b"")  # closed
        finally:
            sock.close()

    def test_restart_keeps_the_queue(self):
        with self.smtp() as s:
            s.sendmail("x@remote.example", ["alice@example.org"], "Subject: keep\r\n\r\nkeep me\r\n")
        before = self.server.queue()
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        self.assertEqual(self.server.queue(), before)


if __name__ == "__main__":
    unittest.main()
