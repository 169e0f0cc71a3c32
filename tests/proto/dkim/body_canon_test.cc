#include "proto/dkim/body_canon.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace rm {
namespace {

std::string hex(const Sha256::Digest& d) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::vector<DkimBodyScan> supported_scans() {
  std::vector<DkimBodyScan> scans;
  for (DkimBodyScan s :
       {DkimBodyScan::kPortable, DkimBodyScan::kSse2, DkimBodyScan::kAvx2, DkimBodyScan::kAvx512}) {
    if (DkimBodyHasher::scan_supported(s))
      scans.push_back(s);
  }
  return scans;
}

struct Hashed {
  std::string digest;
  uint64_t length = 0;
};

Hashed body_hash(std::string_view body, DkimCanon canon, DkimBodyScan scan = DkimBodyScan::kBest,
                 uint64_t limit = UINT64_MAX) {
  DkimBodyHasher h(canon, limit, scan);
  h.update(body);
  Hashed out;
  out.digest = hex(h.finish());
  out.length = h.canonical_length();
  return out;
}

// The canonical body the way the RFC words it, one line at a time: slow and obvious.
// An unterminated last line counts as a line.
std::string reference_canon(std::string_view body, DkimCanon canon) {
  std::vector<std::string> lines;
  std::string line;
  for (char c : body) {
    if (c == '\n') {  // CRLF or a bare LF
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty())
    lines.push_back(line);
  if (canon == DkimCanon::kRelaxed) {
    for (std::string& l : lines) {
      std::string folded;
      bool in_wsp = false;
      for (char c : l) {
        if (c == ' ' || c == '\t') {
          in_wsp = true;
          continue;
        }
        if (in_wsp)
          folded += ' ';
        in_wsp = false;
        folded += c;
      }
      l = folded;  // whitespace at the end is dropped
    }
  }
  while (!lines.empty() && lines.back().empty())
    lines.pop_back();
  std::string out;
  for (const std::string& l : lines)
    out += l + "\r\n";
  if (lines.empty() && canon == DkimCanon::kSimple)
    out = "\r\n";
  return out;
}

struct Vector {
  const char* body;
  const char* simple;
  const char* relaxed;
};

// Computed with dkimpy 1.1.4 (dkim.canonicalization, after its LF -> CRLF normalization).
constexpr Vector kVectors[] = {
    {"", "7eb70257593da06f682a3ddda54a9d260d4fc514f645237f5ca74b08f8da61a6",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"\r\n", "7eb70257593da06f682a3ddda54a9d260d4fc514f645237f5ca74b08f8da61a6",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"\r\n\r\n\r\n", "7eb70257593da06f682a3ddda54a9d260d4fc514f645237f5ca74b08f8da61a6",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {" \r\n\t\r\n", "4058261dc726e331e50b29b90fa7c28089d9a094b3a47cfa4b58e3f52d155468",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {" C \r\nD \t E\r\n\r\n\r\n",
     "34e7a2bdb4250c7f5398d289530ec3e77c197ec93c60c67f853b955704e08bcb",
     "ba76a4e891ead302fe4351cfedd5b5b63071f452c0e837dfa19d2aacbc1b6e9a"},
    {"Hello world\r\n", "c86217a0cf751350e22a3bc205c0bc3655b2c39e1375f310d3cb1db70b4e3b82",
     "c86217a0cf751350e22a3bc205c0bc3655b2c39e1375f310d3cb1db70b4e3b82"},
    {"Hello world", "c86217a0cf751350e22a3bc205c0bc3655b2c39e1375f310d3cb1db70b4e3b82",
     "c86217a0cf751350e22a3bc205c0bc3655b2c39e1375f310d3cb1db70b4e3b82"},
    {"Hello  \t world \t\r\n\r\n \r\n",
     "f01b32004e30ec610ff3e0d43506ea5fb43e90b13f5be68f24c8b884966af98f",
     "c86217a0cf751350e22a3bc205c0bc3655b2c39e1375f310d3cb1db70b4e3b82"},
    {"line one\nline two\n\n", "6612d9c94c2da8d2544e1188348fc7baf717ffff1bacde51929a166404a41ffc",
     "6612d9c94c2da8d2544e1188348fc7baf717ffff1bacde51929a166404a41ffc"},
    {"a\r\rb\r\n", "e714ec4f611102430f49b26f1bdb3e5483d8de126810d6e8ca739f5ffcb3161b",
     "e714ec4f611102430f49b26f1bdb3e5483d8de126810d6e8ca739f5ffcb3161b"},
    {"tab\there\r\n  lead\r\n", "62e28bde2d69df8204c22c534d1b947490cd5a2291fa40ed92917ba348704452",
     "aaeee20d16914bafe3a72f988083bd6e1abeab4ebe78015707ac9cf84532b9f8"},
    {"x\r\n\r\n\r\ny\r\n\r\n", "1f085bde7177a4c9252acaa86d4b22a82900ac0a4bf7888cb42e1c9fbf31c32a",
     "1f085bde7177a4c9252acaa86d4b22a82900ac0a4bf7888cb42e1c9fbf31c32a"},
    {"Dear  all,\r\n\r\n  The meeting is at 10:00 \r\n\tSee you.\r\n-- \r\nBob\r\n\r\n",
     "950776ee21bcdf9576b58255de543ffb4bab47642d832ac4b43907328a3e68f5",
     "3150b946a279bae97511d7867f1dcdc99ec131a09895b1aa8fb8672703d0c22d"},
};

TEST(DkimBodyHasher, MatchesDkimpy) {
  for (DkimBodyScan scan : supported_scans()) {
    for (const Vector& v : kVectors) {
      SCOPED_TRACE(v.body);
      EXPECT_EQ(body_hash(v.body, DkimCanon::kSimple, scan).digest, v.simple);
      EXPECT_EQ(body_hash(v.body, DkimCanon::kRelaxed, scan).digest, v.relaxed);
    }
  }
}

TEST(DkimBodyHasher, BestScanIsSupported) {
  const std::string_view name = DkimBodyHasher::best_scan_name();
  EXPECT_TRUE(name == "avx512" || name == "avx2" || name == "sse2" || name == "portable") << name;
  EXPECT_TRUE(DkimBodyHasher::scan_supported(DkimBodyScan::kPortable));
}

TEST(DkimBodyHasher, EmptyBodies) {
  // The well-known bh= of an empty body: base64 "frcCV1k9..." (simple), "47DEQpj8..." (relaxed).
  EXPECT_EQ(body_hash("", DkimCanon::kSimple).digest, hex(Sha256::hash("\r\n")));
  EXPECT_EQ(body_hash("", DkimCanon::kSimple).length, 2u);
  EXPECT_EQ(body_hash("", DkimCanon::kRelaxed).digest, hex(Sha256::hash("")));
  EXPECT_EQ(body_hash("", DkimCanon::kRelaxed).length, 0u);
}

TEST(DkimBodyHasher, Rfc6376Example) {
  // RFC 6376 §3.4.5.
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  EXPECT_EQ(body_hash(body, DkimCanon::kRelaxed).digest, hex(Sha256::hash(" C\r\nD E\r\n")));
  EXPECT_EQ(body_hash(body, DkimCanon::kRelaxed).length, 9u);
  EXPECT_EQ(body_hash(body, DkimCanon::kSimple).digest, hex(Sha256::hash(" C \r\nD \t E\r\n")));
}

TEST(DkimBodyHasher, EverySplitGivesTheSameDigest) {
  for (DkimBodyScan scan : supported_scans()) {
    for (const Vector& v : kVectors) {
      const std::string body = v.body;
      for (DkimCanon canon : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
        const std::string want = canon == DkimCanon::kSimple ? v.simple : v.relaxed;
        for (size_t i = 0; i <= body.size(); ++i) {
          for (size_t j = i; j <= body.size(); ++j) {
            DkimBodyHasher h(canon, UINT64_MAX, scan);
            h.update(std::string_view(body).substr(0, i));
            h.update(std::string_view(body).substr(i, j - i));
            h.update(std::string_view(body).substr(j));
            ASSERT_EQ(hex(h.finish()), want) << v.body << " split at " << i << "," << j;
          }
        }
      }
    }
  }
}

std::string random_body(std::mt19937& rng, size_t size) {
  static constexpr char kAlphabet[] = "  \t\r\n\r\nab.\r\n   \t\tx\n";
  std::string body;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::uniform_int_distribution<int> run(0, 99);
  while (body.size() < size) {
    if (run(rng) < 10) {
      body += "The quick brown fox jumps over the lazy dog, again and again and again.";
    } else {
      body += kAlphabet[pick(rng)];
    }
  }
  return body;
}

TEST(DkimBodyHasher, AgreesWithReferenceOnRandomBodies) {
  std::mt19937 rng(6376);
  const std::vector<DkimBodyScan> scans = supported_scans();
  for (int round = 0; round < 400; ++round) {
    const std::string body = random_body(rng, static_cast<size_t>(round) * 7 % 1500);
    for (DkimCanon canon : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
      const std::string canonical = reference_canon(body, canon);
      const std::string want = hex(Sha256::hash(canonical));
      for (DkimBodyScan scan : scans) {
        // Pieces of a random size, as the network would deliver them.
        DkimBodyHasher h(canon, UINT64_MAX, scan);
        std::uniform_int_distribution<size_t> step(1, 97);
        for (size_t pos = 0; pos < body.size();) {
          const size_t n = step(rng);
          h.update(std::string_view(body).substr(pos, n));
          pos += n;
        }
        ASSERT_EQ(hex(h.finish()), want) << "round " << round;
        ASSERT_EQ(h.canonical_length(), canonical.size());
        ASSERT_EQ(body_hash(body, canon, scan).digest, want) << "round " << round;
      }
    }
  }
}

// Bodies made mostly of the bytes canonicalization cares about, cut at random places. Half
// of them have bare LFs; the others only CRLFs (and bare CRs), which lets the AVX2 block
// mode run over them.
TEST(DkimBodyHasher, AgreesWithReferenceOnDenseBodies) {
  std::mt19937 rng(1384);
  static constexpr std::string_view kPieces[] = {" ", "\t", "\r\n", "a", "\r", "b", "  ", "\n"};
  constexpr size_t kPiecesWithoutBareLf = std::size(kPieces) - 1;
  std::uniform_int_distribution<size_t> size(0, 400);
  std::uniform_int_distribution<size_t> step(1, 40);
  const std::vector<DkimBodyScan> scans = supported_scans();
  for (int round = 0; round < 5000; ++round) {
    std::uniform_int_distribution<size_t> pick(
        0, (round % 2 == 0 ? kPiecesWithoutBareLf : std::size(kPieces)) - 1);
    std::string body;
    for (size_t n = size(rng); body.size() < n;) {
      body += kPieces[pick(rng)];
    }
    for (DkimCanon canon : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
      const std::string canonical = reference_canon(body, canon);
      const std::string want = hex(Sha256::hash(canonical));
      for (DkimBodyScan scan : scans) {
        DkimBodyHasher h(canon, UINT64_MAX, scan);
        for (size_t pos = 0; pos < body.size();) {
          const size_t n = step(rng);
          h.update(std::string_view(body).substr(pos, n));
          pos += n;
        }
        ASSERT_EQ(hex(h.finish()), want) << testing::PrintToString(body);
        ASSERT_EQ(h.canonical_length(), canonical.size());
        ASSERT_EQ(body_hash(body, canon, scan).digest, want) << testing::PrintToString(body);
      }
    }
  }
}

// Large bodies: block mode fills and empties its stage many times over.
TEST(DkimBodyHasher, AgreesWithReferenceOnLargeBodies) {
  std::mt19937 rng(4096);
  std::string body;
  for (char c : random_body(rng, 200000)) {  // without bare LFs, which stop block mode
    if (c == '\n' && (body.empty() || body.back() != '\r')) {
      body += '\r';
    }
    body += c;
  }
  for (DkimCanon canon : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
    const std::string canonical = reference_canon(body, canon);
    const std::string want = hex(Sha256::hash(canonical));
    for (DkimBodyScan scan : supported_scans()) {
      for (size_t piece : {size_t{4093}, size_t{65536}, body.size()}) {
        DkimBodyHasher h(canon, UINT64_MAX, scan);
        for (size_t pos = 0; pos < body.size(); pos += piece) {
          h.update(std::string_view(body).substr(pos, piece));
        }
        EXPECT_EQ(hex(h.finish()), want) << piece;
        EXPECT_EQ(h.canonical_length(), canonical.size());
      }
    }
  }
}

TEST(DkimBodyHasher, LengthLimitHashesOnlyThePrefix) {
  std::mt19937 rng(42);
  const std::string body = random_body(rng, 3000);
  for (DkimCanon canon : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
    const std::string canonical = reference_canon(body, canon);
    for (uint64_t limit : std::vector<uint64_t>{0, 1, 2, 63, 64, 65, 1000, 2999, 100000}) {
      const Hashed got = body_hash(body, canon, DkimBodyScan::kBest, limit);
      EXPECT_EQ(got.digest, hex(Sha256::hash(std::string_view(canonical).substr(0, limit))))
          << limit;
      EXPECT_EQ(got.length, canonical.size());
    }
  }
}

TEST(DkimBodyHasher, ManyTrailingEmptyLinesAreCountedNotStored) {
  const std::string body = "a\r\n" + std::string(1 << 20, '\n') + "b" + std::string(1000, ' ');
  const Hashed got = body_hash(body, DkimCanon::kRelaxed);
  std::string canonical = "a\r\n";
  for (int i = 0; i < (1 << 20); ++i)
    canonical += "\r\n";
  canonical += "b\r\n";
  EXPECT_EQ(got.digest, hex(Sha256::hash(canonical)));
  EXPECT_EQ(got.length, canonical.size());
}

}  // namespace
}  // namespace rm
