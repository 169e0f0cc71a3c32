"""SRS end to end: ringmaild A forwards fwd@a.test to user@b.test (an alias to a remote
address); the copy leaves with an SRS0 envelope sender at A's SRS domain; a bounce to that
address comes back to A and is relayed to the original sender; tampered SRS addresses are
refused at RCPT; local senders and mail relayed for clients keep their sender. The remote
sides are Postfix's smtp-sink, which writes each envelope into the dumped message."""
import os
import re
import smtplib
import unittest

from harness import Server, free_port
from test_relay import Sink

FAST_RETRY = {"deliver": True, "retry_initial_ms": 300, "retry_max_ms": 600}


def message(subject, sender, to):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nSRS body.\r\n" % (sender, to, subject)).encode()


def envelope(path):
    """(MAIL FROM, [RCPT TO...], text) of a message smtp-sink dumped."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    sender = re.search(r"^X-Mail-Args: <([^>]*)>", text, re.M).group(1)
    recipients = re.findall(r"^X-Rcpt-Args: <([^>]*)>", text, re.M)
    return sender, recipients, text


class SrsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b_port = free_port()
        cls.elsewhere_port = free_port()
        cls.b = Sink(cls.b_port)
        cls.elsewhere = Sink(cls.elsewhere_port)
        # No srs.secrets: A makes DATA/srs.secret at first start, as postsrsd does.
        cls.a = Server({"queue": FAST_RETRY, "srs": {"domain": "a.test"}, "relay": {
            "transport_map": ["b.test=127.0.0.1:%d" % cls.b_port,
                              "elsewhere.test=127.0.0.1:%d" % cls.elsewhere_port,
                              "first.test=127.0.0.1:%d" % cls.elsewhere_port],
            "dns_servers": "127.0.0.1:9"}}).start()
        cls.a.cli("domain", "add", "a.test")
        cls.a.cli("user", "add", "local@a.test", input="local-secret\n")
        cls.a.cli("alias", "add", "fwd@a.test", "user@b.test")

    @classmethod
    def tearDownClass(cls):
        code = cls.a.stop()
        cls.a.cleanup()
        cls.b.stop()
        cls.elsewhere.stop()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def send(self, sender, recipients, data):
        with smtplib.SMTP("127.0.0.1", self.a.ports["smtp"], timeout=10) as s:
            return s.sendmail(sender, recipients, data)

    def received(self, sink, subject):
        """The envelope of the message with `subject` at `sink`, once it is there."""
        def find():
            for path in sink.messages():
                found = envelope(path)
                if "Subject: %s\n" % subject in found[2].replace("\r\n", "\n"):
                    return found
            return None
        return self.a.wait_for(find, what="%r at the sink" % subject)

    def forward(self, subject):
        self.send("sender@elsewhere.test", ["fwd@a.test"], message(subject, "sender@elsewhere.test", "fwd@a.test"))
        sender, recipients, _ = self.received(self.b, subject)
        self.assertEqual(recipients, ["user@b.test"])
        return sender

    def test_secret_file_made_at_first_start(self):
        path = os.path.join(self.a.data, "srs.secret")
        self.assertTrue(os.path.exists(path))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            self.assertGreaterEqual(len(f.read().strip()), 32)

    def test_forwarded_message_bounced_back_through_srs(self):
        srs = self.forward("forwarded")
        self.assertRegex(srs, r"^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=elsewhere\.test=sender@a\.test$")
        # B bounces it: the DSN to the SRS address reaches A, which sends it on to the sender.
        self.assertEqual(self.send("", [srs], message("bounce", "MAILER-DAEMON@b.test", srs)), {})
        sender, recipients, _ = self.received(self.elsewhere, "bounce")
        self.assertEqual(sender, "")
        self.assertEqual(recipients, ["sender@elsewhere.test"])
        self.a.wait_for(lambda: not self.a.queue(), what="an empty queue")

    def test_second_forwarder_writes_srs1_and_bounces_go_to_the_first(self):
        first = "SRS0=HHHH=TT=origin.test=alice@first.test"  # first.test signed it, not us
        self.send(first, ["fwd@a.test"], message("second hop", first, "fwd@a.test"))
        srs1, _, _ = self.received(self.b, "second hop")
        self.assertRegex(srs1, r"^SRS1=[A-Za-z0-9+/]{4}=first\.test==HHHH=TT=origin\.test=alice@a\.test$")
        self.assertEqual(self.send("", [srs1], message("srs1 bounce", "", srs1)), {})
        sender, recipients, _ = self.received(self.elsewhere, "srs1 bounce")
        self.assertEqual(sender, "")
        self.assertEqual(recipients, [first])

    def test_srs_address_is_case_insensitive(self):
        srs = self.forward("case")
        self.assertEqual(self.send("", [srs.lower()], message("lower bounce", "", srs)), {})
        _, recipients, _ = self.received(self.elsewhere, "lower bounce")
        self.assertEqual(recipients, ["sender@elsewhere.test"])

    def test_tampered_and_unknown_srs_addresses_are_refused(self):
        srs = self.forward("to tamper")
        tampered = srs.replace("sender@", "victim@")
        forged = "SRS0=AAAA=AA=elsewhere.test=sender@a.test"
        for address in (tampered, forged):
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                self.send("", [address], message("forged", "", address))
            code, text = caught.exception.recipients[address]
            self.assertEqual(code, 550)
            self.assertIn(b"5.1.1", text)
            self.assertIn(b"SRS", text)

    def test_local_sender_is_not_rewritten(self):
        self.send("local@a.test", ["fwd@a.test"], message("from local", "local@a.test", "fwd@a.test"))
        sender, _, _ = self.received(self.b, "from local")
        self.assertEqual(sender, "local@a.test")

    def test_null_sender_stays_null(self):
        self.send("", ["fwd@a.test"], message("null forwarded", "", "fwd@a.test"))
        sender, _, _ = self.received(self.b, "null forwarded")
        self.assertEqual(sender, "")

    def test_relay_for_trusted_client_is_not_rewritten(self):
        # 127.0.0.1 is in smtp.trusted_networks: plain relaying, not forwarding.
        self.send("sender@elsewhere.test", ["someone@b.test"],
                  message("relayed", "sender@elsewhere.test", "someone@b.test"))
        sender, recipients, _ = self.received(self.b, "relayed")
        self.assertEqual(sender, "sender@elsewhere.test")
        self.assertEqual(recipients, ["someone@b.test"])


class SrsRestartTest(unittest.TestCase):
    def test_secret_file_is_kept_across_restarts(self):
        b_port, home_port = free_port(), free_port()
        b, home = Sink(b_port), Sink(home_port)
        config = {"queue": FAST_RETRY, "srs": {"domain": "a.test"}, "relay": {
            "transport_map": ["b.test=127.0.0.1:%d" % b_port, "elsewhere.test=127.0.0.1:%d" % home_port],
            "dns_servers": "127.0.0.1:9"}}
        first = Server(config)
        second = None
        try:
            first.start()
            first.cli("domain", "add", "a.test")
            first.cli("alias", "add", "fwd@a.test", "user@b.test")
            with smtplib.SMTP("127.0.0.1", first.ports["smtp"], timeout=10) as s:
                s.sendmail("sender@elsewhere.test", ["fwd@a.test"],
                           message("before restart", "sender@elsewhere.test", "fwd@a.test"))
            srs = envelope(first.wait_for(lambda: b.messages(), what="the forwarded message")[0])[0]
            self.assertTrue(srs.startswith("SRS0="), srs)
            self.assertEqual(first.stop(), 0)
            second = Server(config, data_dir=first.data).start()
            with smtplib.SMTP("127.0.0.1", second.ports["smtp"], timeout=10) as s:
                self.assertEqual(s.sendmail("", [srs], message("after restart", "", srs)), {})
            path = second.wait_for(lambda: home.messages(), what="the bounce at the sender")[0]
            self.assertEqual(envelope(path)[1], ["sender@elsewhere.test"])
            self.assertEqual(second.stop(), 0)
        finally:
            if second:
                second.cleanup()
            first.cleanup()
            b.stop()
            home.stop()


class SrsDisabledTest(unittest.TestCase):
    def test_no_rewriting_and_no_srs_recipients_when_disabled(self):
        sink_port = free_port()
        sink = Sink(sink_port)
        a = Server({"queue": FAST_RETRY, "srs": {"enabled": False, "domain": "a.test"}, "relay": {
            "transport_map": ["b.test=127.0.0.1:%d" % sink_port], "dns_servers": "127.0.0.1:9"}})
        try:
            a.start()
            a.cli("domain", "add", "a.test")
            a.cli("alias", "add", "fwd@a.test", "user@b.test")
            with smtplib.SMTP("127.0.0.1", a.ports["smtp"], timeout=10) as s:
                s.sendmail("sender@elsewhere.test", ["fwd@a.test"],
                           message("plain", "sender@elsewhere.test", "fwd@a.test"))
            path = a.wait_for(lambda: sink.messages(), what="the forwarded message")[0]
            self.assertEqual(envelope(path)[0], "sender@elsewhere.test")
            self.assertFalse(os.path.exists(os.path.join(a.data, "srs.secret")))
            self.assertEqual(a.stop(), 0)
        finally:
            a.cleanup()
            sink.stop()


if __name__ == "__main__":
    unittest.main()
