"""The RFC 7208 test suite (openspf.org, as python3-spf ships it) against ringmaild's SPF:
each scenario's zone is served by a DNS server on 127.0.0.1 (dnslib, in this process) and
each test case runs through `ringmail spf check IP SENDER HELO` on one ringmaild, whose
resolver asks only that server. Scenarios are served one at a time; `spf check` makes a
resolver per request, so no answer is cached from one scenario to the next.

Zone data as the suite means it: SPF entries are served as TXT when a name has no TXT of
its own (RFC 7208 dropped type SPF); "TXT: NONE" is a name without TXT records; TIMEOUT
makes every question about a name go unanswered, but for the types it has records of;
CNAMEs are followed."""
import concurrent.futures
import gzip
import json
import os
import sys
import threading
import unittest

try:
    import dnslib
    import yaml
except ImportError:  # a Python other than Debian's: use Debian's packages all the same
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import dnslib
        import yaml
    except ImportError:
        dnslib = yaml = None

if dnslib is not None:
    from dnslib import QTYPE, RCODE, RR
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

from harness import Server, free_port

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
CNAME_HOPS_MAX = 8


def load_suite():
    with gzip.open(SUITE, "rt", encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def wire(text):
    """The bytes of a zone string: the suite writes raw bytes as \\xNN escapes."""
    if isinstance(text, bytes):
        return text
    text = str(text)
    return text.encode("latin-1") if all(ord(c) < 256 for c in text) else text.encode("utf-8")


def name_key(name):
    """A name as its labels' bytes, lower case: spaces and '%' in labels survive."""
    label = name if isinstance(name, dnslib.DNSLabel) else dnslib.DNSLabel(str(name))
    return b".".join(label.label).lower()


class Zone:
    """One scenario's records: name -> list of (type, value); names that time out."""

    def __init__(self, zonedata):
        self.records = {}
        self.timeout = set()
        for name, entries in (zonedata or {}).items():
            key = name_key(name)
            self.records.setdefault(key, [])
            for entry in entries or []:
                if entry == "TIMEOUT":
                    self.timeout.add(key)
                    continue
                if not isinstance(entry, dict):
                    raise ValueError("zone entry %r of %s" % (entry, name))
                for rtype, value in entry.items():
                    self.records[key].append((rtype, value))
        for key, rrs in self.records.items():
            if not any(t == "TXT" for t, _ in rrs):
                rrs.extend(("TXT", v) for t, v in list(rrs) if t == "SPF")

    def rdata(self, rtype, value):
        if rtype == "A":
            return dnslib.A(value)
        if rtype == "AAAA":
            return dnslib.AAAA(value)
        if rtype == "MX":
            return dnslib.MX(value[1], value[0])
        if rtype in ("PTR", "CNAME"):
            return (dnslib.PTR if rtype == "PTR" else dnslib.CNAME)(value)
        strings = value if isinstance(value, list) else [value]
        return dnslib.TXT([wire(s) for s in strings])

    def answer(self, request):
        """The reply, or None when the question must go unanswered (TIMEOUT)."""
        reply = request.reply()
        reply.header.aa = 1
        qtype = QTYPE[request.q.qtype]
        name = name_key(request.q.qname)
        for _ in range(CNAME_HOPS_MAX):
            if name not in self.records:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            rrs = self.records[name]
            cname = [v for t, v in rrs if t == "CNAME"]
            if cname and qtype != "CNAME":
                reply.add_answer(RR(dnslib.DNSLabel(name.split(b".")), QTYPE.CNAME,
                                    rdata=dnslib.CNAME(cname[0]), ttl=60))
                name = name_key(cname[0])
                continue
            answers = [(t, v) for t, v in rrs if t == qtype and not (t == "TXT" and v == "NONE")]
            if not answers and name in self.timeout:
                return None
            for rtype, value in answers:
                reply.add_answer(RR(dnslib.DNSLabel(name.split(b".")), getattr(QTYPE, rtype),
                                    rdata=self.rdata(rtype, value), ttl=60))
            return reply
        return reply


class SwitchableResolver(BaseResolver if dnslib else object):
    def __init__(self):
        self.zone = Zone({})
        self.lock = threading.Lock()

    def resolve(self, request, handler):
        with self.lock:
            zone = self.zone
        reply = zone.answer(request)
        if reply is None:
            raise dnslib.DNSError("TIMEOUT: no answer")  # dnslib then sends nothing
        return reply


def expected_results(test):
    result = test["result"]
    return [r.lower() for r in (result if isinstance(result, list) else [result])]


@unittest.skipIf(dnslib is None or not os.path.exists(SUITE),
                 "python3-dnslib, python3-yaml and python3-spf are needed")
class SpfSuiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.resolver = SwitchableResolver()
        cls.dns_port = free_port()
        quiet = DNSLogger(logf=lambda s: None)
        cls.dns = [DNSServer(cls.resolver, port=cls.dns_port, address="127.0.0.1", logger=quiet,
                             tcp=tcp) for tcp in (False, True)]
        for server in cls.dns:
            server.start_thread()
        cls.server = Server({"relay": {"dns_servers": "127.0.0.1:%d" % cls.dns_port,
                                       "dns_timeout_ms": 300},
                             "server": {"hostname": "receiver.example.net"}}).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        for server in cls.dns:
            server.stop()
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def check(self, test):
        result = self.server.cli("--json", "spf", "check", test["host"], test["mailfrom"],
                                 test["helo"], check=False)
        try:
            return json.loads(result.stdout)
        except ValueError:
            return {"ok": False, "error": result.stdout + result.stderr}

    def run_case(self, name, test):
        """None when the case passes, else what went wrong."""
        got = self.check(test)
        if not got.get("ok"):
            return "%s: error %s" % (name, got.get("error"))
        want = expected_results(test)
        if got["result"] not in want:
            return "%s: got %s (%s; %s), want %s" % (name, got["result"], got["mechanism"],
                                                     got["problem"], "/".join(want))
        explanation = test.get("explanation")
        # Case apart: the suite's v-macro-ip6 writes %{ir}'s nibbles in its host string's
        # upper case; RFC 7208 §7.4 shows them in lower case, as ringmail expands them.
        if explanation and explanation != "DEFAULT" and got["result"] == "fail" \
                and got["explanation"].lower() != explanation.lower():
            return "%s: explanation %r, want %r" % (name, got["explanation"], explanation)
        return None

    def test_rfc7208_suite(self):
        failures = []
        total = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for scenario in load_suite():
                with self.resolver.lock:
                    self.resolver.zone = Zone(scenario.get("zonedata"))
                cases = sorted(scenario["tests"].items())
                total += len(cases)
                for problem in pool.map(lambda c: self.run_case(*c), cases):
                    if problem:
                        failures.append("[%s] %s" % (scenario["description"], problem))
        print("\nRFC 7208 suite: %d of %d tests pass" % (total - len(failures), total),
              file=sys.stderr)
        self.assertEqual(failures, [], "\n".join(failures))

    def test_received_spf_header(self):
        with self.resolver.lock:
            self.resolver.zone = Zone({"example.org": [{"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}]})
        got = self.check({"host": "192.0.2.9", "mailfrom": "a@example.org", "helo": "h.example.org"})
        self.assertEqual(got["result"], "pass")
        self.assertEqual(got["received_spf"],
                         "Received-SPF: pass (receiver.example.net: domain of a@example.org "
                         "designates 192.0.2.9 as permitted sender) client-ip=192.0.2.9; "
                         "envelope-from=\"a@example.org\"; helo=h.example.org; "
                         "receiver=receiver.example.net; identity=mailfrom; "
                         "mechanism=\"ip4:192.0.2.0/24\"")


if __name__ == "__main__":
    unittest.main()
