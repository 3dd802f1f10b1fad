#include "services/authz/names.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace iam::authz {
namespace {

using ::testing::HasSubstr;

TEST(PermissionNameTest, AcceptsSystemResourceAction) {
  EXPECT_TRUE(ValidatePermissionName("mes.work_order:release").ok());
  EXPECT_TRUE(ValidatePermissionName("iam.authz:check").ok());
  EXPECT_TRUE(ValidatePermissionName("a1.b_2:c3").ok());
}

TEST(PermissionNameTest, RejectsWrongShapeAndSaysWhatIsValid) {
  for (const char* bad :
       {"", "mes", "mes.work_order", "mes:release", ".x:y", "a.:y", "a.b:",
        "Mes.x:y", "mes.work-order:release", "a.b.c:d", "a.b:c:d", "a.b:c d"}) {
    absl::Status s = ValidatePermissionName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("<system>.<resource>:<action>")) << bad;
  }
}

TEST(PermissionNameTest, BoundsEachPartAndTheWhole) {
  const std::string part64(64, 'a');
  EXPECT_TRUE(ValidatePermissionName(part64 + "." + part64 + ":" + part64).ok());
  EXPECT_THAT(
      ValidatePermissionName(std::string(65, 'a') + ".b:c").message(),
      HasSubstr("the system is 65 characters long"));
  EXPECT_EQ(ValidatePermissionName(std::string(300, 'a')).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PermissionNameTest, NamesTheOffendingCharacter) {
  EXPECT_THAT(ValidatePermissionName("mes.Work:x").message(),
              HasSubstr("the resource contains 'W'"));
}

TEST(RoleNameTest, AcceptsLowerCaseStartingWithLetter) {
  EXPECT_TRUE(ValidateRoleName("burning_technician").ok());
  EXPECT_TRUE(ValidateRoleName("line.lead-2").ok());
  EXPECT_TRUE(ValidateRoleName(std::string(64, 'r')).ok());
}

TEST(RoleNameTest, RejectsBadNames) {
  for (const char* bad : {"", "1role", "_role", "Role", "role name", "role/x"}) {
    absl::Status s = ValidateRoleName(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("starting with a letter")) << bad;
  }
  EXPECT_FALSE(ValidateRoleName(std::string(65, 'r')).ok());
}

TEST(ScopePathTest, AcceptsRootAndSitePairs) {
  EXPECT_TRUE(ValidateScopePath("/").ok());
  EXPECT_TRUE(ValidateScopePath("site/sz").ok());
  EXPECT_TRUE(ValidateScopePath("site/sz/line/3").ok());
  EXPECT_TRUE(ValidateScopePath("site/sz/area/key-parts_1").ok());
  EXPECT_TRUE(ValidateScopePath("site/a/b/c/d/e/f/g").ok());  // 8 segments
}

TEST(ScopePathTest, RejectsBadPaths) {
  for (const char* bad :
       {"", "site", "site/", "/site/sz", "site/sz/", "site//sz", "plant/sz",
        "site/sz/line", "site/SZ", "site/s z", "site/a/b/c/d/e/f/g/h/i"}) {
    absl::Status s = ValidateScopePath(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("site/sz/line/3")) << bad;
  }
  EXPECT_THAT(ValidateScopePath("site/a/b/c/d/e/f/g/h/i").message(),
              HasSubstr("more than 8 segments"));
  EXPECT_FALSE(ValidateScopePath("site/" + std::string(65, 'x')).ok());
}

TEST(ParentScopeTest, WalksUpToTheRoot) {
  EXPECT_EQ(ParentScope("site/sz/line/3/station/7"), "site/sz/line/3");
  EXPECT_EQ(ParentScope("site/sz/line/3"), "site/sz");
  EXPECT_EQ(ParentScope("site/sz"), "/");
  EXPECT_EQ(ParentScope("/"), "");
}

TEST(ScopeCoversTest, CoversItselfAndBelowOnly) {
  EXPECT_TRUE(ScopeCovers("/", "/"));
  EXPECT_TRUE(ScopeCovers("/", "site/sz/line/3"));
  EXPECT_TRUE(ScopeCovers("site/sz", "site/sz"));
  EXPECT_TRUE(ScopeCovers("site/sz", "site/sz/line/3"));
  EXPECT_FALSE(ScopeCovers("site/sz/line/3", "site/sz"));      // not up
  EXPECT_FALSE(ScopeCovers("site/sz/line/3", "site/sz/line/4"));  // not sideways
  EXPECT_FALSE(ScopeCovers("site/sz", "site/szx/line/1"));     // not a prefix trick
  EXPECT_FALSE(ScopeCovers("site/sz", "/"));
}

TEST(QuoteForMessageTest, EscapesAndBounds) {
  EXPECT_EQ(QuoteForMessage("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(QuoteForMessage(std::string(500, 'x')).size(), 100u + 5u);
}

}  // namespace
}  // namespace iam::authz
