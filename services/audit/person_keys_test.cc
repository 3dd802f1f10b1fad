#include "services/audit/person_keys.h"

#include "gtest/gtest.h"
#include "services/common/memory_store.h"

namespace iam::audit {
namespace {

class PersonKeyringTest : public ::testing::Test {
 protected:
  iam::v1::SealedText SealCommitted(absl::string_view person,
                                    absl::string_view text) {
    WriteBatch batch;
    auto sealed = keyring_.Seal(person, text, "aad", &batch);
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    if (!batch.empty()) {
      EXPECT_TRUE(store_.Commit(batch).ok());
    }
    keyring_.Commit();
    return *sealed;
  }

  MemoryStore store_;
  PersonKeyring keyring_{&store_};
};

TEST_F(PersonKeyringTest, SealedTextOpensWithTheSameAssociatedDataOnly) {
  const iam::v1::SealedText sealed = SealCommitted("p-1", "night shift swap");
  EXPECT_EQ(sealed.ciphertext().find("night"), std::string::npos);
  EXPECT_EQ(*keyring_.Open(sealed, "aad"), "night shift swap");
  EXPECT_EQ(keyring_.Open(sealed, "other").status().code(),
            absl::StatusCode::kDataLoss);
  iam::v1::SealedText tampered = sealed;
  tampered.mutable_ciphertext()->back() ^= 1;
  EXPECT_EQ(keyring_.Open(tampered, "aad").status().code(),
            absl::StatusCode::kDataLoss);
  // A fresh keyring reads the key from the store.
  PersonKeyring reopened(&store_);
  EXPECT_EQ(*reopened.Open(sealed, "aad"), "night shift swap");
}

TEST_F(PersonKeyringTest, EraseMakesOldTextUnreadableForever) {
  const iam::v1::SealedText old = SealCommitted("p-1", "secret");
  WriteBatch batch;
  auto existed = keyring_.StageErase("p-1", &batch);
  ASSERT_TRUE(existed.ok());
  EXPECT_TRUE(*existed);
  ASSERT_TRUE(store_.Commit(batch).ok());
  keyring_.Commit();
  EXPECT_EQ(keyring_.Open(old, "aad").status().code(), absl::StatusCode::kNotFound);
  // A new key for new text does not revive the old text.
  const iam::v1::SealedText fresh = SealCommitted("p-1", "new");
  EXPECT_NE(fresh.key_id(), old.key_id());
  EXPECT_EQ(*keyring_.Open(fresh, "aad"), "new");
  EXPECT_EQ(keyring_.Open(old, "aad").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PersonKeyringTest, AbandonedKeyIsNotUsedAgain) {
  WriteBatch lost;
  auto sealed = keyring_.Seal("p-2", "x", "aad", &lost);
  ASSERT_TRUE(sealed.ok());
  keyring_.Abandon();  // the batch with the key never reached the store
  const iam::v1::SealedText next = SealCommitted("p-2", "y");
  EXPECT_NE(next.key_id(), sealed->key_id());
  EXPECT_EQ(*keyring_.Open(next, "aad"), "y");
}

}  // namespace
}  // namespace iam::audit
