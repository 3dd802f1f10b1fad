#include "services/password/argon2_hasher.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace iam::password {
namespace {

// Small parameters: these tests are about the format, not the cost.
const Argon2Params kFast{64, 1, 1};

TEST(Argon2HasherTest, HashesInPhcFormatWithFreshSalt) {
  auto a = HashPassword("correct horse", kFast);
  auto b = HashPassword("correct horse", kFast);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(absl::StartsWith(*a, "$argon2id$v=19$m=64,t=1,p=1$")) << *a;
  EXPECT_NE(*a, *b);  // different salts
  EXPECT_EQ(a->find("correct"), std::string::npos);
}

TEST(Argon2HasherTest, VerifiesRightAndWrongPasswords) {
  auto phc = HashPassword("correct horse", kFast);
  ASSERT_TRUE(phc.ok());
  EXPECT_EQ(VerifyPassword(*phc, "correct horse").value(), true);
  EXPECT_EQ(VerifyPassword(*phc, "correct horsE").value(), false);
  EXPECT_EQ(VerifyPassword(*phc, "").value(), false);
}

TEST(Argon2HasherTest, DefaultParametersAreOwasp) {
  auto phc = HashPassword("x", Argon2Params{});
  ASSERT_TRUE(phc.ok());
  EXPECT_TRUE(absl::StartsWith(*phc, "$argon2id$v=19$m=19456,t=2,p=1$"));
  auto params = ParsePhcParams(*phc);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*params, Argon2Params{});
}

TEST(Argon2HasherTest, MalformedHashesFailClosedAsDataLoss) {
  auto phc = HashPassword("pw", kFast);
  ASSERT_TRUE(phc.ok());
  for (const std::string& bad :
       {std::string(""), std::string("plaintext"),
        std::string("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"),
        std::string("$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA"),
        std::string("$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHQ$aGFzaA"),
        std::string("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ"),
        std::string("$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"),
        phc->substr(0, phc->size() - 5) + "#####"}) {
    auto v = VerifyPassword(bad, "pw");
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_EQ(std::string(v.status().message()).find("c2FsdHNhbHQ"), std::string::npos);
  }
}

TEST(Argon2HasherTest, RefusesParametersLibargon2Refuses) {
  auto phc = HashPassword("pw", Argon2Params{1, 1, 1});  // below 8 KiB per lane
  ASSERT_FALSE(phc.ok());
  EXPECT_EQ(phc.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::password
