#include "services/password/policy_bootstrap.h"

#include <memory>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::password {
namespace {

class PolicyBootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto manager = PasswordManager::Open(&store_, &clock_, {});
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  // A commit that counts the writes it is handed.
  CommitFn Counting() {
    return [this](const WriteBatch& batch) {
      ++commits_;
      return store_.Commit(batch);
    };
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<PasswordManager> manager_;
  int commits_ = 0;
};

TEST_F(PolicyBootstrapTest, StoresThePolicyOnceAndNotAgainWhenUnchanged) {
  ASSERT_TRUE(manager_->policy().defaults_only);
  ASSERT_TRUE(ApplyPasswordPolicyAtStart("policy", false, manager_.get(), Counting()).ok());
  EXPECT_EQ(commits_, 1);
  EXPECT_FALSE(manager_->policy().defaults_only);
  // A restart with --apply_policy and the same files writes (and so
  // records) nothing.
  ASSERT_TRUE(ApplyPasswordPolicyAtStart("policy", true, manager_.get(), Counting()).ok());
  EXPECT_EQ(commits_, 1);
}

TEST_F(PolicyBootstrapTest, AnEditedPolicyIsWrittenWithApplyPolicyOnly) {
  iam::v1::PasswordPolicy edited = manager_->policy().effective;
  edited.set_history_size(edited.history_size() + 1);
  ASSERT_TRUE(manager_->SetPolicy(edited).ok());
  // Without --apply_policy a stored policy stays as it is.
  ASSERT_TRUE(ApplyPasswordPolicyAtStart("policy", false, manager_.get(), Counting()).ok());
  EXPECT_EQ(commits_, 0);
  EXPECT_EQ(manager_->policy().configured.history_size(), edited.history_size());
  // With it, the files win, in one write.
  ASSERT_TRUE(ApplyPasswordPolicyAtStart("policy", true, manager_.get(), Counting()).ok());
  EXPECT_EQ(commits_, 1);
  EXPECT_NE(manager_->policy().configured.history_size(), edited.history_size());
}

}  // namespace
}  // namespace iam::password
