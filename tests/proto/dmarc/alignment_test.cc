#include "proto/dmarc/alignment.h"

#include <gtest/gtest.h>

#include "tests/proto/dmarc/psl_test_list.h"

namespace rm::dmarc {
namespace {

struct Case {
  std::string_view authenticated;
  std::string_view from;
  bool relaxed;
  bool strict;
};

TEST(DmarcAlignmentTest, TruthTable) {
  Result<PublicSuffixList> psl = PublicSuffixList::parse(testing::kTestPsl);
  ASSERT_TRUE(psl.ok());
  const Case cases[] = {
      {"example.com", "example.com", true, true},
      {"EXAMPLE.com.", "example.COM", true, true},
      {"mail.example.com", "example.com", true, false},
      {"example.com", "news.example.com", true, false},
      {"a.example.com", "b.example.com", true, false},
      {"example.net", "example.com", false, false},
      {"example.co.uk", "other.co.uk", false, false},  // co.uk is a public suffix
      {"mail.example.co.uk", "example.co.uk", true, false},
      {"co.uk", "example.co.uk", false, false},
      {"alice.blogspot.com", "bob.blogspot.com", false, false},  // private section counts
      {"x.alice.blogspot.com", "alice.blogspot.com", true, false},
      {"a.foo.ck", "b.foo.ck", false, false},  // *.ck
      {"a.www.ck", "www.ck", true, false},     // !www.ck
      {"", "example.com", false, false},
      {"exa mple.com", "example.com", false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(aligned(*psl, c.authenticated, c.from, AlignmentMode::kRelaxed), c.relaxed)
        << c.authenticated << " vs " << c.from;
    EXPECT_EQ(aligned(*psl, c.authenticated, c.from, AlignmentMode::kStrict), c.strict)
        << c.authenticated << " vs " << c.from;
  }
}

}  // namespace
}  // namespace rm::dmarc
