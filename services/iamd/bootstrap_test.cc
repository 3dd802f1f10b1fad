#include "services/iamd/bootstrap.h"

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::iamd {
namespace {

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *identity::PersonRegistry::Open(&store_, &clock_);
    engine_ = *authz::AuthzEngine::Open(&store_, &clock_);
    options_.policy_dir = "policy";
    options_.bootstrap_admin = "admin";
  }

  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  MemoryStore store_;
  std::unique_ptr<identity::PersonRegistry> registry_;
  std::unique_ptr<authz::AuthzEngine> engine_;
  BootstrapOptions options_;
};

TEST_F(BootstrapTest, FirstStartLoadsPolicyAdminAndServerPrincipal) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get()).ok());
  EXPECT_GT(engine_->snapshot()->Policy().permissions_size(), 20);
  EXPECT_TRUE(engine_->Check("admin", "iam.bindings:write", "/").allowed);
  EXPECT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);
  EXPECT_TRUE(engine_->Check(kServerPrincipal, "iam.subjects:write", "/").allowed);
  EXPECT_TRUE(engine_->Check(kServerPrincipal, "iam.authz:check", "/").allowed);
  // The server principal is not an admin: it cannot change the policy.
  EXPECT_FALSE(engine_->Check(kServerPrincipal, "iam.policy:write", "/").allowed);
  EXPECT_EQ(registry_->Get("admin")->status(), iam::v1::PERSON_STATUS_ACTIVE);
}

TEST_F(BootstrapTest, SecondStartChangesNothing) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get()).ok());
  // Reconciliation rewrites subjects, so compare policy and bindings instead
  // of revisions.
  auto policy_before = engine_->snapshot()->Policy().SerializeAsString();
  auto bindings_before =
      engine_->snapshot()->ListBindings({}, "", "", "", 1000).size();
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get()).ok());
  EXPECT_EQ(engine_->snapshot()->Policy().SerializeAsString(), policy_before);
  EXPECT_EQ(engine_->snapshot()->ListBindings({}, "", "", "", 1000).size(),
            bindings_before);
}

TEST_F(BootstrapTest, ReconcileAppliesStatusThatAuthzMissed) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get()).ok());
  ASSERT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);
  // Identity committed a suspension but authz never heard of it (a crash
  // between the two).
  iam::v1::Person admin = *registry_->Get("admin");
  admin.set_status(iam::v1::PERSON_STATUS_SUSPENDED);
  ASSERT_TRUE(registry_->Update(admin, {"status"}).ok());
  ASSERT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);

  BootstrapOptions again;  // a restart without the admin flag
  again.policy_dir = "policy";
  ASSERT_TRUE(Bootstrap(again, registry_.get(), engine_.get()).ok());
  EXPECT_FALSE(engine_->Check("admin", "iam.people:write", "/").allowed);
}

TEST_F(BootstrapTest, MissingPolicyDirectoryIsAClearError) {
  options_.policy_dir = "no/such/dir";
  absl::Status s = Bootstrap(options_, registry_.get(), engine_.get());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/dir"), std::string::npos) << s;
  EXPECT_EQ(engine_->snapshot()->Policy().permissions_size(), 0);
}

}  // namespace
}  // namespace iam::iamd
