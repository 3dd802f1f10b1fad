#include "services/audit/signer.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace iam::audit {
namespace {

std::string TempPath(const std::string& name) {
  static std::atomic<int> n{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp ? tmp : "/tmp", "/", name, "-", n++);
}

TEST(CheckpointSignerTest, SignaturesVerifyOnlyForTheSignedMessage) {
  auto signer = CheckpointSigner::Generate();
  ASSERT_TRUE(signer.ok()) << signer.status();
  const std::string sig = (*signer)->Sign("head 42");
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE((*signer)->public_key().Verify("head 42", sig));
  EXPECT_FALSE((*signer)->public_key().Verify("head 43", sig));
  auto other = CheckpointSigner::Generate();
  EXPECT_FALSE((*other)->public_key().Verify("head 42", sig));
}

TEST(CheckpointSignerTest, CreatesAPrivateKeyFileOnceAndReloadsIt) {
  const std::string path = TempPath("key.pem");
  EXPECT_EQ(CheckpointSigner::LoadOrCreate(path, false).status().code(),
            absl::StatusCode::kNotFound);
  auto created = CheckpointSigner::LoadOrCreate(path, true);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto loaded = CheckpointSigner::LoadOrCreate(path, true);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->public_key().raw(), (*created)->public_key().raw());
  // The exported public key verifies what the reloaded key signs.
  std::ifstream pub(path + ".pub");
  std::string pem((std::istreambuf_iterator<char>(pub)),
                  std::istreambuf_iterator<char>());
  auto public_key = AuditPublicKey::FromPem(pem);
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  EXPECT_TRUE(public_key->Verify("m", (*loaded)->Sign("m")));
  EXPECT_EQ(public_key->fingerprint(), (*created)->public_key().fingerprint());
}

TEST(CheckpointSignerTest, RefusesAKeyFileOthersCanRead) {
  const std::string path = TempPath("open.pem");
  ASSERT_TRUE(CheckpointSigner::LoadOrCreate(path, true).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = CheckpointSigner::LoadOrCreate(path, true);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(loaded.status().message()).find("chmod 600"),
            std::string::npos);
}

TEST(CheckpointSignerTest, RejectsFilesThatAreNotEd25519Keys) {
  const std::string path = TempPath("junk.pem");
  { std::ofstream(path) << "not a key\n"; }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(CheckpointSigner::LoadOrCreate(path, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AuditPublicKey::FromPem("junk").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::audit
