"""IMAP end to end with Python's imaplib (and a raw socket where imaplib cannot express
something): TLS before login, AUTHENTICATE PLAIN, mailboxes and special use, APPEND,
SELECT/EXAMINE, FETCH of structure and parts, STORE, SEARCH, COPY/MOVE, EXPUNGE, CONDSTORE,
STATUS, CLOSE/UNSELECT and mail arriving over SMTP. Sessions side by side, IDLE, bad input
and timeouts are in test_imap_sessions.py. Each test logs in as its own fresh account."""
import base64
import imaplib
import re
import socket
import time
import unittest

from mailclients import (ATTACHMENT, PASSWORD, ImapTestBase, client_tls, code_value,
                         multipart_message, simple_message, smtp_send, tagged_ok, wait_until)


class ImapLoginTest(ImapTestBase):
    def test_login_refused_before_starttls_then_accepted(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.ports["imap"], timeout=10)
        self.clients.append(m)
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertNotIn("AUTH=PLAIN", m.capabilities)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "PRIVACYREQUIRED"):
            m.login(self.user, PASSWORD)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "PRIVACYREQUIRED"):
            m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (self.user, PASSWORD)).encode())
        m.starttls(ssl_context=client_tls())
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        typ, data = m.login(self.user, PASSWORD)
        self.assertEqual(typ, "OK")
        self.assertIn(m.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(m.state, "AUTH")

    def test_commands_sent_with_starttls_are_discarded(self):
        # A command pipelined in the clear behind STARTTLS must not run inside TLS
        # (the STARTTLS command injection of CVE-2011-0411 and kin).
        sock = socket.create_connection(("127.0.0.1", self.server.ports["imap"]), timeout=5)
        with sock:
            f = sock.makefile("rb")
            self.assertTrue(f.readline().startswith(b"* OK "))
            sock.sendall(b"a STARTTLS\r\nb CAPABILITY\r\n")
            self.assertEqual(f.readline(), b"a OK Begin TLS negotiation now\r\n")
            tls = client_tls().wrap_socket(sock)
            tls.sendall(b"c NOOP\r\n")
            self.assertEqual(tls.recv(1000), b"c OK NOOP completed\r\n", "b was dropped")
            tls.close()

    def test_authenticate_plain_with_continuation_and_initial_response(self):
        m = self.imaps(login=False)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            m.authenticate("PLAIN", lambda _: ("\0%s\0wrong" % self.user).encode())
        typ, data = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (self.user, PASSWORD)).encode())
        self.assertEqual(typ, "OK")
        self.assertIn(b"[CAPABILITY", data[0])
        r = self.raw(login=False)  # SASL-IR: the response on the command line
        token = base64.b64encode(("\0%s\0%s" % (self.user, PASSWORD)).encode()).decode()
        tagged, _ = r.command("AUTHENTICATE PLAIN " + token)
        self.assertRegex(tagged, rb"^t\d+ OK ")
        tagged, _ = r.command("AUTHENTICATE PLAIN " + token)
        self.assertRegex(tagged, rb"^t\d+ BAD ", "no second login")
        r2 = self.raw(login=False)
        impostor = base64.b64encode(("other@example.org\0%s\0%s" % (self.user, PASSWORD)).encode())
        tagged, _ = r2.command("AUTHENTICATE PLAIN " + impostor.decode())
        self.assertRegex(tagged, rb"^t\d+ NO \[AUTHORIZATIONFAILED\]")

    def test_capability_before_and_after_login(self):
        m = self.imaps(login=False)
        for cap in ["IMAP4REV1", "IMAP4REV2", "IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "SPECIAL-USE",
                    "LITERAL+", "SASL-IR", "ENABLE", "UNSELECT", "BINARY", "AUTH=PLAIN"]:
            self.assertIn(cap, m.capabilities)
        self.assertNotIn("STARTTLS", m.capabilities, "TLS is already on at imaps")
        m.login(self.user, PASSWORD)
        typ, data = m.capability()
        caps = data[0].decode().upper().split()
        self.assertIn("IMAP4REV2", caps)
        self.assertNotIn("AUTH=PLAIN", caps, "no AUTH= once logged in")
        self.assertTrue(any(c.startswith("APPENDLIMIT=") for c in caps))

    def test_wrong_password(self):
        m = self.imaps(login=False)
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            m.login(self.user, "not the password")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "AUTHENTICATIONFAILED"):
            m.login("nobody@example.org", PASSWORD)


class ImapMailboxTest(ImapTestBase):
    def list_names(self, m, *args):
        typ, data = m.list(*args)
        tagged_ok(typ, data)
        out = {}
        for line in data:
            if line is None:
                continue
            match = re.match(rb'\(([^)]*)\) "/" (.*)$', line)
            self.assertIsNotNone(match, line)
            out[match.group(2).strip(b'"').decode()] = match.group(1).decode().split()
        return out

    def test_new_account_has_special_use_mailboxes(self):
        m = self.imaps()
        boxes = self.list_names(m)
        self.assertEqual(set(boxes), {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"})
        for name in ["Sent", "Drafts", "Trash", "Junk", "Archive"]:
            self.assertIn("\\" + name, boxes[name])
        self.assertIn("\\HasNoChildren", boxes["INBOX"])
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
        special = m._untagged_response(typ, data, "LIST")[1]
        self.assertEqual(len(special), 5, special)
        self.assertFalse(any(b"INBOX" in line for line in special))
        typ, data = m.list('""', '""')  # the hierarchy delimiter
        self.assertEqual(data, [b'(\\Noselect) "/" ""'])

    def test_create_rename_delete_subscribe_lsub(self):
        m = self.imaps()
        tagged_ok(*m.create("Projects"))
        tagged_ok(*m.create("Projects/2026"))
        boxes = self.list_names(m)
        self.assertIn("Projects/2026", boxes)
        self.assertIn("\\HasChildren", boxes["Projects"])
        self.assertIn("\\HasNoChildren", boxes["Projects/2026"])
        typ, data = m.create("Projects/2026")
        self.assertEqual(typ, "NO")
        self.assertIn(b"ALREADYEXISTS", data[0])
        tagged_ok(*m.subscribe("Projects/2026"))
        typ, data = m.lsub('""', "*")
        self.assertEqual([d for d in data if d], [b'(\\HasNoChildren) "/" Projects/2026'])
        typ, data = m._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"')
        subscribed = m._untagged_response(typ, data, "LIST")[1]
        self.assertEqual(len(subscribed), 1, subscribed)
        self.assertIn(b"\\Subscribed", subscribed[0])
        tagged_ok(*m.rename("Projects/2026", "Archive/2026"))
        boxes = self.list_names(m)
        self.assertIn("Archive/2026", boxes)
        self.assertNotIn("Projects/2026", boxes)
        self.assertIn("\\HasChildren", boxes["Archive"])
        self.assertIn("\\HasNoChildren", boxes["Projects"])
        tagged_ok(*m.unsubscribe("Projects/2026"))
        typ, data = m.lsub('""', "*")
        self.assertEqual([d for d in data if d], [])
        tagged_ok(*m.delete("Archive/2026"))
        self.assertNotIn("Archive/2026", self.list_names(m))
        typ, data = m.delete("INBOX")
        self.assertEqual(typ, "NO")
        typ, data = m.select("No/Such/Box")
        self.assertEqual(typ, "NO")
        self.assertIn(b"NONEXISTENT", data[0])
        typ, data = m.delete("No/Such/Box")
        self.assertEqual(typ, "NO")
        percent = self.list_names(m, '""', "%")
        self.assertIn("Projects", percent)
        self.assertNotIn("Archive/2026", percent)
        typ, data = m.rename("INBOX/none", "Other")
        self.assertEqual(typ, "NO")

    # Server bug: CREATE "Team/2026" (no "Team" yet) makes no superior mailbox (RFC 9051
    # 6.3.4 SHOULD), and LIST "" "%" then does not return the "Team" level at all; RFC 9051
    # 6.3.9 says matching levels of hierarchy are returned (\NonExistent / \Noselect when
    # not mailboxes), so clients browsing level by level never see Team/2026.
    def test_percent_list_shows_the_level_above_a_nested_create(self):
        m = self.imaps()
        tagged_ok(*m.create("Team/2026"))
        self.assertIn("Team/2026", self.list_names(m))
        self.assertIn("Team", self.list_names(m, '""', "%"))

    def test_international_names_in_modified_utf7_and_utf8(self):
        r = self.raw()
        r.ok('CREATE "Entw&APw-rfe"')  # "Entwürfe" in modified UTF-7
        self.assertIn(b'* LIST (\\HasNoChildren) "/" Entw&APw-rfe', r.ok('LIST "" "*"'))
        r.ok("ENABLE UTF8=ACCEPT")
        self.assertIn('* LIST (\\HasNoChildren) "/" "Entwürfe"'.encode(), r.ok('LIST "" "*"'))
        r.send('t90 STATUS "Entwürfe" (MESSAGES)\r\n'.encode())
        tagged, untagged = r.read_until_tagged("t90")
        self.assertEqual(untagged, ['* STATUS "Entwürfe" (MESSAGES 0)'.encode()])

    def test_status(self):
        m = self.imaps()
        self.append(m, simple_message("one"), flags="(\\Seen)")
        self.append(m, simple_message("two"))
        typ, data = m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ)")
        tagged_ok(typ, data)
        text = data[0].decode()
        self.assertIn("MESSAGES 2", text)
        self.assertIn("UNSEEN 1", text)
        self.assertIn("UIDNEXT 3", text)
        self.assertRegex(text, r"UIDVALIDITY \d+")
        self.assertRegex(text, r"HIGHESTMODSEQ \d+")
        typ, data = m.status("Nope", "(MESSAGES)")
        self.assertEqual(typ, "NO")


class ImapMessageTest(ImapTestBase):
    def test_append_with_flags_and_date_gives_appenduid(self):
        m = self.imaps()
        typ, data = m.append("INBOX", "(\\Seen \\Flagged $Important)", '"01-Feb-2020 10:30:00 +0100"',
                             simple_message("dated"))
        self.assertEqual(typ, "OK")
        uidvalidity, uid = code_value(data[0], "APPENDUID").split()
        self.assertEqual(uid, "1")
        typ, data = m.select("INBOX")
        self.assertEqual(m.untagged_responses["UIDVALIDITY"][0].decode(), uidvalidity)
        typ, data = m.uid("FETCH", uid, "(FLAGS INTERNALDATE)")
        text = data[0].decode()
        date = re.search(r'INTERNALDATE ("[^"]+")', text).group(1)
        self.assertEqual(time.mktime(imaplib.Internaldate2tuple(b"INTERNALDATE " + date.encode())),
                         time.mktime(imaplib.Internaldate2tuple(b'INTERNALDATE "01-Feb-2020 10:30:00 +0100"')),
                         "the same instant as given (the zone may be normalised)")
        for flag in ["\\Seen", "\\Flagged", "$Important"]:
            self.assertIn(flag, text)
        typ, data = m.append("Missing", None, None, simple_message("nowhere"))
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])

    def test_select_and_examine(self):
        m = self.imaps()
        for i in range(3):
            self.append(m, simple_message("msg %d" % i))
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"3"])
        self.assertEqual(m.untagged_responses["UIDNEXT"], [b"4"])
        self.assertTrue(int(m.untagged_responses["UIDVALIDITY"][0]) > 0)
        self.assertTrue(int(m.untagged_responses["HIGHESTMODSEQ"][0]) > 0)
        self.assertIn(b"\\Seen", m.untagged_responses["FLAGS"][0])
        self.assertIn(b"\\*", m.untagged_responses["PERMANENTFLAGS"][0])
        self.assertIn("READ-WRITE", m.untagged_responses)
        typ, data = m.select("INBOX", readonly=True)  # EXAMINE
        self.assertEqual(data, [b"3"])
        self.assertIn("READ-ONLY", m.untagged_responses)
        typ, data = m.store("1", "+FLAGS", "\\Deleted")
        self.assertEqual(typ, "NO")
        typ, data = m.fetch("1", "(BODY[TEXT])")  # no \Seen in a read-only mailbox
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertNotIn(b"\\Seen", data[0])

    def test_fetch_structure_and_parts_of_a_multipart_message(self):
        m = self.imaps()
        raw = multipart_message()
        self.append(m, raw, date='"02-Mar-2026 11:00:00 +0000"')
        m.select("INBOX")
        typ, data = m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
        text = data[0].decode()
        self.assertIn("FLAGS ()", text)
        self.assertIn('INTERNALDATE "02-Mar-2026 11:00:00 +0000"', text)
        self.assertIn("RFC822.SIZE %d" % len(raw), text)
        self.assertIn('ENVELOPE ("Mon, 02 Mar 2026 10:00:00 +0000" "Report with attachment" '
                      '(("Bob Sender" NIL "bob" "remote.test"))', text)
        self.assertIn('"<multipart.1@remote.test>")', text)
        structure = text[text.index("BODYSTRUCTURE"):]
        self.assertRegex(structure, r'\(\("text" "plain" \("charset" "utf-8"\) NIL NIL "base64" \d+ \d+')
        self.assertRegex(structure, r'\("application" "octet-stream" \("[Nn]ame" "data.bin"\) NIL NIL "base64" \d+')
        self.assertRegex(structure, r'"mixed" \("boundary" "[^"]+"\)')

        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][1], b"Subject: Report with attachment\r\n\r\n")
        typ, data = m.fetch("1", "(BODY.PEEK[]<0.10>)")
        self.assertIn(b"BODY[]<0>", data[0][0])
        self.assertEqual(data[0][1], raw[:10])
        typ, data = m.fetch("1", "(BINARY.PEEK[2])")
        self.assertEqual(data[0][1], ATTACHMENT)
        typ, data = m.fetch("1", "(BINARY.SIZE[2])")
        self.assertIn(b"BINARY.SIZE[2] %d" % len(ATTACHMENT), data[0])
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertNotIn(b"\\Seen", data[0], "PEEK leaves \\Seen alone")

        typ, data = m.fetch("1", "(BODY[1])")
        self.assertEqual(base64.b64decode(data[0][1]),
                         b"The report is attached.\nSecond line.\n")
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Seen", data[0], "BODY[1] sets \\Seen")

    def test_body_sets_seen_and_peek_does_not(self):
        m = self.imaps()
        raw = simple_message("to read")
        self.append(m, raw)
        self.append(m, raw)
        m.select("INBOX")
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], raw)
        typ, data = m.fetch("1:2", "(FLAGS)")
        self.assertNotIn(b"\\Seen", b" ".join(data))
        typ, data = m.fetch("2", "(BODY[])")
        self.assertEqual(data[0][1], raw)
        self.assertIn(b"\\Seen", data[0][0] + (data[1] if isinstance(data[1], bytes) else b""),
                      "the FETCH reports the new FLAGS")
        typ, data = m.fetch("1:2", "(UID FLAGS)")
        self.assertNotIn(b"\\Seen", data[0])
        self.assertIn(b"\\Seen", data[1])

    def test_store_flags_silent_and_keywords(self):
        m = self.imaps()
        for i in range(3):
            self.append(m, simple_message("store %d" % i))
        m.select("INBOX")
        typ, data = m.store("1:2", "+FLAGS", "(\\Flagged $Label1)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), 2)
        self.assertIn(b"\\Flagged", data[0])
        self.assertIn(b"$Label1", data[0])
        typ, data = m.store("1", "-FLAGS", "($Label1)")
        self.assertNotIn(b"$Label1", data[0])
        self.assertIn(b"\\Flagged", data[0])
        typ, data = m.store("3", "+FLAGS.SILENT", "(\\Answered)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [None], "SILENT: no untagged FETCH")
        typ, data = m.store("2", "FLAGS", "(\\Draft)")
        self.assertIn(b"FLAGS (\\Draft)", data[0])
        typ, data = m.fetch("1:3", "(FLAGS)")
        self.assertIn(b"FLAGS (\\Flagged)", data[0])
        self.assertIn(b"FLAGS (\\Draft)", data[1])
        self.assertIn(b"FLAGS (\\Answered)", data[2])
        typ, data = m.uid("STORE", "3", "-FLAGS", "(\\Answered)")
        self.assertIn(b"UID 3", data[0])
        # Keywords used in the mailbox are listed in FLAGS at the next SELECT.
        m.select("INBOX")
        self.assertIn(b"$Label1", m.untagged_responses["FLAGS"][0])

    def search(self, m, *criteria, uid=False):
        typ, data = m.uid("SEARCH", *criteria) if uid else m.search(None, *criteria)
        self.assertEqual(typ, "OK", data)
        return [int(n) for n in data[0].split()]

    def test_search(self):
        m = self.imaps()
        self.append(m, simple_message("alpha report", sender="carol@remote.test",
                                      body="Quarterly numbers.\r\n"),
                    flags="(\\Seen)", date='"10-Jan-2020 09:00:00 +0000"')
        self.append(m, simple_message("beta", sender="dave@remote.test", body="x" * 5000 + "\r\n"),
                    flags="(\\Flagged)", date='"15-Jun-2021 09:00:00 +0000"')
        self.append(m, simple_message("gamma report", sender="carol@remote.test",
                                      body="Nothing much. Zebra.\r\n"),
                    date='"20-Mar-2026 09:00:00 +0000"')
        m.select("INBOX")
        self.assertEqual(self.search(m, "ALL"), [1, 2, 3])
        self.assertEqual(self.search(m, "SEEN"), [1])
        self.assertEqual(self.search(m, "UNSEEN"), [2, 3])
        self.assertEqual(self.search(m, "FLAGGED"), [2])
        self.assertEqual(self.search(m, "SUBJECT", "report"), [1, 3])
        self.assertEqual(self.search(m, "SUBJECT", '"REPORT"'), [1, 3], "case-insensitive")
        self.assertEqual(self.search(m, "FROM", "carol"), [1, 3])
        self.assertEqual(self.search(m, "BODY", "zebra"), [3])
        self.assertEqual(self.search(m, "TEXT", "quarterly"), [1])
        self.assertEqual(self.search(m, "SINCE", "1-Jan-2021"), [2, 3])
        self.assertEqual(self.search(m, "BEFORE", "1-Jan-2021"), [1])
        self.assertEqual(self.search(m, "LARGER", "4000"), [2])
        self.assertEqual(self.search(m, "SMALLER", "4000"), [1, 3])
        self.assertEqual(self.search(m, "NOT", "SEEN", "SUBJECT", "report"), [3])
        self.assertEqual(self.search(m, "OR", "FLAGGED", "SEEN"), [1, 2])
        self.assertEqual(self.search(m, "UID", "2:*"), [2, 3])
        self.assertEqual(self.search(m, "2:3", "FROM", "carol"), [3])
        self.assertEqual(self.search(m, "SUBJECT", "nothing-like-this"), [])
        tagged_ok(*m.store("1", "+FLAGS", "\\Deleted"))
        tagged_ok(*m.expunge())
        # After the expunge, sequence numbers shift but UIDs do not.
        self.assertEqual(self.search(m, "FROM", "carol"), [2])
        self.assertEqual(self.search(m, "FROM", "carol", uid=True), [3])
        self.assertEqual(self.search(m, "UID", "1:2", uid=True), [2])
        typ, data = m.search("KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"BADCHARSET", data[0])

    def test_copy_and_move(self):
        m = self.imaps()
        for i in range(3):
            self.append(m, simple_message("copy %d" % i))
        tagged_ok(*m.create("Keep"))
        m.select("INBOX")
        typ, data = m.copy("1:2", "Keep")
        self.assertEqual(typ, "OK")
        uidvalidity, source, dest = code_value(data[0], "COPYUID").split()
        self.assertEqual((source, dest), ("1:2", "1:2"))
        typ, data = m.uid("MOVE", "3", "Archive")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(m.untagged_responses.get("EXPUNGE"), [b"3"])
        self.assertIn(b"COPYUID", b" ".join(m.untagged_responses.get("OK", [b""])))
        typ, data = m.copy("1", "Nowhere")
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1][0], b'INBOX (MESSAGES 2)')
        self.assertEqual(m.status("Keep", "(MESSAGES)")[1][0], b'Keep (MESSAGES 2)')
        self.assertEqual(m.status("Archive", "(MESSAGES)")[1][0], b'Archive (MESSAGES 1)')
        m.select("Archive")
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][1], b"Subject: copy 2\r\n\r\n")

    def test_expunge_and_uid_expunge(self):
        m = self.imaps()
        for i in range(5):
            self.append(m, simple_message("exp %d" % i))
        m.select("INBOX")
        m.store("1,3,5", "+FLAGS.SILENT", "\\Deleted")
        typ, data = m.uid("EXPUNGE", "1:3")  # only UIDs 1 and 3 of the deleted go
        self.assertEqual(typ, "OK", data)
        uids = [1, 2, 3, 4, 5]  # the client's view, updated by each EXPUNGE in turn
        for seq in m.untagged_responses.pop("EXPUNGE", []):
            del uids[int(seq) - 1]
        self.assertEqual(uids, [2, 4, 5])
        typ, data = m.uid("SEARCH", "ALL")
        self.assertEqual(data[0].split(), [b"2", b"4", b"5"])
        typ, data = m.expunge()
        self.assertEqual(data, [b"3"])
        typ, data = m.uid("SEARCH", "ALL")
        self.assertEqual(data[0].split(), [b"2", b"4"])
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"2"])

    def test_close_expunges_and_unselect_does_not(self):
        m = self.imaps()
        for i in range(4):
            self.append(m, simple_message("close %d" % i))
        m.select("INBOX")
        m.store("1", "+FLAGS.SILENT", "\\Deleted")
        typ, data = m.unselect()
        self.assertEqual(typ, "OK")
        self.assertEqual(m.state, "AUTH")
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"4"])
        typ, data = m.close()
        self.assertEqual(typ, "OK")
        self.assertNotIn("EXPUNGE", m.untagged_responses, "CLOSE reports no EXPUNGE")
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(data, [b"3"])
        m.store("1", "+FLAGS.SILENT", "\\Deleted")  # refused: read-only
        typ, data = m.close()  # CLOSE after EXAMINE expunges nothing
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"3"])

    def test_condstore(self):
        m = self.imaps()
        for i in range(3):
            self.append(m, simple_message("cs %d" % i))
        typ, data = m._simple_command("ENABLE", "CONDSTORE")
        self.assertEqual(typ, "OK")
        self.assertIn(b"CONDSTORE", m.untagged_responses.pop("ENABLED", [b""])[0])
        m.select("INBOX")
        highest = int(m.untagged_responses["HIGHESTMODSEQ"][0])
        typ, data = m.fetch("1:3", "(MODSEQ)")
        modseqs = [int(re.search(rb"MODSEQ \((\d+)\)", d).group(1)) for d in data]
        self.assertEqual(max(modseqs), highest)
        typ, data = m.store("2", "+FLAGS", "(\\Flagged)")
        new_modseq = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
        self.assertGreater(new_modseq, highest)
        typ, data = m.fetch("1:*", "(FLAGS) (CHANGEDSINCE %d)" % highest)
        self.assertEqual(len(data), 1, data)
        self.assertTrue(data[0].startswith(b"2 "), data)
        # UNCHANGEDSINCE older than message 2's MODSEQ: 2 is not changed, 1 and 3 are.
        typ, data = m.store("1:3", "(UNCHANGEDSINCE %d) +FLAGS" % highest, "(\\Seen)")
        self.assertEqual(typ, "OK")
        # imaplib files the tagged response's code [MODIFIED 2] with the untagged ones.
        self.assertEqual(m.untagged_responses.get("MODIFIED"), [b"2"])
        typ, data = m.fetch("1:3", "(FLAGS)")
        self.assertIn(b"\\Seen", data[0])
        self.assertNotIn(b"\\Seen", data[1])
        self.assertIn(b"\\Seen", data[2])
        typ, data = m.status("INBOX", "(HIGHESTMODSEQ)")
        self.assertRegex(data[0], rb"HIGHESTMODSEQ \d+")

    def test_many_messages_and_a_large_one(self):
        r = self.raw()
        total = 300  # more than one batch of stored messages read per step
        for start in range(0, total, 60):  # MULTIAPPEND, 60 non-synchronizing literals each
            parts = []
            for i in range(start, start + 60):
                data = simple_message("bulk %d" % i, body="needle%d\r\n" % i).decode()
                parts.append("{%d+}\r\n%s" % (len(data), data))
            tagged, _ = r.command("APPEND INBOX " + " ".join(parts))
            self.assertIn(b"[APPENDUID ", tagged)
            self.assertTrue(tagged.split(b"] ")[0].endswith(b" %d:%d" % (start + 1, start + 60)), tagged)
        r.ok("SELECT INBOX")
        untagged = r.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(len(untagged), total)
        for i, line in enumerate(untagged):
            self.assertTrue(line.startswith(b"* %d FETCH (UID %d BODY[HEADER.FIELDS (SUBJECT)] {" % (i + 1, i + 1)), line)
            self.assertIn(b"Subject: bulk %d\r\n" % i, line)
        self.assertEqual(r.ok("SEARCH BODY needle299"), [b"* SEARCH 300"])
        self.assertEqual(r.ok("SEARCH BODY needle3"), [b"* SEARCH 4 31 32 33 34 35 36 37 38 39 40"])
        self.assertEqual(r.ok("UID SEARCH TEXT needle257"), [b"* SEARCH 258"])
        big = b"Subject: big\r\n\r\n" + b"".join(
            b"line %07d of a large message, padded to about eighty bytes .......\r\n" % i
            for i in range(60000))  # about 4.5 MB: the FETCH output is streamed
        r.send(b"b1 APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")
        tagged, _ = r.read_until_tagged("b1")
        self.assertIn(b"APPENDUID", tagged)
        tagged, untagged = r.command("FETCH 301 (RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(untagged, [b"* 301 FETCH (RFC822.SIZE %d BODY[] {%d}\r\n" % (len(big), len(big))
                                    + big + b")"])
        # Read in batches bounded by bytes too: the large message goes on its own.
        tagged, untagged = r.command("FETCH 299:301 (BODY.PEEK[])")
        self.assertEqual([line.split(b" (")[0] for line in untagged],
                         [b"* 299 FETCH", b"* 300 FETCH", b"* 301 FETCH"])
        self.assertTrue(untagged[2].endswith(big + b")"))

    def test_mail_delivered_over_smtp_shows_up(self):
        m = self.imaps()
        m.select("INBOX")
        self.assertEqual(m.untagged_responses.pop("EXISTS"), [b"0"])
        smtp_send(self.server.ports["smtp"], [self.user], simple_message("over smtp", to=self.user))

        def announced():
            m.noop()
            return m.untagged_responses.get("EXISTS")
        self.assertEqual(wait_until(announced, what="EXISTS"), [b"1"])
        m.untagged_responses.pop("FETCH", None)  # the new message's FLAGS may be announced
        typ, data = m.fetch("1", "(ENVELOPE BODY.PEEK[TEXT])")
        self.assertIn(b'"over smtp"', data[0][0])
        self.assertEqual(data[0][1], b"Hello.\r\n")
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (RECEIVED)])")
        self.assertTrue(data[0][1].startswith(b"Received: from client.remote.test"), data[0][1])


if __name__ == "__main__":
    unittest.main()
