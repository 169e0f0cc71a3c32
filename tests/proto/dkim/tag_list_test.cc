#include "proto/dkim/tag_list.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

TEST(DkimTagListTest, ParsesTagsInOrderWithWhitespaceTrimmed) {
  Result<DkimTagList> list = parse_dkim_tag_list(" v=1;a = rsa-sha256 ;\r\n\tb=abc\r\n def;  ");
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  ASSERT_EQ(list->tags.size(), 3u);
  EXPECT_EQ(list->tags[0].name, "v");
  EXPECT_EQ(*list->find("a"), "rsa-sha256");
  EXPECT_EQ(*list->find("b"), "abc\r\n def");
  EXPECT_EQ(dkim_strip_fws(*list->find("b")), "abcdef");
  EXPECT_EQ(list->find("c"), nullptr);
}

TEST(DkimTagListTest, EmptyValuesAndEqualsInValues) {
  Result<DkimTagList> list = parse_dkim_tag_list("p=; bh=YWI=");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list->find("p"), "");
  EXPECT_EQ(*list->find("bh"), "YWI=");
}

TEST(DkimTagListTest, RefusesMalformedLists) {
  EXPECT_FALSE(parse_dkim_tag_list("v=1; v=1").ok());      // duplicate
  EXPECT_FALSE(parse_dkim_tag_list("v=1; novalue").ok());  // no '='
  EXPECT_FALSE(parse_dkim_tag_list("1v=1").ok());          // name starts with a digit
  EXPECT_FALSE(parse_dkim_tag_list("a-b=1").ok());         // '-' not allowed in a name
  EXPECT_FALSE(parse_dkim_tag_list("=1").ok());
  EXPECT_FALSE(parse_dkim_tag_list(std::string("a=x\0y", 5)).ok());  // control character
  EXPECT_EQ(parse_dkim_tag_list("v=1; v=2").status().message(), "duplicate tag v");
}

TEST(DkimTagListTest, EnforcesLimits) {
  std::string many;
  for (size_t i = 0; i <= kDkimTagsMax; ++i) {
    many += "t" + std::to_string(i) + "=x;";
  }
  EXPECT_FALSE(parse_dkim_tag_list(many).ok());
  EXPECT_FALSE(parse_dkim_tag_list("a=" + std::string(kDkimTagListBytesMax, 'x')).ok());
  EXPECT_FALSE(parse_dkim_tag_list(std::string(kDkimTagNameBytesMax + 1, 'n') + "=1").ok());
}

}  // namespace
}  // namespace rm
