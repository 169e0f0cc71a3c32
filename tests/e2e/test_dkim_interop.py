"""DKIM interoperability with dkimpy: ringmail-dkim signs and dkimpy verifies, dkimpy signs and
ringmail-dkim verifies, for rsa-sha256 and ed25519-sha256 under both canonicalizations; the
RFC 8463 example verifies; a changed body or signed header fails on both sides."""
import base64
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import dkim
except ImportError:  # an interpreter other than the system's: use the Debian package
    sys.path.append("/usr/lib/python3/dist-packages")
    import dkim

RINGMAIL_DKIM = os.environ.get("RINGMAIL_DKIM", "build/release/tools/ringmail-dkim")

MESSAGE = (b"Received: from relay.example.net by mx.example.org\r\n"
           b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: interop   test,\r\n"
           b"  folded\r\n"
           b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
           b"Message-ID: <1@example.org>\r\n"
           b"\r\n"
           b"Hello  Bob,\t\r\n"
           b"\r\n"
           b"  a line with spaces  \r\n"
           b"\r\n"
           b"\r\n")

RFC8463_MESSAGE = (
    b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    b" d=football.example.com; i=@football.example.com;\r\n"
    b" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    b" subject : date : message-id : from : subject : date;\r\n"
    b" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    b" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    b" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    b" d=football.example.com; i=@football.example.com;\r\n"
    b" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    b" date : message-id : from : subject : date;\r\n"
    b" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    b" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    b" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    b" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
    b"From: Joe SixPack <joe@football.example.com>\r\n"
    b"To: Suzie Q <suzie@shopping.example.net>\r\n"
    b"Subject: Is dinner ready?\r\n"
    b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    b"\r\n"
    b"Hi.\r\n"
    b"\r\n"
    b"We lost the game.  Are you hungry yet?\r\n"
    b"\r\n"
    b"Joe.\r\n")
RFC8463_RECORDS = {
    "brisbane._domainkey.football.example.com":
        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "test._domainkey.football.example.com":
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bd"
        "OKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZy"
        "VYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
}
RFC8463_SEED = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

ALGORITHMS = ["rsa-sha256", "ed25519-sha256"]
CANONS = ["simple/simple", "relaxed/relaxed", "relaxed/simple", "simple/relaxed"]


def run(*args, input=b""):
    return subprocess.run([RINGMAIL_DKIM, *args], input=input, capture_output=True, timeout=60)


def dnsfunc_for(records):
    def dnsfunc(name, timeout=5):
        return records.get(name.decode().rstrip(".").lower(), "").encode() or None
    return dnsfunc


class DkimInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ringmail-dkim-")
        cls.keys = {}  # algorithm -> (PEM file, TXT record, PEM text)
        for algorithm in ALGORITHMS:
            out = run("keygen", *(["--ed25519"] if algorithm.startswith("ed") else []))
            assert out.returncode == 0, out.stderr
            text = out.stdout.decode()
            record = text.strip().splitlines()[-1]
            pem = text[:text.index("\n", text.index("-----END")) + 1]
            path = os.path.join(cls.dir, algorithm + ".pem")
            with open(path, "w") as f:
                f.write(pem)
            cls.keys[algorithm] = (path, record, pem)

    def selector(self, algorithm):
        return algorithm.split("-")[0]

    def records(self):
        return {"%s._domainkey.example.org" % self.selector(a): k[1] for a, k in self.keys.items()}

    def ringmail_sign(self, algorithm, canon, message=MESSAGE):
        out = run("sign", "--domain", "example.org", "--selector", self.selector(algorithm),
                  "--key", self.keys[algorithm][0], "--algorithm", algorithm, "--canon", canon,
                  input=message)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def ringmail_verify(self, message, records):
        args = ["verify"]
        for name, record in records.items():
            args += ["--txt", "%s=%s" % (name, record)]
        return run(*args, input=message)

    def dkimpy_key(self, algorithm):
        pem = self.keys[algorithm][2]
        if algorithm == "rsa-sha256":
            return pem.encode()
        # dkimpy takes an Ed25519 private key as the base64 of its 32-byte seed.
        der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
        return base64.b64encode(der[-32:])

    def test_ringmail_signs_dkimpy_verifies(self):
        for algorithm in ALGORITHMS:
            for canon in CANONS:
                with self.subTest(algorithm=algorithm, canon=canon):
                    signed = self.ringmail_sign(algorithm, canon)
                    self.assertIn(("a=%s;" % algorithm).encode(), signed)
                    self.assertIn(("c=%s;" % canon).encode(), signed)
                    self.assertTrue(dkim.verify(signed, dnsfunc=dnsfunc_for(self.records())))

    def test_dkimpy_signs_ringmail_verifies(self):
        for algorithm in ALGORITHMS:
            for canon in CANONS:
                with self.subTest(algorithm=algorithm, canon=canon):
                    header, body = canon.encode().split(b"/")
                    sig = dkim.sign(MESSAGE, self.selector(algorithm).encode(), b"example.org",
                                    self.dkimpy_key(algorithm), canonicalize=(header, body),
                                    signature_algorithm=algorithm.encode())
                    out = self.ringmail_verify(sig + MESSAGE, self.records())
                    self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                    self.assertTrue(out.stdout.startswith(
                        ("dkim=pass header.d=example.org header.s=%s header.b=" % self.selector(algorithm)).encode()),
                        out.stdout)

    def test_both_signatures_at_once(self):
        signed = self.ringmail_sign("ed25519-sha256", "relaxed/relaxed",
                                    self.ringmail_sign("rsa-sha256", "relaxed/relaxed"))
        out = self.ringmail_verify(signed, self.records())
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(len(out.stdout.splitlines()), 2)
        dnsfunc = dnsfunc_for(self.records())
        d = dkim.DKIM(signed)
        self.assertTrue(d.verify(idx=0, dnsfunc=dnsfunc))
        self.assertTrue(d.verify(idx=1, dnsfunc=dnsfunc))

    def test_identity(self):
        out = run("sign", "--domain", "example.org", "--selector", "ed25519", "--key", self.keys["ed25519-sha256"][0],
                  "--identity", "news@lists.example.org", input=MESSAGE)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"i=news@lists.example.org;", out.stdout)
        self.assertTrue(dkim.verify(out.stdout, dnsfunc=dnsfunc_for(self.records())))
        bad = run("sign", "--domain", "example.org", "--selector", "ed25519", "--key", self.keys["ed25519-sha256"][0],
                  "--identity", "x@example.com", input=MESSAGE)
        self.assertEqual(bad.returncode, 2)

    def test_pkcs8_rsa_key_from_dkimpy(self):
        data = os.path.join(os.path.dirname(dkim.__file__), "tests", "data")
        key = os.path.join(data, "2048_testkey_PKCS8.key")
        if not os.path.exists(key):
            self.skipTest("dkimpy test data not installed")
        with open(os.path.join(data, "2048_testkey_PKCS8.key.pub.txt")) as f:
            record = {"p8._domainkey.example.org": f.read().strip()}  # a whole key record
        out = run("sign", "--domain", "example.org", "--selector", "p8", "--key", key, input=MESSAGE)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(dkim.verify(out.stdout, dnsfunc=dnsfunc_for(record)))
        self.assertEqual(self.ringmail_verify(out.stdout, record).returncode, 0)

    def test_rfc8463_example(self):
        out = self.ringmail_verify(RFC8463_MESSAGE, RFC8463_RECORDS)
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(out.stdout.decode().splitlines(), [
            "dkim=pass header.d=football.example.com header.s=brisbane header.b=/gCrinpc",
            "dkim=pass header.d=football.example.com header.s=test header.b=F45dVWDf"])
        # Ringmail signing the example message with the RFC's Ed25519 key verifies with dkimpy.
        seed = os.path.join(self.dir, "rfc8463.seed")
        with open(seed, "w") as f:
            f.write(RFC8463_SEED + "\n")
        message = RFC8463_MESSAGE[RFC8463_MESSAGE.index(b"From:"):]
        signed = run("sign", "--domain", "football.example.com", "--selector", "brisbane", "--key", seed,
                     input=message)
        self.assertEqual(signed.returncode, 0, signed.stderr)
        self.assertIn(b"bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;", signed.stdout)
        self.assertTrue(dkim.verify(signed.stdout, dnsfunc=dnsfunc_for(RFC8463_RECORDS)))

    def test_tampered_body_fails(self):
        for algorithm in ALGORITHMS:
            with self.subTest(algorithm=algorithm):
                signed = self.ringmail_sign(algorithm, "relaxed/relaxed").replace(b"Hello", b"Jello")
                out = self.ringmail_verify(signed, self.records())
                self.assertEqual(out.returncode, 1)
                self.assertIn(b'dkim=fail reason="body hash did not verify"', out.stdout)
                self.assertFalse(dkim.verify(signed, dnsfunc=dnsfunc_for(self.records())))

    def test_tampered_signed_header_fails(self):
        for algorithm in ALGORITHMS:
            with self.subTest(algorithm=algorithm):
                sig = dkim.sign(MESSAGE, self.selector(algorithm).encode(), b"example.org",
                                self.dkimpy_key(algorithm), signature_algorithm=algorithm.encode())
                signed = (sig + MESSAGE).replace(b"Subject: interop", b"Subject: Interop")
                out = self.ringmail_verify(signed, self.records())
                self.assertEqual(out.returncode, 1)
                self.assertIn(b'dkim=fail reason="signature did not verify"', out.stdout)

    def test_unknown_key_and_no_signature(self):
        signed = self.ringmail_sign("rsa-sha256", "relaxed/relaxed")
        out = self.ringmail_verify(signed, {})
        self.assertEqual(out.returncode, 1)
        self.assertIn(b'dkim=permerror reason="no key record"', out.stdout)
        out = self.ringmail_verify(MESSAGE, self.records())
        self.assertEqual((out.returncode, out.stdout), (1, b"dkim=none\n"))


if __name__ == "__main__":
    unittest.main()
