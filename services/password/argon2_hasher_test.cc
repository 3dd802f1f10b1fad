#include "services/password/argon2_hasher.h"

#include <argon2.h>

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

// Our hashes are libargon2's: its own encoded functions verify what we
// hash, and we verify what they hash, including with other parameters.
TEST(Argon2HasherTest, HashesAreInterchangeableWithLibargon2sEncodedFunctions) {
  auto ours = HashPassword("correct horse", kFast);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(argon2id_verify(ours->c_str(), "correct horse", 13), ARGON2_OK);
  EXPECT_EQ(argon2id_verify(ours->c_str(), "correct horsE", 13),
            ARGON2_VERIFY_MISMATCH);

  for (const Argon2Params& p : {kFast, Argon2Params{256, 3, 2}}) {
    char theirs[256];
    const unsigned char salt[12] = {'s', 'a', 'l', 't', 's', 'a', 'l', 't', 1, 2, 3, 4};
    ASSERT_EQ(argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism,
                                    "pässword", 9, salt, sizeof(salt), 24, theirs,
                                    sizeof(theirs)),
              ARGON2_OK);
    EXPECT_EQ(VerifyPassword(theirs, "pässword").value(), true) << theirs;
    EXPECT_EQ(VerifyPassword(theirs, "password").value(), false) << theirs;
    EXPECT_EQ(ParsePhcParams(theirs).value(), p);
  }
}

TEST(Argon2HasherTest, NonCanonicalOrImpossibleSaltsAndTagsFailClosed) {
  // "aGFzaB" decodes to the same bytes as "aGFzaA" with a stray bit.
  for (const std::string bad :
       {"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaB",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",     // 4-byte salt
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGE"}) {  // 2-byte tag
    auto v = VerifyPassword(bad, "pw");
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << bad;
  }
  // Well formed, wrong password: a mismatch, not an error.
  EXPECT_EQ(VerifyPassword("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pw")
                .value(),
            false);
}

TEST(Argon2HasherTest, RefusesParametersLibargon2Refuses) {
  auto phc = HashPassword("pw", Argon2Params{1, 1, 1});  // below 8 KiB per lane
  ASSERT_FALSE(phc.ok());
  EXPECT_EQ(phc.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::password
