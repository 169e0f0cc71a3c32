"""Local delivery end to end: mail accepted by a real ringmaild over SMTP (Python's smtplib)
lands in the store's mailboxes, in a Maildir and in an mbox (read back with Python's
mailbox module); aliases, plus-addressing and catch-alls; a delivery that keeps failing is
retried, then bounced with a DSN to the sender's mailbox; deferred mail is delivered after
a restart."""
import email
import mailbox
import os
import shutil
import smtplib
import tempfile
import time
import unittest

from harness import Server


def message(subject, body="Hello.\r\n", sender="alice@example.org", to="bob@example.org"):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\n%s"
            % (sender, to, subject, subject.replace(" ", "."), body)).encode()


def count_messages(open_mailbox):
    """Messages in a Maildir or mbox, 0 while it does not exist yet."""
    try:
        box = open_mailbox()
    except (FileNotFoundError, mailbox.NoSuchMailboxError):
        return 0
    try:
        return len(box)
    except FileNotFoundError:  # a Maildir whose cur/ or new/ is being made
        return 0
    finally:
        box.close()


class LocalDeliveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = tempfile.mkdtemp(prefix="ringmail-files-")
        cls.server = Server({"queue": {"deliver": True, "retry_initial_ms": 200,
                                       "retry_max_ms": 400, "lifetime_ms": 2500}}).start()
        cli = cls.server.cli
        cli("domain", "add", "example.org")
        cli("domain", "add", "catch.example")
        for user in ["alice", "bob", "carol", "dave", "erin"]:
            cli("user", "add", user + "@example.org", input=user + "-secret\n")
        cli("alias", "add", "team@example.org", "alice@example.org", "bob@example.org")
        cli("alias", "add", "@catch.example", "erin@example.org")
        cli("user", "delivery", "carol@example.org", "maildir:" + cls.files + "/maildir/%u")
        cli("user", "delivery", "dave@example.org", "mbox:" + cls.files + "/mbox/%u")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.files, ignore_errors=True)
        assert code == 0, "ringmaild did not exit cleanly: %r" % code

    def send(self, sender, recipients, data):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo("client.example.org")
            refused = s.sendmail(sender, recipients, data)
            self.assertEqual(refused, {})

    def count(self, address):
        listing = self.server.mailbox(address)
        return listing["count"] if listing else 0

    def wait_count(self, address, n):
        self.server.wait_for(lambda: self.count(address) >= n, what="%d in %s" % (n, address))
        self.assertEqual(self.count(address), n)

    def test_mailboxes_aliases_plus_and_catch_all(self):
        before = {a: self.count(a) for a in ["alice@example.org", "bob@example.org", "erin@example.org"]}
        data = message("to the team", body="Line one.\r\n.dot line\r\n")
        self.send("someone@remote.test", ["team@example.org", "alice+news@example.org",
                                          "anyone@catch.example"], data)
        self.wait_count("alice@example.org", before["alice@example.org"] + 2)
        self.wait_count("bob@example.org", before["bob@example.org"] + 1)
        self.wait_count("erin@example.org", before["erin@example.org"] + 1)
        self.server.wait_for(lambda: not self.server.queue(), what="an empty queue")
        listing = self.server.mailbox("bob@example.org")
        last = listing["messages"][-1]
        self.assertEqual(last["uid"], listing["uidnext"] - 1)
        stored = self.server.mailbox_body("bob@example.org", last["uid"])
        self.assertTrue(stored.startswith(b"Received: from client.example.org"), stored[:200])
        self.assertIn(b"Subject: to the team\r\n", stored)
        self.assertTrue(stored.endswith(b"\r\n\r\nLine one.\r\n.dot line\r\n"), stored[-80:])

    def test_maildir_and_mbox_read_back_with_python_mailbox(self):
        self.send("alice@example.org", ["carol@example.org", "dave@example.org"],
                  message("files", body="From the start of a line.\r\nBye.\r\n"))
        maildir_path = os.path.join(self.files, "maildir", "carol")
        mbox_path = os.path.join(self.files, "mbox", "dave")
        self.server.wait_for(lambda: count_messages(lambda: mailbox.Maildir(maildir_path, create=False)) == 1,
                             what="the Maildir message")
        self.server.wait_for(lambda: count_messages(lambda: mailbox.mbox(mbox_path, create=False)) == 1,
                             what="the mbox message")
        md = list(mailbox.Maildir(maildir_path, create=False))[0]
        self.assertEqual(md["Subject"], "files")
        self.assertEqual(md["Delivered-To"], "carol@example.org")
        self.assertEqual(md["Return-Path"], "<alice@example.org>")
        self.assertIn("From the start of a line.\nBye.\n", md.get_payload())
        box = mailbox.mbox(mbox_path)
        mb = list(box)[0]
        box.close()
        self.assertEqual(mb["Subject"], "files")
        self.assertTrue(mb.get_from().startswith("alice@example.org "), mb.get_from())
        self.assertIn(">From the start of a line.\n", mb.get_payload())  # mboxrd quoting

    def test_failing_delivery_is_retried_then_bounced_to_the_sender(self):
        self.server.cli("user", "delivery", "erin@example.org", "mbox:/proc/ringmail-no-such-dir/%u")
        try:
            before = self.count("alice@example.org")
            self.send("alice@example.org", ["erin@example.org"], message("doomed", to="erin@example.org"))
            self.server.wait_for(lambda: self.count("alice@example.org") > before, timeout=15,
                                 what="the bounce in alice's INBOX")
            uid = self.server.mailbox("alice@example.org")["messages"][-1]["uid"]
            dsn = email.message_from_bytes(self.server.mailbox_body("alice@example.org", uid))
            self.assertEqual(dsn.get_content_type(), "multipart/report")
            self.assertEqual(dsn.get_param("report-type"), "delivery-status")
            status = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"][0]
            fields = status.get_payload()[1]
            self.assertEqual(fields["Action"], "failed")
            self.assertEqual(fields["Final-Recipient"], "rfc822; erin@example.org")
            self.assertEqual(fields["Status"], "4.4.7")
            self.assertIn("Subject: doomed", dsn.as_string())
            self.server.wait_for(lambda: not self.server.queue(), what="an empty queue")
            self.assertIn("status=deferred", self.server.log_text())
        finally:
            self.server.cli("user", "delivery", "erin@example.org", "store")


class DelayNoticeTest(unittest.TestCase):
    def test_a_delay_notice_goes_to_the_sender_once(self):
        server = Server({"queue": {"deliver": True, "retry_initial_ms": 200, "retry_max_ms": 200,
                                   "delay_warning_ms": 700}})
        try:
            server.start()
            server.cli("domain", "add", "example.org")
            for user in ["alice", "gina"]:
                server.cli("user", "add", user + "@example.org", input=user + "-secret\n")
            server.cli("user", "delivery", "gina@example.org", "mbox:/proc/ringmail-no-such-dir/%u")
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.sendmail("alice@example.org", ["gina@example.org"], message("slow", to="gina@example.org"))
            server.wait_for(lambda: (server.mailbox("alice@example.org") or {"count": 0})["count"] >= 1,
                            what="the delay notice")
            time.sleep(1.5)  # more attempts fail meanwhile: still one notice
            self.assertEqual(server.mailbox("alice@example.org")["count"], 1)
            dsn = email.message_from_bytes(server.mailbox_body("alice@example.org", 1))
            fields = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"][0].get_payload()[1]
            self.assertEqual(fields["Action"], "delayed")
            self.assertIn("Will-Retry-Until", fields)
            self.assertEqual(len(server.queue()), 1)  # still being retried
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()


class DeferredAcrossRestartTest(unittest.TestCase):
    def test_deferred_mail_is_delivered_after_a_restart(self):
        files = tempfile.mkdtemp(prefix="ringmail-files-")
        server = Server({"queue": {"deliver": True, "retry_initial_ms": 60000}})
        try:
            server.start()
            server.cli("domain", "add", "example.org")
            server.cli("user", "add", "frank@example.org", input="frank-secret\n")
            target = os.path.join(files, "later")
            with open(target, "w"):  # a file where the mbox's directory should be: delivery fails
                pass
            server.cli("user", "delivery", "frank@example.org", "mbox:" + target + "/%u")
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.sendmail("alice@example.org", ["frank@example.org"], message("later", to="frank@example.org"))
            queued = server.wait_for(lambda: [m for m in server.queue() if m["attempts"] == 1],
                                     what="a deferral recorded in the queue")
            self.assertEqual(len(server.queue()), 1)
            self.assertIn("status=deferred", server.log_text())
            self.assertEqual(server.stop(), 0)
            os.remove(target)
            server.start()  # the schedule is rebuilt from the store; the retry is due in 60 s
            server.cli("queue", "flush")
            server.wait_for(lambda: os.path.exists(os.path.join(target, "frank")), what="the mbox")
            self.assertEqual(count_messages(lambda: mailbox.mbox(os.path.join(target, "frank"))), 1)
            server.wait_for(lambda: not server.queue(), what="an empty queue")
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()
            shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
