// Address resolution: accounts, aliases (chains, self-copies, loops), plus-addressing,
// catch-alls, per-account and per-domain Maildir/mbox delivery, remote targets.
#include "store/account/address_resolver.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

using Kind = DeliveryTarget::Kind;

Directory sample() {
  Directory d;
  d.domains = {"example.org", "files.example"};
  d.users = {{"alice@example.org", "h"},
             {"bob@example.org", "h"},
             {"carol@files.example", "h"},
             {"dave@files.example", "h"}};
  d.aliases["team@example.org"] = {"alice@example.org", "Bob@Example.org", "friend@remote.test"};
  d.aliases["bob@example.org"] = {"bob@example.org", "bob@remote.test"};
  d.aliases["chain@example.org"] = {"team@example.org"};
  d.aliases["loop1@example.org"] = {"loop2@example.org"};
  d.aliases["loop2@example.org"] = {"loop1@example.org", "alice@example.org"};
  d.aliases["@files.example"] = {"carol@files.example"};
  d.deliveries["@files.example"] = "maildir:/srv/mail/%d/%u/";
  d.deliveries["dave@files.example"] = "mbox:/var/mail/%u";
  return d;
}

DeliveryTarget mailbox(const std::string& a) {
  return {Kind::kMailbox, a, ""};
}
DeliveryTarget remote(const std::string& a) {
  return {Kind::kRemote, a, ""};
}

TEST(AddressResolverTest, AccountsAndUnknownUsers) {
  const Directory d = sample();
  EXPECT_EQ(resolve_address(d, "Alice@EXAMPLE.org"), std::vector{mailbox("alice@example.org")});
  EXPECT_TRUE(resolve_address(d, "nobody@example.org").empty());
  EXPECT_EQ(resolve_address(d, "someone@remote.test"), std::vector{remote("someone@remote.test")});
}

TEST(AddressResolverTest, AliasesExpandWithSelfCopiesChainsAndLoops) {
  const Directory d = sample();
  // bob's alias keeps a copy for bob and forwards one.
  EXPECT_EQ(resolve_address(d, "bob@example.org"),
            (std::vector{mailbox("bob@example.org"), remote("bob@remote.test")}));
  const std::vector<DeliveryTarget> team = {mailbox("alice@example.org"),
                                            mailbox("bob@example.org"), remote("bob@remote.test"),
                                            remote("friend@remote.test")};
  EXPECT_EQ(resolve_address(d, "team@example.org"), team);
  EXPECT_EQ(resolve_address(d, "chain@example.org"), team);
  EXPECT_EQ(resolve_address(d, "loop1@example.org"), std::vector{mailbox("alice@example.org")});
}

TEST(AddressResolverTest, PlusAddressingAndCatchAll) {
  const Directory d = sample();
  EXPECT_EQ(resolve_address(d, "alice+lists@example.org"),
            std::vector{mailbox("alice@example.org")});
  EXPECT_EQ(resolve_address(d, "team+x@example.org").size(), 4u);
  EXPECT_TRUE(resolve_address(d, "+x@example.org").empty());
  EXPECT_TRUE(resolve_address(d, "nobody+x@example.org").empty());
  const std::vector<DeliveryTarget> carol = {
      {Kind::kMaildir, "carol@files.example", "/srv/mail/files.example/carol/"}};
  EXPECT_EQ(resolve_address(d, "anything@files.example"), carol);
}

TEST(AddressResolverTest, MaildirAndMboxDeliveryPerDomainAndAccount) {
  const Directory d = sample();
  const std::vector<DeliveryTarget> dave = {{Kind::kMbox, "dave@files.example", "/var/mail/dave"}};
  EXPECT_EQ(resolve_address(d, "dave@files.example"), dave);
  EXPECT_EQ(expand_delivery_path("/m/%a/%%/%u", "../x@d"), "/m/_._x@d/%/_._x");
}

}  // namespace
}  // namespace rm
