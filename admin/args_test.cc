#include "admin/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace iam::admin {
namespace {

using ::testing::ElementsAre;

const std::vector<FlagSpec>& Flags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"name", FlagKind::kValue, "N", "a name"},
      {"group", FlagKind::kRepeated, "G", "a group"},
      {"yes", FlagKind::kSwitch, "", "no questions"},
  };
  return *flags;
}

TEST(ParseArgsTest, ReadsValuesSwitchesRepeatsAndPositionals) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(Flags(), {"p-1", "--name", "Ann", "--group=smt", "--yes",
                          "--group", "qa", "extra"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Value("name"), "Ann");
  EXPECT_THAT(parsed->Values("group"), ElementsAre("smt", "qa"));
  EXPECT_TRUE(parsed->Has("yes"));
  EXPECT_FALSE(parsed->help());
  EXPECT_THAT(parsed->positional(), ElementsAre("p-1", "extra"));
}

TEST(ParseArgsTest, AbsentFlagsAreAbsent) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(Flags(), {});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->Has("name"));
  EXPECT_EQ(parsed->Value("name"), absl::nullopt);
  EXPECT_TRUE(parsed->Values("group").empty());
  EXPECT_FALSE(parsed->Has("yes"));
}

TEST(ParseArgsTest, KeepsEmptyAndDashLeadingValues) {
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(Flags(), {"--name", "", "--group", "-x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->Has("name"));
  EXPECT_EQ(parsed->Value("name"), "");
  EXPECT_THAT(parsed->Values("group"), ElementsAre("-x"));
}

TEST(ParseArgsTest, DoubleDashEndsFlags) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(Flags(), {"--", "--name", "-"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->Has("name"));
  EXPECT_THAT(parsed->positional(), ElementsAre("--name", "-"));
}

TEST(ParseArgsTest, RecognizesHelp) {
  EXPECT_TRUE(ParseArgs(Flags(), {"-h"})->help());
  EXPECT_TRUE(ParseArgs(Flags(), {"x", "--help"})->help());
}

TEST(ParseArgsTest, RejectsUnknownFlag) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(Flags(), {"--nmae", "Ann"});
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "unknown flag --nmae");
  EXPECT_EQ(ParseArgs(Flags(), {"-n"}).status().message(), "unknown flag -n");
}

TEST(ParseArgsTest, RejectsMissingValue) {
  EXPECT_EQ(ParseArgs(Flags(), {"--name"}).status().message(),
            "flag --name needs a value (N)");
}

TEST(ParseArgsTest, RejectsSingleValueFlagGivenTwice) {
  EXPECT_EQ(ParseArgs(Flags(), {"--name", "a", "--name=b"}).status().message(),
            "flag --name given more than once");
}

TEST(ParseArgsTest, RejectsValueForSwitch) {
  EXPECT_EQ(ParseArgs(Flags(), {"--yes=no"}).status().message(),
            "flag --yes takes no value");
}

TEST(ParseArgsTest, StopsAtFirstPositionalWhenAsked) {
  size_t stopped_at = 99;
  absl::StatusOr<ParsedArgs> parsed =
      ParseArgs(Flags(), {"--name", "x", "check", "--yes"}, &stopped_at);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(stopped_at, 2u);
  EXPECT_EQ(parsed->Value("name"), "x");
  EXPECT_FALSE(parsed->Has("yes"));

  ASSERT_TRUE(ParseArgs(Flags(), {"--yes"}, &stopped_at).ok());
  EXPECT_EQ(stopped_at, 1u);
}

TEST(FlagHelpTest, AlignsHelpAndMarksRepeatableFlags) {
  EXPECT_EQ(FlagHelp(Flags()),
            "  --name N       a name\n"
            "  --group G...   a group\n"
            "  --yes          no questions\n");
}

}  // namespace
}  // namespace iam::admin
