#include "proto/imap/command_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rm::imap {
namespace {

// Everything a session would see: commands, continuation requests and errors, in order.
struct Transcript {
  std::vector<std::string> events;  // "CMD:<text>", "CONT", "ERR:<tag>:<status>:<code>"
  std::vector<FramedCommand> commands;
};

void drain(ImapCommandReader& reader, Transcript& t) {
  for (;;) {
    const ReaderEvent e = reader.next();
    if (e == ReaderEvent::kNeedMore) {
      return;
    }
    if (e == ReaderEvent::kCommand) {
      t.events.push_back("CMD:" + reader.command().text);
      t.commands.push_back(reader.command());
    } else if (e == ReaderEvent::kContinuationNeeded) {
      t.events.push_back("CONT");
    } else {
      const ReaderError& err = reader.error();
      t.events.push_back("ERR:" + err.tag + ":" + std::string(err.status) + ":" +
                         std::string(err.code) + (err.must_close ? ":CLOSE" : ""));
    }
  }
}

Transcript run(std::string_view input, ImapReaderLimits limits = {}, size_t chunk = 0) {
  ImapCommandReader reader(limits);
  Transcript t;
  if (chunk == 0) {
    reader.feed(input);
    drain(reader, t);
    return t;
  }
  for (size_t i = 0; i < input.size(); i += chunk) {
    reader.feed(input.substr(i, chunk));
    drain(reader, t);
  }
  return t;
}

using Events = std::vector<std::string>;

TEST(ImapCommandReaderTest, SimpleLinesAndPipelining) {
  Transcript t = run("a1 NOOP\r\na2 CAPABILITY\r\na3 LOGOUT\n");
  EXPECT_EQ(t.events, (Events{"CMD:a1 NOOP", "CMD:a2 CAPABILITY", "CMD:a3 LOGOUT"}));
  EXPECT_TRUE(t.commands[0].literals.empty());
}

TEST(ImapCommandReaderTest, SynchronizingLiteralAsksForContinuation) {
  ImapCommandReader reader;
  Transcript t;
  reader.feed("A001 LOGIN {11}\r\n");
  drain(reader, t);
  EXPECT_EQ(t.events, (Events{"CONT"}));
  reader.feed("FRED FOOBAR {7}\r\n");
  drain(reader, t);
  EXPECT_EQ(t.events, (Events{"CONT", "CONT"}));
  reader.feed("fat man\r\n");
  drain(reader, t);
  ASSERT_EQ(t.events.size(), 3u);
  EXPECT_EQ(t.events[2], "CMD:A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man");
  const FramedCommand& c = t.commands[0];
  ASSERT_EQ(c.literals.size(), 2u);
  EXPECT_EQ(c.text.substr(c.literals[0].offset, c.literals[0].size), "FRED FOOBAR");
  EXPECT_EQ(c.text.substr(c.literals[1].offset, c.literals[1].size), "fat man");
  EXPECT_TRUE(c.literals[0].synchronizing);
}

TEST(ImapCommandReaderTest, NonSynchronizingLiteralNeedsNoContinuation) {
  Transcript t = run("A1 LOGIN {4+}\r\nuser {4+}\r\npass\r\nA2 NOOP\r\n");
  EXPECT_EQ(t.events, (Events{"CMD:A1 LOGIN {4+}\r\nuser {4+}\r\npass", "CMD:A2 NOOP"}));
  EXPECT_FALSE(t.commands[0].literals[0].synchronizing);
}

TEST(ImapCommandReaderTest, LiteralBytesAreOpaque) {
  // A literal may hold CRLF, "{5}" and anything else.
  const std::string input =
      std::string("A1 APPEND x ~{12+}\r\n{5}\r\nab\0\r\nxy\r\n", 34) + "A2 NOOP\r\n";
  Transcript t = run(input);
  ASSERT_EQ(t.commands.size(), 2u);
  const FramedCommand& c = t.commands[0];
  ASSERT_EQ(c.literals.size(), 1u);
  EXPECT_TRUE(c.literals[0].binary);
  EXPECT_EQ(c.text.substr(c.literals[0].offset), std::string("{5}\r\nab\0\r\nxy", 12));
}

TEST(ImapCommandReaderTest, ByteByByteAndSmallChunksGiveTheSameResult) {
  const std::string input =
      "A1 LOGIN {3}\r\nbob {6+}\r\nsecret\r\nA2 APPEND INBOX (\\Seen) {10}\r\n0123456789\r\n"
      "A3 SEARCH SUBJECT {2}\r\nhi\r\n";
  Transcript whole = run(input);
  EXPECT_EQ(whole.commands.size(), 3u);
  for (size_t chunk : {1u, 2u, 3u, 7u, 16u}) {
    Transcript t = run(input, {}, chunk);
    EXPECT_EQ(t.events, whole.events) << chunk;
  }
}

TEST(ImapCommandReaderTest, ZeroLengthLiteral) {
  Transcript t = run("A1 LOGIN {0+}\r\n {0}\r\n\r\n");
  EXPECT_EQ(t.events, (Events{"CONT", "CMD:A1 LOGIN {0+}\r\n {0}\r\n"}));
}

TEST(ImapCommandReaderTest, TooLongLineThenResync) {
  ImapReaderLimits limits;
  limits.command_text_bytes_max = 64;
  const std::string input = "A1 NOOP " + std::string(100, 'x') + "\r\nA2 NOOP\r\n";
  EXPECT_EQ(run(input, limits).events, (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  // Without its end yet: the error comes before the line ends and the rest is skipped.
  EXPECT_EQ(run(input, limits, 1).events, (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  // Text across lines counts too.
  const std::string split = "A3 LOGIN {1+}\r\nx " + std::string(60, 'y') + "\r\nA4 NOOP\r\n";
  EXPECT_EQ(run(split, limits).events, (Events{"ERR:A3:BAD:TOOBIG", "CMD:A4 NOOP"}));
}

TEST(ImapCommandReaderTest, TooLongLineEndingInLiteralSkipsIt) {
  ImapReaderLimits limits;
  limits.command_text_bytes_max = 32;
  const std::string input =
      "A1 SEARCH TEXT " + std::string(40, 'x') + " {5+}\r\nA9 NO\r\nA2 NOOP\r\n";
  EXPECT_EQ(run(input, limits).events, (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  EXPECT_EQ(run(input, limits, 1).events, (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
}

TEST(ImapCommandReaderTest, LiteralTooBig) {
  ImapReaderLimits limits;
  limits.literal_bytes_max = 10;
  limits.append_literal_bytes_max = 100;
  // Synchronizing: no continuation; the client will not send the bytes.
  EXPECT_EQ(run("A1 LOGIN {11}\r\nA2 NOOP\r\n", limits).events,
            (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  // Non-synchronizing: its bytes and the rest of the command are skipped.
  EXPECT_EQ(run("A1 LOGIN {11+}\r\n01234567890 {3+}\r\nabc\r\nA2 NOOP\r\n", limits).events,
            (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  EXPECT_EQ(run("A1 LOGIN {11+}\r\n01234567890 {3+}\r\nabc\r\nA2 NOOP\r\n", limits, 1).events,
            (Events{"ERR:A1:BAD:TOOBIG", "CMD:A2 NOOP"}));
  // APPEND has its own, larger limit and answers NO [TOOBIG].
  EXPECT_EQ(run("A3 APPEND INBOX {50+}\r\n" + std::string(50, 'm') + "\r\n", limits).events,
            (Events{"CMD:A3 APPEND INBOX {50+}\r\n" + std::string(50, 'm')}));
  EXPECT_EQ(run("A4 append INBOX {101}\r\nA5 NOOP\r\n", limits).events,
            (Events{"ERR:A4:NO:TOOBIG", "CMD:A5 NOOP"}));
}

TEST(ImapCommandReaderTest, RefusedHugeNonSyncLiteralClosesTheSession) {
  ImapReaderLimits limits;
  limits.refused_literal_skip_bytes_max = 1000;
  EXPECT_EQ(run("A1 APPEND INBOX {999999999999+}\r\n", limits).events,
            (Events{"ERR:A1:NO:TOOBIG:CLOSE"}));
  EXPECT_EQ(run("A1 APPEND INBOX {99999999999999999999999+}\r\n", limits).events,
            (Events{"ERR:A1:BAD::CLOSE"}));
}

TEST(ImapCommandReaderTest, LiteralMinus) {
  ImapReaderLimits limits;
  limits.literal_plus = false;
  limits.append_literal_bytes_max = 10000;
  const std::string small = "A1 APPEND INBOX {4096+}\r\n" + std::string(4096, 'a') + "\r\n";
  EXPECT_EQ(run(small, limits).commands.size(), 1u);
  const std::string big =
      "A1 APPEND INBOX {4097+}\r\n" + std::string(4097, 'a') + "\r\nA2 NOOP\r\n";
  EXPECT_EQ(run(big, limits).events, (Events{"ERR:A1:NO:TOOBIG", "CMD:A2 NOOP"}));
  // A synchronizing literal of the same size is fine.
  const std::string sync = "A1 APPEND INBOX {4097}\r\n" + std::string(4097, 'a') + "\r\n";
  EXPECT_EQ(run(sync, limits).commands.size(), 1u);
}

TEST(ImapCommandReaderTest, TooManyLiterals) {
  ImapReaderLimits limits;
  limits.literals_per_command_max = 2;
  EXPECT_EQ(run("A1 X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\nA2 NOOP\r\n", limits).events,
            (Events{"ERR:A1:BAD:LIMIT", "CMD:A2 NOOP"}));
}

TEST(ImapCommandReaderTest, AMultiappendHoldsAtMostItsTotalOfLiteralBytes) {
  ImapReaderLimits limits;
  limits.append_literal_bytes_max = 100;
  limits.command_literal_bytes_max = 250;
  const std::string m(100, 'm');
  // Two messages fit; a third would take the command to 300 bytes: NO [LIMIT], and the
  // rest of the command (its literal skipped) is dropped.
  EXPECT_EQ(run("A1 APPEND INBOX {100+}\r\n" + m + " {100+}\r\n" + m + "\r\nA2 NOOP\r\n",
                limits)
                .events,
            (Events{"CMD:A1 APPEND INBOX {100+}\r\n" + m + " {100+}\r\n" + m, "CMD:A2 NOOP"}));
  EXPECT_EQ(run("A1 APPEND INBOX {100+}\r\n" + m + " {100+}\r\n" + m + " {100+}\r\n" + m +
                    "\r\nA2 NOOP\r\n",
                limits)
                .events,
            (Events{"ERR:A1:NO:LIMIT", "CMD:A2 NOOP"}));
  // A synchronizing literal past the total gets no continuation.
  EXPECT_EQ(run("A1 APPEND INBOX {100+}\r\n" + m + " {100+}\r\n" + m + " {100}\r\nA2 NOOP\r\n",
                limits)
                .events,
            (Events{"ERR:A1:NO:LIMIT", "CMD:A2 NOOP"}));
}

TEST(ImapCommandReaderTest, UntaggedErrorWhenTagIsBad) {
  ImapReaderLimits limits;
  limits.command_text_bytes_max = 8;
  EXPECT_EQ(run("+++ NOOP NOOP NOOP\r\n", limits).events, (Events{"ERR::BAD:TOOBIG"}));
}

TEST(ImapCommandReaderTest, BufferStaysBoundedOnEndlessLine) {
  ImapReaderLimits limits;
  limits.command_text_bytes_max = 1024;
  ImapCommandReader reader(limits);
  Transcript t;
  const std::string junk(4096, 'z');
  for (int i = 0; i < 1000; ++i) {
    reader.feed(junk);
    drain(reader, t);
    ASSERT_LE(reader.buffered_bytes(), 4096u + 1024u);
  }
  EXPECT_EQ(t.events.size(), 1u);
  reader.feed("\r\nA1 NOOP\r\n");
  drain(reader, t);
  EXPECT_EQ(t.events.back(), "CMD:A1 NOOP");
}

TEST(ImapCommandReaderTest, LargeAppendIsHeldOnce) {
  ImapCommandReader reader;
  Transcript t;
  const size_t size = 1 << 20;
  reader.feed("A1 APPEND INBOX {1048576}\r\n");
  drain(reader, t);
  const std::string chunk(64 * 1024, 'm');
  for (size_t sent = 0; sent < size; sent += chunk.size()) {
    reader.feed(chunk);
    EXPECT_LE(reader.buffered_bytes(), sent + chunk.size() + 64);
    drain(reader, t);
  }
  reader.feed("\r\n");
  drain(reader, t);
  ASSERT_EQ(t.commands.size(), 1u);
  EXPECT_EQ(t.commands[0].literals[0].size, size);
}

TEST(ImapCommandReaderTest, IdleDone) {
  Transcript t = run("A1 IDLE\r\nDONE\r\n");
  ASSERT_EQ(t.commands.size(), 2u);
  EXPECT_TRUE(is_idle_done(t.commands[1].text));
  EXPECT_TRUE(is_idle_done("done"));
  EXPECT_FALSE(is_idle_done("DONE "));
  EXPECT_FALSE(is_idle_done("A2 DONE"));
}

TEST(ImapCommandReaderTest, LeadingTag) {
  EXPECT_EQ(leading_tag("a1 NOOP"), "a1");
  EXPECT_EQ(leading_tag("a1"), "a1");
  EXPECT_EQ(leading_tag("a+1 NOOP"), "");
  EXPECT_EQ(leading_tag("* NOOP"), "");
  EXPECT_EQ(leading_tag(" NOOP"), "");
  EXPECT_EQ(leading_tag("a]b NOOP"), "a]b");
}

}  // namespace
}  // namespace rm::imap
