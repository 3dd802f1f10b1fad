// The engine against the reference authorizer of //tests:dataset: on a
// factory-shaped data set, every decision must match the oracle, before and
// after a reopen, and WhoCan must list exactly the people the oracle allows.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/authz/engine.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "tests/dataset.h"

namespace iam::authz {
namespace {

using ::iam::testing::Dataset;
using ::iam::testing::DatasetOptions;
using ::iam::testing::LabeledCheck;
using ::iam::testing::ReferenceAuthorizer;

class EngineDifferentialTest : public ::testing::TestWithParam<double> {
 protected:
  void SetUp() override {
    DatasetOptions options;
    options.people = 3000;
    options.inactive_fraction = GetParam();
    dataset_ = iam::testing::GenerateDataset(options);
    engine_ = Open();
    ASSERT_TRUE(engine_->ApplyPolicy(dataset_.policy, false).ok());
    ASSERT_TRUE(engine_->SyncSubjects(dataset_.subjects).ok());
    // The data set holds expired bindings, which CreateBindings refuses at
    // the data set's "now": create everything a while before it.
    clock_.Set(absl::FromUnixSeconds(0));
    std::vector<iam::v1::RoleBinding> bindings = dataset_.bindings;
    for (auto& b : bindings) b.clear_id();
    auto created = engine_->CreateBindings(bindings, "dataset");
    ASSERT_TRUE(created.ok()) << created.status();
    clock_.Set(absl::FromUnixSeconds(iam::testing::kDatasetNowUnix));
  }

  std::unique_ptr<AuthzEngine> Open() {
    auto engine = AuthzEngine::Open(&store_, &clock_);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(engine).value();
  }

  void ExpectDecisionsMatchOracle(const std::string& when) {
    const std::vector<LabeledCheck> checks =
        iam::testing::GenerateLabeledChecks(dataset_, 20000, 99);
    const ReferenceAuthorizer oracle(dataset_);
    int mismatches = 0;
    for (const LabeledCheck& c : checks) {
      Decision d = engine_->Check(c.request.person_id(), c.request.permission(),
                                  c.request.scope());
      ASSERT_EQ(c.expected_allowed, oracle.Allows(c.request));
      if (d.allowed != c.expected_allowed && ++mismatches <= 10) {
        ADD_FAILURE() << when << ": " << c.request.ShortDebugString()
                      << " kind " << iam::testing::CheckKindName(c.kind)
                      << " expected " << c.expected_allowed << ", got "
                      << d.allowed << ": " << d.reason.str();
      }
      if (d.allowed) {
        EXPECT_FALSE(d.binding_id().empty());
        EXPECT_FALSE(d.role_path().empty());
      }
    }
    EXPECT_EQ(mismatches, 0) << when;
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(iam::testing::kDatasetNowUnix)};
  Dataset dataset_;
  std::unique_ptr<AuthzEngine> engine_;
};

TEST_P(EngineDifferentialTest, DecisionsMatchTheReferenceAuthorizer) {
  ExpectDecisionsMatchOracle("after loading");
  engine_ = Open();
  ExpectDecisionsMatchOracle("after reopening");
}

TEST_P(EngineDifferentialTest, WhoCanListsExactlyThePeopleTheOracleAllows) {
  const ReferenceAuthorizer oracle(dataset_);
  auto snap = engine_->snapshot();
  const absl::Time now = clock_.Now();
  for (int i = 0; i < dataset_.policy.permissions_size(); i += 97) {
    const std::string& perm = dataset_.policy.permissions(i).name();
    for (const std::string& scope :
         {std::string("/"), dataset_.policy.scopes(0).path(),
          dataset_.policy.scopes(dataset_.policy.scopes_size() - 1).path()}) {
      auto who = snap->WhoCan(perm, scope, now);
      ASSERT_TRUE(who.ok()) << who.status();
      std::vector<std::string> expected;
      for (const auto& s : dataset_.subjects) {
        iam::v1::CheckRequest check;
        check.set_person_id(s.person_id());
        check.set_permission(perm);
        check.set_scope(scope);
        if (oracle.Allows(check)) expected.push_back(s.person_id());
      }
      EXPECT_EQ(*who, expected) << perm << " at " << scope;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ActiveAndMixed, EngineDifferentialTest,
                         ::testing::Values(0.0, 0.15));

}  // namespace
}  // namespace iam::authz
