"""SPF, DKIM and DMARC on mail arriving at the MX listener, end to end: a DNS server on
127.0.0.1 (dnslib, in this process) serves the senders' SPF, DKIM and DMARC records; clients
connect from 127.0.0.2 (outside smtp.trusted_networks, so the checks apply) with smtplib;
messages are signed with dkimpy. What a user would check: the 550 5.7.1 at the end of DATA
for p=reject, the Junk folder for p=quarantine, and Authentication-Results / Received-SPF on
the stored message, with forged Authentication-Results removed."""
import imaplib
import os
import re
import smtplib
import subprocess
import sys
import threading
import unittest

try:
    import dkim
except ImportError:  # an interpreter other than the system's: use the Debian package
    sys.path.append("/usr/lib/python3/dist-packages")
    import dkim

from harness import Server, free_port
from test_spf_suite import SwitchableResolver, Zone, dnslib

RINGMAIL_DKIM = os.environ.get("RINGMAIL_DKIM", "build/release/tools/ringmail-dkim")
if dnslib is not None:
    from dnslib.server import DNSLogger, DNSServer

CLIENT = "127.0.0.2"
HOST = "mx.recv.test"
PASSWORD = "bob-secret"


def dkim_key():
    """(PEM private key, TXT record) of a fresh RSA key, from ringmail-dkim keygen."""
    out = subprocess.run([RINGMAIL_DKIM, "keygen"], capture_output=True, check=True, timeout=60)
    text = out.stdout.decode()
    pem = text[:text.index("\n", text.index("-----END")) + 1]
    return pem.encode(), text.strip().splitlines()[-1]


def message(sender, subject, body="Hello.\r\n", extra=""):
    head = "From: <%s>\r\n" % sender if sender else ""
    return (head + "To: <bob@recv.test>\r\nSubject: %s\r\nMessage-ID: <%s@test>\r\n%s\r\n%s"
            % (subject, subject.replace(" ", "."), extra, body)).encode()


def sign(data, domain, key):
    sig = dkim.sign(data, b"sel", domain.encode(), key,
                    include_headers=[b"from", b"to", b"subject", b"message-id"])
    return sig + data


class World:
    """The DNS server and one ringmaild; `overrides` adds to its config."""
    overrides = {}

    @classmethod
    def setUpClass(cls):
        cls.key, record = dkim_key()
        spf_ok = [{"TXT": "v=spf1 ip4:%s -all" % CLIENT}]
        cls.resolver = SwitchableResolver()
        cls.resolver.zone = Zone({
            "good.test": spf_ok,
            "client.good.test": spf_ok,
            "_dmarc.good.test": [{"TXT": "v=DMARC1; p=reject"}],
            "evil.test": [{"TXT": "v=spf1 -all"}],
            "_dmarc.evil.test": [{"TXT": "v=DMARC1; p=reject"}],
            "quar.test": [{"TXT": "v=spf1 -all"}],
            "_dmarc.quar.test": [{"TXT": "v=DMARC1; p=quarantine"}],
            "bounces.other.test": [{"TXT": "v=spf1 -all"}],
            "signed.test": [{"A": "192.0.2.1"}],
            # One TXT record of several character-strings (each at most 255 bytes).
            "sel._domainkey.signed.test": [{"TXT": [record[i:i + 255]
                                                    for i in range(0, len(record), 255)]}],
            "_dmarc.signed.test": [{"TXT": "v=DMARC1; p=reject"}],
            "sel._domainkey.flaky.test": ["TIMEOUT"],
            "_dmarc.flaky.test": [{"TXT": "v=DMARC1; p=reject"}],
        })
        cls.dns_port = free_port()
        quiet = DNSLogger(logf=lambda s: None)
        cls.dns = [DNSServer(cls.resolver, port=cls.dns_port, address="127.0.0.1", logger=quiet,
                             tcp=tcp) for tcp in (False, True)]
        for server in cls.dns:
            server.start_thread()
        config = {
            "server": {"hostname": HOST, "local_domains": ["recv.test"]},
            # 127.0.0.1 is trusted (no checks); 127.0.0.2 is the outside world.
            "smtp": {"trusted_networks": ["127.0.0.1/32"], "body_chunk_bytes": 4096},
            "relay": {"dns_servers": "127.0.0.1:%d" % cls.dns_port, "dns_timeout_ms": 300},
            "queue": {"deliver": True},
            "access": {"plaintext_auth_allowed": True}}
        config.update(cls.overrides)
        cls.server = Server(config).start()
        cls.server.cli("domain", "add", "recv.test")
        cls.server.cli("user", "add", "bob@recv.test", input=PASSWORD + "\n")
        cls.server.cli("user", "add", "carol@recv.test", input=PASSWORD + "\n")
        cls.maildirs = os.path.join(cls.server.data, "maildirs")
        cls.server.cli("user", "delivery", "carol@recv.test", "maildir:" + cls.maildirs + "/%u")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        for server in cls.dns:
            server.stop()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def send(self, mail_from, data, source=CLIENT, helo="client.good.test", to="bob@recv.test"):
        with smtplib.SMTP(timeout=30, source_address=(source, 0)) as s:
            s.connect("127.0.0.1", self.server.ports["smtp"])
            s.ehlo(helo)
            return s.sendmail(mail_from, [to], data)

    def stored(self, subject, mailbox="INBOX"):
        """The stored bytes of the message with `subject` in bob's `mailbox`."""
        def find():
            imap = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"])
            try:
                imap.login("bob@recv.test", PASSWORD)
                typ, _ = imap.select('"%s"' % mailbox, readonly=True)
                if typ != "OK":
                    return None
                typ, data = imap.search(None, "SUBJECT", '"%s"' % subject)
                ids = data[0].split()
                if not ids:
                    return None
                typ, data = imap.fetch(ids[-1], "(BODY.PEEK[])")
                return data[0][1]
            finally:
                imap.logout()
        return self.server.wait_for(find, what="%r in %s" % (subject, mailbox))

    def headers(self, stored):
        return stored.split(b"\r\n\r\n", 1)[0].decode()

    def auth_results(self, stored):
        """Our Authentication-Results field, unfolded."""
        head = self.headers(stored)
        m = re.search(r"^Authentication-Results: %s;(.*?)\r\n(?=\S)" % re.escape(HOST), head,
                      re.M | re.S)
        self.assertIsNotNone(m, head)
        return " ".join(m.group(1).split())


@unittest.skipIf(dnslib is None, "dnslib (python3-dnslib) is not installed")
class InboundAuthTest(World, unittest.TestCase):

    def test_aligned_spf_pass_is_accepted_and_recorded(self):
        self.send("alice@good.test", message("alice@good.test", "spf pass"))
        stored = self.stored("spf pass")
        self.assertTrue(stored.startswith(b"Authentication-Results: " + HOST.encode()), stored[:200])
        results = self.auth_results(stored)
        self.assertIn("spf=pass smtp.helo=client.good.test", results)
        self.assertIn("spf=pass smtp.mailfrom=alice@good.test", results)
        self.assertIn("dkim=none", results)
        self.assertIn("dmarc=pass", results)
        self.assertIn("header.from=good.test", results)
        self.assertRegex(self.headers(stored), r"(?m)^Received-SPF: pass \(")

    def test_dkim_alignment_passes_dmarc_when_spf_fails_on_a_large_message(self):
        # Larger than body_chunk_bytes: the body reaches the store in chunks before the
        # verdict, and the results still land on top.
        body = "".join("line %05d of a long signed message\r\n" % i for i in range(2000))
        data = sign(message("news@signed.test", "dkim pass", body), "signed.test", self.key)
        self.send("bounce@bounces.other.test", data)
        stored = self.stored("dkim pass")
        self.assertTrue(stored.startswith(b"Authentication-Results: "), stored[:200])
        results = self.auth_results(stored)
        self.assertIn("spf=fail smtp.mailfrom=bounce@bounces.other.test", results)
        self.assertIn("dkim=pass header.d=signed.test", results)
        self.assertIn("dmarc=pass", results)
        self.assertIn(body.encode(), stored)
        # What the store kept still verifies for the next hop (our fields are not signed).
        self.assertTrue(dkim.verify(stored, dnsfunc=self.dnsfunc))

    def dnsfunc(self, name, timeout=5):
        zone = self.resolver.zone
        key = name.decode().rstrip(".").lower().encode() if isinstance(name, bytes) else name
        for rtype, value in zone.records.get(key, []):
            if rtype == "TXT":
                return "".join(value if isinstance(value, list) else [value]).encode()
        return None

    def test_a_changed_body_fails_dkim_but_aligned_spf_still_passes_dmarc(self):
        data = sign(message("alice@good.test", "dkim fail", "Original.\r\n"), "signed.test",
                    self.key).replace(b"Original.", b"Changed!!")
        self.send("alice@good.test", data)
        results = self.auth_results(self.stored("dkim fail"))
        self.assertIn("dkim=fail", results)
        self.assertIn("header.d=signed.test", results)
        self.assertIn("dmarc=pass", results)

    def test_dmarc_reject_refuses_at_the_end_of_data(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send("ceo@evil.test", message("ceo@evil.test", "forged ceo"))
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)
        self.assertIn(b"DMARC", refused.exception.smtp_error)
        self.server.wait_for(lambda: "dmarc=fail" in self.server.log_text(), what="the log line")
        self.assertRegex(self.server.log_text(),
                         r"event=inbound_checks .*dmarc=fail.* action=reject")

    def test_dmarc_quarantine_goes_to_junk(self):
        self.send("promo@quar.test", message("promo@quar.test", "quarantined"))
        stored = self.stored("quarantined", mailbox="Junk")
        self.assertIn("dmarc=fail", self.auth_results(stored))
        imap = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"])
        imap.login("bob@recv.test", PASSWORD)
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", '"quarantined"')
        imap.logout()
        self.assertEqual(data[0], b"")

    def test_dmarc_quarantine_goes_to_the_junk_folder_of_a_maildir(self):
        self.send("promo@quar.test", message("promo@quar.test", "maildir junk"),
                  to="carol@recv.test")
        junk = os.path.join(self.maildirs, "carol", ".Junk", "new")
        files = self.server.wait_for(lambda: os.path.isdir(junk) and os.listdir(junk),
                                     what="a message in .Junk/new")
        with open(os.path.join(junk, files[0]), "rb") as f:
            text = f.read()
        self.assertIn(b"Subject: maildir junk", text)
        self.assertIn(b"dmarc=fail", text)
        self.assertTrue(os.path.exists(os.path.join(self.maildirs, "carol", ".Junk",
                                                    "maildirfolder")))
        inbox = os.path.join(self.maildirs, "carol", "new")
        self.assertEqual(os.listdir(inbox) if os.path.isdir(inbox) else [], [])

    def test_a_message_without_from_is_refused(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send("alice@good.test", message(None, "no from"))
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)

    def test_a_dns_failure_defers_rather_than_rejects(self):
        data = sign(message("news@flaky.test", "flaky dns"), "flaky.test", self.key)
        with self.assertRaises(smtplib.SMTPDataError) as deferred:
            self.send("bounce@bounces.other.test", data)
        self.assertEqual(deferred.exception.smtp_code, 451)
        self.assertIn(b"4.7.1", deferred.exception.smtp_error)

    def test_forged_results_claiming_our_name_are_removed(self):
        # A header section longer than a body chunk: held whole until it ends, then cleaned.
        filler = "".join("X-Filler-%02d: %s\r\n" % (i, "f" * 200) for i in range(40))
        forged = filler + ("Authentication-Results: %s; dkim=pass header.d=forged.example\r\n"
                  "Authentication-Results: other.example;\r\n spf=pass smtp.mailfrom=x@other.example\r\n"
                  "Authentication-Results: %s.; dmarc=pass header.from=forged.example\r\n"
                  % (HOST, HOST.upper()))
        self.send("alice@good.test", message("alice@good.test", "forged results", extra=forged))
        stored = self.stored("forged results")
        head = self.headers(stored)
        self.assertNotIn("forged.example", head)
        self.assertIn("Authentication-Results: other.example;", head)
        self.assertEqual(len(re.findall(r"(?mi)^Authentication-Results: %s\.?;" % re.escape(HOST),
                                        head)), 1)

    def test_a_header_section_past_the_hold_limit_is_stored_unchecked(self):
        # Over 1 MiB of header fields: passed on as it came, DKIM and DMARC permerror
        # (no verdict from them), SPF still checked.
        filler = "".join("X-Filler-%05d: %s\r\n" % (i, "h" * 80) for i in range(12000))
        self.send("alice@good.test", message("alice@good.test", "huge header", extra=filler))
        stored = self.stored("huge header")
        results = self.auth_results(stored)
        self.assertIn("spf=pass smtp.mailfrom=alice@good.test", results)
        self.assertIn("dkim=permerror", results)
        self.assertIn("dmarc=permerror", results)
        self.assertIn(filler.encode(), stored)

    def test_trusted_clients_are_not_checked(self):
        self.send("ceo@evil.test", message("ceo@evil.test", "from inside"), source="127.0.0.1")
        stored = self.stored("from inside")
        self.assertNotIn(b"Authentication-Results:", stored)
        self.assertNotIn(b"Received-SPF:", stored)


@unittest.skipIf(dnslib is None, "dnslib (python3-dnslib) is not installed")
class SpfRejectTest(World, unittest.TestCase):
    """spf.fail = reject, DMARC off: an SPF fail is refused whatever DKIM says."""
    overrides = {"spf": {"fail": "reject"}, "dmarc": {"verify_inbound": False}}

    def test_spf_fail_is_refused_with_5_7_23(self):
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            self.send("ceo@evil.test", message("ceo@evil.test", "spf fail"))
        self.assertEqual(refused.exception.smtp_code, 550)
        self.assertIn(b"5.7.23", refused.exception.smtp_error)

    def test_spf_pass_is_accepted_without_dmarc(self):
        self.send("alice@good.test", message("alice@good.test", "spf only"))
        results = self.auth_results(self.stored("spf only"))
        self.assertIn("spf=pass smtp.mailfrom=alice@good.test", results)
        self.assertNotIn("dmarc=", results)


if __name__ == "__main__":
    unittest.main()
