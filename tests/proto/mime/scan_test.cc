#include "proto/mime/scan.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proto/mime/imap_format.h"
#include "proto/mime/mime_tree.h"
#include "tests/proto/mime/test_messages.h"

namespace rm::mime {
namespace {

std::vector<const MimeScanner*> supported_scanners() {
  std::vector<const MimeScanner*> out;
  for (MimeScanImpl impl : {MimeScanImpl::kPortable, MimeScanImpl::kSse2, MimeScanImpl::kAvx2}) {
    if (mime_scan_supported(impl)) {
      out.push_back(&mime_scanner(impl));
    }
  }
  return out;
}

// Every implementation gives the same answer on every suffix/prefix of `s`.
void expect_agreement(const std::string& s) {
  const MimeScanner& ref = mime_scanner(MimeScanImpl::kPortable);
  for (const MimeScanner* scan : supported_scanners()) {
    for (size_t from = 0; from <= s.size(); from += 1 + from / 8) {
      const char* d = s.data() + from;
      const size_t n = s.size() - from;
      ASSERT_EQ(scan->find_lf(d, n), ref.find_lf(d, n)) << int(scan->impl) << " at " << from;
      ASSERT_EQ(scan->find_dash_line(d, n), ref.find_dash_line(d, n))
          << int(scan->impl) << " at " << from;
      ASSERT_EQ(scan->count_lf(d, n), ref.count_lf(d, n)) << int(scan->impl) << " at " << from;
    }
  }
}

TEST(MimeScanTest, PortableSemantics) {
  const MimeScanner& s = mime_scanner(MimeScanImpl::kPortable);
  EXPECT_EQ(s.find_lf("abc", 3), 3u);
  EXPECT_EQ(s.find_lf("a\nb", 3), 1u);
  EXPECT_EQ(s.find_dash_line("--x\n--", 6), 4u);  // position 0 is not reported
  EXPECT_EQ(s.find_dash_line("x\n-", 3), 3u);
  EXPECT_EQ(s.find_dash_line("x\n--", 4), 2u);
  EXPECT_EQ(s.count_lf("\n\na\n", 4), 3u);
  EXPECT_TRUE(mime_scan_supported(MimeScanImpl::kPortable));
}

TEST(MimeScanTest, ImplementationsAgreeOnRandomInput) {
  std::mt19937 rng(12345);
  const char alphabet[] = {'\n', '-', '-', 'a', '\r', '\0', '\xff'};
  for (int round = 0; round < 300; ++round) {
    std::string s(rng() % 300, 'x');
    const size_t density = 1 + rng() % 7;
    for (char& c : s) {
      c = alphabet[rng() % density];
    }
    expect_agreement(s);
  }
}

TEST(MimeScanTest, ImplementationsAgreeOnCraftedInput) {
  // A match at every offset around the 16- and 32-byte block edges, and near the end.
  for (size_t len : {3u, 15u, 16u, 17u, 31u, 32u, 33u, 34u, 35u, 64u, 65u, 100u}) {
    for (size_t at = 0; at + 3 <= len; ++at) {
      std::string s(len, 'a');
      s.replace(at, 3, "\n--");
      expect_agreement(s);
    }
    expect_agreement(std::string(len, '\n'));
    expect_agreement(std::string(len, '-'));
  }
}

TEST(MimeScanTest, ParsersAgreeAcrossImplementations) {
  for (std::string_view m : {testdata::kSimple, testdata::kAlternative, testdata::kMixed,
                             testdata::kNested, testdata::kBrokenLf}) {
    Result<MimeTree> ref = parse_mime(m, {}, mime_scanner(MimeScanImpl::kPortable));
    ASSERT_TRUE(ref.ok());
    for (const MimeScanner* scan : supported_scanners()) {
      Result<MimeTree> t = parse_mime(m, {}, *scan);
      ASSERT_TRUE(t.ok());
      EXPECT_EQ(*t, *ref) << int(scan->impl);
    }
  }
}

TEST(MimeScanTest, BestIsSupported) {
  EXPECT_TRUE(mime_scan_supported(mime_scanner_best().impl));
#if defined(__x86_64__)
  EXPECT_TRUE(mime_scan_supported(MimeScanImpl::kSse2));
#endif
}

}  // namespace
}  // namespace rm::mime
