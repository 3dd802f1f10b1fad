#include "services/badge/list_signer.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace iam::badge {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(ListSignerTest, SignsAndVerifies) {
  auto signer = ListSigner::Ephemeral();
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto sig = (*signer)->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_EQ((*signer)->public_key().size(), 32u);
  EXPECT_EQ((*signer)->key_id().size(), 16u);
  EXPECT_TRUE(VerifySignature((*signer)->public_key(), "payload", *sig).ok());
  EXPECT_FALSE(VerifySignature((*signer)->public_key(), "payloae", *sig).ok());
  std::string bad = *sig;
  bad[0] ^= 1;
  EXPECT_FALSE(VerifySignature((*signer)->public_key(), "payload", bad).ok());
  auto other = ListSigner::Ephemeral();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(VerifySignature((*other)->public_key(), "payload", *sig).ok());
}

TEST(ListSignerTest, CreatesThenReloadsTheSameKeyOwnerOnly) {
  const std::string path = TempPath("signing.pem");
  std::string key_id;
  {
    auto signer = ListSigner::Open(path);
    ASSERT_TRUE(signer.ok()) << signer.status();
    key_id = (*signer)->key_id();
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
  auto again = ListSigner::Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->key_id(), key_id);
}

TEST(ListSignerTest, RefusesAWorldReadableOrForeignKeyFile) {
  const std::string path = TempPath("readable.pem");
  ASSERT_TRUE(ListSigner::Open(path).ok());
  chmod(path.c_str(), 0644);
  auto opened = ListSigner::Open(path);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string junk = TempPath("junk.pem");
  { std::ofstream(junk) << "not a key"; }
  chmod(junk.c_str(), 0600);
  opened = ListSigner::Open(junk);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(opened.status().message().find("not a key"), std::string::npos);
}

}  // namespace
}  // namespace iam::badge
