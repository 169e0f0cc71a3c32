"""mbsync (isync) against ringmail over IMAPS: the account's mailboxes are synced both ways
with a local Maildir. Mail on the server arrives locally, a message put in the Maildir is
uploaded (APPEND), a flag set locally reaches the server, a message expunged on the server
disappears locally and one deleted locally is expunged on the server."""
import imaplib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import Server
from mailclients import client_tls, simple_message

PASSWORD = "sync-secret"
USER = "sync@example.org"

MBSYNCRC = """IMAPAccount ringmail
Host 127.0.0.1
Port {port}
User {user}
Pass {password}
SSLType IMAPS
CertificateFile {cert}
AuthMechs PLAIN

IMAPStore remote
Account ringmail

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel mail
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
"""


def maildir_messages(folder):
    """{file name: bytes} of the messages in a Maildir folder (new/ and cur/)."""
    out = {}
    for sub in ("new", "cur"):
        path = os.path.join(folder, sub)
        if os.path.isdir(path):
            for name in os.listdir(path):
                with open(os.path.join(path, name), "rb") as f:
                    out[os.path.join(sub, name)] = f.read()
    return out


@unittest.skipUnless(shutil.which("mbsync"), "mbsync (isync) is not installed")
class MbsyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"queue": {"deliver": False}}).start()
        cls.server.cli("domain", "add", "example.org")
        cls.server.cli("user", "add", USER, input=PASSWORD + "\n")
        cls.home = tempfile.mkdtemp(prefix="ringmail-mbsync-")
        cls.maildir = os.path.join(cls.home, "Mail")
        os.makedirs(cls.maildir)
        cls.rc = os.path.join(cls.home, "mbsyncrc")
        with open(cls.rc, "w") as f:
            f.write(MBSYNCRC.format(port=cls.server.ports["imaps"], user=USER, password=PASSWORD,
                                    cert=os.path.join(cls.server.data, "tls", "cert.pem"),
                                    maildir=cls.maildir))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.home, ignore_errors=True)
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def mbsync(self):
        result = subprocess.run(["mbsync", "-c", self.rc, "-a"], capture_output=True, text=True,
                                timeout=60, env=dict(os.environ, HOME=self.home))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def imap(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], ssl_context=client_tls(), timeout=10)
        m.login(USER, PASSWORD)
        self.addCleanup(m.logout)
        return m

    def server_messages(self, m, mailbox):
        """[(uid, flags text, subject line)] of a server mailbox."""
        typ, data = m.select(mailbox)
        self.assertEqual(typ, "OK", data)
        if data == [b"0"]:
            return []
        typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = []
        for item in data:
            if isinstance(item, tuple):
                head = item[0].decode()
                uid = int(head.split("UID ")[1].split()[0])
                flags = head.split("FLAGS (")[1].split(")")[0]
                out.append((uid, flags, item[1].strip().decode()))
        return out

    def test_sync_both_ways(self):
        m = self.imap()
        tagged = m.append("INBOX", "(\\Seen)", None, simple_message("from the server 1"))
        self.assertEqual(tagged[0], "OK")
        m.append("INBOX", None, None, simple_message("from the server 2"))
        m.create("Lists/ietf")
        m.append("Lists/ietf", None, None, simple_message("a list message"))
        m.append("Sent", "(\\Seen)", None, simple_message("sent earlier"))

        # 1. Server -> Maildir: every mailbox, with its messages and \Seen as the S flag.
        self.mbsync()
        inbox = maildir_messages(os.path.join(self.maildir, "INBOX"))
        self.assertEqual(len(inbox), 2, inbox.keys())
        by_subject = {data.split(b"Subject: ")[1].split(b"\r\n")[0].split(b"\n")[0]: name
                      for name, data in inbox.items()}
        self.assertEqual(set(by_subject), {b"from the server 1", b"from the server 2"})
        self.assertTrue(by_subject[b"from the server 1"].split(":2,")[-1].count("S") == 1,
                        by_subject)
        self.assertNotIn("S", by_subject[b"from the server 2"].split(":2,")[-1] if ":2," in
                         by_subject[b"from the server 2"] else "")
        self.assertEqual(len(maildir_messages(os.path.join(self.maildir, "Lists", "ietf"))), 1)
        self.assertEqual(len(maildir_messages(os.path.join(self.maildir, "Sent"))), 1)
        for name in ["Drafts", "Trash", "Junk", "Archive"]:
            self.assertTrue(os.path.isdir(os.path.join(self.maildir, name, "cur")), name)
        stored = [data for data in inbox.values() if b"from the server 2" in data][0]
        # mbsync marks the messages it copies with an X-TUID header of its own.
        stored = re.sub(rb"X-TUID: [^\n]*\n", b"", stored.replace(b"\r\n", b"\n"))
        self.assertEqual(stored,
                         simple_message("from the server 2").replace(b"\r\n", b"\n"))

        # 2. Maildir -> server: a new local message is uploaded, a local flag is set remotely.
        local = simple_message("written offline").replace(b"\r\n", b"\n")
        with open(os.path.join(self.maildir, "INBOX", "new", "1700000000.local1.host"), "wb") as f:
            f.write(local)
        unread = os.path.join(self.maildir, "INBOX", by_subject[b"from the server 2"])
        base = os.path.basename(unread).split(":2,")[0]
        os.rename(unread, os.path.join(self.maildir, "INBOX", "cur", base + ":2,FS"))
        self.mbsync()
        msgs = self.server_messages(m, "INBOX")
        subjects = {s: f for _, f, s in msgs}
        self.assertEqual(set(subjects), {"Subject: from the server 1", "Subject: from the server 2",
                                         "Subject: written offline"})
        self.assertIn("\\Seen", subjects["Subject: from the server 2"])
        self.assertIn("\\Flagged", subjects["Subject: from the server 2"])
        typ, data = m.uid("SEARCH", "SUBJECT", '"written offline"')
        typ, data = m.uid("FETCH", data[0].split()[0], "(BODY.PEEK[])")
        self.assertEqual(re.sub(rb"X-TUID: [^\r]*\r\n", b"", data[0][1]), local.replace(b"\n", b"\r\n"))

        # 3. Expunged on the server -> gone locally after the next sync.
        uid1 = [u for u, _, s in msgs if s == "Subject: from the server 1"][0]
        m.uid("STORE", str(uid1), "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
        self.mbsync()
        inbox = maildir_messages(os.path.join(self.maildir, "INBOX"))
        self.assertEqual(len(inbox), 2, inbox.keys())
        self.assertFalse(any(b"from the server 1" in d for d in inbox.values()))

        # 4. Marked deleted locally (T flag) -> expunged on the server.
        name = [n for n, d in inbox.items() if b"written offline" in d][0]
        path = os.path.join(self.maildir, "INBOX", name)
        os.rename(path, os.path.join(self.maildir, "INBOX", "cur",
                                     os.path.basename(path).split(":2,")[0] + ":2,ST"))
        self.mbsync()
        self.assertEqual([s for _, _, s in self.server_messages(m, "INBOX")],
                         ["Subject: from the server 2"])
        self.assertEqual(len(maildir_messages(os.path.join(self.maildir, "INBOX"))), 1)

        # 5. A folder made locally is created on the server (Create Both).
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, "Local", sub))
        with open(os.path.join(self.maildir, "Local", "new", "1700000001.local2.host"), "wb") as f:
            f.write(simple_message("in a local folder").replace(b"\r\n", b"\n"))
        self.mbsync()
        self.assertEqual([s for _, _, s in self.server_messages(m, "Local")],
                         ["Subject: in a local folder"])
        # A sync with nothing to do changes nothing.
        self.mbsync()
        self.assertEqual(len(self.server_messages(m, "INBOX")), 1)


if __name__ == "__main__":
    unittest.main()
