#include "services/password/policy_checker.h"

#include <string>

#include "gtest/gtest.h"
#include "services/password/password_policy.h"

namespace iam::password {
namespace {

NormalizedPassword Pw(const std::string& s) {
  auto p = NormalizePassword(s, "password");
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

bool Mentions(const std::vector<std::string>& problems, const std::string& word) {
  for (const auto& p : problems) {
    if (p.find(word) != std::string::npos) return true;
  }
  return false;
}

class PolicyCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = CracklibBlocklist::Open("");
    ASSERT_TRUE(opened.ok()) << opened.status();
    cracklib_ = std::move(*opened);
  }
  PasswordPolicyChecker Checker(const iam::v1::PasswordPolicy& configured =
                                    iam::v1::PasswordPolicy()) {
    return PasswordPolicyChecker(EffectivePolicy(configured), cracklib_.get());
  }
  std::unique_ptr<CracklibBlocklist> cracklib_;
  const PersonNames li_{"p-1001", "Li Wei"};
};

TEST_F(PolicyCheckerTest, AcceptsALongPassphrase) {
  EXPECT_TRUE(Checker().Problems(Pw("lathe coolant smells of pears"), li_).empty());
}

TEST_F(PolicyCheckerTest, LengthCountsCodePointsAfterNormalization) {
  // 13 characters but 25 bytes: too short by code points.
  auto problems = Checker().Problems(Pw("松树松树 grün ÄÖÜ"), li_);
  ASSERT_FALSE(problems.empty());
  EXPECT_TRUE(Mentions(problems, "use at least 15"));
  std::string long_one(65, 'k');
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("zq " + long_one), li_), "at most 64"));
}

TEST_F(PolicyCheckerTest, SecondFactorLowersTheMinimumTo8) {
  iam::v1::PasswordPolicy p;
  p.set_second_factor_required(true);
  EXPECT_EQ(Checker(p).min_length(), 8);
  EXPECT_TRUE(Checker(p).Problems(Pw("Tr0ub4dor&3"), li_).empty());
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("Tr0ub4dor&3"), li_), "at least 15"));
}

TEST_F(PolicyCheckerTest, RejectsBlocklistedAndCracklibPasswords) {
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("qwertyuiopasdfgh"), li_),
                       "common and breached"));
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("1234567890123456"), li_), "cracklib"));
  iam::v1::PasswordPolicy p;
  p.add_blocked_passwords("Shenzhen Factory Two");
  EXPECT_TRUE(Mentions(Checker(p).Problems(Pw("shenzhen factory two"), li_),
                       "common and breached"));
  p.set_check_cracklib(false);
  p.set_check_shipped_blocklist(false);
  EXPECT_TRUE(Checker(p).Problems(Pw("qwertyuiopasdfgh"), li_).empty());
}

TEST_F(PolicyCheckerTest, RejectsTheNameOrIdCaseInsensitively) {
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("my id is P-1001 ok then"), li_),
                       "person's id"));
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("hello there LIWEI friend"), li_),
                       "person's name"));
  EXPECT_TRUE(Mentions(Checker().Problems(Pw("wei wants a new lathe"), li_),
                       "person's name"));
  iam::v1::PasswordPolicy p;
  p.set_reject_name_and_id(false);
  EXPECT_TRUE(Checker(p).Problems(Pw("wei wants a new lathe"), li_).empty());
}

TEST_F(PolicyCheckerTest, CompositionRulesAreOffByDefaultAndWorkWhenOn) {
  const std::string plain = "lathe coolant smells of pears";
  EXPECT_TRUE(Checker().Problems(Pw(plain), li_).empty());
  iam::v1::PasswordPolicy p;
  p.set_require_uppercase(true);
  p.set_require_digit(true);
  p.set_require_symbol(true);
  auto problems = Checker(p).Problems(Pw(plain), li_);
  EXPECT_EQ(problems.size(), 3u);
  EXPECT_TRUE(Checker(p).Problems(Pw("Lathe coolant smells of 3 pears!"), li_).empty());
}

TEST_F(PolicyCheckerTest, MinimumStrengthUsesZxcvbn) {
  iam::v1::PasswordPolicy p;
  p.set_min_strength_bits(40);
  p.set_check_shipped_blocklist(false);
  p.set_check_cracklib(false);
  EXPECT_TRUE(Mentions(Checker(p).Problems(Pw("aaaaaaaaaaaaaaaaaaaa"), li_),
                       "too easy to guess"));
  EXPECT_TRUE(Checker(p).Problems(Pw("lathe coolant smells of pears"), li_).empty());
  EXPECT_GT(PasswordPolicyChecker::StrengthBits(Pw("lathe coolant smells of pears"), li_),
            PasswordPolicyChecker::StrengthBits(Pw("aaaaaaaaaaaaaaaaaaaa"), li_));
  EXPECT_STREQ(PasswordPolicyChecker::StrengthLabel(10), "very weak");
  EXPECT_STREQ(PasswordPolicyChecker::StrengthLabel(80), "strong");
}

TEST_F(PolicyCheckerTest, ProblemsNeverQuoteThePassword) {
  for (const auto& p : Checker().Problems(Pw("p-1001 qwerty"), li_)) {
    EXPECT_EQ(p.find("qwerty"), std::string::npos) << p;
  }
}

}  // namespace
}  // namespace iam::password
