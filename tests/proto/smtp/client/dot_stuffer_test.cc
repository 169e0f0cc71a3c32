#include "proto/smtp/client/dot_stuffer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "proto/smtp/data_decoder.h"

namespace rm::smtp {
namespace {

// Stuffs `body` fed in pieces of `step` bytes.
std::string stuff(std::string_view body, size_t step = 1 << 20) {
  DotStuffer stuffer;
  std::string out;
  for (size_t i = 0; i < body.size(); i += step) {
    stuffer.feed(body.substr(i, step), out);
  }
  stuffer.finish(out);
  return out;
}

// What the body should read as after the trip: every line end CRLF, ending with CRLF.
std::string normalized(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' || body[i] == '\n') {
      out += "\r\n";
      if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
        ++i;
      }
    } else {
      out += body[i];
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) {
    out += "\r\n";
  }
  return out;
}

TEST(SmtpDotStufferTest, DoublesLeadingDotsAndEnds) {
  EXPECT_EQ(stuff(""), ".\r\n");
  EXPECT_EQ(stuff("a\r\n"), "a\r\n.\r\n");
  EXPECT_EQ(stuff("a"), "a\r\n.\r\n");
  EXPECT_EQ(stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(stuff("."), "..\r\n.\r\n");
  EXPECT_EQ(stuff("a\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(stuff("\r\n\r\n.\r\n"), "\r\n\r\n..\r\n.\r\n");
}

TEST(SmtpDotStufferTest, BareLineEndsBecomeCrlf) {
  EXPECT_EQ(stuff("a\nb\rc\r\n"), "a\r\nb\r\nc\r\n.\r\n");
  EXPECT_EQ(stuff("x\n.\ny"), "x\r\n..\r\ny\r\n.\r\n");  // "\n.\n" can end nothing downstream
  EXPECT_EQ(stuff("x\r.\r"), "x\r\n..\r\n.\r\n");
  EXPECT_EQ(stuff("\r\r\n\n"), "\r\n\r\n\r\n.\r\n");
}

TEST(SmtpDotStufferTest, ChunkBoundariesDoNotMatter) {
  const std::string body = "a\r\n.b\r\n\r\n..\r\nx\ry\nz.\r\n.\r\n\r.\n.";
  const std::string whole = stuff(body);
  for (size_t step = 1; step <= body.size(); ++step) {
    EXPECT_EQ(stuff(body, step), whole) << step;
  }
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    DotStuffer stuffer;
    std::string out;
    stuffer.feed(body.substr(0, cut), out);
    stuffer.feed(body.substr(cut), out);
    stuffer.finish(out);
    EXPECT_EQ(out, whole) << cut;
    EXPECT_EQ(stuffer.body_bytes(), body.size());
  }
}

TEST(SmtpDotStufferTest, CrAtTheEndOfOneChunkLfAtTheStartOfTheNext) {
  DotStuffer stuffer;
  std::string out;
  stuffer.feed("line\r", out);
  stuffer.feed("\n.dot\r", out);
  stuffer.feed("\n", out);
  stuffer.feed(".", out);
  stuffer.finish(out);
  EXPECT_EQ(out, "line\r\n..dot\r\n..\r\n.\r\n");
}

// Whatever the body, the server's decoder reads back exactly the (normalized) body, ends
// exactly at the end, and sees no bare line end.
TEST(SmtpDotStufferTest, RoundTripThroughTheServersDecoder) {
  std::mt19937 rng(20240601);
  const char alphabet[] = {'.', '.', '\r', '\n', 'a', 'b', ' ', '\0', '\xff'};
  for (int round = 0; round < 2000; ++round) {
    std::string body(rng() % 300, 'x');
    for (char& c : body) {
      c = alphabet[rng() % sizeof(alphabet)];
    }
    const size_t step = 1 + rng() % 17;
    const std::string wire = stuff(body, step);
    DataDecoder decoder(BareLinePolicy::kReject, 1 << 20);
    std::string decoded;
    size_t used = 0;
    for (size_t i = 0; i < wire.size() && !decoder.done(); i += 5) {
      used += decoder.feed(std::string_view(wire).substr(i, 5), decoded);
    }
    ASSERT_TRUE(decoder.done()) << testing::PrintToString(body);
    EXPECT_EQ(used, wire.size()) << testing::PrintToString(body);
    EXPECT_FALSE(decoder.saw_bare_line_end()) << testing::PrintToString(body);
    EXPECT_EQ(decoded, normalized(body)) << testing::PrintToString(body);
  }
}

// The wire form built one byte at a time, as the rules say it.
std::string reference_stuff(std::string_view body) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' || body[i] == '\n') {
      out += "\r\n";
      if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
      line_start = true;
      continue;
    }
    if (line_start && body[i] == '.') out += '.';
    out += body[i];
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  return out + ".\r\n";
}

TEST(SmtpDotStufferTest, MatchesTheByteByByteRulesHoweverSplit) {
  std::mt19937 rng(20261130);
  const char alphabet[] = {'.', '\r', '\n', '\r', '\n', 'a', 'b', 'c', ' ', '\0'};
  for (int round = 0; round < 3000; ++round) {
    std::string body(rng() % 80, 'x');
    for (char& c : body) c = alphabet[rng() % sizeof alphabet];
    const std::string want = reference_stuff(body);
    EXPECT_EQ(stuff(body), want) << testing::PrintToString(body);
    DotStuffer stuffer;  // random split points
    std::string out;
    for (size_t i = 0; i < body.size();) {
      const size_t n = 1 + rng() % 7;
      stuffer.feed(std::string_view(body).substr(i, n), out);
      i += n;
    }
    stuffer.finish(out);
    EXPECT_EQ(out, want) << testing::PrintToString(body);
  }
}

TEST(SmtpDotStufferTest, LongLinesUseTheVectorScan) {
  const std::string line(10000, 'q');
  const std::string body = line + "\r\n." + line + "\n";
  EXPECT_EQ(stuff(body, 4096), line + "\r\n.." + line + "\r\n.\r\n");
}

TEST(SmtpBdatFramingTest, SizeLastAndRawBytes) {
  std::string out;
  append_bdat("hello\r\n.\r\n", false, out);
  EXPECT_EQ(out, "BDAT 10\r\nhello\r\n.\r\n");
  out.clear();
  append_bdat("x\ny", true, out);
  EXPECT_EQ(out, "BDAT 3 LAST\r\nx\ny");
  out.clear();
  append_bdat("", true, out);
  EXPECT_EQ(out, "BDAT 0 LAST\r\n");
}

}  // namespace
}  // namespace rm::smtp
