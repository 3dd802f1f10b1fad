#include "services/password/password_text.h"

#include <string>

#include "gtest/gtest.h"

namespace iam::password {
namespace {

TEST(NormalizePasswordTest, AcceptsSpacesAndAnyPrintableUnicode) {
  auto p = NormalizePassword("grüne Äpfel 🍏 und 松树", "password");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->code_points, 20);
}

TEST(NormalizePasswordTest, NormalizesWithNfkc) {
  // Full-width letters and digits, a ligature, a decomposed accent.
  auto a = NormalizePassword("ＡＢＣ１２３ ﬁ e\xCC\x81", "password");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->text.reveal(), "ABC123 fi \xC3\xA9");
  EXPECT_EQ(a->code_points, 11);
  // A non-breaking space is a space.
  auto b = NormalizePassword("a\xC2\xA0" "b", "password");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text.reveal(), "a b");
}

TEST(NormalizePasswordTest, CountsKindsForCompositionRules) {
  auto p = NormalizePassword("aB3 $é", "password");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->lowercase, 2);
  EXPECT_EQ(p->uppercase, 1);
  EXPECT_EQ(p->digits, 1);
  EXPECT_EQ(p->symbols, 1);
}

TEST(NormalizePasswordTest, RejectsEmptyNamingTheField) {
  auto p = NormalizePassword("", "new_password");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(p.status().message()).find("new_password"),
            std::string::npos);
}

TEST(NormalizePasswordTest, RejectsOverOneKibibyte) {
  EXPECT_TRUE(NormalizePassword(std::string(1024, 'a'), "password").ok());
  auto p = NormalizePassword(std::string(1025, 'a'), "password");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(p.status().message()).find("1024"), std::string::npos);
}

TEST(NormalizePasswordTest, RejectsInvalidUtf8WithPosition) {
  auto p = NormalizePassword("abc\xff" "def", "password");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(p.status().message()).find("character 4"),
            std::string::npos);
  EXPECT_FALSE(NormalizePassword("\xc3", "password").ok());        // truncated
  EXPECT_FALSE(NormalizePassword("\xed\xa0\x80", "password").ok());  // surrogate
}

TEST(NormalizePasswordTest, RejectsControlAndNonPrintableCharacters) {
  for (const std::string& bad :
       {std::string("tab\there"), std::string("nul\0here", 8),
        std::string("new\nline"), std::string("del\x7f"),
        std::string("line\xE2\x80\xA8sep"),        // U+2028
        std::string("private\xEE\x80\x80use")}) {  // U+E000
    auto p = NormalizePassword(bad, "password");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    // The message never quotes the password.
    EXPECT_EQ(std::string(p.status().message()).find("here"), std::string::npos);
  }
}

TEST(FoldForCompareTest, IgnoresCaseAndWidth) {
  EXPECT_EQ(FoldForCompare("LiWei"), FoldForCompare("liwei"));
  EXPECT_EQ(FoldForCompare("ＬＩ"), FoldForCompare("li"));
  EXPECT_EQ(FoldForCompare("Straße"), FoldForCompare("STRASSE"));
}

}  // namespace
}  // namespace iam::password
