"""DKIM end to end: `ringmail dkim keygen` stores rsa-sha256 and ed25519-sha256 keys for a
domain; mail from that domain relayed by ringmaild to a capturing SMTP server on loopback
carries both signatures, which dkimpy verifies against the TXT records keygen printed.
`ringmail dkim sign` output verifies with dkimpy too, and `ringmail dkim verify` checks a
dkimpy-signed message with the keys served by a DNS server (dnslib) on loopback."""
import base64
import json
import os
import smtplib
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest

try:
    import dkim
    import nacl.signing
    import dnslib
except ImportError:  # a Python other than Debian's: use Debian's packages all the same
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import dkim
        import nacl.signing
        import dnslib
    except ImportError:
        dkim = dnslib = None

if dnslib is not None:
    from dnslib import QTYPE, RCODE, RR
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

from harness import RINGMAIL, Server, free_port


class CaptureHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one or more messages; keeps the DATA bytes, unstuffed."""

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 capture.test ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250 capture.test")
            elif verb == b"DATA":
                self.reply("354 go ahead")
                data = []
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data.append(chunk[1:] if chunk.startswith(b".") else chunk)
                self.server.messages.append(b"".join(data))
                self.reply("250 2.0.0 captured")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class CaptureServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), CaptureHandler)
        self.messages = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


class TxtZone(BaseResolver if dnslib else object):
    """TXT records by name, split into 255-byte character-strings."""

    def __init__(self, records):
        self.records = records

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            text = self.records[name].encode()
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=60,
                                rdata=dnslib.TXT([text[i:i + 255] for i in range(0, len(text), 255)])))
        return reply


def dkimpy_verify_all(message, records):
    """dkimpy's verdict for every DKIM-Signature, with keys from `records` (name -> TXT)."""
    def dnsfunc(name, timeout=5):
        key = name.decode() if isinstance(name, bytes) else name
        return records.get(key.rstrip(".").lower(), "").encode()
    def verify(idx):
        try:
            return dkim.DKIM(message).verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.ValidationError:  # dkimpy raises for a body hash mismatch
            return False
    count = sum(1 for name, _ in dkim.DKIM(message).headers if name.lower() == b"dkim-signature")
    return [verify(i) for i in range(count)]


MESSAGE = (b"From: Sam Sender <sam@signed.test>\r\nTo: <rita@dest.test>\r\n"
           b"Subject: signed on the way out\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
           b"Message-ID: <dkim-e2e@signed.test>\r\n\r\nHello,\r\n\r\n  a body  with  spaces \r\n.dot\r\n")


@unittest.skipIf(dkim is None, "python3-dkim, python3-nacl and python3-dnslib are needed")
class DkimOutboundTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.capture = CaptureServer()
        cls.dns_port = free_port()
        cls.zone = TxtZone({})
        quiet = DNSLogger(logf=lambda s: None)
        cls.dns = [DNSServer(cls.zone, port=cls.dns_port, address="127.0.0.1", logger=quiet, tcp=tcp)
                   for tcp in (False, True)]
        for server in cls.dns:
            server.start_thread()
        cls.server = Server({"queue": {"deliver": True},
                             "server": {"hostname": "mx.signed.test"},
                             "relay": {"transport_map": ["*=127.0.0.1:%d" % cls.capture.server_address[1]],
                                       "tls": "none",
                                       "dns_servers": "127.0.0.1:%d" % cls.dns_port,
                                       "dns_timeout_ms": 500}}).start()
        cls.records = {}
        for selector, extra in (("rsa2026", []), ("ed2026", ["--ed25519"])):
            made = json.loads(cls.server.cli("--json", "dkim", "keygen", "signed.test", selector, *extra).stdout)
            cls.records[made["name"]] = made["record"]

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        cls.capture.close()
        for server in cls.dns:
            server.stop()
            server.server.server_close()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def ringmail(self, *args, data=b""):
        return subprocess.run([RINGMAIL, "--data", self.server.data, *args], input=data,
                              capture_output=True, timeout=30)

    def test_keygen_prints_the_records_and_list_shows_them(self):
        self.assertEqual(sorted(self.records),
                         ["ed2026._domainkey.signed.test", "rsa2026._domainkey.signed.test"])
        self.assertTrue(self.records["rsa2026._domainkey.signed.test"].startswith("v=DKIM1; k=rsa; p=MII"))
        self.assertTrue(self.records["ed2026._domainkey.signed.test"].startswith("v=DKIM1; k=ed25519; p="))
        keys = json.loads(self.server.cli("--json", "dkim", "list").stdout)["keys"]
        self.assertEqual(sorted((k["selector"], k["type"]) for k in keys),
                         [("ed2026", "ed25519"), ("rsa2026", "rsa")])
        again = self.server.cli("dkim", "keygen", "signed.test", "rsa2026", check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("already has a key", again.stderr)
        readable = self.server.cli("dkim", "keygen", "other.test", "s1", "--ed25519").stdout
        self.assertIn("s1._domainkey.other.test", readable)
        self.server.cli("dkim", "del", "other.test", "s1")
        self.assertNotEqual(self.server.cli("dkim", "del", "other.test", "s1", check=False).returncode, 0)

    def test_relayed_mail_is_signed_with_both_keys(self):
        before = len(self.capture.messages)
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("sam@signed.test", ["rita@dest.test"], MESSAGE)
        self.server.wait_for(lambda: len(self.capture.messages) > before, what="the relayed message")
        relayed = self.capture.messages[-1]
        self.assertEqual(relayed.count(b"DKIM-Signature:"), 2)
        self.assertIn(b"a=rsa-sha256", relayed)
        self.assertIn(b"a=ed25519-sha256", relayed)
        self.assertEqual(dkimpy_verify_all(relayed, self.records), [True, True])
        # Tampering breaks both.
        self.assertEqual(dkimpy_verify_all(relayed.replace(b"a body", b"A body"), self.records),
                         [False, False])

    def test_mail_from_other_domains_is_not_signed(self):
        before = len(self.capture.messages)
        other = MESSAGE.replace(b"sam@signed.test", b"sam@unsigned.test")
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("sam@unsigned.test", ["rita@dest.test"], other)
        self.server.wait_for(lambda: len(self.capture.messages) > before, what="the relayed message")
        self.assertNotIn(b"DKIM-Signature:", self.capture.messages[-1])

    def test_signing_can_be_turned_off(self):
        capture = CaptureServer()
        server = Server({"queue": {"deliver": True}, "dkim": {"sign_outbound": False},
                         "relay": {"transport_map": ["*=127.0.0.1:%d" % capture.server_address[1]],
                                   "tls": "none", "dns_servers": "127.0.0.1:9"}})
        try:
            server.start()
            server.cli("dkim", "keygen", "signed.test", "ed2026", "--ed25519")
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.sendmail("sam@signed.test", ["rita@dest.test"], MESSAGE)
            server.wait_for(lambda: capture.messages, what="the relayed message")
            self.assertNotIn(b"DKIM-Signature:", capture.messages[0])
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()
            capture.close()

    def test_dkim_sign_then_dkimpy_verifies(self):
        lf_only = MESSAGE.replace(b"\r\n", b"\n")
        result = self.ringmail("dkim", "sign", data=lf_only)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count(b"DKIM-Signature:"), 2)
        self.assertTrue(result.stdout.endswith(MESSAGE))  # CRLF line ends, unchanged otherwise
        self.assertEqual(dkimpy_verify_all(result.stdout, self.records), [True, True])
        # Past the connection's 64 KiB input buffer: the control socket collects it.
        large = MESSAGE + b"".join(b"line %06d of a long body\r\n" % i for i in range(20000))
        result = self.ringmail("dkim", "sign", data=large)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.endswith(large))
        self.assertEqual(dkimpy_verify_all(result.stdout, self.records), [True, True])
        missing = self.ringmail("dkim", "sign", "--domain=nokeys.test", data=MESSAGE)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"no DKIM keys for nokeys.test", missing.stderr)

    def test_dkim_verify_of_a_dkimpy_signed_message(self):
        with tempfile.TemporaryDirectory() as tmp:
            pem_path = os.path.join(tmp, "rsa.pem")
            subprocess.run(["openssl", "genrsa", "-out", pem_path, "2048"], check=True,
                           capture_output=True)
            with open(pem_path, "rb") as f:
                rsa_pem = f.read()
            der = subprocess.run(["openssl", "rsa", "-in", pem_path, "-pubout", "-outform", "DER"],
                                 check=True, capture_output=True).stdout
        seed = nacl.signing.SigningKey.generate()
        message = MESSAGE.replace(b"signed.test", b"remote.test")
        ed_sig = dkim.sign(message, b"ed", b"remote.test", base64.b64encode(bytes(seed)),
                           signature_algorithm=b"ed25519-sha256",
                           include_headers=[b"from", b"to", b"subject"])
        rsa_sig = dkim.sign(message, b"rsa", b"remote.test", rsa_pem,
                            include_headers=[b"from", b"to", b"subject"])
        signed = rsa_sig + ed_sig + message
        self.zone.records = {
            "rsa._domainkey.remote.test": "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode(),
            "ed._domainkey.remote.test": "v=DKIM1; k=ed25519; p=" +
                                         base64.b64encode(bytes(seed.verify_key)).decode(),
        }
        out = json.loads(self.ringmail("--json", "dkim", "verify", data=signed).stdout)
        self.assertTrue(out["ok"], out)
        self.assertEqual([(s["result"], s["selector"], s["algorithm"]) for s in out["signatures"]],
                         [("pass", "rsa", "rsa-sha256"), ("pass", "ed", "ed25519-sha256")])
        self.assertTrue(out["authentication_results"].startswith(
            "Authentication-Results: mx.signed.test; dkim=pass header.d=remote.test header.s=rsa"),
            out["authentication_results"])
        tampered = json.loads(self.ringmail("--json", "dkim", "verify",
                                            data=signed.replace(b"a body", b"A body")).stdout)
        self.assertEqual([s["result"] for s in tampered["signatures"]], ["fail", "fail"])
        self.zone.records = {}
        gone = json.loads(self.ringmail("--json", "dkim", "verify", data=signed).stdout)
        self.assertEqual([s["result"] for s in gone["signatures"]], ["permerror", "permerror"])
        readable = self.ringmail("dkim", "verify", data=MESSAGE)
        self.assertEqual(readable.returncode, 0, readable.stderr)
        self.assertIn(b"dkim=none", readable.stdout)


if __name__ == "__main__":
    unittest.main()
