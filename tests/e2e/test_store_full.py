"""When the store cannot write (a full disk), SMTP answers 452 4.3.1 and keeps running, and
nothing acknowledged before is harmed. Needs root to mount a small tmpfs for the data."""
import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from harness import Server


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"), "needs root to mount a tmpfs")
class StoreFullTest(unittest.TestCase):
    def setUp(self):
        self.mount = tempfile.mkdtemp(prefix="ringmail-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", self.mount], check=True)

    def tearDown(self):
        subprocess.run(["umount", "-l", self.mount], check=False)
        shutil.rmtree(self.mount, ignore_errors=True)

    def fill(self, leave_bytes):
        stat = os.statvfs(self.mount)
        free = stat.f_bavail * stat.f_frsize
        with open(os.path.join(self.mount, "filler"), "wb") as f:
            f.write(b"\0" * max(0, free - leave_bytes))

    def send(self, port, n, size):
        codes = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.ehlo("filler.example")
            for i in range(n):
                s.mail("x@remote.example")
                s.rcpt("postmaster@localhost")
                code, reply = s.data(b"Subject: %d\r\n\r\n" % i + b"y" * size + b"\r\n")
                codes.append((code, reply))
                if code != 250:
                    break
        return codes

    def test_full_disk_gets_452_and_keeps_acknowledged_mail(self):
        server = Server({"store": {"min_free_mib": 1}, "smtp": {"message_bytes_max": 1048576}},
                        data_dir=os.path.join(self.mount, "data"))
        try:
            server.start()
            before = self.send(server.ports["smtp"], 5, 1000)
            self.assertTrue(all(code == 250 for code, _ in before))
            acked = sorted(m["id"] for m in server.queue())
            self.assertEqual(len(acked), 5)
            self.fill(leave_bytes=256 * 1024)
            codes = self.send(server.ports["smtp"], 200, 64 * 1024)
            last_code, last_reply = codes[-1]
            self.assertIn(last_code, (451, 452), codes[-3:])
            if last_code == 452:
                self.assertIn(b"4.3.1", last_reply)
            # Still running and answering.
            self.assertEqual(server.cli("status", check=False).returncode, 0)
            os.remove(os.path.join(self.mount, "filler"))
            self.assertEqual(server.stop(), 0)
            server.start()
            after = {m["id"] for m in server.queue()}
            self.assertTrue(set(acked) <= after, "acknowledged mail was harmed")
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
