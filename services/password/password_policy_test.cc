#include "services/password/password_policy.h"

#include <string>

#include "gtest/gtest.h"

namespace iam::password {
namespace {

TEST(PasswordPolicyTest, DefaultsFollowNistOwaspAndPci) {
  iam::v1::PasswordPolicy p = DefaultPasswordPolicy();
  EXPECT_EQ(p.min_length(), 15u);
  EXPECT_EQ(p.min_length_with_second_factor(), 8u);
  EXPECT_GE(p.max_length(), 64u);
  EXPECT_TRUE(p.check_cracklib());
  EXPECT_TRUE(p.check_shipped_blocklist());
  EXPECT_FALSE(p.require_uppercase() || p.require_lowercase() ||
               p.require_digit() || p.require_symbol());
  EXPECT_EQ(p.max_age_days(), 0u);
  EXPECT_EQ(p.lockout_threshold(), 10u);
  EXPECT_GE(p.lockout_seconds(), 1800u);
  EXPECT_EQ(p.argon2().memory_kib(), 19456u);
  EXPECT_EQ(p.argon2().iterations(), 2u);
  EXPECT_EQ(p.argon2().parallelism(), 1u);
  EXPECT_TRUE(ValidatePasswordPolicy(iam::v1::PasswordPolicy()).empty());
}

TEST(PasswordPolicyTest, ConfiguredFieldsOverrideOnlyThemselves) {
  iam::v1::PasswordPolicy configured;
  configured.set_min_length(20);
  configured.set_check_cracklib(false);
  configured.mutable_argon2()->set_iterations(3);
  iam::v1::PasswordPolicy p = EffectivePolicy(configured);
  EXPECT_EQ(p.min_length(), 20u);
  EXPECT_FALSE(p.check_cracklib());
  EXPECT_EQ(p.argon2().iterations(), 3u);
  EXPECT_EQ(p.argon2().memory_kib(), 19456u);  // default kept
  EXPECT_EQ(p.max_length(), 64u);
}

TEST(PasswordPolicyTest, RejectsOutOfRangeValuesNamingTheField) {
  iam::v1::PasswordPolicy p;
  p.set_min_length(4);
  p.set_max_length(32);
  p.set_lockout_threshold(101);
  p.mutable_argon2()->set_memory_kib(1024);
  p.add_blocked_passwords("");
  std::vector<PasswordPolicyIssue> issues = ValidatePasswordPolicy(p);
  std::vector<std::string> fields;
  for (const auto& i : issues) fields.push_back(i.field);
  EXPECT_NE(std::find(fields.begin(), fields.end(), "min_length"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "max_length"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "lockout_threshold"),
            fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "argon2.memory_kib"),
            fields.end());
  auto blocked = std::find_if(issues.begin(), issues.end(), [](const auto& i) {
    return i.field == "blocked_passwords";
  });
  ASSERT_NE(blocked, issues.end());
  EXPECT_EQ(blocked->field_index, 0);
  absl::Status s = CheckPasswordPolicy(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("NIST"), std::string::npos);
}

TEST(PasswordPolicyTest, LockoutCannotBeLongerThanItsMaximum) {
  iam::v1::PasswordPolicy p;
  p.set_lockout_seconds(7200);
  p.set_max_lockout_seconds(3600);
  std::vector<PasswordPolicyIssue> issues = ValidatePasswordPolicy(p);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "max_lockout_seconds");
}

}  // namespace
}  // namespace iam::password
