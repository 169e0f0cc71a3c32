// Envelope encoding: round trips, and refusal (never a crash) of corrupt input.
#include "store/queue/envelope.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "store/body/extent_codec.h"

namespace rm {
namespace {

Envelope sample_envelope() {
  Envelope e;
  e.id = QueueId{0x0005F3C2A1B2C3D4ull};
  e.sender = "alice@example.org";
  e.recipients.push_back(
      {"bob@example.net", 0x0e, "rfc822;bob@example.net", Recipient::State::kPending});
  e.recipients.push_back({"carol@example.com", 0, "", Recipient::State::kDelivered});
  e.recipients.push_back({"dave@example.com", 1, "", Recipient::State::kFailed});
  e.recipients.push_back({"\xC3\xA9ve@exampl\xC3\xA9.fr", 2, "", Recipient::State::kDeferred});
  e.client_address = "[2001:db8::1]:49152";
  e.helo = "mail.example.org";
  e.auth_user = "alice";
  e.listener = "submission";
  e.received_unix_ms = 1700000000123;
  e.body_bytes = 123456789;
  e.body_extents.push_back({7, 0, 100000000, 0xdeadbeef});  // the two add up to body_bytes
  e.body_extents.push_back({8, 1 << 20, 23456789, 0});
  e.body_type = kBody8BitMime;
  e.smtputf8 = true;
  e.ret = kRetHdrs;
  e.envid = "QQ314159";
  e.held = true;
  e.recipients[1].last_reply = "550 5.1.1 <carol@example.com>: user unknown (mx.example.com)";
  e.attempts = 7;
  e.next_attempt_unix_ms = 1700000300000;
  return e;
}

void expect_corrupt(std::string_view bytes) {
  Result<Envelope> r = decode_envelope(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().substr(0, 18), "corrupt envelope: ") << r.status().to_string();
}

TEST(EnvelopeTest, RoundTripsEveryField) {
  const Envelope e = sample_envelope();
  const std::string bytes = encode_envelope(e);
  EXPECT_EQ(bytes[0], static_cast<char>(kEnvelopeVersion));
  Result<Envelope> back = decode_envelope(bytes);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, e);
  EXPECT_EQ(encode_envelope(*back), bytes);
}

TEST(EnvelopeTest, RoundTripsDefaultsAndExtremes) {
  Envelope e;  // null sender, no recipients, no body
  Result<Envelope> back = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, e);

  e.id.value = std::numeric_limits<uint64_t>::max();
  e.received_unix_ms = std::numeric_limits<int64_t>::min();
  e.body_bytes = std::numeric_limits<uint32_t>::max();
  e.body_extents.push_back(
      {std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max(),
       std::numeric_limits<uint32_t>::max(), std::numeric_limits<uint32_t>::max()});
  e.sender = std::string(kEnvelopeStringBytesMax, 'x');
  back = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, e);
  e.received_unix_ms = -1;
  back = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->received_unix_ms, -1);
}

TEST(EnvelopeTest, EveryTruncationIsRefused) {
  const std::string bytes = encode_envelope(sample_envelope());
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    expect_corrupt(std::string_view(bytes).substr(0, n));
  }
}

TEST(EnvelopeTest, BodyBytesMustMatchTheExtents) {
  Envelope e = sample_envelope();
  e.body_bytes += 1;
  EXPECT_FALSE(validate_envelope(e).ok());
  expect_corrupt(encode_envelope(e));
}

TEST(EnvelopeTest, TooManyBodyExtentsAreRefused) {
  Envelope e;
  e.body_extents.assign(kBodyExtentsMax + 1, BodyExtent{1, 0, 0, 0});
  EXPECT_EQ(validate_envelope(e).code(), StatusCode::kInvalidArgument);
  e.body_extents.pop_back();
  EXPECT_TRUE(validate_envelope(e).ok());
}

TEST(EnvelopeTest, TrailingBytesAreRefused) {
  expect_corrupt(encode_envelope(sample_envelope()) + '\0');
}

TEST(EnvelopeTest, HeldAndQuarantineShareTheByteThatWasTheHeldFlag) {
  Envelope e;
  e.quarantine = true;
  const std::string quarantined = encode_envelope(e);
  EXPECT_EQ(quarantined[quarantined.size() - 3], 2);
  e.held = true;
  Result<Envelope> both = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->held);
  EXPECT_TRUE(both->quarantine);
  // An envelope written before quarantine existed (held = 1) reads back held only.
  std::string old = encode_envelope(Envelope{});
  old[old.size() - 3] = 1;
  Result<Envelope> held = decode_envelope(old);
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->held);
  EXPECT_FALSE(held->quarantine);
  EXPECT_EQ(encode_envelope(*held), old);
}

TEST(EnvelopeTest, NonCanonicalEncodingsAreRefused) {
  const std::string good = encode_envelope(Envelope{});
  std::string bad = good;
  bad[0] = 1;  // an older version
  expect_corrupt(bad);
  // id 0 written as a two-byte varint.
  expect_corrupt(good.substr(0, 1) + "\x80" + good.substr(1));
  // A held/quarantine byte with bits beyond those two (it comes before attempts and
  // next_attempt_unix_ms).
  bad = good;
  bad[bad.size() - 3] = 4;
  expect_corrupt(bad);
  // An 11-byte varint for the id.
  expect_corrupt(good.substr(0, 1) + std::string(10, '\xff') + '\x01' + good.substr(2));
}

TEST(EnvelopeTest, HugeCountsAndLengthsAreRefusedWithoutAllocating) {
  const std::string good = encode_envelope(Envelope{});
  // good = version, id(0), sender len(0), recipient count(0), ...
  ASSERT_EQ(good.substr(0, 4), std::string("\x02\x00\x00\x00", 4));
  // A recipient count of 2^64 - 1 and of 100001.
  expect_corrupt(good.substr(0, 3) + std::string(9, '\xff') + '\x01' + good.substr(4));
  expect_corrupt(good.substr(0, 3) + "\xa1\x8d\x06" + good.substr(4));
  // A sender length of 64 KiB + 1 followed by enough bytes.
  expect_corrupt(good.substr(0, 2) + "\x81\x80\x04" + std::string(70000, 'a') + good.substr(3));
  // A sender length beyond the input.
  expect_corrupt(good.substr(0, 2) + "\x10" + "abc");
}

TEST(EnvelopeTest, BitFlipsNeverCrashAndDecodedFormsReencodeIdentically) {
  const std::string good = encode_envelope(sample_envelope());
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] ^= static_cast<char>(1u << (rng() % 8));
    }
    Result<Envelope> r = decode_envelope(bytes);
    if (r.ok()) {
      EXPECT_EQ(encode_envelope(*r), bytes);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(EnvelopeTest, ValidateEnforcesTheDecoderLimits) {
  Envelope e = sample_envelope();
  EXPECT_TRUE(validate_envelope(e).ok());
  e.helo = std::string(kEnvelopeStringBytesMax + 1, 'h');
  EXPECT_EQ(validate_envelope(e).code(), StatusCode::kInvalidArgument);
  e = sample_envelope();
  e.recipients.resize(kEnvelopeRecipientsMax + 1);
  EXPECT_EQ(validate_envelope(e).code(), StatusCode::kInvalidArgument);
  e = sample_envelope();
  e.body_type = 3;
  EXPECT_EQ(validate_envelope(e).code(), StatusCode::kInvalidArgument);
  e = sample_envelope();
  e.recipients.resize(kEnvelopeRecipientsMax);
  Result<Envelope> back = decode_envelope(encode_envelope(e));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->recipients.size(), kEnvelopeRecipientsMax);
}

}  // namespace
}  // namespace rm
