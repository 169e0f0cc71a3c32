"""Every SMTP limit a client controls, hit against a real ringmaild: early talkers, command
timeouts, connections per client IP and in all, command line length."""
import socket
import time
import unittest

from harness import ServerTestCase


def connect(port, source="127.0.0.1"):
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_all(sock, timeout=5.0):
    """Everything until the server closes (or the timeout)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False


class SmtpLimitsTest(ServerTestCase):
    CONFIG = {
        "smtp": {"greeting_delay_ms": 300, "command_timeout_ms": 1000, "data_timeout_ms": 1500,
                 "line_bytes_max": 512},
    }

    def test_early_talker_is_refused(self):
        sock = connect(self.port)
        sock.sendall(b"EHLO too.early\r\n")
        data, closed = read_all(sock)
        sock.close()
        self.assertTrue(data.startswith(b"554 5.5.0"), data)
        self.assertTrue(closed)

    def test_patient_client_gets_the_greeting_after_the_delay(self):
        sock = connect(self.port)
        start = time.time()
        sock.settimeout(5)
        greeting = sock.recv(1024)
        self.assertGreaterEqual(time.time() - start, 0.25)
        self.assertTrue(greeting.startswith(b"220 "), greeting)
        sock.sendall(b"QUIT\r\n")
        sock.close()

    def test_command_timeout(self):
        sock = connect(self.port)
        start = time.time()
        data, closed = read_all(sock, timeout=8)
        sock.close()
        self.assertIn(b"421 4.4.2", data)
        self.assertTrue(closed)
        self.assertLess(time.time() - start, 5)

    def test_data_timeout(self):
        sock = connect(self.port)
        sock.settimeout(5)
        sock.recv(1024)
        sock.sendall(b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<postmaster@localhost>\r\n")
        data = b""
        while data.count(b"\r\n250 ") < 1 or data.count(b"250 2.1.5") < 1:
            data += sock.recv(4096)
        sock.sendall(b"DATA\r\n")
        self.assertTrue(sock.recv(1024).startswith(b"354"))
        start = time.time()
        sock.sendall(b"Subject: slow\r\n")  # then silence inside DATA
        data, closed = read_all(sock, timeout=8)
        sock.close()
        self.assertIn(b"421 4.4.2", data)
        self.assertTrue(closed)
        self.assertGreaterEqual(time.time() - start, 1.3)  # the DATA timeout, not the command one

    def test_line_too_long(self):
        sock = connect(self.port)
        sock.recv(1024)
        sock.sendall(b"NOOP " + b"x" * 600 + b"\r\nNOOP\r\n")
        data = b""
        sock.settimeout(5)
        while b"250" not in data:
            data += sock.recv(1024)
        sock.close()
        self.assertTrue(data.startswith(b"500 5.5.2"), data)



class SmtpConnectionLimitsTest(ServerTestCase):
    """Its own server: the other class's short command timeout would close held sessions."""

    CONFIG = {
        "runtime": {"shards": 1},
        "limits": {"connections_max": 6},
        "smtp": {"connections_per_ip_max": 2},
    }

    def test_connections_per_ip_and_in_all(self):
        held = []
        try:
            for source in ("127.0.0.2", "127.0.0.2"):
                s = connect(self.port, source)
                self.assertTrue(s.recv(1024).startswith(b"220"))
                held.append(s)
            third = connect(self.port, "127.0.0.2")
            data, closed = read_all(third)
            third.close()
            self.assertTrue(data.startswith(b"421 4.7.0"), data)
            for source in ("127.0.0.3", "127.0.0.3", "127.0.0.4", "127.0.0.4"):
                s = connect(self.port, source)
                self.assertTrue(s.recv(1024).startswith(b"220"))
                held.append(s)
            seventh = connect(self.port, "127.0.0.5")
            data, closed = read_all(seventh)
            seventh.close()
            self.assertTrue(data.startswith(b"421 4.3.2"), data)
        finally:
            for s in held:
                s.close()


if __name__ == "__main__":
    unittest.main()
