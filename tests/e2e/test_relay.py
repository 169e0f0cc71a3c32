"""Outbound delivery end to end: two ringmaild on loopback exchanging mail through the
transport map and through MX records served by a real DNS server (dnsmasq) on loopback;
per-recipient outcomes (2xx delivered, 5xx bounced with a DSN into the sender's mailbox,
4xx and refused connections retried); delivery to Postfix's smtp-sink."""
import email
import glob
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
import unittest

from harness import Server, free_port

FAST_RETRY = {"deliver": True, "retry_initial_ms": 300, "retry_max_ms": 600}


def message(subject, sender, to):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nRelayed body.\r\n" % (sender, to, subject)).encode()


def send(server, sender, recipients, data):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
        return s.sendmail(sender, recipients, data)


class Sink:
    """Postfix's smtp-sink on a loopback port, dumping each message to a file."""

    def __init__(self, port, extra=()):
        self.dir = tempfile.mkdtemp(prefix="ringmail-sink-")
        os.chmod(self.dir, 0o777)  # smtp-sink may drop to the postfix user
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "postfix", "-d", self.dir + "/%M.", *extra, "127.0.0.1:%d" % port, "64"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def messages(self):
        """The dumped messages (smtp-sink also leaves empty files for transactions that
        carried no message)."""
        found = []
        for path in sorted(glob.glob(self.dir + "/*")):
            with open(path, "rb") as f:
                if b"Subject:" in f.read():
                    found.append(path)
        return found

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class RelayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns_port = free_port()
        cls.dns = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
             "--port=%d" % cls.dns_port, "--listen-address=127.0.0.1", "--bind-interfaces",
             "--user=root", "--pid-file=", "--local=/test/",
             "--mx-host=mx.test,mail.mx.test,10", "--host-record=mail.mx.test,127.0.0.1",
             "--mx-host=nullmx.test,.,0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Every DNS question goes to the dnsmasq above, never to the system's resolver.
        dns = "127.0.0.1:%d" % cls.dns_port
        cls.receiver = Server({"queue": FAST_RETRY, "relay": {"dns_servers": dns}}).start()
        cls.receiver.cli("domain", "add", "dest.test")
        cls.receiver.cli("domain", "add", "mx.test")
        cls.receiver.cli("user", "add", "rita@dest.test", input="rita-secret\n")
        cls.receiver.cli("user", "add", "max@mx.test", input="max-secret\n")
        cls.sink_port = free_port()
        cls.down_port = free_port()
        cls.sender = Server({"queue": FAST_RETRY, "relay": {
            "transport_map": ["dest.test=127.0.0.1:%d" % cls.receiver.ports["smtp"],
                              "sink.test=127.0.0.1:%d" % cls.sink_port,
                              "down.test=127.0.0.1:%d" % cls.down_port],
            "dns_servers": "127.0.0.1:%d" % cls.dns_port,
            "connection_idle_ms": 120000,  # slow (sanitizer) builds must not see it expire
            "mx_port": cls.receiver.ports["smtp"]}}).start()
        cls.sender.cli("domain", "add", "src.test")
        cls.sender.cli("user", "add", "sam@src.test", input="sam-secret\n")

    @classmethod
    def tearDownClass(cls):
        codes = [cls.sender.stop(), cls.receiver.stop()]
        cls.sender.cleanup()
        cls.receiver.cleanup()
        cls.dns.terminate()
        cls.dns.wait(timeout=10)
        assert codes == [0, 0], "ringmaild did not exit cleanly: %r" % codes

    def count(self, server, address):
        listing = server.mailbox(address)
        return listing["count"] if listing else 0

    def test_transport_map_delivers_and_5xx_bounces_to_the_sender(self):
        before = self.count(self.receiver, "rita@dest.test")
        bounces = self.count(self.sender, "sam@src.test")
        refused = send(self.sender, "sam@src.test", ["rita@dest.test", "nobody@dest.test"],
                       message("mixed", "sam@src.test", "rita@dest.test"))
        self.assertEqual(refused, {})  # the sender's server accepts both; the receiver decides
        self.receiver.wait_for(lambda: self.count(self.receiver, "rita@dest.test") > before,
                               what="the relayed message at the receiver")
        self.sender.wait_for(lambda: self.count(self.sender, "sam@src.test") > bounces,
                             what="the bounce for nobody@dest.test")
        uid = self.sender.mailbox("sam@src.test")["messages"][-1]["uid"]
        dsn = email.message_from_bytes(self.sender.mailbox_body("sam@src.test", uid))
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        fields = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"][0].get_payload()[1]
        self.assertEqual(fields["Final-Recipient"], "rfc822; nobody@dest.test")
        self.assertEqual(fields["Status"], "5.1.1")
        self.assertIn("User unknown", fields["Diagnostic-Code"])
        self.sender.wait_for(lambda: not self.sender.queue(), what="an empty queue")
        log = self.sender.log_text()
        self.assertIn("to=rita@dest.test status=sent", log)

    def test_connections_are_reused_between_messages(self):
        before = self.count(self.receiver, "rita@dest.test")
        connects = self.sender.log_text().count("relay_connect domain=dest.test")
        for i in range(3):
            send(self.sender, "sam@src.test", ["rita@dest.test"], message("reuse %d" % i, "sam@src.test", "rita@dest.test"))
            self.receiver.wait_for(lambda: self.count(self.receiver, "rita@dest.test") == before + i + 1,
                                   what="message %d" % i)
        # At most one new connection per shard (2 here): the rest went over idle ones.
        self.assertLessEqual(self.sender.log_text().count("relay_connect domain=dest.test"), connects + 2)

    def test_mx_from_a_real_dns_server(self):
        before = self.count(self.receiver, "max@mx.test")
        send(self.sender, "sam@src.test", ["max@mx.test"], message("via mx", "sam@src.test", "max@mx.test"))
        self.receiver.wait_for(lambda: self.count(self.receiver, "max@mx.test") > before,
                               what="the message delivered through the MX")
        self.assertIn("mail.mx.test[127.0.0.1", self.sender.log_text())

    def test_null_mx_bounces(self):
        bounces = self.count(self.sender, "sam@src.test")
        send(self.sender, "sam@src.test", ["someone@nullmx.test"], message("null mx", "sam@src.test", "someone@nullmx.test"))
        self.sender.wait_for(lambda: self.count(self.sender, "sam@src.test") > bounces, what="the null MX bounce")
        self.assertIn("null MX", self.sender.log_text())

    def test_refused_connection_is_retried_until_the_server_is_up(self):
        send(self.sender, "sam@src.test", ["pat@down.test"], message("later", "sam@src.test", "pat@down.test"))
        self.sender.wait_for(lambda: "Connection refused" in self.sender.log_text(), what="a refused connection")
        self.assertIn("pat@down.test", [m["recipients"] for m in self.sender.queue()])
        sink = Sink(self.down_port)
        try:
            self.sender.wait_for(lambda: len(sink.messages()) == 1, what="the retried message at smtp-sink")
            self.sender.wait_for(lambda: not self.sender.queue(), what="an empty queue")
        finally:
            sink.stop()

    def test_4xx_then_success_and_delivery_to_smtp_sink(self):
        sink = Sink(self.sink_port, extra=["-r", "RCPT"])  # RCPT gets a 4xx
        try:
            send(self.sender, "sam@src.test", ["a@sink.test", "b@sink.test"], message("sink", "sam@src.test", "a@sink.test"))
            self.sender.wait_for(lambda: "status=deferred" in self.sender.log_text() and
                                 "sink.test" in self.sender.log_text(), what="a 4xx deferral")
            self.assertEqual(sink.messages(), [])
        finally:
            sink.stop()
        sink = Sink(self.sink_port)
        try:
            self.sender.wait_for(lambda: len(sink.messages()) == 1, what="the message at smtp-sink")
            with open(sink.messages()[0], "rb") as f:
                dumped = f.read()
            self.assertIn(b"Subject: sink", dumped)
            self.sender.wait_for(lambda: not self.sender.queue(), what="an empty queue")
        finally:
            sink.stop()


class SmarthostTest(unittest.TestCase):
    def test_smarthost_with_starttls_and_auth(self):
        receiver = Server({"queue": {"deliver": True}, "relay": {"dns_servers": "127.0.0.1:9"}})
        sender = None
        try:
            receiver.start()
            receiver.cli("domain", "add", "dest.test")
            receiver.cli("user", "add", "rita@dest.test", input="rita-secret\n")
            sender = Server({"queue": {"deliver": True}, "relay": {
                "smarthost": "127.0.0.1:%d" % receiver.ports["submission"],
                "smarthost_user": "rita@dest.test", "smarthost_password": "rita-secret",
                "dns_servers": "127.0.0.1:9"}}).start()
            send(sender, "sam@src.test", ["rita@dest.test"], message("smart", "sam@src.test", "rita@dest.test"))
            receiver.wait_for(lambda: (receiver.mailbox("rita@dest.test") or {"count": 0})["count"] == 1,
                              what="the message through the smarthost")
            body = receiver.mailbox_body("rita@dest.test", 1)
            self.assertIn(b"with ESMTPSA", body)  # STARTTLS and AUTH on the submission port
            self.assertEqual(sender.stop(), 0)
            self.assertEqual(receiver.stop(), 0)
        finally:
            if sender:
                sender.cleanup()
            receiver.cleanup()


if __name__ == "__main__":
    unittest.main()
