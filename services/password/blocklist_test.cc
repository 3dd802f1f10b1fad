#include "services/password/blocklist.h"

#include "gtest/gtest.h"

namespace iam::password {
namespace {

TEST(WordBlocklistTest, MatchesCaseInsensitivelyAndWithoutSpaces) {
  WordBlocklist list;
  list.AddLines("# comment\n\nPassword\ncorrecthorsebatterystaple\n");
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.Find("PASSWORD").has_value());
  EXPECT_TRUE(list.Find("ＰＡＳＳＷＯＲＤ").has_value());  // full width, NFKC
  EXPECT_TRUE(list.Find("Correct Horse Battery Staple").has_value());
  EXPECT_FALSE(list.Find("password with more words").has_value());
  EXPECT_FALSE(list.Find("# comment").has_value());
}

TEST(WordBlocklistTest, ShippedListHasCommonPasswords) {
  WordBlocklist list;
  list.AddLines(ShippedBlocklistText());
  EXPECT_GT(list.size(), 200u);
  EXPECT_TRUE(list.Find("qwertyuiopasdfgh").has_value());
  EXPECT_TRUE(list.Find("passwordpassword").has_value());
  EXPECT_TRUE(list.Find("P@ssw0rd").has_value());
  EXPECT_FALSE(list.Find("lathe coolant smells of pears").has_value());
}

TEST(CracklibBlocklistTest, RejectsDictionaryWordsAndSystematicStrings) {
  auto list = CracklibBlocklist::Open("");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE((*list)->Find("sunshine").has_value());
  EXPECT_TRUE((*list)->Find("1234567890123456").has_value());
  EXPECT_TRUE((*list)->Find("aaaaaaaaaaaaaaaa").has_value());
  EXPECT_FALSE((*list)->Find("vanilla ice cream cone").has_value());
  auto why = (*list)->Find("sunshine");
  EXPECT_EQ(why->find("sunshine"), std::string::npos);  // never quotes it
}

TEST(CracklibBlocklistTest, MissingDictionaryIsFailedPreconditionNamingFix) {
  auto list = CracklibBlocklist::Open("/nonexistent/dict");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(list.status().message()).find("cracklib-runtime"),
            std::string::npos);
}

}  // namespace
}  // namespace iam::password
