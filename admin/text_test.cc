#include "admin/text.h"

#include "gtest/gtest.h"

namespace iam::admin {
namespace {

TEST(SanitizeForTerminalTest, PassesPrintableUtf8Unchanged) {
  EXPECT_EQ(SanitizeForTerminal("line_lead"), "line_lead");
  EXPECT_EQ(SanitizeForTerminal("张伟 (SMT)"), "张伟 (SMT)");
}

TEST(SanitizeForTerminalTest, EscapesControlCharactersOntoOneLine) {
  EXPECT_EQ(SanitizeForTerminal("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(SanitizeForTerminal("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(SanitizeForTerminal("del\x7f"), "del\\x7f");
  EXPECT_EQ(SanitizeForTerminal("c1\xc2\x9b"), "c1\\u009b");  // CSI in UTF-8.
}

TEST(SanitizeForTerminalTest, EscapesInvalidUtf8ByteByByte) {
  EXPECT_EQ(SanitizeForTerminal("a\xff"
                                "b"),
            "a\\xffb");
  EXPECT_EQ(SanitizeForTerminal("\xe4\xb8"), "\\xe4\\xb8");  // Truncated.
  EXPECT_EQ(SanitizeForTerminal("\xc0\xaf"), "\\xc0\\xaf");  // Overlong '/'.
  EXPECT_EQ(SanitizeForTerminal("\xed\xa0\x80"),
            "\\xed\\xa0\\x80");  // Surrogate.
}

TEST(DisplayWidthTest, CountsWideCharactersTwiceAndCombiningMarksNever) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("张伟"), 4u);
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1u);  // e + combining acute.
  EXPECT_EQ(DisplayWidth("Zoë"), 3u);
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuote("x\ny\x01"), "\"x\\ny\\u0001\"");
  EXPECT_EQ(JsonQuote("张"), "\"张\"");
}

}  // namespace
}  // namespace iam::admin
