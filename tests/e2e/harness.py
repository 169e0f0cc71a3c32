"""Starts a real ringmaild for end-to-end tests: its own data directory and free loopback
ports, waits until it answers, stops it with SIGTERM (checking a clean exit)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

RINGMAILD = os.environ.get("RINGMAILD", "build/release/tools/ringmaild")
RINGMAIL = os.environ.get("RINGMAIL", "build/release/tools/ringmail")
LISTENERS = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, config=None, data_dir=None):
        self.owns_dir = data_dir is None
        self.data = data_dir or tempfile.mkdtemp(prefix="ringmail-e2e-")
        self.ports = {name: free_port() for name in LISTENERS}
        # Mail stays queued unless a test turns delivery on: intake tests read the queue.
        cfg = {"listeners": {n: {"port": p} for n, p in self.ports.items()},
               "runtime": {"shutdown_drain_ms": 2000},
               "store": {"min_free_mib": 1},
               "queue": {"deliver": False},
               # DNS only where a test serves it: nothing may reach the resolvers of the host.
               "relay": {"dns_servers": "127.0.0.1:9"}}
        for key, value in (config or {}).items():
            cfg.setdefault(key, {}).update(value)
        self.config_path = os.path.join(self.data, "test-config.json")
        os.makedirs(self.data, exist_ok=True)
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.data, "ringmaild.log"), "ab")
        self.proc = subprocess.Popen([RINGMAILD, "--data", self.data, "--config", self.config_path],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ringmaild exited: " + self.log_text())
            if self.cli("status", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError("ringmaild did not come up")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        self.log.close()
        return code

    def cli(self, *args, input=None, check=True):
        return subprocess.run([RINGMAIL, "--data", self.data, *args], input=input, text=True,
                              capture_output=True, check=check, timeout=30)

    def queue(self):
        return json.loads(self.cli("--json", "queue", "list").stdout)["messages"]

    def body(self, queue_id):
        return json.loads(self.cli("--json", "queue", "show", queue_id).stdout)

    def mailbox(self, address):
        """The INBOX listing of an account ({"count": ..., "messages": [...]}), or None."""
        result = self.cli("--json", "mailbox", "list", address, check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def mailbox_body(self, address, uid):
        """The stored message, bytes exactly as kept (CRLF line ends)."""
        return subprocess.run([RINGMAIL, "--data", self.data, "mailbox", "cat", address, str(uid)],
                              capture_output=True, check=True, timeout=30).stdout

    def wait_for(self, condition, timeout=10.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what + "\n" + self.log_text()[-3000:])

    def log_text(self):
        with open(os.path.join(self.data, "ringmaild.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def cleanup(self):
        if self.proc is not None:
            self.stop(signal.SIGKILL)
        if self.owns_dir:
            shutil.rmtree(self.data, ignore_errors=True)


class ServerTestCase(unittest.TestCase):
    """One ringmaild for the whole class, configured by CONFIG; it must exit cleanly."""
    CONFIG = {}

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.CONFIG).start()
        cls.port = cls.server.ports["smtp"]

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code
