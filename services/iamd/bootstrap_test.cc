#include "services/iamd/bootstrap.h"

#include <algorithm>

#include "gtest/gtest.h"
#include "services/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::iamd {
namespace {

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *identity::PersonRegistry::Open(&store_, &clock_);
    engine_ = *authz::AuthzEngine::Open(&store_, &clock_);
    log_ = *audit::StoreAuditLog::Open(&store_, &clock_);
    options_.policy_dir = "policy";
    options_.bootstrap_admin = "admin";
  }

  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  MemoryStore store_;
  std::unique_ptr<identity::PersonRegistry> registry_;
  std::unique_ptr<authz::AuthzEngine> engine_;
  std::unique_ptr<audit::StoreAuditLog> log_;
  BootstrapOptions options_;

  // Every audit record so far, oldest first.
  std::vector<iam::v1::AuditRecord> Records() {
    EXPECT_TRUE(log_->Flush().ok());
    iam::v1::QueryAuditRequest request;
    request.set_page_size(1000);
    auto response = log_->Query(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->records().begin(), response->records().end()};
  }
};

TEST_F(BootstrapTest, FirstStartLoadsPolicyAdminAndServerPrincipal) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  EXPECT_GT(engine_->snapshot()->Policy().permissions_size(), 20);
  EXPECT_TRUE(engine_->Check("admin", "iam.bindings:write", "/").allowed);
  EXPECT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);
  EXPECT_TRUE(engine_->Check(kServerPrincipal, "iam.subjects:write", "/").allowed);
  EXPECT_TRUE(engine_->Check(kServerPrincipal, "iam.authz:check", "/").allowed);
  // The server principal is not an admin: it cannot change the policy.
  EXPECT_FALSE(engine_->Check(kServerPrincipal, "iam.policy:write", "/").allowed);
  EXPECT_EQ(registry_->Get("admin")->status(), iam::v1::PERSON_STATUS_ACTIVE);
}

TEST_F(BootstrapTest, EveryStartUpChangeIsStoredWithItsAuditRecord) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  std::vector<iam::v1::AuditRecord> records = Records();
  std::vector<std::string> actions;
  for (const auto& r : records) {
    EXPECT_EQ(r.caller(), kServerPrincipal);
    EXPECT_EQ(r.outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS) << r.action();
    EXPECT_GT(r.revision(), 0) << r.action();
    actions.push_back(r.action());
  }
  // The policy, the server principal and its bindings, the admin (person,
  // then authz's copy by reconciliation, then the admin role binding).
  ASSERT_GE(records.size(), 6u);
  EXPECT_EQ(actions.front(), "authz.policy.apply");
  EXPECT_NE(records.front().target().find(" changes"), std::string::npos);
  EXPECT_EQ(actions.back(), "authz.binding.create");
  EXPECT_EQ(records.back().person_id(), "admin");
  EXPECT_EQ(records.back().target(),
            engine_->snapshot()->ListBindings(
                [] {
                  iam::v1::Subject s;
                  s.set_kind(iam::v1::SUBJECT_KIND_PERSON);
                  s.set_id("admin");
                  return s;
                }(),
                kAdminRole, "/", "", 1)[0].id());
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "identity.person.create"), 1);
  // Each record went in the same write as its change: the last one is at
  // the store's current revision.
  EXPECT_EQ(records.back().revision(), store_.CurrentRevision());

  // A restart that changes nothing records nothing.
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  EXPECT_EQ(Records().size(), records.size());
}

TEST_F(BootstrapTest, SecondStartChangesNothing) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  // Reconciliation rewrites subjects, so compare policy and bindings instead
  // of revisions.
  auto policy_before = engine_->snapshot()->Policy().SerializeAsString();
  auto bindings_before =
      engine_->snapshot()->ListBindings({}, "", "", "", 1000).size();
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  EXPECT_EQ(engine_->snapshot()->Policy().SerializeAsString(), policy_before);
  EXPECT_EQ(engine_->snapshot()->ListBindings({}, "", "", "", 1000).size(),
            bindings_before);
}

TEST_F(BootstrapTest, ReconcileAppliesStatusThatAuthzMissed) {
  ASSERT_TRUE(Bootstrap(options_, registry_.get(), engine_.get(), log_.get()).ok());
  ASSERT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);
  // Identity committed a suspension but authz never heard of it (a crash
  // between the two).
  iam::v1::Person admin = *registry_->Get("admin");
  admin.set_status(iam::v1::PERSON_STATUS_SUSPENDED);
  ASSERT_TRUE(registry_->Update(admin, {"status"}).ok());
  ASSERT_TRUE(engine_->Check("admin", "iam.people:write", "/").allowed);

  BootstrapOptions again;  // a restart without the admin flag
  again.policy_dir = "policy";
  ASSERT_TRUE(Bootstrap(again, registry_.get(), engine_.get(), log_.get()).ok());
  EXPECT_FALSE(engine_->Check("admin", "iam.people:write", "/").allowed);
}

TEST_F(BootstrapTest, MissingPolicyDirectoryIsAClearError) {
  options_.policy_dir = "no/such/dir";
  absl::Status s = Bootstrap(options_, registry_.get(), engine_.get(), log_.get());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/dir"), std::string::npos) << s;
  EXPECT_EQ(engine_->snapshot()->Policy().permissions_size(), 0);
}

}  // namespace
}  // namespace iam::iamd
